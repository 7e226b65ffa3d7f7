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
