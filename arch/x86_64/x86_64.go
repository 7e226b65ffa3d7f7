// Package x86_64 implements arch.Arch for x86_64: 4- and 5-level paging with
// 2 MiB and 1 GiB pages, and the kernel's physical base (phys_base).
package x86_64

import (
	"debug/elf"
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

const (
	// StartKernelMap is __START_KERNEL_map: where the kernel image is mapped.
	StartKernelMap = 0xffffffff80000000

	ptePresent = 1 << 0
	ptePSE     = 1 << 7 // a large page at PUD or PMD level
	// Physical address bits of an entry (bits 12..51).
	addrMask = 0x000ffffffffff000

	prstatusRegs = 27 // sizeof(struct user_regs_struct) / 8
)

// X86_64 is the x86_64 architecture bound to one dump.
type X86_64 struct {
	dump     *memory.Dump
	physBase uint64
	root     uint64 // physical address of the kernel's top-level page table
	levels   int    // 4 or 5
	symbols  arch.Symbols
	// kaslr is the KASLR displacement found from the page tables, for
	// dumps without VMCOREINFO (ok when found).
	kaslr      uint64
	kaslrOK    bool
	imageStart uint64 // the kernel image's run-time start, found from the page tables
}

// Machine is x86_64's name as crash prints it.
const Machine arch.Machine = "x86_64"

// Port describes x86_64 to arch/archs.
func Port() arch.Port {
	return arch.Port{Machine: Machine, ELF: elf.EM_X86_64, DumpNames: []string{"x86_64"},
		New: func(cfg arch.Config) (arch.Arch, error) { return New(cfg) }}
}

// New sets up x86_64 translation for a dump: phys_base from VMCOREINFO
// (NUMBER(phys_base)) or, failing that, from a kdump PT_LOAD of the kernel
// text; the root table from init_top_pgt; 5-level paging from
// NUMBER(pgtable_l5_enabled).
func New(cfg arch.Config) (*X86_64, error) {
	d := cfg.Dump
	x := &X86_64{dump: d, levels: 4, symbols: cfg.Symbols}
	vi := d.VMCoreInfo
	if pb, ok := vi.Number("phys_base"); ok {
		x.physBase = uint64(pb)
	} else if pb, ok := physBaseFromLoads(d); ok && vi != nil {
		x.physBase = pb
	} else {
		return x, x.fromCPUState(cfg)
	}
	if l5, ok := vi.Number("pgtable_l5_enabled"); ok && l5 != 0 {
		x.levels = 5
	}
	root, ok := vi.Symbol("init_top_pgt")
	for _, name := range x.KernelRootSymbols() {
		if ok || cfg.Symbols == nil {
			break
		}
		root, ok = cfg.Symbols(name)
	}
	if !ok {
		return nil, fmt.Errorf("x86_64: cannot find the kernel page table (init_top_pgt) in VMCOREINFO or the symbol table")
	}
	x.root = x.KernelImagePhys(root)
	return x, nil
}

// PhysToVirt adds the direct map's base: page_offset_base (randomized by
// KASLR) when the vmlinux names it, else the fixed base for the paging mode.
func (x *X86_64) PhysToVirt(phys uint64) (uint64, error) {
	base := uint64(0xffff888000000000)
	if x.levels == 5 {
		base = 0xff11000000000000
	}
	if x.symbols != nil {
		if a, ok := x.symbols("page_offset_base"); ok {
			v, err := arch.ReadU64(x.dump, x.KernelImagePhys(a))
			if err != nil {
				return 0, err
			}
			base = v
		}
	}
	return base + phys, nil
}

// x86Flags names page-table entry bits.
func x86Flags() map[int]string {
	return map[int]string{0: "PRESENT", 1: "RW", 2: "USER", 3: "PWT", 4: "PCD", 5: "ACCESSED", 6: "DIRTY", 7: "PSE", 8: "GLOBAL", 63: "NX"}
}

// EntryFlags names an entry's flags (bit 7 is PSE above the last level,
// PAT in a last-level PTE).
func (x *X86_64) EntryFlags(e uint64, lastLevel bool) []string {
	s := arch.FlagNames(e, x86Flags())
	if i := slices.Index(s, "PSE"); lastLevel && i >= 0 {
		s[i] = "PAT"
	}
	return s
}

// KernelRootSymbols: the top table is init_top_pgt (init_level4_pgt
// before 4.13).
func (x *X86_64) KernelRootSymbols() []string { return []string{"init_top_pgt", "init_level4_pgt"} }

// KernelImagePhys translates an address in the kernel image mapping
// (__START_KERNEL_map and up) without the page tables.
func (x *X86_64) KernelImagePhys(vaddr uint64) uint64 { return vaddr - StartKernelMap + x.physBase }

// PhysBase is the physical address the kernel image was loaded at, less its
// link-time address.
func (x *X86_64) PhysBase() uint64 { return x.physBase }

// Levels is 4 or 5.
func (x *X86_64) Levels() int { return x.levels }

func (x *X86_64) Name() arch.Machine { return Machine }
func (x *X86_64) PageSize() uint64   { return 4096 }
func (x *X86_64) PRStatusRegs() int  { return prstatusRegs }

// UserWalk walks a process's page tables.
func (x *X86_64) UserWalk(root, vaddr uint64) (arch.Translation, error) {
	return Walk(x.dump, root, x.levels, vaddr)
}

// KernelWalk walks the kernel's page tables from init_top_pgt.
func (x *X86_64) KernelWalk(vaddr uint64) (arch.Translation, error) {
	return Walk(x.dump, x.root, x.levels, vaddr)
}

// Walk translates vaddr through the page tables rooted at the physical
// address root, with 4 or 5 levels.
func Walk(d *memory.Dump, root uint64, levels int, vaddr uint64) (arch.Translation, error) {
	t := arch.Translation{Virt: vaddr}
	table := root & addrMask
	for lvl := levels - 1; lvl >= 0; lvl-- {
		shift := uint(12 + 9*lvl)
		idx := (vaddr >> shift) & 511
		name := [...]string{"PTE", "PMD", "PUD", "P4D", "PGD"}[lvl]
		if levels == 4 && lvl == 3 {
			name = "PGD"
		}
		ea := table + idx*8
		e, err := arch.ReadU64(d, ea)
		if err != nil {
			return t, fmt.Errorf("%s at physical address %x: %w", name, ea, err)
		}
		t.Levels = append(t.Levels, arch.Level{Name: name, EntryAddr: ea, Entry: e})
		if e&ptePresent == 0 {
			return t, &arch.TranslationError{Addr: vaddr, Level: name}
		}
		if lvl == 0 || (lvl <= 2 && e&ptePSE != 0) {
			size := uint64(1) << shift
			base := e & addrMask &^ (size - 1)
			t.Phys = base | vaddr&(size-1)
			t.PageSize = size
			return t, nil
		}
		table = e & addrMask
	}
	panic("unreachable")
}

// physBaseFromLoads derives phys_base from a kdump ELF core's PT_LOAD of
// the kernel image mapping (virtual address above __START_KERNEL_map).
func physBaseFromLoads(d *memory.Dump) (uint64, bool) {
	for _, l := range d.Loads {
		if l.Vaddr >= StartKernelMap && l.Vaddr < 0xffffffffc0000000 && l.Vaddr != l.Paddr {
			return l.Paddr - (l.Vaddr - StartKernelMap), true
		}
	}
	return 0, false
}

// QEMU's "QEMU" ELF notes hold each vCPU's state (QEMUCPUState): version,
// size, 18 general registers, 10 segment descriptors of 24 bytes, then
// CR0-CR4.
const (
	qemuCR3 = 8 + 18*8 + 10*24 + 3*8
	qemuCR4 = qemuCR3 + 8
	cr4LA57 = 1 << 12
)

// fromCPUState sets the architecture up for a dump without VMCOREINFO (a
// QEMU dump taken without -device vmcoreinfo): the page tables from a
// vCPU's CR3, 5-level paging from its CR4.LA57, and the kernel's KASLR
// placement from where the page tables map the kernel image: the first
// 2 MiB page mapped above __START_KERNEL_map is _text.
func (x *X86_64) fromCPUState(cfg arch.Config) error {
	// Without symbols (a dump opened with no vmlinux), _text is taken
	// to be linked where x86_64 kernels are by default, and the image's
	// start is known for the kernel's own tables to be found there.
	text := uint64(defaultText)
	if cfg.Symbols != nil {
		var ok bool
		if text, ok = cfg.Symbols("_text"); !ok {
			return fmt.Errorf("x86_64: the vmlinux has no _text symbol")
		}
	}
	lastErr := fmt.Errorf("x86_64: the dump has neither VMCOREINFO nor QEMU CPU-state notes; cannot find the page tables")
	for _, n := range cfg.Dump.Notes {
		if n.Name != "QEMU" || len(n.Desc) < qemuCR4+8 {
			continue
		}
		o := cfg.Dump.ByteOrder
		cr3, cr4 := o.Uint64(n.Desc[qemuCR3:]), o.Uint64(n.Desc[qemuCR4:])
		x.root, x.levels = cr3&addrMask, 4
		if cr4&cr4LA57 != 0 {
			x.levels = 5
		}
		for va := uint64(StartKernelMap); va < 0xffffffffc0000000; va += 1 << 21 {
			t, err := Walk(cfg.Dump, x.root, x.levels, va)
			if err != nil {
				continue
			}
			x.kaslr, x.kaslrOK = va-(text&^(1<<21-1)), true
			x.imageStart = va
			x.physBase = t.Phys - (va - StartKernelMap)
			return nil
		}
		lastErr = fmt.Errorf("x86_64: the page tables at CR3 %#x map no kernel image", cr3)
	}
	return lastErr
}

// KernelOffset is the KASLR displacement found from the page tables, for
// dumps without VMCOREINFO's KERNELOFFSET.
func (x *X86_64) KernelOffset() (uint64, bool) { return x.kaslr, x.kaslrOK }

// defaultText is where _text is linked with the default configuration
// (__START_KERNEL_map + CONFIG_PHYSICAL_START 16 MiB).
const defaultText = StartKernelMap + 0x1000000

// KernelImageStart is where the page tables map the kernel image, for
// dumps without VMCOREINFO.
func (x *X86_64) KernelImageStart() (uint64, bool) { return x.imageStart, x.imageStart != 0 }

// Registers names the NT_PRSTATUS registers (struct user_regs_struct).
func (x *X86_64) Registers() []string {
	return []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
		"orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"}
}

// ISA is the instruction set dis decodes (arch.Disassembly).
func (x *X86_64) ISA() arch.ISA { return arch.ISAX86_64 }
