// Package arm64 implements arch.Arch for arm64: 4K, 16K and 64K granules
// with the virtual address size from VMCOREINFO (TCR_EL1_T1SZ or VA_BITS),
// and the kernel image's placement from kimage_voffset.
package arm64

import (
	"debug/elf"
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

const prstatusRegs = 34 // x0-x30, sp, pc, pstate

// ARM64 is the arm64 architecture bound to one dump.
type ARM64 struct {
	dump          *memory.Dump
	pageSize      uint64
	vaBits        uint
	kimageVoffset uint64
	physOffset    uint64
	root          uint64 // physical address of swapper_pg_dir
	pacMask       uint64
}

// Machine is arm64's name as crash prints it.
const Machine arch.Machine = "arm64"

// Port describes arm64 to arch/archs.
func Port() arch.Port {
	return arch.Port{Machine: Machine, ELF: elf.EM_AARCH64, DumpNames: []string{"aarch64", "arm64"},
		New: func(cfg arch.Config) (arch.Arch, error) { return New(cfg) }}
}

// New sets up arm64 translation from VMCOREINFO: PAGESIZE, TCR_EL1_T1SZ
// (else VA_BITS), kimage_voffset, PHYS_OFFSET, KERNELPACMASK, and
// swapper_pg_dir (VMCOREINFO or the symbol table).
func New(cfg arch.Config) (*ARM64, error) {
	vi := cfg.Dump.VMCoreInfo
	if vi == nil {
		return nil, fmt.Errorf("%s: the dump has no VMCOREINFO; arm64 dumps without it are not supported yet", cfg.Dump.Path)
	}
	a := &ARM64{dump: cfg.Dump, pageSize: vi.PageSize()}
	switch a.pageSize {
	case 4096, 16384, 65536:
	default:
		return nil, fmt.Errorf("arm64: page size %d from VMCOREINFO is not 4K, 16K or 64K", a.pageSize)
	}
	if t1sz, ok := vi.Number("TCR_EL1_T1SZ"); ok && t1sz > 0 && t1sz < 64 {
		a.vaBits = uint(64 - t1sz)
	} else if vb, ok := vi.Number("VA_BITS"); ok {
		a.vaBits = uint(vb)
	} else {
		return nil, fmt.Errorf("arm64: VMCOREINFO has neither TCR_EL1_T1SZ nor VA_BITS")
	}
	kv, ok := vi.Number("kimage_voffset")
	if !ok {
		return nil, fmt.Errorf("arm64: VMCOREINFO has no NUMBER(kimage_voffset)")
	}
	a.kimageVoffset = uint64(kv)
	if po, ok := vi.Number("PHYS_OFFSET"); ok {
		a.physOffset = uint64(po)
	}
	if pm, ok := vi.Number("KERNELPACMASK"); ok {
		a.pacMask = uint64(pm)
	}
	pgd, ok := vi.Symbol("swapper_pg_dir")
	if !ok && cfg.Symbols != nil {
		pgd, ok = cfg.Symbols("swapper_pg_dir")
	}
	if !ok {
		return nil, fmt.Errorf("arm64: cannot find swapper_pg_dir in VMCOREINFO or the symbol table")
	}
	a.root = pgd - a.kimageVoffset
	return a, nil
}

func (a *ARM64) Name() arch.Machine { return Machine }
func (a *ARM64) PageSize() uint64   { return a.pageSize }
func (a *ARM64) PRStatusRegs() int  { return prstatusRegs }

// VABits is the kernel's virtual address size.
func (a *ARM64) VABits() uint { return a.vaBits }

// PACMask is KERNELPACMASK: the bits of a kernel return address that hold a
// pointer-authentication code (0 when the kernel does not use it).
func (a *ARM64) PACMask() uint64 { return a.pacMask }

// PhysToVirt maps into the linear map: PAGE_OFFSET (the bottom of the
// kernel half, -(1 << VA_BITS)) plus the offset from PHYS_OFFSET.
func (a *ARM64) PhysToVirt(phys uint64) (uint64, error) {
	if phys < a.physOffset {
		return 0, fmt.Errorf("physical address %x is below PHYS_OFFSET %x", phys, a.physOffset)
	}
	return (phys - a.physOffset) | -(uint64(1) << a.vaBits), nil
}

// arm64Flags names descriptor bits (a function: no package-level state).
func arm64Flags() map[int]string {
	return map[int]string{0: "VALID", 1: "TABLE", 6: "USER", 7: "RDONLY", 10: "AF", 11: "NG", 51: "DBM", 52: "CONT", 53: "PXN", 54: "UXN"}
}

// EntryFlags names an entry's flags (bit 1 means TABLE in a table entry,
// PAGE in a last-level entry).
func (a *ARM64) EntryFlags(e uint64, lastLevel bool) []string {
	s := arch.FlagNames(e, arm64Flags())
	if i := slices.Index(s, "TABLE"); lastLevel && i >= 0 {
		s[i] = "PAGE"
	}
	return s
}

// KernelImagePhys translates an address in the kernel image.
func (a *ARM64) KernelImagePhys(vaddr uint64) uint64 { return vaddr - a.kimageVoffset }

// UserWalk walks a process's page tables (TTBR0's, the same granule and,
// as Linux sets them up, the same address size as the kernel's).
func (a *ARM64) UserWalk(root, vaddr uint64) (arch.Translation, error) {
	return Walk(a.dump, root, a.pageSize, a.vaBits, vaddr)
}

// KernelWalk walks swapper_pg_dir.
func (a *ARM64) KernelWalk(vaddr uint64) (arch.Translation, error) {
	// The kernel's half of the address space (TTBR1) has bits 55 down to
	// VA_BITS set (the top byte may carry a tag); any other address is
	// not a kernel address, whatever its low bits would index.
	if kernelHalf := ^uint64(0) << a.vaBits & (1<<56 - 1); vaddr&kernelHalf != kernelHalf {
		return arch.Translation{Virt: vaddr}, &arch.TranslationError{Addr: vaddr, Level: "kernel address range"}
	}
	return Walk(a.dump, a.root, a.pageSize, a.vaBits, vaddr)
}

// outputAddress extracts the output (physical) address of a descriptor.
// With 64K pages, FEAT_LPA keeps PA bits 51:48 in descriptor bits 15:12
// (which are zero for smaller addresses); with 4K or 16K pages and 52-bit
// virtual addresses the kernel uses FEAT_LPA2 descriptors, which keep PA
// bits 51:50 in descriptor bits 9:8 (the shareability field otherwise).
func outputAddress(e, pageSize uint64, vaBits uint) uint64 {
	switch {
	case pageSize == 65536:
		return e&0x0000ffffffff0000 | (e>>12&0xf)<<48
	case vaBits == 52:
		return e&0x0003fffffffff000&^(pageSize-1) | (e>>8&3)<<50
	}
	return e & 0x0000fffffffff000 &^ (pageSize - 1)
}

// Walk translates vaddr through the tables rooted at root for the given
// granule and virtual address size.
func Walk(d *memory.Dump, root, pageSize uint64, vaBits uint, vaddr uint64) (arch.Translation, error) {
	t := arch.Translation{Virt: vaddr}
	var pageShift uint
	switch pageSize {
	case 4096:
		pageShift = 12
	case 16384:
		pageShift = 14
	default:
		pageShift = 16
	}
	bitsPerLevel := pageShift - 3
	levels := int((vaBits - pageShift + bitsPerLevel - 1) / bitsPerLevel)
	names := []string{"PTE", "PMD", "PUD", "P4D", "PGD"}
	table := root
	for lvl := levels - 1; lvl >= 0; lvl-- {
		shift := pageShift + bitsPerLevel*uint(lvl)
		width := bitsPerLevel
		if lvl == levels-1 {
			width = vaBits - shift
		}
		idx := (vaddr >> shift) & (1<<width - 1)
		name := names[lvl]
		if lvl == levels-1 {
			name = "PGD"
		}
		ea := table + idx*8
		e, err := arch.ReadU64(d, ea)
		if err != nil {
			return t, fmt.Errorf("%s at physical address %x: %w", name, ea, err)
		}
		t.Levels = append(t.Levels, arch.Level{Name: name, EntryAddr: ea, Entry: e})
		switch {
		case e&1 == 0:
			return t, &arch.TranslationError{Addr: vaddr, Level: name}
		case lvl == 0 || e&3 == 1: // a page, or a block at a higher level
			if lvl == 0 && e&3 != 3 {
				return t, &arch.TranslationError{Addr: vaddr, Level: name}
			}
			size := uint64(1) << shift
			t.Phys = outputAddress(e, pageSize, vaBits)&^(size-1) | vaddr&(size-1)
			t.PageSize = size
			return t, nil
		}
		table = outputAddress(e, pageSize, vaBits)
	}
	return t, fmt.Errorf("arm64: no page-table levels for %d-bit addresses", vaBits)
}

// Registers names the NT_PRSTATUS registers (struct user_pt_regs).
func (a *ARM64) Registers() []string {
	r := make([]string, 0, prstatusRegs)
	for i := 0; i <= 30; i++ {
		r = append(r, fmt.Sprintf("x%d", i))
	}
	return append(r, "sp", "pc", "pstate")
}

// ISA is the instruction set dis decodes (arch.Disassembly).
func (a *ARM64) ISA() arch.ISA { return arch.ISAA64 }
