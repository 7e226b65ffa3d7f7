// Package ppc64le implements arch.Arch for little-endian 64-bit POWER
// (Book3S, the radix MMU of POWER9 and later): the radix page-table walk,
// the kernel's linear map at 0xc000000000000000 (where the kernel image
// also lies: ppc64 has no KASLR, and the crashed kernel runs at physical
// 0), the NT_PRSTATUS register set, the stack back chain, and crash's
// ppc64 layouts of bt, bt -e, vtop and pte (layout.go).
package ppc64le

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// Machine is ppc64le's name as crash prints it.
const Machine arch.Machine = "ppc64le"

const (
	// PageOffset is the base of the linear map (quadrant 3: the kernel's),
	// and KERNELBASE.
	PageOffset = 0xc000000000000000
	// eaBits is the radix tree's effective-address size (52 bits: RTS in
	// the kernel's process-table entry), pgdBits its top level's index.
	eaBits  = 52
	pgdBits = 13

	// Radix entries (ISA 3.0 Book III 6.7.10), which the kernel keeps
	// big-endian whatever its own byte order.
	entryValid = 1 << 63 // _PAGE_PRESENT
	entryLeaf  = 1 << 62 // _PAGE_PTE
	// nlbMask is a directory entry's next-level base; nlsMask the next
	// level's index size in bits.
	nlbMask = 0x0fffffffffffff00
	nlsMask = 0x1f
	// rpnMask is a leaf's real page number (bits 12..55).
	rpnMask = 0x00fffffffffff000

	prstatusRegs = 44 // struct user_pt_regs: gpr[32] ... result (the note pads to 48)
)

// PPC64LE is the architecture bound to one dump.
type PPC64LE struct {
	dump      *memory.Dump
	root      uint64 // physical address of swapper_pg_dir
	pageShift uint
}

// Port describes ppc64le to arch/archs.
func Port() arch.Port {
	return arch.Port{Machine: Machine, ELF: elf.EM_PPC64, DumpNames: []string{"ppc64le", "ppc64"},
		New: func(cfg arch.Config) (arch.Arch, error) { return New(cfg) }}
}

// New sets up translation for a dump: the kernel's top table is
// swapper_pg_dir (VMCOREINFO's, else the vmlinux's), at its linear-map
// address less PAGE_OFFSET. QEMU's pseries dumps carry no VMCOREINFO; the
// base page size is then read from the page tables themselves.
func New(cfg arch.Config) (*PPC64LE, error) {
	d := cfg.Dump
	pgd, ok := d.VMCoreInfo.Symbol("swapper_pg_dir")
	if !ok && cfg.Symbols != nil {
		pgd, ok = cfg.Symbols("swapper_pg_dir")
	}
	if !ok || pgd < PageOffset {
		return nil, fmt.Errorf("ppc64le: cannot find swapper_pg_dir in VMCOREINFO or the symbol table")
	}
	p := &PPC64LE{dump: d, root: pgd - PageOffset, pageShift: 16}
	if ps := d.VMCoreInfo.PageSize(); ps == 4096 || ps == 65536 {
		p.pageShift = 12
		if ps == 65536 {
			p.pageShift = 16
		}
	} else if s, ok := pageShiftOf(d, p.root); ok {
		p.pageShift = s
	}
	return p, nil
}

