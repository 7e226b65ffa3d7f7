package kernel

import "fmt"

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
func (k *Kernel) stacksOf(u *unwindCache, t Task) []stackRange {
	var out []stackRange
	if base, err := k.ReadU64(t.Addr + uint64(u.stackOff)); err == nil && base != 0 {
		out = append(out, stackRange{StackTask, base, base + u.threadSize})
	}
	u.stacksMu.Lock()
	cpu, ok := u.cpuStacks[t.CPU]
	if !ok {
		cpu = k.cpuStackRanges(u, t.CPU)
		u.cpuStacks[t.CPU] = cpu
	}
	u.stacksMu.Unlock()
	return append(out, cpu...)
}

// cpuStackRanges finds a CPU's IRQ stack (x86_64 hardirq_stack_ptr, on
// 6.2+ inside pcpu_hot; arm64 irq_stack_ptr) and x86_64's exception
// stacks (cea_exception_stacks).
func (k *Kernel) cpuStackRanges(u *unwindCache, cpu int) []stackRange {
	var out []stackRange
	off, err := k.PerCPUOffset(cpu)
	if err != nil {
		return nil
	}
	percpu := func(sym string) (uint64, bool) {
		a, err := k.SymbolAddr(sym)
		if err != nil {
			return 0, false
		}
		v, err := k.ReadU64(a + off)
		return v, err == nil && v != 0
	}
	if top, ok := percpu("hardirq_stack_ptr"); ok {
		// x86_64 points one word below the top.
		out = append(out, stackRange{StackIRQ, top + 8 - u.threadSize, top + 8})
	} else if hot, err := k.SymbolAddr("pcpu_hot"); err == nil {
		if m, err := k.Offset("pcpu_hot", "hardirq_stack_ptr"); err == nil {
			if top, err := k.ReadU64(hot + off + uint64(m)); err == nil && top != 0 {
				out = append(out, stackRange{StackIRQ, top + 8 - u.threadSize, top + 8})
			}
		}
	} else if base, ok := percpu("irq_stack_ptr"); ok {
		out = append(out, stackRange{StackIRQ, base, base + u.threadSize})
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
			lo, err1 := k.Offset("cea_exception_stacks", s.name)
			hi, err2 := k.Offset("cea_exception_stacks", s.next)
			if err2 != nil && s.kind == StackMCE {
				hi, err2 = k.Offset("cea_exception_stacks", "IST_top_guard")
			}
			if err1 == nil && err2 == nil && hi > lo {
				out = append(out, stackRange{s.kind, cea + uint64(lo), cea + uint64(hi)})
			}
		}
	}
	return out
}

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
func (k *Kernel) TaskStack(t Task) (lo, hi uint64, err error) {
	u, err := k.unwinder()
	if err != nil {
		return 0, 0, err
	}
	base, err := k.ReadU64(t.Addr + uint64(u.stackOff))
	if err != nil {
		return 0, 0, err
	}
	if base == 0 {
		return 0, 0, fmt.Errorf("task %x has no stack", t.Addr)
	}
	return base, base + u.threadSize, nil
}
