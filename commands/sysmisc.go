package commands

import (
	"fmt"
	"strings"
)

// Helpers shared by the system-state commands (irq, timer, runq, net, dev,
// ipcs, sig, mach, waitq): crash's column justification and CPU lists.

// sessionCPUs chooses CPUs: every present CPU for "", else a list such as
// "1,3", "0-2", "all" or "a"; a CPU beyond the present ones is an error.
func sessionCPUs(s *Session, spec string) ([]int, error) {
	n, _, err := s.Kernel.CPUs()
	if err != nil {
		return nil, err
	}
	var out []int
	if spec == "" || spec == "a" || spec == "all" {
		for c := range n {
			out = append(out, c)
		}
		return out, nil
	}
	cpus, err := parseCPUList(spec)
	if err != nil {
		return nil, err
	}
	for _, c := range cpus {
		if c >= n {
			return nil, fmt.Errorf("invalid cpu specification: %s", spec)
		}
	}
	return cpus, nil
}

// symOf names a kernel or module address as crash's value_symbol: the
// symbol (with "+off" in decimal when inside it), "" when none. Module
// text and data are named by the module's own symbols; a kernel address
// only inside the kernel image (_text.._end).
func symOf(s *Session, addr uint64) string {
	k := s.Kernel
	name, off, ok := "", uint64(0), false
	if ms, o, found := k.ModuleSymbolAt(addr); found {
		name, off, ok = ms.Name, o, true
	} else if k.ModuleHolding(addr) == nil && k.Syms != nil {
		lo, ok1 := k.Syms.Addr("_text")
		hi, ok2 := k.Syms.Addr("_end")
		if ok1 && ok2 && addr >= lo && addr < hi {
			name, off, ok = k.Symbolize(addr)
		}
	}
	if !ok {
		return ""
	}
	if off != 0 {
		return fmt.Sprintf("%s+%d", name, off)
	}
	return name
}

// cpuRanges prints a CPU bitmap as crash's display_cpu_affinity: "0-1",
// "0,2-3".
func cpuRanges(mask []uint64, ncpu int) string {
	in := func(c int) bool { return c/64 < len(mask) && mask[c/64]>>(c%64)&1 != 0 }
	var parts []string
	for c := 0; c < ncpu; c++ {
		if !in(c) {
			continue
		}
		start := c
		for c+1 < ncpu && in(c+1) {
			c++
		}
		if start == c {
			parts = append(parts, fmt.Sprint(c))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", start, c))
		}
	}
	return strings.Join(parts, ",")
}
