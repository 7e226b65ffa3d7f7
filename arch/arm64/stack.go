package arm64

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// Positions in struct user_pt_regs (NT_PRSTATUS) and struct pt_regs.
const (
	RegFP     = 29
	RegLR     = 30
	RegSP     = 31
	RegPC     = 32
	RegPState = 33
)

func (a *ARM64) Unwinder() string { return arch.UnwindFrameRecords }

func (a *ARM64) RegIndex() arch.RegIndex {
	return arch.RegIndex{PC: RegPC, SP: RegSP, FP: RegFP, LR: RegLR}
}

// PtRegsWords also takes orig_x0 and syscallno, which follow the user
// registers in struct pt_regs and which crash prints.
func (a *ARM64) PtRegsWords() int { return prstatusRegs + 2 }

// UserMode: PSTATE's exception level (bits 2-3) is EL0.
func (a *ARM64) UserMode(regs []uint64) bool {
	return len(regs) > RegPState && regs[RegPState]&0xc == 0
}

// StripPointerAuth clears the pointer-authentication code of a kernel
// return address: the bits KERNELPACMASK names are set again, as the
// kernel's own ptrauth_strip_kernel_insn_pac does.
func (a *ARM64) StripPointerAuth(addr uint64) uint64 {
	if a.pacMask == 0 {
		return addr
	}
	if addr>>55&1 != 0 {
		return addr | a.pacMask
	}
	return addr &^ a.pacMask
}

// Positions after the user registers in struct pt_regs.
const (
	regOrigX0    = prstatusRegs
	regSyscallNo = prstatusRegs + 1
)

// psrMode32 is PSTATE's AArch32 bit.
const psrMode32 = 0x10

func field(label string, i, digits int) arch.RegField {
	return arch.RegField{Label: label, Index: i, Digits: digits}
}

// xRows are X29 down to X0, three to a line.
func xRows() []arch.RegRow {
	var out []arch.RegRow
	row := arch.RegRow{Sep: "  "}
	for i := 29; i >= 0; i-- {
		row.Fields = append(row.Fields, field(fmt.Sprintf("%3s", fmt.Sprintf("X%d", i)), i, 16))
		if len(row.Fields) == 3 || i == 0 {
			out = append(out, row)
			row = arch.RegRow{Sep: "  "}
		}
	}
	return out
}

// RegisterRows is crash's arm64 exception-frame block: PC, LR, SP, then
// X29 down to X0 three to a line, then ORIG_X0, SYSCALLNO and PSTATE.
func (a *ARM64) RegisterRows(nregs int) []arch.RegRow {
	if nregs < prstatusRegs {
		return nil
	}
	out := []arch.RegRow{{Sep: "   ", Fields: []arch.RegField{field(" PC", RegPC, 16), field("LR", RegLR, 16), field("SP", RegSP, 16)}}}
	out = append(out, xRows()...)
	tail := arch.RegRow{Sep: "  ", Fields: []arch.RegField{field("PSTATE", RegPState, 8)}}
	if nregs >= prstatusRegs+2 {
		tail.Fields = []arch.RegField{field("ORIG_X0", regOrigX0, 16), field("SYSCALLNO", regSyscallNo, 0), field("PSTATE", RegPState, 8)}
	}
	return append(out, tail)
}

// EFrameRows is crash's arm64_print_exception_frame: a kernel frame names
// its PC and LR, then SP and PSTATE, then the X rows; a user frame is the
// register block, or for a 32-bit (compat) task the AArch32 registers with
// 8 hex digits: PC, LR (r14), SP (r13) and PSTATE, then r12 down to r0
// four to a line.
func (a *ARM64) EFrameRows(regs []uint64, user bool) []arch.RegRow {
	if len(regs) <= RegPState {
		return nil
	}
	if user && regs[RegPState]&psrMode32 != 0 {
		out := []arch.RegRow{{Sep: "  ", Fields: []arch.RegField{field(" PC", RegPC, 8), field("LR", 14, 8), field("SP", 13, 8), field("PSTATE", RegPState, 8)}}}
		row := arch.RegRow{Sep: " "}
		for i := 12; i >= 0; i-- {
			row.Fields = append(row.Fields, field(fmt.Sprintf("%3s", fmt.Sprintf("X%d", i)), i, 8))
			if len(row.Fields) == 4 || i == 0 {
				out = append(out, row)
				row = arch.RegRow{Sep: " "}
			}
		}
		return out
	}
	if user {
		return a.RegisterRows(len(regs))
	}
	sym := func(label string, i int) arch.RegField {
		return arch.RegField{Label: label, Index: i, Digits: 16, Symbol: true}
	}
	out := []arch.RegRow{
		{Fields: []arch.RegField{sym(" PC", RegPC)}},
		{Fields: []arch.RegField{sym(" LR", RegLR)}},
		{Sep: "  ", Fields: []arch.RegField{field(" SP", RegSP, 16), field("PSTATE", RegPState, 8)}},
	}
	return append(out, xRows()...)
}

// DWARF: x0-x30 are 0-30 and sp 31, as in the register set; x19-x29 are
// callee-saved. The kernel prints return addresses as they are, and a
// frame at its frame record.
func (a *ARM64) DWARF() arch.DWARFRegs {
	set := make([]int, 32)
	for i := range set {
		set[i] = i
	}
	set[31] = RegSP
	return arch.DWARFRegs{
		SP: 31, FP: 29, CalleeSaved: []uint64{19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29},
		RegSet: set, ExactReturns: true, FrameAtRecord: true,
	}
}
