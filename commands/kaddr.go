package commands

// isKernelAddr reports whether v is a kernel virtual address: in the upper
// half of the address space (x86_64, arm64, ppc64), or, where the kernel
// lies low (s390x maps memory at its own address), from its text up.
func (s *Session) isKernelAddr(v uint64) bool {
	if v >= 1<<63 {
		return true
	}
	if s.Kernel == nil || s.Kernel.Syms == nil {
		return false
	}
	t, ok := s.Kernel.Syms.Addr("_text")
	return ok && t < 1<<63 && v >= t
}
