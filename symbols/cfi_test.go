package symbols

import (
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"
)

// A byte-level writer of .debug_frame and .eh_frame sections.

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func u8(v uint8) []byte { return []byte{v} }
func u16(v uint64) []byte {
	return binary.LittleEndian.AppendUint16(nil, uint16(v))
}
func u32(v uint64) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// frameWriter lays out entries in a section.
type frameWriter struct {
	b    []byte
	eh   bool
	addr uint64 // the section's address (.eh_frame)
}

// entry appends one entry: id is the CIE id or pointer (as written),
// body the rest; it returns the entry's offset. In the 64-bit format the
// length is 0xffffffff and a 64-bit length and id follow.
func (w *frameWriter) entry(dwarf64 bool, id func(idPos int) uint64, body []byte) int {
	off := len(w.b)
	if dwarf64 {
		idPos := off + 12
		rest := cat(u64(id(idPos)), body)
		for len(rest)%8 != 0 {
			rest = append(rest, 0) // DW_CFA_nop
		}
		w.b = cat(w.b, u32(0xffffffff), u64(uint64(len(rest))), rest)
		return off
	}
	idPos := off + 4
	rest := cat(u32(id(idPos)), body)
	for (len(rest)+4)%8 != 0 {
		rest = append(rest, 0)
	}
	w.b = cat(w.b, u32(uint64(len(rest))), rest)
	return off
}

// cie appends a CIE (version 1 unless v4 asks for version 4 with address
// and segment sizes).
func (w *frameWriter) cie(dwarf64 bool, version uint8, aug string, augData []byte, codeAlign uint64, dataAlign int64, ra uint64, ins []byte) int {
	body := cat(u8(version), []byte(aug), u8(0))
	if version >= 4 {
		body = cat(body, u8(8), u8(0))
	}
	body = cat(body, uleb(codeAlign), sleb(dataAlign))
	if version == 1 {
		body = cat(body, u8(uint8(ra)))
	} else {
		body = cat(body, uleb(ra))
	}
	if strings.HasPrefix(aug, "z") {
		body = cat(body, uleb(uint64(len(augData))), augData)
	}
	body = cat(body, ins)
	return w.entry(dwarf64, func(int) uint64 {
		switch {
		case w.eh:
			return 0
		case dwarf64:
			return ^uint64(0)
		}
		return 0xffffffff
	}, body)
}

// fde appends a .debug_frame FDE of absolute 8-byte addresses.
func (w *frameWriter) fde(dwarf64 bool, cie int, lo, size uint64, ins []byte) int {
	return w.entry(dwarf64, func(int) uint64 { return uint64(cie) }, cat(u64(lo), u64(size), ins))
}

const (
	x86RSP, x86RBP, x86RIP = 7, 6, 16
)

// x86CIE is the x86_64 kernel's CIE: CFA = rsp+8, rip at CFA-8.
func x86CIE(w *frameWriter, dwarf64 bool) int {
	return w.cie(dwarf64, 1, "", nil, 1, -8, x86RIP, cat(u8(0x0c), uleb(x86RSP), uleb(8), u8(0x80|x86RIP), uleb(1)))
}

func mustRow(t *testing.T, c *CFI, pc uint64) *CFIRow {
	t.Helper()
	row, err := c.RowForPC(pc)
	if err != nil {
		t.Fatalf("row for %#x: %v", pc, err)
	}
	return row
}

func checkCFA(t *testing.T, row *CFIRow, reg uint64, off int64) {
	t.Helper()
	if row.CFA.Kind != RuleCFA || row.CFA.Reg != reg || row.CFA.Offset != off {
		t.Errorf("at %#x: CFA %+v, want r%d%+d", row.Loc, row.CFA, reg, off)
	}
}

func checkRule(t *testing.T, row *CFIRow, reg uint64, want Rule) {
	t.Helper()
	got := row.Rule(reg)
	if got.Kind != want.Kind || got.Reg != want.Reg || got.Offset != want.Offset || string(got.Expr) != string(want.Expr) {
		t.Errorf("at %#x: r%d rule %+v, want %+v", row.Loc, reg, got, want)
	}
}

