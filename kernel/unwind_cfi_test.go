package kernel

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/symbols"
)

// A small .debug_frame writer: one CIE, then FDEs, in the 32-bit format.
type cfiSection struct{ b []byte }

func leb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		if v >>= 7; v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func (s *cfiSection) entry(id uint32, body []byte) int {
	off := len(s.b)
	rest := binary.LittleEndian.AppendUint32(nil, id)
	rest = append(rest, body...)
	for (len(rest)+4)%8 != 0 {
		rest = append(rest, 0) // DW_CFA_nop
	}
	s.b = binary.LittleEndian.AppendUint32(s.b, uint32(len(rest)))
	s.b = append(s.b, rest...)
	return off
}

// cie: version 1, no augmentation.
func (s *cfiSection) cie(codeAlign byte, ra byte, ins ...byte) int {
	return s.entry(0xffffffff, append([]byte{1, 0, codeAlign, 0x78 /* -8 */, ra}, ins...))
}

func (s *cfiSection) fde(cie int, lo, size uint64, ins ...byte) {
	b := binary.LittleEndian.AppendUint64(nil, lo)
	b = binary.LittleEndian.AppendUint64(b, size)
	s.entry(uint32(cie), append(b, ins...))
}

func (s *cfiSection) table(m elf.Machine) *symbols.CFI {
	return symbols.NewCFI(s.b, binary.LittleEndian, false, 0, 8, m)
}

func cfiTestWalker(mem fakeStack, c *symbols.CFI, a arch.DWARFRegs, strip func(uint64) uint64) *cfiWalker {
	return &cfiWalker{
		arch:   a,
		row:    c.RowForPC,
		read:   mem.read,
		isText: func(ip uint64) bool { return ip >= fnA && ip < fnEnd+0x100 },
		strip:  strip,
		order:  binary.LittleEndian,
		stacks: []stackRange{{StackTask, stackLo, stackHi}, {StackIRQ, irqLo, irqHi}},
	}
}

// x86CFI: A pushes rbx (CFA rsp+16); B keeps a frame pointer (CFA
// rbp+16); C has 0 bytes of locals (the CIE's CFA rsp+8); the function at
// fnEnd ends the stack (rip undefined).
func x86CFI(withB bool) *symbols.CFI {
	var s cfiSection
	c := s.cie(1, 16, 0x0c, 7, 8, 0x80|16, 1)       // def_cfa rsp+8; rip at cfa-8
	s.fde(c, fnA, 0x100, 0x41, 0x0e, 16, 0x80|3, 2) // 1: def_cfa_offset 16; rbx at cfa-16
	if withB {
		s.fde(c, fnB, 0x100, 0x41, 0x0e, 16, 0x80|6, 2, 0x41, 0x0d, 6) // push rbp; mov rsp,rbp
	}
	s.fde(c, fnC, 0x100)
	s.fde(c, fnEnd, 0x100, 0x07, 16) // undefined rip
	return s.table(elf.EM_X86_64)
}

// x86CFIStack lays out the stack the walk from A at sp goes through.
func x86CFIStack(sp uint64) (mem fakeStack, bpB uint64) {
	mem = fakeStack{}
	mem[sp] = 0x5555 // rbx, saved by A
	mem[sp+8] = fnB + 0x20
	bpB = sp + 0x30
	mem[bpB] = 0x1111 // C's rbp
	mem[bpB+8] = fnC + 0x40
	mem[bpB+16] = fnEnd + 8
	return mem, bpB
}

// TestCFIWalkX86: three frames by CFI, with callee-saved registers
// recovered on the way.
func TestCFIWalkX86(t *testing.T) {
	sp := uint64(stackHi - 0x100)
	mem, bpB := x86CFIStack(sp)
	w := cfiTestWalker(mem, x86CFI(true), cfiX86(), func(a uint64) uint64 { return a })
	st := cfiState{pc: fnA + 0x10, ret: true}
	st.set(7, sp)
	st.set(6, bpB)
	st.set(3, 0x9999)
	tr := &Trace{Frames: []Frame{{PC: fnA + 0x10, SP: sp - 8}}}
	w.walk(&st, tr)
	if tr.Err != nil {
		t.Fatal(tr.Err)
	}
	want := fmt.Sprintf("%x@%x %x@%x %x@%x %x@%x", fnA+0x10, sp-8, fnB+0x20, sp+8, fnC+0x40, bpB+8, fnEnd+8, bpB+16)
	if got := framePCs(tr); got != want {
		t.Errorf("frames\n got %s\nwant %s", got, want)
	}
	if bx, _ := st.get(3); bx != 0x5555 {
		t.Errorf("rbx %x, want 5555 (saved by A)", bx)
	}
	if bp, _ := st.get(6); bp != 0x1111 {
		t.Errorf("rbp %x, want 1111 (saved by B)", bp)
	}
	if rsp, _ := st.get(7); rsp != bpB+24 {
		t.Errorf("rsp %x, want %x", rsp, bpB+24)
	}
	if _, ok := st.get(1); ok {
		t.Error("rdx (caller-saved) is known in the caller")
	}
}

