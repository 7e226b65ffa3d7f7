package commands

import "fmt"

// cpuOffset is the per-CPU offset of a CPU a command line names (sym:N):
// a CPU past the dump's count is crash's "invalid cpu number" rather than
// whatever __per_cpu_offset holds beyond the CPUs that exist.
func cpuOffset(s *Session, cpu int) (uint64, error) {
	n, _, err := s.Kernel.CPUs()
	if err != nil {
		return 0, err
	}
	if cpu < 0 || cpu >= n {
		plural := "s"
		if n == 1 {
			plural = ""
		}
		return 0, fmt.Errorf("invalid cpu number: system has only %d cpu%s", n, plural)
	}
	return s.Kernel.PerCPUOffset(cpu)
}
