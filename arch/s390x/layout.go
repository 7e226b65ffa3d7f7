package s390x

import (
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
)

// crash 8.0.2's s390x layouts (print_frame, print_ptregs,
// s390x_print_lowcore), as rows: each field carries crash's own spacing.

// BTFormat: crash's s390x frame lines print the stack address in at
// least 8 digits and the return address as it is; it marks no change of
// stack, numbers each stack's frames, and those after an exception frame,
// from #0, and for a task running on a CPU shows the interrupted
// function's PC in the lowcore block instead of as a frame.
func (s *S390X) BTFormat() arch.BTFormat {
	return arch.BTFormat{SPDigits: 8, NoStackMarks: true, Renumber: true, HideInterrupted: true}
}

// ptregsRows is print_ptregs: the PSW, and the interrupted function (or
// "user space"), then r0-r15 four to a line. Every GPRS value is followed
// by a space, as crash prints it.
func ptregsRows(regs []uint64, user bool) []arch.RegRow {
	if len(regs) < ptRegsSet {
		return nil
	}
	psw := arch.RegRow{Fields: []arch.RegField{
		{Label: " PSW:  ", Index: RegPSWMask, Digits: 16, Raw: true, Suffix: " "},
		{Index: RegPSWAddr, Digits: 16, Raw: true, Suffix: " "},
	}}
	if user {
		psw.Fields = append(psw.Fields, arch.RegField{Label: "(user space)", Index: arch.RegNone, Raw: true})
	} else {
		psw.Fields = append(psw.Fields, arch.RegField{Label: "(", Index: RegPSWAddr, Raw: true, Name: arch.NameClosest, Suffix: ")"})
	}
	out := []arch.RegRow{psw}
	for r := 0; r < 16; r += 4 {
		row := arch.RegRow{}
		for i := r; i < r+4; i++ {
			label := ""
			if i == 0 {
				label = " GPRS: "
			} else if i == r {
				label = "       "
			}
			row.Fields = append(row.Fields, arch.RegField{Label: label, Index: RegR0 + i, Digits: 16, Raw: true, Suffix: " "})
		}
		out = append(out, row)
	}
	return out
}

// TraceEFrameRows: print_ptregs, below the frame whose zero back chain
// holds the struct pt_regs.
func (s *S390X) TraceEFrameRows(regs []uint64, user bool) []arch.RegRow {
	return ptregsRows(regs, user)
}

// SearchEFrameRows: crash has no bt -e on s390x ("not implemented for
// this architecture"); gocrash's search prints bt -e's common header, then
// the frame as print_ptregs does.
func (s *S390X) SearchEFrameRows(regs []uint64, user bool) []arch.RegRow {
	mode := "KERNEL-MODE"
	if user {
		mode = "USER-MODE"
	}
	head := arch.RegRow{Fields: []arch.RegField{{Label: "  " + mode + " EXCEPTION FRAME AT: ", Index: arch.RegFrameAddr, Raw: true}}}
	return append([]arch.RegRow{head}, ptregsRows(regs, user)...)
}

// Positions in the lowcore state vector CPURows returns.
const (
	lcPSW    = 0  // mask, address
	lcGPRS   = 2  // r0-r15
	lcACRS   = 18 // the 16 access registers, one to a word
	lcPrefix = 34
	lcTimer  = 35
	lcClock  = 36 // the clock comparator
	lcCtrs   = 37 // control registers 0-15
	lcFPRS   = 53 // floating-point registers 0-15
	lcSize   = 69
)

// Note types of a CPU's state besides NT_PRSTATUS.
const (
	ntFPRegSet  = 2     // NT_FPREGSET: fpc, pad, fprs[16]
	ntS390Timer = 0x301 // the CPU timer
	ntS390Clock = 0x302 // NT_S390_TODCMP: the clock comparator, shifted right by 8
)