// TestCFIWalkARM64PAC: a leaf with its signed return address still in
// x30, a function that saved its frame record with a signed x30, and one
// whose return address was never signed (its negate_ra_state pairs
// cancel); the walk strips the signed ones only.
func TestCFIWalkARM64PAC(t *testing.T) {
	const mask = 0xffff000000000000
	sign := func(a uint64) uint64 { return a&^mask | 0x1280<<48 } // a PAC, bit 55 kept
	stripped := 0
	strip := func(a uint64) uint64 {
		stripped++
		if a>>55&1 != 0 {
			return a | mask
		}
		return a &^ mask
	}
	var s cfiSection
	c := s.cie(4, 30, 0x0c, 31, 0)                                           // def_cfa sp+0
	s.fde(c, fnA, 0x100, 0x2d, 0x41)                                         // paciasp, then the body
	s.fde(c, fnB, 0x100, 0x41, 0x2d, 0x41, 0x0e, 32, 0x80|29, 4, 0x80|30, 3) // paciasp; stp x29, x30, [sp, #-32]!
	s.fde(c, fnC, 0x100, 0x41, 0x2d, 0x2d, 0x41, 0x0e, 16, 0x80|29, 2, 0x80|30, 1)
	s.fde(c, fnEnd, 0x100, 0x07, 30)
	sp := uint64(stackHi - 0x200)
	mem := fakeStack{}
	// B's frame record at sp (A keeps none): x29 and the signed x30.
	mem[sp] = sp + 0x20
	mem[sp+8] = sign(fnC + 0x30)
	// C's record at B's CFA, sp+0x20: the return address into fnEnd,
	// unsigned.
	mem[sp+0x20] = 0
	mem[sp+0x28] = fnEnd + 0x8
	w := cfiTestWalker(mem, s.table(elf.EM_AARCH64), cfiARM64(), strip)
	st := cfiState{pc: fnA + 0x8}
	st.set(31, sp)
	st.set(29, sp)
	st.set(30, sign(fnB+0x10))
	tr := &Trace{Frames: []Frame{{PC: fnA + 0x8, SP: sp, Exact: true}}}
	w.walk(&st, tr)
	if tr.Err != nil {
		t.Fatal(tr.Err)
	}
	// A's caller is shown at A's CFA (no record); B's and C's callers at
	// the records B and C saved.
	want := fmt.Sprintf("%x@%x %x@%x %x@%x %x@%x", fnA+8, sp, fnB+0x10, sp, fnC+0x30, sp, fnEnd+8, sp+0x20)
	if got := framePCs(tr); got != want {
		t.Errorf("frames\n got %s\nwant %s", got, want)
	}
	if stripped != 2 {
		t.Errorf("%d return addresses stripped, want 2 (A's and B's)", stripped)
	}
	for _, f := range tr.Frames {
		if !f.Exact {
			t.Errorf("arm64 frame %x not named as it is", f.PC)
		}
	}
}

// TestCFIWalkRejects: a step that fails a check ends the walk with an
// error and adds no frame.
func TestCFIWalkRejects(t *testing.T) {
	sp := uint64(stackHi - 0x100)
	for _, tc := range []struct {
		name string
		ins  []byte
		mem  fakeStack
		want string
	}{
		{"CFA not above SP", []byte{0x0c, 7, 0}, fakeStack{sp - 8: fnB}, "not above"},
		{"CFA off the stack", []byte{0x0c, 7, 0x80, 0x80, 0x04}, fakeStack{}, "none of the task's stacks"},
		{"return into data", nil, fakeStack{sp: 0x1234}, "not kernel text"},
		{"unreadable slot", nil, fakeStack{}, "no memory"},
		{"CFA from an unknown register", []byte{0x0c, 3, 8}, fakeStack{}, "register 3"},
	} {
		var s cfiSection
		c := s.cie(1, 16, 0x0c, 7, 8, 0x80|16, 1)
		s.fde(c, fnA, 0x100, tc.ins...)
		w := cfiTestWalker(tc.mem, s.table(elf.EM_X86_64), cfiX86(), func(a uint64) uint64 { return a })
		st := cfiState{pc: fnA + 0x10, ret: true}
		st.set(7, sp)
		tr := &Trace{Frames: []Frame{{PC: fnA + 0x10, SP: sp}}}
		w.walk(&st, tr)
		if tr.Err == nil || !strings.Contains(tr.Err.Error(), tc.want) || len(tr.Frames) != 1 {
			t.Errorf("%s: %d frames, error %v; want 1 frame and %q", tc.name, len(tr.Frames), tr.Err, tc.want)
		}
	}
	// No FDE for the PC: a NoCFIError, which the ORC walk falls back from.
	var s cfiSection
	s.cie(1, 16)
	w := cfiTestWalker(fakeStack{}, s.table(elf.EM_X86_64), cfiX86(), nil)
	st := cfiState{pc: fnA}
	st.set(7, sp)
	if _, _, err := w.step(&st); err == nil || !strings.Contains(err.Error(), "no call frame information") {
		t.Errorf("no FDE: %v", err)
	}
}