// TestCFIOps executes every CFA instruction the parser knows and checks
// the rows between them.
func TestCFIOps(t *testing.T) {
	for _, dwarf64 := range []bool{false, true} {
		w := &frameWriter{}
		c0 := x86CIE(w, dwarf64)
		expr := cat(u8(0x77), sleb(8), u8(0x06)) // DW_OP_breg7 8; DW_OP_deref
		ins := cat(
			u8(0x40|1), u8(0x0e), uleb(16), u8(0x80|x86RBP), uleb(2), // 0x1001: def_cfa_offset 16; rbp at cfa-16
			u8(0x02), u8(3), u8(0x0d), uleb(x86RBP), // 0x1004: def_cfa_register rbp
			u8(0x05), uleb(3), uleb(3), u8(0x11), uleb(12), sleb(4), // rbx at -24, r12 at -32
			u8(0x03), u16(4), u8(0x0a), // 0x1008: remember_state
			u8(0xc0|x86RBP),             // restore rbp (no initial rule: unspecified)
			u8(0x14), uleb(13), uleb(1), // val_offset r13 = cfa-8
			u8(0x09), uleb(14), uleb(1), // r14 in rdx
			u8(0x08), uleb(15), u8(0x07), uleb(2), // same_value r15, undefined rcx
			u8(0x0c), uleb(x86RSP), uleb(40), // def_cfa rsp+40
			u8(0x04), u32(8), u8(0x0b), // 0x1010: restore_state
			u8(0x40|1), u8(0x05), uleb(x86RIP), uleb(2), // 0x1011: rip at -16
			u8(0x40|1), u8(0x06), uleb(x86RIP), // 0x1012: restore_extended rip: back to the CIE's -8
			u8(0x40|1), u8(0x12), uleb(x86RSP), sleb(-2), u8(0x13), sleb(-3), // 0x1013: def_cfa_sf rsp+16, def_cfa_offset_sf 24
			u8(0x2e), uleb(16), u8(0x15), uleb(13), sleb(2), // GNU_args_size; val_offset_sf r13 = cfa-16
			u8(0x10), uleb(3), uleb(2), u8(0x77), sleb(0), // expression rbx: rsp+0
			u8(0x16), uleb(12), uleb(2), u8(0x38), u8(0x22), // val_expression r12: lit8 plus
			u8(0x2f), uleb(15), uleb(1), // GNU_negative_offset_extended r15 at +8
			u8(0x40|1), u8(0x0f), uleb(uint64(len(expr))), expr, // 0x1014: def_cfa_expression
			u8(0x40|1), u8(0x80|x86RIP), uleb(3), u8(0xc0|x86RIP), // 0x1015: rip at -24 then restore: -8
			u8(0x01), u64(0x1020), u8(0x0c), uleb(x86RSP), uleb(48), // set_loc 0x1020: def_cfa rsp+48
		)
		w.fde(dwarf64, c0, 0x1000, 0x100, ins)
		c := NewCFI(w.b, binary.LittleEndian, false, 0, 8, elf.EM_X86_64)
		if n, err := c.Err(); err != nil || c.Len() != 1 {
			t.Fatalf("64-bit %v: %d FDEs, %d errors (%v)", dwarf64, c.Len(), n, err)
		}
		off := func(n int64) Rule { return Rule{Kind: RuleOffset, Offset: n} }
		r := mustRow(t, c, 0x1000)
		checkCFA(t, r, x86RSP, 8)
		checkRule(t, r, x86RIP, off(-8))
		if r.RA != x86RIP || r.Lo != 0x1000 || r.Hi != 0x1100 {
			t.Errorf("RA column %d, range %#x-%#x", r.RA, r.Lo, r.Hi)
		}
		r = mustRow(t, c, 0x1003)
		checkCFA(t, r, x86RSP, 16)
		checkRule(t, r, x86RBP, off(-16))
		r = mustRow(t, c, 0x1004)
		checkCFA(t, r, x86RBP, 16)
		checkRule(t, r, 3, off(-24))
		checkRule(t, r, 12, off(-32))
		r = mustRow(t, c, 0x100f)
		checkCFA(t, r, x86RSP, 40)
		checkRule(t, r, x86RBP, Rule{})
		checkRule(t, r, 13, Rule{Kind: RuleValOffset, Offset: -8})
		checkRule(t, r, 14, Rule{Kind: RuleRegister, Reg: 1})
		checkRule(t, r, 15, Rule{Kind: RuleSameValue})
		checkRule(t, r, 2, Rule{Kind: RuleUndefined})
		checkRule(t, r, 3, off(-24))
		r = mustRow(t, c, 0x1010) // restore_state
		checkCFA(t, r, x86RBP, 16)
		checkRule(t, r, x86RBP, off(-16))
		checkRule(t, r, 13, Rule{})
		checkRule(t, r, 14, Rule{})
		if r.Loc != 0x1010 {
			t.Errorf("restore_state moved the location to %#x", r.Loc)
		}
		checkRule(t, mustRow(t, c, 0x1011), x86RIP, off(-16))
		checkRule(t, mustRow(t, c, 0x1012), x86RIP, off(-8))
		r = mustRow(t, c, 0x1013)
		checkCFA(t, r, x86RSP, 24)
		checkRule(t, r, 13, Rule{Kind: RuleValOffset, Offset: -16})
		checkRule(t, r, 3, Rule{Kind: RuleExpression, Expr: cat(u8(0x77), sleb(0))})
		checkRule(t, r, 12, Rule{Kind: RuleValExpression, Expr: []byte{0x38, 0x22}})
		checkRule(t, r, 15, off(8))
		r = mustRow(t, c, 0x1014)
		if r.CFA.Kind != RuleCFAExpression || string(r.CFA.Expr) != string(expr) {
			t.Errorf("CFA %+v, want the expression", r.CFA)
		}
		checkRule(t, mustRow(t, c, 0x1015), x86RIP, off(-8))
		if r := mustRow(t, c, 0x101f); r.CFA.Kind != RuleCFAExpression { // replaced only at 0x1020
			t.Errorf("at 0x101f: CFA %+v, want the expression", r.CFA)
		}
		checkCFA(t, mustRow(t, c, 0x1020), x86RSP, 48)
		if _, err := c.RowForPC(0x1100); err == nil {
			t.Error("a row past the FDE's end")
		} else if _, ok := err.(*NoCFIError); !ok {
			t.Errorf("past the end: %v, want a NoCFIError", err)
		}
	}
}

