package arch

import "encoding/binary"

// EFrameSearcher is implemented by architectures whose task stacks bt -e
// searches for exception frames: words laid out as a struct pt_regs that
// a kernel entry could have saved, checked as crash 8.0.2 checks them.
type EFrameSearcher interface {
	// SearchEFrames finds the frames on one task stack, in stack order.
	SearchEFrames(s EFrameStack) ([]EFrame, error)
}

// EFrameStack is a task stack to search, and what the checks need to ask
// of the kernel (the kernel package fills it in; tests fill it in for a
// synthetic stack).
type EFrameStack struct {
	Base  uint64 // the stack's lowest address
	Data  []byte // the whole stack
	Order binary.ByteOrder
	// PtRegsSize is sizeof(struct pt_regs); PtRegsStackframe reports
	// whether the struct has a stackframe member.
	PtRegsSize       uint64
	PtRegsStackframe bool
	// UserTask: the task is not a kernel thread (it has entered, or will
	// enter, the kernel from user mode).
	UserTask bool
	// IsText reports kernel or module text.
	IsText func(addr uint64) bool
	// SymbolAddr gives a kernel symbol's run-time address.
	SymbolAddr func(name string) (uint64, bool)
	// SymbolName names the symbol holding an address ("" for none).
	SymbolName func(addr uint64) string
	// ReadU64 reads a word at a kernel virtual address.
	ReadU64 func(addr uint64) (uint64, error)
	// Mapped reports whether a kernel virtual address translates.
	Mapped func(addr uint64) bool
}

// EFrame is a register set found by searching a stack.
type EFrame struct {
	Addr uint64   // where the struct pt_regs lies
	Regs []uint64 // in NT_PRSTATUS order
	User bool     // taken in user mode
	// PCMapped: a kernel-mode PC in a mapped part of the kernel's
	// vmalloc-type space (x86_64: the vmalloc, vmemmap, module, vsyscall
	// or cpu_entry_area areas); crash names such a PC without a symbol
	// "no symbolic reference". Only x86_64 sets it.
	PCMapped bool
}

// BTLayout is implemented by architectures whose bt output crash 8.0.2
// lays out in a way of its own (ppc64_back_trace, s390x_back_trace_cmd):
// the widths of a frame line, how frames are numbered and marked, and
// whole register blocks, headers and spacing included, which commands
// prints as they are (without bt's four-space indentation).
type BTLayout interface {
	BTFormat() BTFormat
	// TraceEFrameRows is the block below a trace's frame that holds an
	// exception frame (ppc64: the trap's name, the registers, NIP and LR
	// named; s390x: the PSW and GPRS).
	TraceEFrameRows(regs []uint64, user bool) []RegRow
	// SearchEFrameRows is bt -e's block for a frame its search found, the
	// header line first (a RegFrameAddr field shows the frame's address).
	SearchEFrameRows(regs []uint64, user bool) []RegRow
	// CPURows is the block crash prints between an active task's header
	// and its frames, for the registers its CPU saved (regs, from
	// NT_PRSTATUS): rows over the state vector it returns, which the
	// architecture may fill from the dump's other notes (s390x's lowcore
	// save areas). panicTask: the task is the one that panicked. No rows:
	// nothing is printed.
	CPURows(cpu int, regs []uint64, panicTask bool) ([]RegRow, []uint64)
}

// BTFormat is how bt's frame lines are laid out on an architecture with
// a BTLayout.
type BTFormat struct {
	// SPDigits and PCDigits are the frame line's widths of the stack
	// address and the PC, zero-padded (0: as few digits as they need).
	SPDigits, PCDigits int
	// NoStackMarks: no "--- <IRQ stack> ---" line where the trace leaves a
	// stack.
	NoStackMarks bool
	// Renumber: the frame numbers start again at #0 on each stack and
	// after each exception frame (s390x).
	Renumber bool
	// HideInterrupted: an active task's frames of the functions its CPU,
	// or an exception on it, interrupted are not listed (their PC is in
	// the CPU block or the exception frame's block).
	HideInterrupted bool
	// EFrameAddrOffset is added to a found frame's address (that of its
	// register set) where bt -e prints it (ppc64 prints the marker's
	// address, 16 bytes below the struct pt_regs).
	EFrameAddrOffset int64
}

// Special RegField indexes of the BTLayout rows.
const (
	// RegFrameAddr shows the exception frame's address.
	RegFrameAddr = -2
	// RegNone: the field is its label alone.
	RegNone = -3
)

// Ways a RegField shows its register as a name (RegField.Name).
const (
	// NameSymbol: "function" or "function+offset" (crash's
	// value_to_symstr); a row whose field names nothing is left out.
	NameSymbol = 1
	// NameClosest: "function+offset", the offset always shown, and
	// " [module]" for a module's text (crash's s390x PSW line).
	NameClosest = 2
	// NameBare: the function's name alone (crash's closest_symbol).
	NameBare = 3
)