// TestORCFallback: B has no ORC entry; the ORC walk unwinds it by CFI,
// else by its frame pointer, and stops when neither checks out.
func TestORCFallback(t *testing.T) {
	sp := uint64(stackHi - 0x100)
	orc := fakeORC{
		{fnA, fnA + 0x100, callAt(0x10)},
		{fnC, fnC + 0x100, callAt(8)},
		{fnEnd, fnEnd + 0x100, symbols.ORCEntry{Type: symbols.ORCEndOfStack}},
	}
	run := func(mem fakeStack, cfi *symbols.CFI, bp uint64) *Trace {
		w := testWalker(mem, orc)
		if cfi != nil {
			w.cfi = cfiTestWalker(mem, cfi, cfiX86(), func(a uint64) uint64 { return a })
		}
		tr := &Trace{Frames: []Frame{{PC: fnA + 0x10, SP: sp - 8}}}
		st := orcState{ip: fnA + 0x10, sp: sp, bp: bp}
		w.walk(&st, tr)
		return tr
	}
	mem, bpB := x86CFIStack(sp)
	want := fmt.Sprintf("%x@%x %x@%x %x@%x %x@%x", fnA+0x10, sp-8, fnB+0x20, sp+8, fnC+0x40, bpB+8, fnEnd+8, bpB+16)
	for _, tc := range []struct {
		name string
		cfi  *symbols.CFI
	}{{"CFI", x86CFI(true)}, {"frame pointer (no FDE for B)", x86CFI(false)}, {"frame pointer (no CFI)", nil}} {
		tr := run(mem, tc.cfi, bpB)
		if tr.Err != nil || framePCs(tr) != want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", tc.name, framePCs(tr), tr.Err, want)
		}
	}
	// The CFI walk keeps rbp for the next ORC step: corrupt B's saved rbp
	// in the frame-pointer case and CFI still gets B right.
	for _, bad := range []uint64{sp - 0x10 /* below SP */, bpB + 4 /* misaligned */, stackHi + 0x100 /* off the stack */} {
		tr := run(mem, x86CFI(false), bad)
		if tr.Err == nil || len(tr.Frames) != 2 || !strings.Contains(tr.Err.Error(), "frame pointer") {
			t.Errorf("frame pointer %x: %s (%v); want the walk to stop after B's frame", bad, framePCs(tr), tr.Err)
		}
	}
}

// TestFPWalk: an rbp chain of three links, and a chain that turns back.
func TestFPWalk(t *testing.T) {
	stacks := []stackRange{{StackTask, stackLo, stackHi}}
	isText := func(ip uint64) bool { return ip >= fnA && ip < fnEnd+0x100 }
	sp := uint64(stackHi - 0x200)
	mem := fakeStack{}
	b1, b2, b3 := sp+0x20, sp+0x60, sp+0xa0
	mem[b1], mem[b1+8] = b2, fnB+1
	mem[b2], mem[b2+8] = b3, fnC+2
	mem[b3], mem[b3+8] = 0, fnD+3
	tr := &Trace{}
	fpWalk(mem.read, isText, stacks, tr, sp, b1)
	want := fmt.Sprintf("%x@%x %x@%x %x@%x", fnB+1, b1+8, fnC+2, b2+8, fnD+3, b3+8)
	if tr.Err != nil || framePCs(tr) != want {
		t.Errorf("got %s (%v)\nwant %s", framePCs(tr), tr.Err, want)
	}
	mem[b2] = b1 // a loop
	tr = &Trace{}
	fpWalk(mem.read, isText, stacks, tr, sp, b1)
	if tr.Err == nil || len(tr.Frames) != 2 {
		t.Errorf("loop: %s (%v)", framePCs(tr), tr.Err)
	}
}