// TestCFIRestoreToInitialRule: DW_CFA_restore gives back the CIE's rule,
// not "undefined" (the case delve gets wrong).
func TestCFIRestoreToInitialRule(t *testing.T) {
	w := &frameWriter{}
	c0 := w.cie(false, 3, "", nil, 4, -8, 30, cat(u8(0x0c), uleb(31), uleb(0), u8(0x80|29), uleb(4), u8(0x80|30), uleb(3)))
	w.fde(false, c0, 0x4000, 0x20, cat(u8(0x40|1), u8(0x80|29), uleb(2), u8(0x80|30), uleb(1), u8(0x40|1), u8(0xc0|30), u8(0x06), uleb(29)))
	c := NewCFI(w.b, binary.LittleEndian, false, 0, 8, elf.EM_AARCH64)
	r := mustRow(t, c, 0x4004)
	checkRule(t, r, 29, Rule{Kind: RuleOffset, Offset: -16})
	checkRule(t, r, 30, Rule{Kind: RuleOffset, Offset: -8})
	r = mustRow(t, c, 0x4008)
	checkRule(t, r, 29, Rule{Kind: RuleOffset, Offset: -32})
	checkRule(t, r, 30, Rule{Kind: RuleOffset, Offset: -24})
}

// TestCFINegateRAState: arm64's DW_CFA_AARCH64_negate_ra_state toggles
// whether the return address is signed; remember/restore_state keep it.
func TestCFINegateRAState(t *testing.T) {
	w := &frameWriter{}
	c0 := w.cie(false, 1, "", nil, 4, -8, 30, cat(u8(0x0c), uleb(31), uleb(0)))
	w.fde(false, c0, 0x2000, 0x40, cat(
		u8(0x40|1), u8(0x2d), // 0x2004: paciasp
		u8(0x40|1), u8(0x0e), uleb(16), u8(0x80|29), uleb(2), u8(0x80|30), uleb(1), // 0x2008: stp
		u8(0x40|1), u8(0x0a), u8(0xc0|30), u8(0xc0|29), u8(0x0e), uleb(0), // 0x200c: remember; epilogue
		u8(0x40|1), u8(0x2d), // 0x2010: autiasp
		u8(0x40|1), u8(0x0b), // 0x2014: restore_state: signed again
	))
	c := NewCFI(w.b, binary.LittleEndian, false, 0, 8, elf.EM_AARCH64)
	for _, tc := range []struct {
		pc     uint64
		signed bool
		ra     RuleKind
	}{{0x2000, false, RuleUnspecified}, {0x2004, true, RuleUnspecified}, {0x2008, true, RuleOffset}, {0x200c, true, RuleUnspecified}, {0x2010, false, RuleUnspecified}, {0x2014, true, RuleOffset}} {
		r := mustRow(t, c, tc.pc)
		if r.RASigned != tc.signed || r.Rule(30).Kind != tc.ra {
			t.Errorf("at %#x: signed %v, x30 rule %v; want %v, %v", tc.pc, r.RASigned, r.Rule(30).Kind, tc.signed, tc.ra)
		}
	}
	// On other machines 0x2d is SPARC's window_save: an error, not a toggle.
	c = NewCFI(w.b, binary.LittleEndian, false, 0, 8, elf.EM_X86_64)
	if _, err := c.RowForPC(0x2004); err == nil || !strings.Contains(err.Error(), "window_save") {
		t.Errorf("0x2d on x86_64: %v", err)
	}
}