// Lowcore gives a CPU's save areas as the dump's notes hold them: the
// notes after each NT_PRSTATUS belong to its CPU (QEMU and the kernel
// write a CPU's notes together). regs picks the CPU whose NT_PRSTATUS
// holds them; cpu is the fallback, the cpu'th group. ok is false when no
// note group is there.
func (s *S390X) Lowcore(cpu int, regs []uint64) (lc []uint64, ok bool) {
	o := s.dump.ByteOrder
	var groups [][]uint64
	for _, n := range s.dump.Notes {
		if n.Type == 1 && n.Name == "CORE" { // NT_PRSTATUS
			g := make([]uint64, lcSize)
			// struct elf_prstatus: pr_reg (s390_regs) at 112.
			if len(n.Desc) >= 112+8*18+4*16 {
				for i := 0; i < 18; i++ {
					g[lcPSW+i] = o.Uint64(n.Desc[112+8*i:])
				}
				for i := 0; i < 16; i++ {
					g[lcACRS+i] = uint64(o.Uint32(n.Desc[112+8*18+4*i:]))
				}
			}
			groups = append(groups, g)
			continue
		}
		if len(groups) == 0 {
			continue
		}
		g := groups[len(groups)-1]
		switch {
		case n.Type == ntS390Prefix && len(n.Desc) >= 4:
			g[lcPrefix] = uint64(o.Uint32(n.Desc))
		case n.Type == ntS390Timer && len(n.Desc) >= 8:
			g[lcTimer] = o.Uint64(n.Desc)
		case n.Type == ntS390Clock && len(n.Desc) >= 8:
			g[lcClock] = o.Uint64(n.Desc) << 8
		case n.Type == ntS390Ctrs && len(n.Desc) >= 16*8:
			for i := 0; i < 16; i++ {
				g[lcCtrs+i] = o.Uint64(n.Desc[8*i:])
			}
		case n.Type == ntFPRegSet && len(n.Desc) >= 8+16*8:
			for i := 0; i < 16; i++ {
				g[lcFPRS+i] = o.Uint64(n.Desc[8+8*i:])
			}
		}
	}
	for _, g := range groups {
		if len(regs) >= 18 && slices.Equal(g[:18], regs[:18]) {
			return g, true
		}
	}
	if cpu >= 0 && cpu < len(groups) {
		return groups[cpu], true
	}
	return nil, false
}

// CPURows is s390x_print_lowcore, for every task running on a CPU: the
// PSW and, in kernel mode, the function it is in, the prefix, CPU timer
// and clock comparator, then the general, access, control and
// floating-point registers; a CPU in user mode is said to be there first,
// and a kernel-mode block ends with a blank line before the frames.
func (s *S390X) CPURows(cpu int, regs []uint64, panicTask bool) ([]arch.RegRow, []uint64) {
	lc, ok := s.Lowcore(cpu, regs)
	if !ok {
		return nil, nil
	}
	user := lc[lcPSW]&pswPState != 0
	alt := func(label string, i, digits int) arch.RegField {
		return arch.RegField{Label: label, Index: i, Digits: digits, Raw: true, Alt: true}
	}
	text := func(s string) arch.RegRow {
		return arch.RegRow{Fields: []arch.RegField{{Label: s, Index: arch.RegNone, Raw: true}}}
	}
	var out []arch.RegRow
	if user {
		out = append(out, text("Task runs in userspace"))
	}
	out = append(out, text(" LOWCORE INFO:"),
		arch.RegRow{Fields: []arch.RegField{alt("  -psw      : ", lcPSW, 16), alt(" ", lcPSW+1, 16)}})
	if !user {
		out = append(out, arch.RegRow{Fields: []arch.RegField{
			{Label: "  -function : ", Index: lcPSW + 1, Raw: true, Name: arch.NameBare, Suffix: " at "},
			{Index: lcPSW + 1, Raw: true}}})
	}
	out = append(out,
		arch.RegRow{Fields: []arch.RegField{alt("  -prefix   : ", lcPrefix, 8)}},
		arch.RegRow{Fields: []arch.RegField{alt("  -cpu timer: ", lcTimer, 16)}},
		arch.RegRow{Fields: []arch.RegField{alt("  -clock cmp: ", lcClock, 16)}})
	block := func(title string, at, perRow, digits int) {
		out = append(out, text(title))
		for r := 0; r < 16; r += perRow {
			row := arch.RegRow{}
			for i := r; i < r+perRow; i++ {
				label := " "
				if i == r {
					label = "     "
				}
				row.Fields = append(row.Fields, alt(label, at+i, digits))
			}
			out = append(out, row)
		}
	}
	block("  -general registers:", lcGPRS, 2, 16)
	block("  -access registers:", lcACRS, 4, 8)
	block("  -control registers:", lcCtrs, 2, 16)
	block("  -floating point registers:", lcFPRS, 2, 16)
	if !user {
		out = append(out, arch.RegRow{})
	}
	return out, lc
}