// readBE reads a page-table entry: big-endian in every radix table.
func readBE(d *memory.Dump, phys uint64) (uint64, error) {
	var b [8]byte
	if err := d.ReadPhys(b[:], phys); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

// pageShiftOf finds the base page size from the tree under root: the
// next-level size of a PMD entry that points at a page table is the PTE
// index's width, and the levels' widths add up to 52 bits (64K pages: 13
// 9 9 5; 4K pages: 13 9 9 9).
func pageShiftOf(d *memory.Dump, root uint64) (uint, bool) {
	dir := func(table uint64, n int, f func(e uint64) (uint, bool)) (uint, bool) {
		buf := make([]byte, 8*n)
		if err := d.ReadPhys(buf, table); err != nil {
			return 0, false
		}
		for i := 0; i < n; i++ {
			e := binary.BigEndian.Uint64(buf[8*i:])
			if e&entryValid == 0 || e&entryLeaf != 0 {
				continue
			}
			if s, ok := f(e); ok {
				return s, true
			}
		}
		return 0, false
	}
	return dir(root, 1<<pgdBits, func(pgd uint64) (uint, bool) {
		return dir(pgd&nlbMask, 1<<(pgd&nlsMask), func(pud uint64) (uint, bool) {
			return dir(pud&nlbMask, 1<<(pud&nlsMask), func(pmd uint64) (uint, bool) {
				pte := uint(pmd & nlsMask)
				used := uint(pgdBits + pgd&nlsMask + pud&nlsMask)
				if used+pte >= eaBits {
					return 0, false
				}
				return eaBits - used - pte, true
			})
		})
	})
}

// KernelByteOrder: the kernel's memory is little-endian, whatever order
// QEMU wrote the dump's headers in (arch.KernelByteOrder).
func (p *PPC64LE) KernelByteOrder() binary.ByteOrder { return binary.LittleEndian }

func (p *PPC64LE) Name() arch.Machine { return Machine }
func (p *PPC64LE) PageSize() uint64   { return 1 << p.pageShift }
func (p *PPC64LE) PRStatusRegs() int  { return prstatusRegs }

// PhysToVirt maps into the linear map.
func (p *PPC64LE) PhysToVirt(phys uint64) (uint64, error) {
	if phys >= 1<<eaBits {
		return 0, fmt.Errorf("physical address %x is beyond the linear map", phys)
	}
	return phys | PageOffset, nil
}

// KernelImagePhys translates an address of the kernel image (part of the
// linear map).
func (p *PPC64LE) KernelImagePhys(vaddr uint64) uint64 { return vaddr - PageOffset }

// KernelWalk walks swapper_pg_dir, for quadrant 3 (the kernel's addresses:
// linear map, vmalloc, I/O and vmemmap).
func (p *PPC64LE) KernelWalk(vaddr uint64) (arch.Translation, error) {
	if vaddr>>62 != 3 || vaddr>>eaBits&(1<<(62-eaBits)-1) != 0 {
		return arch.Translation{Virt: vaddr}, &arch.TranslationError{Addr: vaddr, Level: "kernel address range"}
	}
	return Walk(p.dump, p.root, vaddr)
}

// UserWalk walks a process's tables (quadrant 0).
func (p *PPC64LE) UserWalk(root, vaddr uint64) (arch.Translation, error) {
	if vaddr>>eaBits != 0 {
		return arch.Translation{Virt: vaddr}, &arch.TranslationError{Addr: vaddr, Level: "user address range"}
	}
	return Walk(p.dump, root, vaddr)
}

// Walk translates vaddr through the radix tree at root, as the MMU does:
// the top level takes 13 bits of the 52-bit effective address, and each
// directory entry says how many bits the next level takes (its NLS); a
// leaf may sit at any level below the top (1G at the PUD, 2M at the PMD).
func Walk(d *memory.Dump, root, vaddr uint64) (arch.Translation, error) {
	t := arch.Translation{Virt: vaddr}
	names := []string{"PGD", "PUD", "PMD", "PTE"}
	table, bits, shift := root, uint(pgdBits), uint(eaBits)
	for lvl, name := range names {
		if bits == 0 || bits > shift {
			return t, fmt.Errorf("%s: bad next-level size %d", name, bits)
		}
		shift -= bits
		idx := (vaddr >> shift) & (1<<bits - 1)
		ea := table + idx*8
		e, err := readBE(d, ea)
		if err != nil {
			return t, fmt.Errorf("%s at physical address %x: %w", name, ea, err)
		}
		t.Levels = append(t.Levels, arch.Level{Name: name, EntryAddr: ea, Entry: e})
		switch {
		case e&entryValid == 0:
			return t, &arch.TranslationError{Addr: vaddr, Level: name}
		case e&entryLeaf != 0:
			if lvl == 0 {
				return t, &arch.TranslationError{Addr: vaddr, Level: name}
			}
			size := uint64(1) << shift
			t.Phys = e&rpnMask&^(size-1) | vaddr&(size-1)
			t.PageSize = size
			return t, nil
		case lvl == len(names)-1:
			return t, &arch.TranslationError{Addr: vaddr, Level: name}
		}
		table, bits = e&nlbMask, uint(e&nlsMask)
	}
	return t, &arch.TranslationError{Addr: vaddr, Level: "PTE"}
}

// ppcFlags names the bits of a radix entry (the kernel's book3s64 names).
func ppcFlags() map[int]string {
	return map[int]string{0: "EXEC", 1: "WRITE", 2: "READ", 3: "PRIVILEGED", 4: "SAO", 5: "NON_IDEMPOTENT",
		7: "DIRTY", 8: "ACCESSED", 62: "PTE", 63: "PRESENT"}
}

// EntryFlags names an entry's flags; a directory entry has only its valid
// bit.
func (p *PPC64LE) EntryFlags(e uint64, lastLevel bool) []string {
	if e&entryLeaf == 0 && !lastLevel {
		return arch.FlagNames(e&entryValid, ppcFlags())
	}
	return arch.FlagNames(e, ppcFlags())
}

// Registers names the NT_PRSTATUS registers (struct user_pt_regs).
func (p *PPC64LE) Registers() []string {
	r := make([]string, 0, prstatusRegs)
	for i := 0; i < 32; i++ {
		r = append(r, fmt.Sprintf("r%d", i))
	}
	return append(r, "nip", "msr", "orig_gpr3", "ctr", "link", "xer", "ccr", "softe", "trap", "dar", "dsisr", "result")
}

// ISA is the instruction set dis decodes (arch.Disassembly).
func (p *PPC64LE) ISA() arch.ISA { return arch.ISAPPC64 }