// TestCFIForms: 32- and 64-bit entries, CIE versions 1, 3 and 4, mixed in
// one section, and FDEs in any order.
func TestCFIForms(t *testing.T) {
	w := &frameWriter{}
	c32 := x86CIE(w, false)
	c64 := w.cie(true, 4, "", nil, 1, -8, x86RIP, cat(u8(0x0c), uleb(x86RSP), uleb(16), u8(0x80|x86RIP), uleb(1)))
	c3 := w.cie(false, 3, "", nil, 1, -8, 300, cat(u8(0x0c), uleb(x86RSP), uleb(24)))
	w.fde(true, c64, 0x3000, 0x10, nil)
	w.fde(false, c32, 0x1000, 0x10, nil)
	w.fde(true, c3, 0x2000, 0x10, nil)
	w.fde(false, c64, 0x5000, 0x10, nil)
	c := NewCFI(w.b, binary.LittleEndian, false, 0, 8, elf.EM_X86_64)
	if n, err := c.Err(); err != nil || c.Len() != 4 {
		t.Fatalf("%d FDEs, %d errors (%v)", c.Len(), n, err)
	}
	for _, tc := range []struct {
		pc  uint64
		off int64
		ra  uint64
	}{{0x1008, 8, x86RIP}, {0x2000, 24, 300}, {0x300f, 16, x86RIP}, {0x5000, 16, x86RIP}} {
		r := mustRow(t, c, tc.pc)
		checkCFA(t, r, x86RSP, tc.off)
		if r.RA != tc.ra {
			t.Errorf("at %#x: RA column %d, want %d", tc.pc, r.RA, tc.ra)
		}
	}
	for _, pc := range []uint64{0xfff, 0x1010, 0x4000} {
		if c.Covers(pc) {
			t.Errorf("%#x covered", pc)
		}
	}
}

