package x86_64

import (
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

// RegisterRows is crash's x86_64 exception-frame block:
//
//	RIP: 000000000047b7a0  RSP: 00007ffe098437a8  RFLAGS: 00000202
//	RAX: ffffffffffffffda  RBX: 0000000000000001  RCX: 000000000047b7a0
//	...
//	ORIG_RAX: 0000000000000001  CS: 0033  SS: 002b
func (x *X86_64) RegisterRows(nregs int) []arch.RegRow {
	if nregs < PtRegsWords {
		return nil
	}
	row := func(fields ...arch.RegField) arch.RegRow { return arch.RegRow{Sep: "  ", Fields: fields} }
	f := func(label string, i, digits int) arch.RegField {
		return arch.RegField{Label: label, Index: i, Digits: digits}
	}
	gp := func(a, b, c string, ia, ib, ic int) arch.RegRow { return row(f(a, ia, 16), f(b, ib, 16), f(c, ic, 16)) }
	return []arch.RegRow{
		row(f("RIP", RegIP, 16), f("RSP", RegSP, 16), f("RFLAGS", RegFlags, 8)),
		gp("RAX", "RBX", "RCX", RegAX, RegBX, RegCX),
		gp("RDX", "RSI", "RDI", RegDX, RegSI, RegDI),
		gp("RBP", " R8", " R9", RegBP, RegR8, RegR9),
		gp("R10", "R11", "R12", RegR10, RegR11, RegR12),
		gp("R13", "R14", "R15", RegR13, RegR14, RegR15),
		row(f("ORIG_RAX", RegOrigAX, 16), f("CS", RegCS, 4), f("SS", RegSS, 4)),
	}
}

// DWARF: the x86_64 psABI's numbering, rbx, rbp and r12-r15 callee-saved.
func (x *X86_64) DWARF() arch.DWARFRegs {
	return arch.DWARFRegs{
		SP: 7, FP: 6, CalleeSaved: []uint64{3, 6, 12, 13, 14, 15},
		// rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8-r15
		RegSet: []int{RegAX, RegDX, RegCX, RegBX, RegSI, RegDI, RegBP, RegSP,
			RegR8, RegR9, RegR10, RegR11, RegR12, RegR13, RegR14, RegR15},
	}
}
