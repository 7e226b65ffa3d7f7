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

// crashPTEFlags are the radix PTE bits crash 8.0.2's ppc64_translate_pte
// names, in its order, with its names (those of the Book3S hash MMU
// before 4.6: the kernel calls 0x4 _PAGE_READ, 0x8 _PAGE_PRIVILEGED, 0x10
// _PAGE_SAO and 0x20/0x40 the cache-attribute bits).
var crashPTEFlags = []struct {
	bit  uint64
	name string
}{
	{entryLeaf, "PTE"}, {entryValid, "PRESENT"}, {0x4, "USER"}, {0x8, "RW"}, {0x10, "GUARDED"},
	{0x20, "NO_CACHE"}, {0x40, "WRITETHRU"}, {0x80, "DIRTY"}, {0x100, "ACCESSED"},
}

// DecodePTE: a radix entry maps its real page number (bits 12-55, page
// aligned) when _PAGE_PRESENT is set; crash names its flags in its own
// order. (crash shifts the whole entry by the page shift and back, which
// keeps the PRESENT and PTE bits in its physical address; the page's
// address is the RPN alone.)
func (p *PPC64LE) DecodePTE(pte uint64) arch.PTEInfo {
	info := arch.PTEInfo{Phys: pte & rpnMask &^ (p.PageSize() - 1), Present: pte == 0 || pte&entryValid != 0}
	for _, f := range crashPTEFlags {
		if pte&f.bit != 0 {
			info.Flags = append(info.Flags, f.name)
		}
	}
	return info
}

// VtopRows is ppc64_vtop_level4's verbose walk: the top table and each
// entry by their linear-map (virtual) addresses, a leaf above the PTE
// level as a HUGE PAGE, the PMD line again with the page table's address,
// and the page, then crash's PTE block.
func (p *PPC64LE) VtopRows(t arch.Translation, kernel bool) ([]arch.RegRow, []uint64, bool) {
	if len(t.Levels) == 0 {
		return nil, nil, false
	}
	var vec []uint64
	val := func(v uint64) int { vec = append(vec, v); return len(vec) - 1 }
	line := func(label string, a uint64, arrow bool, b uint64) arch.RegRow {
		row := arch.RegRow{Fields: []arch.RegField{{Label: label, Index: val(a), Raw: true}}}
		if arrow {
			row.Fields = append(row.Fields, arch.RegField{Label: " => ", Index: val(b), Raw: true})
		}
		return row
	}
	root := t.Levels[0].EntryAddr - (t.Virt>>(eaBits-pgdBits)&(1<<pgdBits-1))*8
	rows := []arch.RegRow{line("PAGE DIRECTORY: ", root|PageOffset, false, 0)}
	for i, l := range t.Levels {
		if l.Name == "PTE" {
			prev := t.Levels[i-1]
			rows = append(rows, line("  PMD: ", prev.EntryAddr|PageOffset, true, l.EntryAddr|PageOffset))
		}
		rows = append(rows, line("  "+l.Name+": ", l.EntryAddr|PageOffset, true, l.Entry))
	}
	if t.PageSize == 0 {
		return rows, vec, false
	}
	page := t.Phys &^ (p.PageSize() - 1)
	if t.PageSize > p.PageSize() {
		rows = append(rows, line(" HUGE PAGE: ", page, false, 0))
	} else {
		rows = append(rows, line(" PAGE: ", page, false, 0))
	}
	return append(rows, arch.RegRow{}), vec, true
}