// TestCFIEHFrame: .eh_frame's CIE id 0, relative CIE pointers, 'zR' with
// pc-relative signed 4-byte addresses, a personality ('P'), and the zero
// terminator.
func TestCFIEHFrame(t *testing.T) {
	const secAddr = 0xffffffff82000000
	w := &frameWriter{eh: true, addr: secAddr}
	// zPLR: personality udata8 (absolute), LSDA sdata4, FDEs pcrel|sdata4.
	aug := cat(u8(0x04), u64(0xdead), u8(0x1b), u8(0x1b))
	c0 := w.cie(false, 1, "zPLR", aug, 1, -8, x86RIP, cat(u8(0x0c), uleb(x86RSP), uleb(8), u8(0x80|x86RIP), uleb(1)))
	add := func(lo, size uint64, ins []byte) {
		off := len(w.b)
		idPos := off + 4
		locPos := idPos + 4
		body := cat(u32(uint64(idPos-c0)), u32(uint64(int64(lo)-int64(secAddr+uint64(locPos)))), u32(size), uleb(4), u32(0), ins)
		for (len(body)+4)%8 != 0 {
			body = append(body, 0)
		}
		w.b = cat(w.b, u32(uint64(len(body))), body)
	}
	add(0xffffffff81000000, 0x40, cat(u8(0x40|4), u8(0x0e), uleb(32)))
	add(0xffffffff81000100, 0x40, nil)
	w.b = cat(w.b, u32(0), []byte{0xde, 0xad}) // terminator, then junk that is never read
	c := NewCFI(w.b, binary.LittleEndian, true, secAddr, 8, elf.EM_X86_64)
	if n, err := c.Err(); err != nil || c.Len() != 2 {
		t.Fatalf("%d FDEs, %d errors (%v)", c.Len(), n, err)
	}
	checkCFA(t, mustRow(t, c, 0xffffffff81000003), x86RSP, 8)
	checkCFA(t, mustRow(t, c, 0xffffffff81000004), x86RSP, 32)
	checkCFA(t, mustRow(t, c, 0xffffffff8100013f), x86RSP, 8)
	if c.Covers(0xffffffff81000040) {
		t.Error("gap covered")
	}
}

