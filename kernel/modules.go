package kernel

import "github.com/gocrash/gocrash/symbols"

// Symbolize names a kernel text address as the kernel's own traces do:
// the ELF symbol at or before it and the offset into it.
func (k *Kernel) Symbolize(addr uint64) (name string, off uint64, ok bool) {
	if k.Vmlinux == nil {
		return "", 0, false
	}
	s, off, ok := k.Vmlinux.Nearest(addr)
	if !ok {
		return "", 0, false
	}
	return s.Name, off, true
}

// moduleText reports whether addr is in a loaded module's text.
func (k *Kernel) moduleText(u *unwindCache, addr uint64) bool { return false }

// moduleORCFind finds a module's ORC entry for addr.
func (k *Kernel) moduleORCFind(u *unwindCache, addr uint64) (symbols.ORCEntry, bool) {
	return symbols.ORCEntry{}, false
}
