package s390x

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// Positions in the register set (NT_PRSTATUS's s390_regs; struct pt_regs
// holds the same from its second word: args[0] comes first).
const (
	RegPSWMask = 0
	RegPSWAddr = 1
	RegR0      = 2
	RegR11     = RegR0 + 11
	RegR14     = RegR0 + 14
	RegR15     = RegR0 + 15 // the stack pointer
	ptRegsSet  = 18         // psw and r0-r15
	pswPState  = 1 << 48    // PSW bit 15: problem state (user mode)
)

// Frames as Linux builds them (-mpacked-stack; struct stack_frame in
// asm/stacktrace.h): 160 bytes (STACK_FRAME_OVERHEAD) with the back chain
// in the top word, at 152, and the callee's saved r6-r15 below it from 72
// (r14, the return address into the frame's function, at 136). An entry's
// frame has a zero back chain, with its struct pt_regs right above it.
const (
	r14Slot       = 72 + 8*8
	chainSlot     = 152
	frameOverhead = 160
)

func (s *S390X) Unwinder() string { return arch.UnwindBackChain }

func (s *S390X) RegIndex() arch.RegIndex {
	return arch.RegIndex{PC: RegPSWAddr, SP: RegR15, FP: RegR11, LR: RegR14}
}

func (s *S390X) PtRegsWords() int { return ptRegsSet }

// UserMode: the PSW's problem-state bit.
func (s *S390X) UserMode(regs []uint64) bool {
	return len(regs) > RegPSWMask && regs[RegPSWMask]&pswPState != 0
}

func (s *S390X) StripPointerAuth(addr uint64) uint64 { return addr }

// BackChain: a switched-out task's thread.ksp is the frame __switch_to
// saved its registers in (its caller's), whose r14 slot returns into
// __schedule. The register set of pt_regs starts at its psw, one word in.
func (s *S390X) BackChain() arch.BackChain {
	return arch.BackChain{ChainSlot: chainSlot, ReturnSlot: r14Slot, MinFrame: frameOverhead, RegsOffset: frameOverhead + 8, SavedSP: "thread.ksp"}
}

// RegisterRows: the PSW, then r0-r15 four to a line, as crash's s390x
// block lays them out.
func (s *S390X) RegisterRows(nregs int) []arch.RegRow {
	if nregs < ptRegsSet {
		return nil
	}
	f := func(label string, i int) arch.RegField { return arch.RegField{Label: label, Index: i, Digits: 16} }
	out := []arch.RegRow{{Sep: " ", Fields: []arch.RegField{f("PSW MASK", RegPSWMask), f("ADDR", RegPSWAddr)}}}
	row := arch.RegRow{Sep: " "}
	for i := 0; i < 16; i++ {
		row.Fields = append(row.Fields, f(fmt.Sprintf("%3s", fmt.Sprintf("R%d", i)), RegR0+i))
		if len(row.Fields) == 4 {
			out = append(out, row)
			row = arch.RegRow{Sep: " "}
		}
	}
	return out
}
