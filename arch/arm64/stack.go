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

// RegisterBlock is crash's arm64 exception-frame block: PC, LR, SP, then
// X29 down to X0 three to a line, then ORIG_X0, SYSCALLNO and PSTATE.
func (a *ARM64) RegisterBlock(r []uint64) []string {
	if len(r) < prstatusRegs {
		return nil
	}
	out := []string{fmt.Sprintf(" PC: %016x   LR: %016x   SP: %016x", r[RegPC], r[RegLR], r[RegSP])}
	line := ""
	for i, n := 29, 0; i >= 0; i-- {
		if line != "" {
			line += "  "
		}
		line += fmt.Sprintf("%3s: %016x", fmt.Sprintf("X%d", i), r[i])
		if n++; n%3 == 0 {
			out = append(out, line)
			line = ""
		}
	}
	if line != "" {
		out = append(out, line)
	}
	tail := fmt.Sprintf("PSTATE: %08x", r[RegPState])
	if len(r) >= prstatusRegs+2 {
		tail = fmt.Sprintf("ORIG_X0: %016x  SYSCALLNO: %x  PSTATE: %08x", r[prstatusRegs], r[prstatusRegs+1], r[RegPState])
	}
	return append(out, tail)
}
