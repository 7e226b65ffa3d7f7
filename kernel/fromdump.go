package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/archs"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// A dump opened without any vmlinux: the kernel image is made from what
// the dump's memory holds (symbols.FromDump). A first reader over the dump,
// placed by VMCOREINFO (the page-table root, KERNELOFFSET) or by the
// architecture from the page tables, reads the kernel's kallsyms tables,
// its BTF (__start_BTF..__stop_BTF) and ORC tables
// (__start_orc_unwind_ip.., x86_64), and its build-id note; New then binds
// the dump to that image as to a vmlinux.

// maxDumpSection bounds a table read from the dump's memory (the BTF of a
// kernel is a few MiB, its ORC tables as much again).
const maxDumpSection = 64 << 20

// DumpVmlinux makes the kernel image of d from its memory.
func DumpVmlinux(d *memory.Dump) (*symbols.Vmlinux, error) {
	a, err := archs.New(arch.Config{Dump: d})
	if err != nil {
		return nil, err
	}
	order := d.ByteOrder
	if bo, ok := a.(arch.KernelByteOrder); ok {
		order = bo.KernelByteOrder()
	}
	mem := NewMemory(d, a, order)
	read := func(addr uint64, n int) ([]byte, error) {
		b := make([]byte, n)
		if err := mem.ReadVirt(b, addr); err != nil {
			return nil, err
		}
		return b, nil
	}
	vi := d.VMCoreInfo
	tables, err := kallsymsTables(d, a, read)
	if err != nil {
		return nil, err
	}
	syms, err := symbols.ReadKallsyms(read, tables, order)
	if err != nil {
		return nil, fmt.Errorf("cannot read the kernel's symbols from the dump: %v", err)
	}
	byName := make(map[string]uint64, len(syms))
	for _, s := range syms {
		if _, ok := byName[s.Name]; !ok {
			byName[s.Name] = s.Addr
		}
	}
	span := func(start, stop string) ([]byte, uint64, error) {
		s, ok1 := byName[start]
		e, ok2 := byName[stop]
		if !ok1 || !ok2 {
			return nil, 0, nil
		}
		if e < s || e-s > maxDumpSection {
			return nil, 0, fmt.Errorf("%s..%s spans %#x..%#x", start, stop, s, e)
		}
		b, err := read(s, int(e-s))
		return b, s, err
	}
	img := symbols.DumpImage{Machine: archs.ELFOfDump(d.Machine), Order: order}
	var off uint64
	if o, ok := vi.KernelOffset(); ok {
		off = o
	} else if p, ok := a.(arch.KernelPlacer); ok {
		off, _ = p.KernelOffset()
	}
	for _, s := range syms {
		if s.Type != 'a' && s.Type != 'A' && s.Addr >= 1<<63 {
			s.Addr -= off
		}
		img.Symbols = append(img.Symbols, s)
	}
	if img.BTF, _, err = span("__start_BTF", "__stop_BTF"); err != nil {
		return nil, fmt.Errorf("the kernel's BTF: %v", err)
	}
	ip, ipAddr, err := span("__start_orc_unwind_ip", "__stop_orc_unwind_ip")
	if err != nil {
		return nil, fmt.Errorf("the kernel's ORC tables: %v", err)
	}
	if ip != nil {
		if img.ORC, _, err = span("__start_orc_unwind", "__stop_orc_unwind"); err != nil {
			return nil, fmt.Errorf("the kernel's ORC tables: %v", err)
		}
		img.ORCIP, img.ORCIPAddr = ip, ipAddr-off
	}
	if notes, _, err := span("__start_notes", "__stop_notes"); err == nil {
		img.BuildID = symbols.NoteBuildID(notes, order)
	}
	return symbols.FromDump(img)
}

// kallsymsTables finds the kallsyms tables: VMCOREINFO lists them (6.0+,
// and kernels with the change backported); else they are looked for in the
// kernel image (symbols.FindKallsyms), which starts at VMCOREINFO's _stext
// or where the architecture finds it mapped.
func kallsymsTables(d *memory.Dump, a arch.Arch, read symbols.MemReader) (symbols.KallsymsTables, error) {
	vi := d.VMCoreInfo
	var t symbols.KallsymsTables
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"kallsyms_num_syms", &t.NumSyms}, {"kallsyms_names", &t.Names}, {"kallsyms_token_table", &t.TokenTable},
		{"kallsyms_token_index", &t.TokenIndex}, {"kallsyms_offsets", &t.Offsets}, {"kallsyms_relative_base", &t.RelativeBase},
		{"kallsyms_addresses", &t.Addresses}} {
		*f.dst, _ = vi.Symbol(f.name)
	}
	if t.Names != 0 {
		return t, nil
	}
	start, ok := vi.Symbol("_stext")
	if !ok {
		if f, isF := a.(arch.KernelImageFinder); isF {
			start, ok = f.KernelImageStart()
		}
	}
	if !ok {
		return t, fmt.Errorf("cannot find the kernel image in the dump (no VMCOREINFO _stext) to read its symbols from")
	}
	t, err := symbols.FindKallsyms(read, start, d.ByteOrder)
	if err != nil {
		return t, fmt.Errorf("cannot find the kernel's symbols in the dump: %v", err)
	}
	return t, nil
}
