// Package arch owns what differs between processor architectures: walking
// the kernel's page tables, finding the kernel's physical base and KASLR
// placement, the layout of saved registers (as data: positions, DWARF
// numbering, the rows crash prints them in), and the checks of bt -e's
// exception-frame search. Each architecture lives in a folder of its own
// (x86_64/, arm64/, ppc64le/, s390x/) behind the Arch interface and the
// optional capability interfaces declared here (Unwinding, DWARFUnwinding,
// BackChainUnwinding, EFrameSearcher, EFrameRows, BTLayout, VtopLayout,
// PTEDecoder, CPUNoteKeys, PointerAuth, KernelPlacer, KernelImageFinder,
// KernelRootNamer, KernelByteOrder, DataReferences, DataAccesses,
// FrameRecordSaves, Disassembly), which the layers above
// ask for by type assertion; no package outside arch imports an
// architecture folder. archs lists the architectures and picks one for a
// dump. Adding another architecture is one new folder plus one line in
// archs.
package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"github.com/gocrash/gocrash/memory"
)

// Symbols looks up the run-time (relocated) address of a kernel symbol. The
// symbols package provides it; arch only asks for the handful of tables it
// needs, and may be given nil when no vmlinux was loaded.
type Symbols func(name string) (uint64, bool)

// Config is what an architecture needs to be set up for a dump.
type Config struct {
	Dump    *memory.Dump
	Symbols Symbols
}

// Level is one step of a page-table walk: the physical address of the entry
// read and its value.
type Level struct {
	Name      string // "PGD", "P4D", "PUD", "PMD", "PTE"
	EntryAddr uint64
	Entry     uint64
}

// Translation is the result of walking the page tables for one address.
type Translation struct {
	Virt, Phys uint64
	PageSize   uint64 // size of the page or block that maps Virt
	Levels     []Level
}

// Machine is an architecture's name as crash prints it ("x86_64",
// "arm64"). Each architecture folder defines its own value; arch/archs maps
// ELF machines and the machine names dumps record to it.
type Machine string

// ISA names an instruction set, for the disassembler (dis): the
// architecture says which one its kernel runs, so that commands pick a
// decoder without comparing machine names.
type ISA string

const (
	ISAX86_64 ISA = "x86-64" // decoded in gdb's AT&T syntax
	ISAA64    ISA = "a64"    // AArch64, in gdb's A64 syntax
	ISAPPC64  ISA = "ppc64"  // 64-bit Power (little-endian), in GNU syntax
	ISAS390X  ISA = "s390x"  // z/Architecture, in GNU syntax
)

// Disassembly is implemented by architectures whose kernel text dis
// decodes.
type Disassembly interface {
	ISA() ISA
}

// Port describes one architecture to arch/archs: its name, how dumps and
// vmlinux files name it, and how to set it up for a dump.
type Port struct {
	Machine Machine
	// ELF is the e_machine of its vmlinux files and ELF cores.
	ELF elf.Machine
	// DumpNames are the machine names a dump may record for it (the ELF
	// name, utsname's machine, the kdump header's).
	DumpNames []string
	// New sets the architecture up for a dump.
	New func(Config) (Arch, error)
}

// Arch is one architecture's view of a dump.
type Arch interface {
	// Name is the machine name crash prints.
	Name() Machine
	// PageSize is the kernel's base page size.
	PageSize() uint64
	// KernelWalk translates a kernel virtual address through the kernel's
	// page tables, returning every level visited.
	KernelWalk(vaddr uint64) (Translation, error)
	// UserWalk translates a user virtual address through the page tables
	// whose top level is at physical address root (an mm's pgd).
	UserWalk(root, vaddr uint64) (Translation, error)
	// PRStatusRegs is the number of registers in an NT_PRSTATUS note.
	PRStatusRegs() int
	// Registers names those registers, in note order.
	Registers() []string
	// PhysToVirt gives the kernel's direct-map (linear map) address of a
	// physical address.
	PhysToVirt(phys uint64) (uint64, error)
	// EntryFlags names the flag bits set in a page-table entry, lowest
	// bit first, with crash's names ("PRESENT", "RW", "ACCESSED", ...);
	// lastLevel is true for an entry of the last level (a PTE).
	EntryFlags(entry uint64, lastLevel bool) []string
}

// FlagNames names the bits set in v, lowest first (bit i named names[i];
// unnamed bits are left out).
func FlagNames(v uint64, names map[int]string) []string {
	var out []string
	for i := 0; i < 64; i++ {
		if v&(1<<i) != 0 && names[i] != "" {
			out = append(out, names[i])
		}
	}
	return out
}

// KernelRootNamer is implemented by architectures whose kernel page-table
// walk crash's vtop prints from the top table's symbol ("PGD DIRECTORY:"
// its address, "PAGE DIRECTORY:" the entry read from it) instead of as a
// first level with the entry's physical address.
type KernelRootNamer interface {
	// KernelRootSymbols names the top table's symbol, the first that the
	// vmlinux has being used.
	KernelRootSymbols() []string
}

// KernelByteOrder is implemented by architectures whose kernel memory's
// byte order is fixed and may differ from the order a dump's headers and
// notes are written in: QEMU writes a ppc64 dump in the order of the
// vCPU's mode at the moment, big-endian while a little-endian kernel is in
// firmware (RTAS).
type KernelByteOrder interface {
	KernelByteOrder() binary.ByteOrder
}

