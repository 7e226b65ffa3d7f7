package x86_64

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// Positions in struct pt_regs (and user_regs_struct, NT_PRSTATUS's order).
const (
	RegR15 = iota
	RegR14
	RegR13
	RegR12
	RegBP
	RegBX
	RegR11
	RegR10
	RegR9
	RegR8
	RegAX
	RegCX
	RegDX
	RegSI
	RegDI
	RegOrigAX
	RegIP
	RegCS
	RegFlags
	RegSP
	RegSS
	// PtRegsWords is the number of words in struct pt_regs.
	PtRegsWords
)

func (x *X86_64) Unwinder() string { return arch.UnwindORC }

func (x *X86_64) RegIndex() arch.RegIndex {
	return arch.RegIndex{PC: RegIP, SP: RegSP, FP: RegBP, LR: -1}
}

func (x *X86_64) PtRegsWords() int { return PtRegsWords }

// UserMode: the saved CS has a non-zero privilege level.
func (x *X86_64) UserMode(regs []uint64) bool { return len(regs) > RegCS && regs[RegCS]&3 != 0 }

func (x *X86_64) StripPointerAuth(addr uint64) uint64 { return addr }

// RegisterBlock is crash's x86_64 exception-frame block:
//
//	RIP: 000000000047b7a0  RSP: 00007ffe098437a8  RFLAGS: 00000202
//	RAX: ffffffffffffffda  RBX: 0000000000000001  RCX: 000000000047b7a0
//	...
//	ORIG_RAX: 0000000000000001  CS: 0033  SS: 002b
func (x *X86_64) RegisterBlock(r []uint64) []string {
	if len(r) < PtRegsWords {
		return nil
	}
	row := func(a, b, c string, ia, ib, ic int) string {
		return fmt.Sprintf("%s: %016x  %s: %016x  %s: %016x", a, r[ia], b, r[ib], c, r[ic])
	}
	return []string{
		fmt.Sprintf("RIP: %016x  RSP: %016x  RFLAGS: %08x", r[RegIP], r[RegSP], r[RegFlags]),
		row("RAX", "RBX", "RCX", RegAX, RegBX, RegCX),
		row("RDX", "RSI", "RDI", RegDX, RegSI, RegDI),
		row("RBP", " R8", " R9", RegBP, RegR8, RegR9),
		row("R10", "R11", "R12", RegR10, RegR11, RegR12),
		row("R13", "R14", "R15", RegR13, RegR14, RegR15),
		fmt.Sprintf("ORIG_RAX: %016x  CS: %04x  SS: %04x", r[RegOrigAX], r[RegCS], r[RegSS]),
	}
}
