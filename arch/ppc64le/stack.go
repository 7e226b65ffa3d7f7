package ppc64le

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// Positions in struct pt_regs (and NT_PRSTATUS's user_pt_regs).
const (
	RegSP     = 1 // r1
	RegNIP    = 32
	RegMSR    = 33
	RegOrigR3 = 34
	RegCTR    = 35
	RegLR     = 36
	RegXER    = 37
	RegCCR    = 38
	RegSoftE  = 39
	RegTrap   = 40
	RegDAR    = 41
	RegDSISR  = 42
	RegResult = 43
)

// The 64-bit ELF ABI's frames as the 6.1 kernel lays them out
// (asm/ptrace.h): the back chain at 0, the LR save doubleword at 16; an
// exception frame is STACK_FRAME_OVERHEAD (112) bytes of frame, holding
// STACK_FRAME_REGS_MARKER at 96, then the struct pt_regs. The marker is
// the bytes "REGS" (and four zeros) in Debian's 6.1, as its dumps show;
// older kernels wrote "regshere" as a 64-bit constant.
const (
	lrSave        = 16
	frameOverhead = 112
	markerSlot    = 96
	regsMarker    = 0x53474552 // "REGS\0\0\0\0" read little-endian
	regsMarkerOld = 0x7265677368657265
	msrPR         = 1 << 14 // problem state: user mode
)

func (p *PPC64LE) Unwinder() string { return arch.UnwindBackChain }

// RegIndex: r1 is the stack pointer and, with the back chain, the frame
// pointer too.
func (p *PPC64LE) RegIndex() arch.RegIndex {
	return arch.RegIndex{PC: RegNIP, SP: RegSP, FP: RegSP, LR: RegLR}
}

func (p *PPC64LE) PtRegsWords() int { return prstatusRegs }

// UserMode: MSR[PR] is set.
func (p *PPC64LE) UserMode(regs []uint64) bool { return len(regs) > RegMSR && regs[RegMSR]&msrPR != 0 }

func (p *PPC64LE) StripPointerAuth(addr uint64) uint64 { return addr }

// BackChain: the kernel's show_stack reads each frame's LR save slot; a
// switched-out task's thread.ksp is _switch's frame, whose slot is empty.
func (p *PPC64LE) BackChain() arch.BackChain {
	return arch.BackChain{ReturnSlot: lrSave, MinFrame: 32, MarkerSlot: markerSlot, Markers: []uint64{regsMarker, regsMarkerOld},
		RegsOffset: frameOverhead, SavedSP: "thread.ksp", SkipFirstSaved: true}
}

// RegisterRows is crash's ppc64 register block (ppc64_print_regs): R0 to
// R31 three to a line, then NIP MSR OR3, CTR LR XER, CCR MQ DAR (MQ is
// softe's slot), DSISR and the system call's result. (Labels are padded
// before the colon, "LABEL: value" being the block's one field shape;
// crash pads after it.)
func (p *PPC64LE) RegisterRows(nregs int) []arch.RegRow {
	if nregs < prstatusRegs {
		return nil
	}
	f := func(label string, i int) arch.RegField { return arch.RegField{Label: label, Index: i, Digits: 16} }
	var out []arch.RegRow
	row := arch.RegRow{Sep: "   "}
	for i := 0; i < 32; i++ {
		row.Fields = append(row.Fields, f(fmt.Sprintf("%3s", fmt.Sprintf("R%d", i)), i))
		if len(row.Fields) == 3 || i == 31 {
			out = append(out, row)
			row = arch.RegRow{Sep: "   "}
		}
	}
	return append(out,
		arch.RegRow{Sep: "   ", Fields: []arch.RegField{f(" NIP", RegNIP), f(" MSR", RegMSR), f("OR3", RegOrigR3)}},
		arch.RegRow{Sep: "   ", Fields: []arch.RegField{f(" CTR", RegCTR), f("  LR", RegLR), f("XER", RegXER)}},
		arch.RegRow{Sep: "   ", Fields: []arch.RegField{f(" CCR", RegCCR), f("  MQ", RegSoftE), f("DAR", RegDAR)}},
		arch.RegRow{Sep: "     ", Fields: []arch.RegField{f(" DSISR", RegDSISR), f("Syscall Result", RegResult)}},
	)
}
