package arch

// Unwinding is implemented by architectures whose kernel stacks gocrash
// unwinds. It describes the registers the unwinders start from and print:
// a register set is always in NT_PRSTATUS order, which on both x86_64 and
// arm64 is also the order of the kernel's struct pt_regs.
type Unwinding interface {
	// Unwinder names the method the kernel's own unwinder uses:
	// UnwindORC or UnwindFrameRecords.
	Unwinder() string
	// RegIndex gives the positions of the program counter, stack pointer,
	// frame pointer and link register (-1 when the architecture has none)
	// in a register set.
	RegIndex() RegIndex
	// PtRegsWords is how many words of a struct pt_regs in memory form a
	// register set (the rest of the struct is bookkeeping).
	PtRegsWords() int
	// UserMode reports whether a saved register set was taken in user mode.
	UserMode(regs []uint64) bool
	// RegisterRows describes the block crash prints below an exception
	// frame for a register set of nregs registers, one row per line (nil
	// when nregs is too few).
	RegisterRows(nregs int) []RegRow
	// StripPointerAuth removes pointer-authentication bits from a return
	// address (the identity where the architecture has none).
	StripPointerAuth(addr uint64) uint64
}

// Unwinder names.
const (
	UnwindORC          = "orc"           // x86_64: objtool's ORC tables
	UnwindFrameRecords = "frame-records" // arm64: the x29/x30 chain
	UnwindBackChain    = "back-chain"    // ppc64, s390x: each frame's first word points at its caller's
)

// BackChainUnwinding is implemented by architectures whose kernels unwind
// by the stack back chain (UnwindBackChain): every frame starts with the
// address of its caller's frame, and a function saves its return address
// in its caller's frame, at a fixed slot, when it calls another.
type BackChainUnwinding interface {
	BackChain() BackChain
}

// BackChain describes an architecture's stack frames.
type BackChain struct {
	// ChainSlot is the offset in a frame of the back chain: 0 on ppc64
	// and in s390x's standard frames; 152 (the frame's top word) in
	// s390x's packed-stack frames, which Linux builds with.
	ChainSlot uint64
	// ReturnSlot is the offset in a frame of the word where the functions
	// the frame's own function calls save their return address into it
	// (ppc64's LR save doubleword, s390x's saved r14).
	ReturnSlot uint64
	// MinFrame is the size of the smallest frame (the ABI's fixed part).
	MinFrame uint64
	// An exception frame is a frame holding one of Markers at MarkerSlot
	// (ppc64's STACK_FRAME_REGS_MARKER), or, without Markers, a frame
	// whose back chain is zero (s390x); its struct pt_regs starts
	// RegsOffset bytes into the frame.
	MarkerSlot uint64
	Markers    []uint64
	RegsOffset uint64
	// SavedSP is the task_struct member holding a switched-out task's
	// stack pointer ("thread.ksp").
	SavedSP string
	// SkipFirstSaved: the first frame of a switched-out task is the
	// context switch's own, whose return slot is stale (the kernel's
	// trace marks it unreliable).
	SkipFirstSaved bool
}

// RegIndex holds register positions in a register set.
type RegIndex struct{ PC, SP, FP, LR int }

// RegRow is one line of a register block: its fields joined by Sep.
type RegRow struct {
	Sep    string
	Fields []RegField
}

// RegField is one register of a row, printed as Label, ": ", and the
// register's value in hexadecimal.
type RegField struct {
	Label string // as crash prints it, padding included (" R8", "X29")
	Index int    // the register's position in the register set
	// Digits is the value's width, zero-padded (0: as few as it needs).
	Digits int
	// Symbol: the value is followed by "  [name]", the name of the
	// kernel-text address it holds.
	Symbol bool

	// The fields below serve the BTLayout blocks, which carry crash's own
	// spacing.

	// Raw: Label is printed as it is, with no ": " after it.
	Raw bool
	// Alt: the value has C's "0x" prefix (%#018lx: "0x" and 16 digits).
	Alt bool
	// Name shows the register as the name of the address it holds
	// (NameSymbol, NameClosest) instead of its value.
	Name int
	// Suffix follows the value.
	Suffix string
}

// EFrameRows is implemented by architectures whose exception frames crash's
// bt -e prints in a block of their own (arm64_print_exception_frame: PC
// and LR named in the block, headers unindented) rather than as bt's
// register block under an "[exception RIP: ...]" line.
type EFrameRows interface {
	// EFrameRows describes the block for a frame's registers; user is
	// true for a frame taken in user mode.
	EFrameRows(regs []uint64, user bool) []RegRow
}

// PointerAuth is implemented by architectures whose kernel return
// addresses may carry a pointer-authentication code.
type PointerAuth interface {
	// PACMask gives the bits of a kernel address that hold the code (0
	// when the kernel does not sign return addresses).
	PACMask() uint64
}

// DWARFUnwinding is implemented by architectures whose kernels gocrash
// also unwinds by the vmlinux's DWARF call frame information.
type DWARFUnwinding interface {
	DWARF() DWARFRegs
}

// DWARFRegs is an architecture's DWARF register numbering, as the CFI walk
// uses it.
type DWARFRegs struct {
	SP, FP uint64 // the DWARF numbers of the stack and frame pointers
	// CalleeSaved keep their values across calls; the others are unknown
	// in the caller unless a rule recovers them.
	CalleeSaved []uint64
	// RegSet maps the general registers: RegSet[d] is the register-set
	// position of DWARF register d (-1 for none). The program counter is
	// not among them: a walk from registers starts from it separately.
	RegSet []int
	// ExactReturns: the kernel names return addresses as they are, not
	// the call before them (Frame.Exact).
	ExactReturns bool
	// FrameAtRecord: a frame is shown at its frame record (where the
	// frame pointer was saved), not at its return address's slot.
	FrameAtRecord bool
}
