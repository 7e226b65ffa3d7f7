package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// UserWalker translates user virtual pages through a page-table root (an
// arch.Arch).
type UserWalker interface {
	PageSize() uint64
	UserWalk(root, vaddr uint64) (arch.Translation, error)
}

// UserSpace reads tasks' user address spaces: their page tables, memory,
// argument and environment strings, VMAs and the paths of mapped files,
// over a Reader, a Layout and a Translator (kernel memory), a UserWalker
// and a PhysReader (user pages).
type UserSpace struct {
	Reader
	Layout
	Translator
	walker UserWalker
	phys   PhysReader
}

// NewUserSpace reads user space through r, l and t, w's walks and phys.
func NewUserSpace(r Reader, l Layout, t Translator, w UserWalker, phys PhysReader) *UserSpace {
	return &UserSpace{Reader: r, Layout: l, Translator: t, walker: w, phys: phys}
}

// UserWalk translates a user virtual address of task through its mm's
// page tables (mm_struct.pgd).
func (k *UserSpace) UserWalk(task, vaddr uint64) (arch.Translation, error) {
	mmOff, err := k.Offset("task_struct", "mm")
	if err != nil {
		return arch.Translation{}, err
	}
	pgdOff, err := k.Offset("mm_struct", "pgd")
	if err != nil {
		return arch.Translation{}, err
	}
	mm, err := k.ReadU64(task + uint64(mmOff))
	if err != nil {
		return arch.Translation{}, err
	}
	if mm == 0 {
		return arch.Translation{}, fmt.Errorf("task %x has no user address space (a kernel thread or a zombie)", task)
	}
	pgd, err := k.ReadU64(mm + uint64(pgdOff))
	if err != nil {
		return arch.Translation{}, err
	}
	root, err := k.VirtToPhys(pgd)
	if err != nil {
		return arch.Translation{}, fmt.Errorf("pgd %x: %w", pgd, err)
	}
	return k.walker.UserWalk(root, vaddr)
}

// ReadUser fills p from user virtual address addr of task.
func (k *UserSpace) ReadUser(task uint64, p []byte, addr uint64) error {
	ps := k.walker.PageSize()
	for len(p) > 0 {
		n := min(ps-addr%ps, uint64(len(p)))
		t, err := k.UserWalk(task, addr)
		if err != nil {
			return err
		}
		if err := k.phys.ReadPhys(p[:n], t.Phys); err != nil {
			return fmt.Errorf("user virtual address %x: %w", addr, err)
		}
		p = p[n:]
		addr += n
	}
	return nil
}

// UserReadError reports the user page a read could not reach: not mapped
// by the task's page tables, or left out of the dump.
type UserReadError struct {
	Addr uint64 // the start of the piece that failed
	Err  error
}

func (e *UserReadError) Error() string {
	return fmt.Sprintf("cannot access user stack address: %x: %v", e.Addr, e.Err)
}

func (e *UserReadError) Unwrap() error { return e.Err }

// readUserRange reads [start, end) of task's address space page by page;
// a failure is a *UserReadError naming the page-sized piece that failed.
func (k *UserSpace) readUserRange(task, start, end uint64) ([]byte, error) {
	if end < start || end-start > 1<<24 {
		return nil, fmt.Errorf("user range %x-%x is not plausible", start, end)
	}
	buf := make([]byte, end-start)
	ps := k.walker.PageSize()
	for addr := start; addr < end; {
		n := min(ps-addr%ps, end-addr)
		if err := k.ReadUser(task, buf[addr-start:addr-start+n], addr); err != nil {
			return nil, &UserReadError{Addr: addr, Err: err}
		}
		addr += n
	}
	return buf, nil
}

// UserArgs is a task's command line and environment as its user stack
// holds them (mm_struct.arg_start..arg_end, env_start..env_end): strings
// each ended by a NUL.
type UserArgs struct {
	MM               uint64 // 0: a kernel thread, or a task that has exited
	ArgStart, ArgEnd uint64
	EnvStart, EnvEnd uint64
	Args, Env        []byte
	// ArgErr, EnvErr: a *UserReadError when a page of the range cannot
	// be read; the environment is not tried when the arguments failed.
	ArgErr, EnvErr error
}

// TaskArgs reads the argument and environment strings of task. It stops
// at the first range that cannot be read (ArgErr, then EnvErr).
func (k *UserSpace) TaskArgs(task uint64) (UserArgs, error) {
	var u UserArgs
	mmOff, err := k.Offset("task_struct", "mm")
	if err != nil {
		return u, err
	}
	if u.MM, err = k.ReadU64(task + uint64(mmOff)); err != nil || u.MM == 0 {
		return u, err
	}
	for _, f := range []struct {
		member string
		dst    *uint64
	}{{"arg_start", &u.ArgStart}, {"arg_end", &u.ArgEnd}, {"env_start", &u.EnvStart}, {"env_end", &u.EnvEnd}} {
		off, err := k.Offset("mm_struct", f.member)
		if err != nil {
			return u, err
		}
		if *f.dst, err = k.ReadU64(u.MM + uint64(off)); err != nil {
			return u, fmt.Errorf("mm %x %s: %w", u.MM, f.member, err)
		}
	}
	if u.Args, u.ArgErr = k.readUserRange(task, u.ArgStart, u.ArgEnd); u.ArgErr != nil {
		return u, nil
	}
	u.Env, u.EnvErr = k.readUserRange(task, u.EnvStart, u.EnvEnd)
	return u, nil
}
