package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// StackKind names the stack a frame lies on.
type StackKind int

const (
	StackUnknown StackKind = iota
	StackTask              // the task's own kernel stack
	StackIRQ               // the CPU's hard-IRQ stack
	StackNMI               // x86_64 exception (IST) stacks
	StackDoubleFault
	StackDebug
	StackMCE
	StackVC
	StackVC2
)

// String is the name crash prints when a trace leaves the stack
// ("--- <IRQ stack> ---").
func (s StackKind) String() string {
	switch s {
	case StackTask:
		return "task stack"
	case StackIRQ:
		return "IRQ stack"
	case StackNMI:
		return "NMI exception stack"
	case StackDoubleFault:
		return "DOUBLEFAULT exception stack"
	case StackDebug:
		return "DEBUG exception stack"
	case StackMCE:
		return "MCE exception stack"
	case StackVC:
		return "VC exception stack"
	case StackVC2:
		return "VC2 exception stack"
	}
	return "unknown stack"
}

// stackRange is one stack's bounds, [lo, hi).
type stackRange struct {
	kind   StackKind
	lo, hi uint64
}

// stacksOf returns the stacks a task's frames may lie on: its own, and
// its CPU's interrupt and exception stacks.
func (u *Unwinder) stacksOf(t Task) ([]stackRange, error) {
	var out []stackRange
	if base, err := u.ReadU64(t.Addr + uint64(u.stackOff)); err == nil && base != 0 {
		out = append(out, stackRange{StackTask, base, base + u.threadSize})
	}
	u.stacksMu.Lock()
	cpu, ok := u.cpuStacks[t.CPU]
	if !ok {
		var err error
		if cpu, err = u.cpuStackRanges(t.CPU); err != nil {
			u.stacksMu.Unlock()
			return nil, err
		}
		u.cpuStacks[t.CPU] = cpu
	}
	u.stacksMu.Unlock()
	return append(out, cpu...), nil
}

// cpuStackRanges finds a CPU's IRQ stack (x86_64 hardirq_stack_ptr, on
// 6.2+ inside pcpu_hot; arm64 irq_stack_ptr; ppc64 hardirq_ctx; s390x
// the lowcore's async_stack) and x86_64's exception
// stacks (cea_exception_stacks). A symbol or member the kernel lacks is
// a stack it does not have; another failure to find out is an error.
func (u *Unwinder) cpuStackRanges(cpu int) ([]stackRange, error) {
	var out []stackRange
	off, err := u.sys.PerCPUOffset(cpu)
	if err != nil {
		return nil, nil
	}
	var probeErr error
	probe := func(err error) bool {
		if err != nil && !symbols.IsMissing(err) && probeErr == nil {
			probeErr = err
		}
		return err == nil
	}
	percpu := func(sym string) (uint64, bool) {
		a, err := u.SymbolAddr(sym)
		if !probe(err) {
			return 0, false
		}
		v, err := u.ReadU64(a + off)
		return v, err == nil && v != 0
	}
	// cpuArray reads element cpu of a global array of pointers indexed
	// by CPU number (not a per-CPU variable).
	cpuArray := func(sym string) (uint64, bool) {
		a, err := u.SymbolAddr(sym)
		if !probe(err) {
			return 0, false
		}
		v, err := u.ReadU64(a + 8*uint64(cpu))
		return v, err == nil && v != 0
	}
	if p, ok := percpu("hardirq_stack_ptr"); ok {
		// x86_64 points one word below the top (5.11 and later), or at
		// the page-aligned top itself (before): told apart by the
		// value, not by version.
		if p%pageAlign == 0 {
			out = append(out, stackRange{StackIRQ, p - u.threadSize, p})
		} else {
			out = append(out, stackRange{StackIRQ, p + 8 - u.threadSize, p + 8})
		}
	} else if hot, err := u.SymbolAddr("pcpu_hot"); probe(err) {
		if m, err := u.Offset("pcpu_hot", "hardirq_stack_ptr"); probe(err) {
			if top, err := u.ReadU64(hot + off + uint64(m)); err == nil && top != 0 {
				out = append(out, stackRange{StackIRQ, top + 8 - u.threadSize, top + 8})
			}
		}
	} else if base, ok := percpu("irq_stack_ptr"); ok {
		out = append(out, stackRange{StackIRQ, base, base + u.threadSize})
	} else if base, ok := cpuArray("hardirq_ctx"); ok {
		// ppc64: void *hardirq_ctx[NR_CPUS], each stack's base.
		out = append(out, stackRange{StackIRQ, base, base + u.threadSize})
	} else if lc, ok := cpuArray("lowcore_ptr"); ok {
		// s390x: each CPU's lowcore names its async (interrupt) stack
		// by its initial frame, below the stack's top.
		if m, err := u.Offset("lowcore", "async_stack"); probe(err) {
			if top, err := u.ReadU64(lc + uint64(m)); err == nil && top != 0 {
				base := top &^ (u.threadSize - 1)
				out = append(out, stackRange{StackIRQ, base, base + u.threadSize})
			}
		}
	}
	if cea, ok := percpu("cea_exception_stacks"); ok {
		for _, s := range []struct {
			kind       StackKind
			name, next string
		}{
			{StackDoubleFault, "DF_stack", "NMI_stack_guard"},
			{StackNMI, "NMI_stack", "DB_stack_guard"},
			{StackDebug, "DB_stack", "MCE_stack_guard"},
			{StackMCE, "MCE_stack", "VC_stack_guard"},
			{StackVC, "VC_stack", "VC2_stack_guard"},
			{StackVC2, "VC2_stack", "IST_top_guard"},
		} {
			lo, err1 := u.Offset("cea_exception_stacks", s.name)
			hi, err2 := u.Offset("cea_exception_stacks", s.next)
			if err2 != nil && s.kind == StackMCE && probe(err1) {
				hi, err2 = u.Offset("cea_exception_stacks", "IST_top_guard")
			}
			if probe(err1) && probe(err2) && hi > lo {
				out = append(out, stackRange{s.kind, cea + uint64(lo), cea + uint64(hi)})
			}
		}
	}
	return out, probeErr
}

// pageAlign is the alignment of a stack's base (a page, on every
// architecture whose kernel stacks gocrash walks).
const pageAlign = 4096

// classify names the stack addr lies on.
func classify(stacks []stackRange, addr uint64) StackKind {
	for _, s := range stacks {
		if addr >= s.lo && addr < s.hi {
			return s.kind
		}
	}
	return StackUnknown
}

// onStack reports whether [addr, addr+n) lies on one of the stacks.
func onStack(stacks []stackRange, addr, n uint64) bool {
	for _, s := range stacks {
		if addr >= s.lo && addr+n <= s.hi {
			return true
		}
	}
	return false
}

// stackError reports an address the walk expected on a stack.
func stackError(what string, addr uint64) error {
	return fmt.Errorf("%s %x is on none of the task's stacks", what, addr)
}

// TaskStack returns the bounds [lo, hi) of a task's kernel stack.
func (u *Unwinder) TaskStack(t Task) (lo, hi uint64, err error) {
	err = u.ready()
	if err != nil {
		return 0, 0, err
	}
	base, err := u.ReadU64(t.Addr + uint64(u.stackOff))
	if err != nil {
		return 0, 0, err
	}
	if base == 0 {
		return 0, 0, fmt.Errorf("task %x has no stack", t.Addr)
	}
	return base, base + u.threadSize, nil
}
