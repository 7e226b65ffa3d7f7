package s390x

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// cpuNotes builds one CPU's notes as QEMU writes them: NT_PRSTATUS (PSW,
// r0-r15 from 112, then the access registers), NT_FPREGSET, the timer,
// the clock comparator (shifted right by 8), the control registers and
// the prefix.
func cpuNotes(o binary.ByteOrder, psw, r15, prefix uint64) []memory.Note {
	pr := make([]byte, 112+8*18+4*16+8)
	o.PutUint64(pr[112:], psw)
	o.PutUint64(pr[112+8:], 0x10fdee)
	o.PutUint64(pr[112+8*17:], r15)
	o.PutUint32(pr[112+8*18+4:], 0x16f53c0) // acr1
	fp := make([]byte, 8+16*8)
	o.PutUint64(fp[8:], 0x1234) // f0
	u64 := func(v uint64) []byte { b := make([]byte, 8); o.PutUint64(b, v); return b }
	ctrs := make([]byte, 16*8)
	o.PutUint64(ctrs[13*8:], 0x1675000)
	pfx := make([]byte, 4)
	o.PutUint32(pfx, uint32(prefix))
	return []memory.Note{
		{Name: "CORE", Type: 1, Desc: pr}, {Name: "CORE", Type: ntFPRegSet, Desc: fp},
		{Name: "LINUX", Type: ntS390Timer, Desc: u64(7)}, {Name: "LINUX", Type: ntS390Clock, Desc: u64(0xaa30b88f19d7a7)},
		{Name: "LINUX", Type: ntS390Ctrs, Desc: ctrs}, {Name: "LINUX", Type: ntS390Prefix, Desc: pfx},
	}
}

// TestLowcoreNotes: each CPU's note group gives its lowcore save areas,
// found by its NT_PRSTATUS registers; the prefixes key the notes to the
// kernel's CPUs; the lowcore block prints C's %#018lx (no 0x for zero)
// and names a kernel-mode PSW's function.
func TestLowcoreNotes(t *testing.T) {
	d := memory.NewRAMDump("s390x", "", 0, make([]byte, 1<<16))
	d.ByteOrder = binary.BigEndian
	d.Notes = append(cpuNotes(d.ByteOrder, 0x0404c00180000000, 0x37fffd03ac8, 0x1db6000), cpuNotes(d.ByteOrder, 0x0705200180000000, 0x3ffd4ef8ea0, 0x1db4000)...)
	s := &S390X{dump: d}
	if k := s.NoteKeys(); len(k) != 2 || k[0] != 0x1db6000 || k[1] != 0x1db4000 {
		t.Fatalf("note keys %x", k)
	}
	regs := make([]uint64, prstatusRegs)
	regs[RegPSWMask], regs[RegPSWAddr], regs[RegR15] = 0x0705200180000000, 0x10fdee, 0x3ffd4ef8ea0
	lc, ok := s.Lowcore(0, regs)
	if !ok || lc[lcPrefix] != 0x1db4000 || lc[lcClock] != 0xaa30b88f19d7a700 || lc[lcTimer] != 7 ||
		lc[lcACRS+1] != 0x16f53c0 || lc[lcCtrs+13] != 0x1675000 || lc[lcFPRS] != 0x1234 || lc[lcGPRS+15] != 0x3ffd4ef8ea0 {
		t.Fatalf("lowcore of the second group: %x %v", lc, ok)
	}
	rows, vec := s.CPURows(0, regs, true)
	if len(rows) == 0 || rows[0].Fields[0].Label != "Task runs in userspace" || len(vec) != lcSize {
		t.Errorf("a user-mode CPU's block: %+v", rows)
	}
	regs[RegPSWMask], regs[RegR15] = 0x0404c00180000000, 0x37fffd03ac8
	rows, _ = s.CPURows(1, regs, false)
	var function bool
	for _, r := range rows {
		for _, f := range r.Fields {
			function = function || f.Name == arch.NameBare
		}
	}
	if !function || len(rows[len(rows)-1].Fields) != 0 {
		t.Errorf("a kernel-mode CPU's block names no function or ends without its blank line: %+v", rows)
	}
}

// TestDecodePTE: crash's checks of an s390x PTE, but for 6.1's
// _PAGE_NOEXEC (0x100), which is an entry's bit, not a reserved one.
func TestDecodePTE(t *testing.T) {
	s := &S390X{}
	for _, c := range []struct {
		pte              uint64
		present, invalid bool
		flags            string
	}{
		{0xa2a21d, true, false, "PROTECTION"},
		{0x1dea13d, true, false, ""},
		{0x1234401, true, false, "INVALID"},  // PROT_NONE: invalid, yet present
		{0x1234400, false, false, "INVALID"}, // a swap entry
		{0x1234a00, false, true, ""},
	} {
		got := s.DecodePTE(c.pte)
		if got.Present != c.present && !got.Invalid || got.Invalid != c.invalid || !got.Invalid && strings.Join(got.Flags, " ") != c.flags || got.Phys != c.pte&^0xfff {
			t.Errorf("%x: %+v", c.pte, got)
		}
	}
}