// TestCFICorrupt: truncated and damaged sections give errors, never a
// panic, and what can be read still is.
func TestCFICorrupt(t *testing.T) {
	w := &frameWriter{}
	c0 := x86CIE(w, false)
	w.fde(false, c0, 0x1000, 0x10, cat(u8(0x40|1), u8(0x0e), uleb(16)))
	c1 := w.cie(true, 4, "", nil, 1, -8, x86RIP, cat(u8(0x0c), uleb(x86RSP), uleb(8)))
	w.fde(true, c1, 0x2000, 0x10, cat(u8(0x40|1), u8(0x0a), u8(0x0e), uleb(16), u8(0x0b)))
	good := w.b
	for n := 0; n < len(good); n++ {
		c := NewCFI(good[:n], binary.LittleEndian, false, 0, 8, elf.EM_X86_64)
		c.RowForPC(0x1001)
		c.RowForPC(0x2001)
		if _, err := c.Err(); n > 0 && n < len(good) && err == nil && c.Len() == 2 {
			t.Errorf("cut at %d of %d: no error", n, len(good))
		}
	}
	for i := range good {
		for _, v := range []byte{0x00, 0xff, 0x2d, 0x0b, 0x7f, 0x80} {
			b := append([]byte(nil), good...)
			b[i] = v
			c := NewCFI(b, binary.LittleEndian, false, 0, 8, elf.EM_AARCH64)
			for pc := uint64(0x1000); pc < 0x1010; pc++ {
				c.RowForPC(pc)
				c.RowForPC(pc + 0x1000)
			}
		}
	}
	// The first entry's length points past the end: nothing is indexed.
	b := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(b, 0x7fffff00)
	c := NewCFI(b, binary.LittleEndian, false, 0, 8, elf.EM_X86_64)
	if _, err := c.Err(); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("overlong entry: %v", err)
	}
	// Bad instructions: an error for that FDE only.
	for _, tc := range []struct {
		ins  []byte
		want string
	}{
		{[]byte{0x0b}, "without a remembered state"},
		{[]byte{0x3f}, "unknown CFA instruction"},
		{[]byte{0x0c, 0x87, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}, "truncated"}, // a LEB128 running off the entry's end
		{cat(u8(0x0f), uleb(2), []byte{0xe0, 0x00}), ""},                      // accepted here, refused when evaluated
	} {
		w := &frameWriter{}
		c0 := x86CIE(w, false)
		w.fde(false, c0, 0x1000, 0x10, tc.ins)
		w.fde(false, c0, 0x2000, 0x10, nil)
		c := NewCFI(w.b, binary.LittleEndian, false, 0, 8, elf.EM_X86_64)
		_, err := c.RowForPC(0x1000)
		if tc.want == "" {
			if err != nil {
				t.Errorf("% x: %v", tc.ins, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("% x: %v, want %q", tc.ins, err, tc.want)
		}
		if _, err := c.RowForPC(0x2000); err != nil {
			t.Errorf("the next FDE: %v", err)
		}
	}
	// An FDE pointing at no CIE is left out of the index, with an error.
	w = &frameWriter{}
	x86CIE(w, false)
	w.fde(false, 0x999, 0x1000, 0x10, nil)
	c = NewCFI(w.b, binary.LittleEndian, false, 0, 8, elf.EM_X86_64)
	if n, err := c.Err(); n != 1 || err == nil || c.Len() != 0 {
		t.Errorf("FDE without a CIE: %d FDEs, %d errors (%v)", c.Len(), n, err)
	}
}

// TestEvalCFIExpr: the expression forms CFI uses, and clear errors for
// the others.
func TestEvalCFIExpr(t *testing.T) {
	mem := map[uint64]uint64{0x1008: 0xabc}
	env := CFIExprEnv{
		Reg: func(r uint64) (uint64, bool) { return map[uint64]uint64{7: 0x1000, 6: 0x2000}[r], r == 7 || r == 6 },
		Read: func(a uint64, size int) (uint64, error) {
			v, ok := mem[a]
			if !ok {
				return 0, &NoCFIError{PC: a}
			}
			return v, nil
		},
	}
	for _, tc := range []struct {
		expr []byte
		init []uint64
		want uint64
		err  string
	}{
		{cat(u8(0x77), sleb(8), u8(0x06)), nil, 0xabc, ""},                   // breg7 8; deref
		{cat(u8(0x92), uleb(6), sleb(-16)), nil, 0x1ff0, ""},                 // bregx rbp -16
		{cat(u8(0x23), uleb(0x10)), []uint64{0x100}, 0x110, ""},              // CFA plus_uconst
		{cat(u8(0x38), u8(0x33), u8(0x1c), u8(0x31), u8(0x24)), nil, 10, ""}, // (8-3)<<1
		{cat(u8(0x08), u8(0xf0), u8(0x12), u8(0x1a), u8(0x20)), nil, ^uint64(0xf0), ""},
		{cat(u8(0x11), sleb(-4), u8(0x1f)), nil, 4, ""},
		{cat(u8(0x73), sleb(0)), nil, 0, "register 3"},
		{[]byte{0xf3}, nil, 0, "not supported"},
		{[]byte{0x22}, nil, 0, "underflow"},
		{[]byte{0x0c, 0x01}, nil, 0, "truncated"},
		{cat(u8(0x77), sleb(0), u8(0x06)), nil, 0, "no call frame"},
	} {
		got, err := EvalCFIExpr(tc.expr, binary.LittleEndian, env, tc.init...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("% x: %v, %v; want an error with %q", tc.expr, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("% x: %#x, %v; want %#x", tc.expr, got, err, tc.want)
		}
	}
}
