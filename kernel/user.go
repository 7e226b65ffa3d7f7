package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// UserWalk translates a user virtual address of task through its mm's
// page tables (mm_struct.pgd).
func (k *Kernel) UserWalk(task, vaddr uint64) (arch.Translation, error) {
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
	return k.Arch.UserWalk(root, vaddr)
}

// ReadUser fills p from user virtual address addr of task.
func (k *Kernel) ReadUser(task uint64, p []byte, addr uint64) error {
	ps := k.Arch.PageSize()
	for len(p) > 0 {
		n := min(ps-addr%ps, uint64(len(p)))
		t, err := k.UserWalk(task, addr)
		if err != nil {
			return err
		}
		if err := k.Dump.ReadPhys(p[:n], t.Phys); err != nil {
			return fmt.Errorf("user virtual address %x: %w", addr, err)
		}
		p = p[n:]
		addr += n
	}
	return nil
}

// PanicTask returns the task that was running on the CPU that panicked
// (panic_cpu), else the first task running on any CPU that is not an idle
// task.
func (k *Kernel) PanicTask() (uint64, error) {
	active, err := k.ActiveTasks()
	if err != nil {
		return 0, err
	}
	if a, err := k.SymbolAddr("panic_cpu"); err == nil {
		if cpu, err := k.ReadU32(a); err == nil && int(cpu) < len(active) {
			return active[cpu], nil
		}
	}
	for _, t := range active {
		if tk, err := k.ReadTask(t); err == nil && tk.PID != 0 {
			return t, nil
		}
	}
	return 0, fmt.Errorf("no task was running when the kernel stopped")
}

// FindTask finds a task by PID (the thread group leader's, or a thread's
// own) or by task_struct address.
func (k *Kernel) FindTask(pidOrAddr uint64) (Task, error) {
	tasks, err := k.Tasks()
	if err != nil {
		return Task{}, err
	}
	for _, t := range tasks {
		if t.Addr == pidOrAddr {
			return t, nil
		}
	}
	for _, t := range tasks {
		if uint64(t.PID) == pidOrAddr && (t.PID == t.TGID || t.PID == 0) {
			return t, nil
		}
	}
	return Task{}, fmt.Errorf("no task with PID or address %x", pidOrAddr)
}
