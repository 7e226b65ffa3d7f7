package kernel

import (
	"errors"
	"fmt"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/symbols"
)

// bt -e: crash's search of a task's kernel stack for words laid out as a
// struct pt_regs that a kernel entry could have saved. It is a scan, not an
// unwind: every position where a pt_regs fits is tried, and a candidate is
// kept when its registers pass crash 8.0.2's plausibility checks
// (x86_64_eframe_verify, arm64_is_kernel_exception_frame), so stale frames
// left on the stack by earlier entries are found as crash finds them. Like
// crash's -e, only the task's own stack is searched (crash's -E searches
// the IRQ and exception stacks). The checks are the architecture's
// (arch.EFrameSearcher); this file gives them the stack and the kernel.

// EFrame is a register set found by searching a stack.
type EFrame = arch.EFrame

// SearchEFrames searches a task's kernel stack for exception frames, as
// crash's bt -e does, in stack order. A task whose stack is gone gives a
// NoStackError.
func (u *Unwinder) SearchEFrames(t Task) ([]EFrame, error) {
	err := u.ready()
	if err != nil {
		return nil, err
	}
	base, err := u.ReadU64(t.Addr + uint64(u.stackOff))
	if err != nil {
		return nil, err
	}
	if base == 0 {
		return nil, &NoStackError{PID: t.PID}
	}
	buf := make([]byte, u.threadSize)
	if err := u.ReadVirt(buf, base); err != nil {
		return nil, fmt.Errorf("task %x: stack at %x: %w", t.Addr, base, err)
	}
	return u.searchStack(base, buf, !t.Kthread())
}

// CPUStackEFrames is what a search of one of a CPU's own stacks (its IRQ
// stack, an x86_64 exception stack) found.
type CPUStackEFrames struct {
	CPU    int
	Kind   StackKind
	Lo, Hi uint64
	Frames []EFrame
	Err    error // the stack could not be read or searched
}

// SearchCPUEFrames searches the IRQ and exception stacks of each of cpus
// (every present CPU when nil) for exception frames, as crash's bt -E
// does: the IRQ stacks of all CPUs first, then each CPU's exception
// stacks, each in stack order.
func (u *Unwinder) SearchCPUEFrames(cpus []int) ([]CPUStackEFrames, error) {
	if err := u.ready(); err != nil {
		return nil, err
	}
	if cpus == nil {
		n, _, err := u.sys.CPUs()
		if err != nil {
			return nil, err
		}
		for c := range n {
			cpus = append(cpus, c)
		}
	}
	var irq, exc []CPUStackEFrames
	for _, cpu := range cpus {
		ranges, err := u.cpuStackRanges(cpu)
		if err != nil {
			return nil, fmt.Errorf("cpu %d: %w", cpu, err)
		}
		for _, r := range ranges {
			c := CPUStackEFrames{CPU: cpu, Kind: r.kind, Lo: r.lo, Hi: r.hi}
			buf := make([]byte, r.hi-r.lo)
			if c.Err = u.ReadVirt(buf, r.lo); c.Err == nil {
				c.Frames, c.Err = u.searchStack(r.lo, buf, false)
			}
			var unmapped *arch.TranslationError
			if errors.As(c.Err, &unmapped) {
				// Not mapped at all (x86_64's VC stacks without SEV-ES):
				// a stack this machine does not have.
				continue
			}
			if r.kind == StackIRQ {
				irq = append(irq, c)
			} else {
				exc = append(exc, c)
			}
		}
	}
	return append(irq, exc...), nil
}

// searchStack gives the architecture's search the stack held in buf (at
// base) and the kernel's answers; userTask: the stack is a user task's
// kernel stack, whose top may hold its user-mode frame.
func (u *Unwinder) searchStack(base uint64, buf []byte, userTask bool) ([]EFrame, error) {
	size, err := u.Size("pt_regs")
	if err != nil {
		return nil, err
	}
	es, ok := u.machine.(arch.EFrameSearcher)
	if !ok {
		return nil, fmt.Errorf("bt -e is not supported on %s", u.machine.Name())
	}
	_, noFrame := u.Offset("pt_regs", "stackframe")
	if noFrame != nil && !symbols.IsMissing(noFrame) {
		return nil, noFrame
	}
	return es.SearchEFrames(arch.EFrameStack{
		Base: base, Data: buf, Order: u.ByteOrder(),
		PtRegsSize: uint64(size), PtRegsStackframe: noFrame == nil,
		UserTask: userTask,
		IsText:   u.mods.IsText,
		SymbolAddr: func(name string) (uint64, bool) {
			a, err := u.SymbolAddr(name)
			return a, err == nil
		},
		SymbolName: func(v uint64) string {
			if s, _, ok := u.mods.Symbolize(v); ok {
				return s
			}
			return ""
		},
		ReadU64: u.ReadU64,
		Mapped: func(v uint64) bool {
			_, err := u.VirtToPhys(v)
			return err == nil
		},
	})
}