// NoteKeys: each NT_PRSTATUS note group's prefix (arch.CPUNoteKeys), in
// note order.
func (s *S390X) NoteKeys() []uint64 {
	var out []uint64
	for _, n := range s.dump.Notes {
		switch {
		case n.Type == 1 && n.Name == "CORE":
			out = append(out, 0)
		case n.Type == ntS390Prefix && len(n.Desc) >= 4 && len(out) > 0:
			out[len(out)-1] = uint64(s.dump.ByteOrder.Uint32(n.Desc))
		}
	}
	return out
}

// KeySymbol: the kernel's lowcore_ptr[cpu] is the CPU's lowcore, whose
// absolute address is its prefix.
func (s *S390X) KeySymbol() string { return "lowcore_ptr" }

// PTE bits crash's s390x_translate_pte reads.
const (
	pteProtect     = 0x200 // hardware read-only
	pteInvalidMask = 0x601 // with 0x401: invalid, but present (PROT_NONE)
	// pteReserved is the bit no PTE has (bit 52): not an entry. crash's
	// mask, 0x900, also takes 0x100, which 6.1 sets as _PAGE_NOEXEC (the
	// instruction-execution-protection bit) on kernel data pages.
	pteReserved = 0x800
)

// DecodePTE: s390x_translate_pte's checks and flags: an entry with
// reserved bits is none, a hardware-invalid one is present only when it
// is PROT_NONE's; the flags are INVALID and PROTECTION.
func (s *S390X) DecodePTE(pte uint64) arch.PTEInfo {
	info := arch.PTEInfo{Phys: pte &^ 0xfff, Fixed: true, Invalid: pte&pteReserved != 0,
		Present: pte&pteInvalid == 0 || pte&pteInvalidMask == 0x401}
	if pte&pteInvalid != 0 {
		info.Flags = append(info.Flags, "INVALID")
	}
	if pte&pteProtect != 0 {
		info.Flags = append(info.Flags, "PROTECTION")
	}
	return info
}

// Region- and segment-table entry bits crash's s390x_vtop shows.
const (
	rteAV = 0x10000
	rteF  = 0x800
	rteP  = 0x200
	rteCR = 0x10 // segment entries: CS
	rteTT = 0xc  // the table type
)

