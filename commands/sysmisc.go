package commands

import (
	"fmt"
	"strings"
)

// Helpers shared by the system-state commands (irq, timer, runq, net, dev,
// ipcs, sig, mach, waitq): crash's column justification and CPU lists.

// mkCenter centres s in width w as crash's mkstring(CENTER) does: an odd
// remainder goes to the right, or with rjust to the left.
func mkCenter(s string, w int, rjust bool) string {
	if len(s) >= w {
		return s
	}
	extra := w - len(s)
	left := extra / 2
	if extra%2 == 1 && rjust {
		left++
	}
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", extra-left)
}

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
// symbol (with "+off" in decimal when inside it), "" when none.
func symOf(s *Session, addr uint64) string {
	name, off, ok := s.Kernel.Symbolize(addr)
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
