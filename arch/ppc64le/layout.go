package ppc64le

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// crash 8.0.2's ppc64 layouts (ppc64_print_regs, ppc64_print_eframe,
// ppc64_print_nip_lr, ppc64_eframe_search), as rows: each field carries
// crash's own spacing.

// BTFormat: crash's ppc64 frame lines print the stack address and the PC
// as they are (a kernel address has 16 digits), and leaving an IRQ stack
// is not marked; bt -e names a frame by its marker's address, 16 bytes
// below its struct pt_regs.
func (p *PPC64LE) BTFormat() arch.BTFormat {
	return arch.BTFormat{NoStackMarks: true, EFrameAddrOffset: markerSlot - frameOverhead}
}

// regsRows is ppc64_print_regs: R0 to R31 three to a line (only R0-R13
// for a frame that saved the partial set: trap's low bit), then NIP MSR
// OR3, CTR LR XER, CCR MQ DAR (MQ is softe's slot), DSISR and the system
// call's result.
func regsRows(regs []uint64) []arch.RegRow {
	raw := func(label string, i int, suffix string) arch.RegField {
		return arch.RegField{Label: label, Index: i, Digits: 16, Raw: true, Suffix: suffix}
	}
	gprs := 32
	if len(regs) > RegTrap && regs[RegTrap]&1 != 0 {
		gprs = 14
	}
	var out []arch.RegRow
	var row arch.RegRow
	for i := 0; i < gprs; i++ {
		pad := ""
		if i < 10 {
			pad = " "
		}
		row.Fields = append(row.Fields, raw(fmt.Sprintf(" R%d:%s ", i, pad), i, "   "))
		if len(row.Fields) == 3 || i == gprs-1 {
			out = append(out, row)
			row = arch.RegRow{}
		}
	}
	return append(out,
		arch.RegRow{Fields: []arch.RegField{raw(" NIP: ", RegNIP, "   "), raw(" MSR: ", RegMSR, "    "), raw("OR3: ", RegOrigR3, "")}},
		arch.RegRow{Fields: []arch.RegField{raw(" CTR: ", RegCTR, "   "), raw(" LR:  ", RegLR, "    "), raw("XER: ", RegXER, "")}},
		arch.RegRow{Fields: []arch.RegField{raw(" CCR: ", RegCCR, "   "), raw(" MQ:  ", RegSoftE, "    "), raw("DAR: ", RegDAR, "")}},
		arch.RegRow{Fields: []arch.RegField{raw(" DSISR: ", RegDSISR, " "), raw("    Syscall Result: ", RegResult, "")}},
	)
}

// nipLRRows is ppc64_print_nip_lr: the NIP's and the LR's names, each
// line left out where the address names nothing.
func nipLRRows(lr bool) []arch.RegRow {
	name := func(label string, i int) arch.RegRow {
		return arch.RegRow{Fields: []arch.RegField{{Label: label, Index: i, Raw: true, Name: arch.NameSymbol, Suffix: "]"}}}
	}
	out := []arch.RegRow{name(" [NIP  : ", RegNIP)}
	if lr {
		out = append(out, name(" [LR   : ", RegLR))
	}
	return out
}

// eframeRows is ppc64_print_eframe: the trap's name and number, the
// registers, NIP and LR named.
func eframeRows(regs []uint64) []arch.RegRow {
	if len(regs) < prstatusRegs {
		return nil
	}
	head := arch.RegRow{Fields: []arch.RegField{
		{Label: " " + TrapName(regs[RegTrap]) + " [", Index: RegTrap, Raw: true, Suffix: "] exception frame:"}}}
	out := append([]arch.RegRow{head}, regsRows(regs)...)
	return append(out, nipLRRows(true)...)
}

// TraceEFrameRows: below the frame holding it, as ppc64_back_trace prints
// an exception frame.
func (p *PPC64LE) TraceEFrameRows(regs []uint64, user bool) []arch.RegRow { return eframeRows(regs) }

// SearchEFrameRows: ppc64_eframe_search's header, then the frame.
func (p *PPC64LE) SearchEFrameRows(regs []uint64, user bool) []arch.RegRow {
	mode := "KERNEL-MODE"
	if user {
		mode = "USER-MODE"
	}
	head := arch.RegRow{Fields: []arch.RegField{{Label: "  " + mode + " EXCEPTION FRAME AT ", Index: arch.RegFrameAddr, Raw: true, Suffix: ":"}}}
	return append([]arch.RegRow{head}, eframeRows(regs)...)
}

// CPURows: crash prints the registers the dump saved for the task that
// panicked (ppc64_get_dumpfile_stack_frame), and none for other active
// tasks (its ppc64_vmcore_stack_frame returns before printing them).
func (p *PPC64LE) CPURows(cpu int, regs []uint64, panicTask bool) ([]arch.RegRow, []uint64) {
	if !panicTask || len(regs) < prstatusRegs {
		return nil, nil
	}
	return append(regsRows(regs), nipLRRows(true)...), regs
}