// VtopRows is s390x_vtop's verbose walk, for an address the kernel maps
// through its tables (crash walks none for the identity map, where a
// kernel address is its own physical address): the top table, each
// region or segment entry named by its table type (RFTE, RSTE, RTTE,
// STE) with its flag bits in hex and in binary, the PTE and its page.
func (s *S390X) VtopRows(t arch.Translation, kernel bool) ([]arch.RegRow, []uint64, bool) {
	if len(t.Levels) == 0 || kernel && t.PageSize != 0 && t.Phys == t.Virt {
		return nil, nil, false
	}
	var vec []uint64
	val := func(v uint64) int { vec = append(vec, v); return len(vec) - 1 }
	hex16 := func(label string, v uint64) arch.RegField {
		return arch.RegField{Label: label, Index: val(v), Digits: 16, Raw: true}
	}
	// bits is a "flags in binary" line: each label and the bit under it
	// (0 or 1).
	bits := func(e uint64, parts ...any) arch.RegRow {
		row := arch.RegRow{Fields: []arch.RegField{{Label: "       flags in binary : ", Index: arch.RegNone, Raw: true}}}
		for i := 0; i+1 < len(parts); i += 2 {
			b := uint64(0)
			if e&parts[i+1].(uint64) != 0 {
				b = 1
			}
			row.Fields = append(row.Fields, arch.RegField{Label: parts[i].(string), Index: val(b), Raw: true})
		}
		return row
	}
	l0 := t.Levels[0]
	typ0 := l0.Entry & rteTT >> 2
	root := l0.EntryAddr - (t.Virt>>(20+11*typ0)&0x7ff)*8
	rows := []arch.RegRow{{Fields: []arch.RegField{hex16("PAGE DIRECTORY: ", root)}}}
	names := [...]string{"STE", "RTTE", "RSTE", "RFTE"}
	for _, l := range t.Levels {
		e := l.Entry
		if l.Name == "PTE" {
			rows = append(rows,
				arch.RegRow{Fields: []arch.RegField{hex16("  PTE: ", l.EntryAddr), hex16(" => ", e),
					{Label: " (flags = ", Index: val(e & 0xfff), Digits: 3, Raw: true, Suffix: ")"}}},
				bits(e, "I=", uint64(pteInvalid), "; P=", uint64(pteProtect)),
				arch.RegRow{Fields: []arch.RegField{hex16(" PAGE: ", e&^0xfff)}})
			continue
		}
		typ := e & rteTT >> 2
		flags, width := e&0xfff, 3
		switch {
		case e&largeFC != 0 && typ > 0:
			flags, width = e&0x7fffffff, 8
		case e&largeFC != 0:
			flags, width = e&0xfffff, 5
		case typ == 0:
			flags = e & 0x7ff
		}
		rows = append(rows, arch.RegRow{Fields: []arch.RegField{
			{Label: fmt.Sprintf("%5s: ", names[typ]), Index: val(l.EntryAddr), Digits: 16, Raw: true}, hex16(" => ", e),
			{Label: " (flags = ", Index: val(flags), Digits: width, Raw: true, Suffix: ")"}}})
		acc := []any{"AV=", uint64(rteAV), "; ACC=", uint64(0x8000), "", uint64(0x4000), "", uint64(0x2000), "", uint64(0x1000),
			"; F=", uint64(rteF), "; FC=", uint64(largeFC), "; P=", uint64(rteP), "; I=", uint64(invalid)}
		tt := []any{"; TT=", uint64(0x8), "", uint64(0x4)}
		switch {
		case typ == 0 && e&largeFC != 0:
			rows = append(rows, bits(e, append(append(acc, "; CS=", uint64(rteCR)), tt...)...))
		case typ == 0:
			rows = append(rows, bits(e, append([]any{"FC=", uint64(largeFC), "; P=", uint64(rteP), "; I=", uint64(invalid), "; CS=", uint64(rteCR)}, tt...)...))
		case typ == 1 && e&largeFC != 0:
			rows = append(rows, bits(e, append(append(acc, "; CR=", uint64(rteCR)), tt...)...))
		case typ == 1:
			rows = append(rows, bits(e, append([]any{"FC=", uint64(largeFC), "; P=", uint64(rteP), "; TF=", uint64(0x80), "", uint64(0x40),
				"; I=", uint64(invalid), "; CR=", uint64(rteCR)}, append(tt, "; TL=", uint64(0x2), "", uint64(0x1))...)...))
		default:
			rows = append(rows, bits(e, append([]any{"P=", uint64(rteP), "; TF=", uint64(0x80), "", uint64(0x40), "; I=", uint64(invalid)},
				append(tt, "; TL=", uint64(0x2), "", uint64(0x1))...)...))
		}
	}
	return rows, vec, false
}
