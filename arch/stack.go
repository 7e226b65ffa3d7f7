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
	// RegisterBlock formats a saved register set as crash prints it below
	// an exception frame, one string per line without indentation.
	RegisterBlock(regs []uint64) []string
	// StripPointerAuth removes pointer-authentication bits from a return
	// address (the identity where the architecture has none).
	StripPointerAuth(addr uint64) uint64
}

// Unwinder names.
const (
	UnwindORC          = "orc"           // x86_64: objtool's ORC tables
	UnwindFrameRecords = "frame-records" // arm64: the x29/x30 chain
)

// RegIndex holds register positions in a register set.
type RegIndex struct{ PC, SP, FP, LR int }
