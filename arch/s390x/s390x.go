// Package s390x implements arch.Arch for 64-bit IBM Z: the DAT table walk
// (region-first, -second and -third tables, the segment table and 2K page
// tables of 256 4K pages; 2G and 1M large entries), the kernel's identity
// mapping (6.1: virtual == real), the per-CPU prefix (lowcore) pages, the
// NT_PRSTATUS register set, each CPU's notes (its lowcore save areas,
// keyed by its prefix), the stack back chain, and crash's s390x layouts of
// bt, vtop and pte (layout.go). Everything is big-endian, and read in the
// dump's order.
package s390x

import (
	"debug/elf"
	"fmt"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// Machine is s390x's name as crash prints it.
const Machine arch.Machine = "s390x"

// Note types of QEMU's and the kernel's s390 dumps.
const (
	ntS390Prefix = 0x305 // NT_S390_PREFIX: the CPU's prefix register
	ntS390Ctrs   = 0x304 // NT_S390_CTRS: control registers 0-15
)

// DAT (z/Architecture Principles of Operation, "Dynamic Address
// Translation"): an address-space-control element designates the top
// table and its type; each region entry designates the next table, a
// segment entry a page table (or, with FC, a 1M frame), a region-third
// entry with FC a 2G frame.
const (
	asceOrigin   = ^uint64(0xfff)
	typeMask     = 0xc // designation / table type: 3 R1, 2 R2, 1 R3, 0 segment
	invalid      = 0x20
	largeFC      = 0x400 // segment and region-third entries: a large frame
	pteInvalid   = 0x400
	ptOrigin     = ^uint64(0x7ff) // page tables are 2K
	prstatusRegs = 27             // psw mask and address, r0-r15, acrs (in pairs), orig_gpr2
)

// S390X is the architecture bound to one dump.
type S390X struct {
	dump *memory.Dump
	asce uint64 // the kernel's address-space-control element
	// prefixes are the CPUs' prefix registers (their lowcore's absolute
	// address), in note order.
	prefixes []uint64
}

// Port describes s390x to arch/archs.
func Port() arch.Port {
	return arch.Port{Machine: Machine, ELF: elf.EM_S390, DumpNames: []string{"s390x", "S390X"},
		New: func(cfg arch.Config) (arch.Arch, error) { return New(cfg) }}
}

// New finds the kernel's ASCE: control register 13 (the home space, the
// kernel's own) of the first CPU's NT_S390_CTRS note, else swapper_pg_dir
// designated as a region-third table (what 6.1 sets up below 4T).
func New(cfg arch.Config) (*S390X, error) {
	d := cfg.Dump
	s := &S390X{dump: d}
	for _, n := range d.Notes {
		switch {
		case n.Type == ntS390Ctrs && len(n.Desc) >= 16*8 && s.asce == 0:
			s.asce = d.ByteOrder.Uint64(n.Desc[13*8:])
		case n.Type == ntS390Prefix && len(n.Desc) >= 4:
			s.prefixes = append(s.prefixes, uint64(d.ByteOrder.Uint32(n.Desc)))
		}
	}
	if s.asce == 0 {
		pgd, ok := d.VMCoreInfo.Symbol("swapper_pg_dir")
		if !ok && cfg.Symbols != nil {
			pgd, ok = cfg.Symbols("swapper_pg_dir")
		}
		if !ok {
			return nil, fmt.Errorf("s390x: no control registers in the dump and no swapper_pg_dir")
		}
		s.asce = pgd | 1<<2 | 3
	}
	return s, nil
}

func (s *S390X) Name() arch.Machine { return Machine }
func (s *S390X) PageSize() uint64   { return 4096 }
func (s *S390X) PRStatusRegs() int  { return prstatusRegs }

// Prefixes gives each CPU's prefix: where its lowcore (the 8K that real
// addresses 0-8191 name on that CPU) lies in absolute storage.
func (s *S390X) Prefixes() []uint64 { return s.prefixes }

// PhysToVirt: 6.1 maps all memory at its own address.
func (s *S390X) PhysToVirt(phys uint64) (uint64, error) { return phys, nil }

// KernelImagePhys: the kernel image lies at its link address.
func (s *S390X) KernelImagePhys(vaddr uint64) uint64 { return vaddr }

// KernelWalk walks the kernel's tables.
func (s *S390X) KernelWalk(vaddr uint64) (arch.Translation, error) {
	return Walk(s.dump, s.asce, vaddr)
}

// UserWalk walks a process's tables; root is its top table (mm->pgd),
// whose type the walk reads from its first valid entry.
func (s *S390X) UserWalk(root, vaddr uint64) (arch.Translation, error) {
	buf := make([]byte, 8*2048)
	if err := s.dump.ReadPhys(buf, root); err != nil {
		return arch.Translation{Virt: vaddr}, err
	}
	typ := uint64(1) // region-third unless an entry says otherwise
	for i := 0; i < 2048; i++ {
		if e := s.dump.ByteOrder.Uint64(buf[8*i:]); e&invalid == 0 && e != 0 {
			typ = e & typeMask >> 2
			break
		}
	}
	return Walk(s.dump, root|typ<<2|3, vaddr)
}

// levelName names a table by its type (segment 0 ... region-first 3) as
// Linux's levels: the top one is always the PGD.
func levelName(typ uint64, top bool) string {
	if top {
		return "PGD"
	}
	return [...]string{"PMD", "PUD", "P4D", "PGD"}[typ]
}

// Walk translates vaddr through the tables an ASCE designates.
func Walk(d *memory.Dump, asce, vaddr uint64) (arch.Translation, error) {
	t := arch.Translation{Virt: vaddr}
	typ := asce & typeMask >> 2
	// The top table must span the address: R1 all 64 bits, R2 53, R3 42,
	// a segment table 31.
	if limit := uint(31 + 11*typ); limit < 64 && vaddr>>limit != 0 {
		return t, &arch.TranslationError{Addr: vaddr, Level: "address beyond the top table"}
	}
	table := asce & asceOrigin
	for top := true; ; top = false {
		shift := uint(20 + 11*typ)
		idx := vaddr >> shift & 0x7ff
		name := levelName(typ, top)
		ea := table + idx*8
		e, err := arch.ReadU64(d, ea)
		if err != nil {
			return t, fmt.Errorf("%s at physical address %x: %w", name, ea, err)
		}
		t.Levels = append(t.Levels, arch.Level{Name: name, EntryAddr: ea, Entry: e})
		if e&invalid != 0 {
			return t, &arch.TranslationError{Addr: vaddr, Level: name}
		}
		if typ == 0 || typ == 1 {
			if e&largeFC != 0 {
				size := uint64(1) << shift
				t.Phys = e&^(size-1) | vaddr&(size-1)
				t.PageSize = size
				return t, nil
			}
		}
		if typ == 0 {
			ptea := e&ptOrigin + (vaddr>>12&0xff)*8
			pte, err := arch.ReadU64(d, ptea)
			if err != nil {
				return t, fmt.Errorf("PTE at physical address %x: %w", ptea, err)
			}
			t.Levels = append(t.Levels, arch.Level{Name: "PTE", EntryAddr: ptea, Entry: pte})
			if pte&pteInvalid != 0 {
				return t, &arch.TranslationError{Addr: vaddr, Level: "PTE"}
			}
			t.Phys = pte&^0xfff | vaddr&0xfff
			t.PageSize = 4096
			return t, nil
		}
		table = e & asceOrigin
		typ--
	}
}

// s390Flags names a page-table entry's bits (the kernel's _PAGE_* names
// of a hardware PTE).
func s390Flags() map[int]string {
	return map[int]string{8: "NOEXEC", 9: "PROTECT", 10: "INVALID"}
}

// EntryFlags names an entry's flags: a PTE's protection and validity; a
// table entry's invalid and large-frame bits.
func (s *S390X) EntryFlags(e uint64, lastLevel bool) []string {
	if lastLevel {
		return arch.FlagNames(e, s390Flags())
	}
	return arch.FlagNames(e, map[int]string{5: "INVALID", 9: "PROTECT", 10: "LARGE"})
}

// Registers names the NT_PRSTATUS registers (struct s390_regs; the
// access registers are 32-bit, two to a word).
func (s *S390X) Registers() []string {
	r := []string{"psw_mask", "psw_addr"}
	for i := 0; i < 16; i++ {
		r = append(r, fmt.Sprintf("r%d", i))
	}
	for i := 0; i < 16; i += 2 {
		r = append(r, fmt.Sprintf("acr%d_%d", i, i+1))
	}
	return append(r, "orig_gpr2")
}

// ISA is the instruction set dis decodes (arch.Disassembly).
func (s *S390X) ISA() arch.ISA { return arch.ISAS390X }
