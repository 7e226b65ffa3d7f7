package kernel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/archs"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// Kernel is a dump bound to its vmlinux.
type Kernel struct {
	Dump    *memory.Dump
	Vmlinux *symbols.Vmlinux // nil when only VMCOREINFO is available
	// Syms is the vmlinux's symbols at this kernel's run-time (KASLR)
	// addresses; nil with Vmlinux.
	Syms  *symbols.Relocated
	Arch  arch.Arch
	order binary.ByteOrder

	mu    sync.Mutex
	pages map[uint64]uint64 // virtual page -> physical page

	layouts    layoutCache
	unwindData unwindCache
}

// MismatchError reports a vmlinux that is not the kernel the dump came from.
type MismatchError struct {
	Vmlinux, Dump string
	Why           string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s does not match the dump %s: %s", e.Vmlinux, e.Dump, e.Why)
}

// New binds a dump to a vmlinux (which may be nil). It finds the KASLR
// offset (the vmlinux is left as it is: Syms is this kernel's view) and checks that the vmlinux is the dump's kernel: by
// build-id when VMCOREINFO has one, else by the linux_banner string.
func New(d *memory.Dump, v *symbols.Vmlinux) (*Kernel, error) {
	k := &Kernel{Dump: d, Vmlinux: v, order: d.ByteOrder, pages: map[uint64]uint64{}}
	vi := d.VMCoreInfo
	if v != nil {
		go v.Layouts().Preload() // ~3 ms of BTF indexing, overlapped with the rest
		if m, dm := archs.OfELF(v.Machine), archs.OfDump(d.Machine); m != "" && dm != "" && m != dm {
			return nil, &MismatchError{v.Path, d.Path, fmt.Sprintf("the vmlinux is for %s, the dump is of %s", m, d.Machine)}
		}
		if id := vi.BuildID(); id != "" && v.BuildID != "" && !strings.HasPrefix(v.BuildID, id) && !strings.HasPrefix(id, v.BuildID) {
			return nil, &MismatchError{v.Path, d.Path, fmt.Sprintf("build-id %s, the dump's kernel has %s", v.BuildID, id)}
		}
		var off uint64
		if o, ok := vi.KernelOffset(); ok {
			off = o
		} else if st, ok := vi.Symbol("_stext"); ok {
			if s, ok := v.Lookup("_stext"); ok {
				off = st - s.Addr
			}
		} else if d.Live {
			// A running kernel without VMCOREINFO (before 4.19, or
			// hidden): its own symbol list gives the displacement.
			o, err := liveKallsymsOffset(v)
			if err != nil {
				return nil, fmt.Errorf("cannot find the running kernel's KASLR offset: %v", err)
			}
			off = o
		}
		k.Syms = symbols.NewRelocated(v, off)
	}
	var syms arch.Symbols
	if v != nil {
		// Read at each call: an arch that places the kernel itself
		// replaces the view below.
		syms = func(name string) (uint64, bool) { return k.Syms.Addr(name) }
	}
	a, err := archs.New(arch.Config{Dump: d, Symbols: syms})
	if err != nil {
		return nil, err
	}
	k.Arch = a
	if p, ok := a.(arch.KernelPlacer); ok && v != nil {
		if off, ok := p.KernelOffset(); ok {
			k.Syms = symbols.NewRelocated(v, off)
		}
	}
	if v != nil && vi.BuildID() == "" {
		if err := k.checkBanner(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// checkBanner compares linux_banner in the vmlinux file with the dump's.
func (k *Kernel) checkBanner() error {
	v := k.Vmlinux
	s, ok := k.Syms.Lookup("linux_banner")
	if !ok {
		return nil
	}
	want, ok := k.Syms.ReadRunAddr(s.Addr, 128)
	if !ok {
		return nil
	}
	got := make([]byte, len(want))
	if err := k.ReadVirt(got, s.Addr); err != nil {
		return &MismatchError{v.Path, k.Dump.Path, fmt.Sprintf("cannot read linux_banner from the dump: %v", err)}
	}
	if w, g := cstr(want), cstr(got); w != g {
		return &MismatchError{v.Path, k.Dump.Path, fmt.Sprintf("vmlinux banner %q, dump banner %q", w, g)}
	}
	return nil
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Refresh forgets cached page translations: on a running system page
// tables change between commands (vmalloc'd stacks come and go), so each
// command translates afresh.
func (k *Kernel) Refresh() {
	k.mu.Lock()
	clear(k.pages)
	k.mu.Unlock()
}

// VirtToPhys translates a kernel virtual address, caching page translations.
func (k *Kernel) VirtToPhys(addr uint64) (uint64, error) {
	ps := k.Arch.PageSize()
	page := addr &^ (ps - 1)
	k.mu.Lock()
	p, ok := k.pages[page]
	k.mu.Unlock()
	if ok {
		return p | addr&(ps-1), nil
	}
	t, err := k.Arch.KernelWalk(page)
	if err != nil {
		return 0, err
	}
	k.mu.Lock()
	k.pages[page] = t.Phys
	k.mu.Unlock()
	return t.Phys | addr&(ps-1), nil
}

// ReadVirt fills p from kernel virtual address addr, page by page.
func (k *Kernel) ReadVirt(p []byte, addr uint64) error {
	ps := k.Arch.PageSize()
	for len(p) > 0 {
		n := ps - addr%ps
		if n > uint64(len(p)) {
			n = uint64(len(p))
		}
		phys, err := k.VirtToPhys(addr)
		if err != nil {
			return err
		}
		if err := k.Dump.ReadPhys(p[:n], phys); err != nil {
			return fmt.Errorf("kernel virtual address %x: %w", addr, err)
		}
		p = p[n:]
		addr += n
	}
	return nil
}

// ReadU64 reads an unsigned 64-bit value (a pointer or unsigned long).
func (k *Kernel) ReadU64(addr uint64) (uint64, error) {
	var b [8]byte
	err := k.ReadVirt(b[:], addr)
	return k.order.Uint64(b[:]), err
}

// ReadU32 reads an unsigned 32-bit value.
func (k *Kernel) ReadU32(addr uint64) (uint32, error) {
	var b [4]byte
	err := k.ReadVirt(b[:], addr)
	return k.order.Uint32(b[:]), err
}

// ReadU16 reads an unsigned 16-bit value.
func (k *Kernel) ReadU16(addr uint64) (uint16, error) {
	var b [2]byte
	err := k.ReadVirt(b[:], addr)
	return k.order.Uint16(b[:]), err
}

// ReadCString reads a NUL-terminated string of at most max bytes.
func (k *Kernel) ReadCString(addr uint64, max int) (string, error) {
	b := make([]byte, max)
	if err := k.ReadVirt(b, addr); err != nil {
		return "", err
	}
	return cstr(b), nil
}

// SymbolAddr returns a kernel symbol's run-time address: from the vmlinux,
// else from VMCOREINFO's SYMBOL() list.
func (k *Kernel) SymbolAddr(name string) (uint64, error) {
	if k.Vmlinux != nil {
		if a, ok := k.Syms.Addr(name); ok {
			return a, nil
		}
	}
	if a, ok := k.Dump.VMCoreInfo.Symbol(name); ok {
		return a, nil
	}
	return 0, &symbols.MissingError{What: "symbol " + name}
}

// Offset is offsetof(structName, member): from VMCOREINFO when it has it,
// else from the vmlinux's types.
func (k *Kernel) Offset(structName, member string) (int64, error) {
	if o, ok := k.Dump.VMCoreInfo.Offset(structName + "." + member); ok {
		return o, nil
	}
	if k.Vmlinux == nil {
		return 0, &symbols.MissingError{What: "member " + structName + "." + member + " (no vmlinux and not in VMCOREINFO)"}
	}
	return k.Vmlinux.Layouts().Offset(structName, member)
}

// Size is sizeof(structName), from VMCOREINFO or the vmlinux's types.
func (k *Kernel) Size(structName string) (int64, error) {
	if s, ok := k.Dump.VMCoreInfo.Size(structName); ok {
		return s, nil
	}
	if k.Vmlinux == nil {
		return 0, &symbols.MissingError{What: "type " + structName + " (no vmlinux and not in VMCOREINFO)"}
	}
	return k.Vmlinux.Layouts().Size(structName)
}