// DataReferences is implemented by architectures whose code forms data
// addresses relative to its own (arm64's ADRP and a following ADD or
// load/store offset): a way to the static data an exported function reads
// when kallsyms names no data.
type DataReferences interface {
	// DataReferences returns the addresses code, at run-time address pc,
	// forms, in the order it forms them. A straight reading of the
	// instructions, branches not followed: each address is a candidate the
	// caller checks.
	DataReferences(code []byte, pc uint64) []uint64
}

// FrameRecordSaves is implemented by architectures whose functions push a
// frame record (fp, return address) in their prologue (arm64's stp x29,
// x30): without CFI, whether the function interrupted at a point has
// pushed its record yet says where its caller is (the link register, for a
// leaf or a prologue not yet run, else the record).
type FrameRecordSaves interface {
	// SavesFrameRecord reports whether code, a function's instructions
	// from its start up to (not including) the interrupted one, stores
	// the frame record.
	SavesFrameRecord(code []byte) bool
}

// DataAccesses is implemented by architectures that can also say how code
// uses each address it forms: the access's size and kind, so that a
// caller can ask for a 32-bit load, or an atomic update, of an address.
type DataAccesses interface {
	// DataAccesses returns DataReferences' addresses with their uses, in
	// the same order.
	DataAccesses(code []byte, pc uint64) []DataAccess
}

// DataAccess is an address code forms and what it does there.
type DataAccess struct {
	Addr uint64
	Size int        // bytes accessed (each register's, for a pair); 0: the address is only formed
	Kind AccessKind // AccessNone where Size is 0
}

// AccessKind is what an instruction does at an address.
type AccessKind int

const (
	AccessNone   AccessKind = iota // the address is formed (into a register), not accessed
	AccessLoad                     // a plain load
	AccessStore                    // a plain store
	AccessAtomic                   // an exclusive or atomic access (load/store-exclusive, compare-and-swap, atomic memory operation)
)

// KernelPlacer is implemented by architectures that can find the kernel's
// KASLR displacement themselves (from the page tables) when the dump's
// VMCOREINFO does not give it.
type KernelPlacer interface {
	KernelOffset() (uint64, bool)
}

// KernelImageFinder is implemented by architectures that can tell where
// the kernel image starts in virtual memory from the page tables alone
// (no VMCOREINFO, no symbols): a dump opened without a vmlinux looks for
// the kernel's own tables there.
type KernelImageFinder interface {
	KernelImageStart() (uint64, bool)
}

// TranslationError reports a virtual address the page tables do not map.
type TranslationError struct {
	Addr  uint64
	Level string // the level whose entry was not present
}

func (e *TranslationError) Error() string {
	return fmt.Sprintf("invalid kernel virtual address: %x (%s not present)", e.Addr, e.Level)
}

// ReadU64 reads a 64-bit value at a physical address in the dump's order.
func ReadU64(d *memory.Dump, phys uint64) (uint64, error) {
	var b [8]byte
	if err := d.ReadPhys(b[:], phys); err != nil {
		return 0, err
	}
	return d.ByteOrder.Uint64(b[:]), nil
}

// CPUNoteKeys is implemented by architectures whose dumps name the CPU of
// each NT_PRSTATUS note by a value the kernel also records per CPU, which
// maps a note to the kernel's CPU number when the notes' order is not the
// CPUs' (s390x: the prefix register of each CPU's note group, which the
// kernel's lowcore_ptr[cpu] holds).
type CPUNoteKeys interface {
	// NoteKeys gives each NT_PRSTATUS note's key, in note order (0: none).
	NoteKeys() []uint64
	// KeySymbol names the kernel's array of the CPUs' keys, one 64-bit
	// word per CPU.
	KeySymbol() string
}

// PTEDecoder is implemented by architectures whose page-table entries
// crash's pte decodes in a way of its own (ppc64_translate_pte,
// s390x_translate_pte) rather than by EntryFlags and a fixed physical
// mask.
type PTEDecoder interface {
	DecodePTE(pte uint64) PTEInfo
}

// PTEInfo is a page-table entry as pte shows it.
type PTEInfo struct {
	Phys    uint64   // the page's physical address
	Present bool     // it maps a page (else it is a swap entry)
	Invalid bool     // not an entry at all (s390x's reserved bits): "PTE is invalid"
	Flags   []string // the flag bits set, with crash's names, in crash's order
	// Fixed: crash prints the entry in fixed columns, "PTE      PHYSICAL
	// FLAGS" over "%08lx %08llx  (FLAGS)", the flags each followed by a
	// space but the last (s390x), instead of centred ones joined by "|".
	Fixed bool
}

// VtopLayout is implemented by architectures whose vtop crash prints in a
// layout of its own (ppc64_vtop_level4, s390x_vtop): the walk's lines as
// rows (BTLayout's fields: Raw labels, RegNone) over a vector of the
// values they show.
type VtopLayout interface {
	// VtopRows are the lines between vtop's address lines and the struct
	// page, for a walk of a kernel (or, !kernel, a user) address; pteBlock:
	// crash's PTE/PHYSICAL/FLAGS block (PTEDecoder's) follows them.
	VtopRows(t Translation, kernel bool) (rows []RegRow, vec []uint64, pteBlock bool)
}
