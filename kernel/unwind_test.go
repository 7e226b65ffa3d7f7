package kernel

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/symbols"
)

// fakeStack is word-addressed memory for synthetic stacks.
type fakeStack map[uint64]uint64

func (m fakeStack) read(a uint64) (uint64, error) {
	v, ok := m[a]
	if !ok {
		return 0, fmt.Errorf("no memory at %x", a)
	}
	return v, nil
}

func (m fakeStack) readWords(a uint64, n int) ([]uint64, error) {
	out := make([]uint64, n)
	for i := range out {
		v, err := m.read(a + uint64(8*i))
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// fakeORC maps function ranges to ORC entries: each function [lo, hi)
// has one entry for its body.
type fakeORC []struct {
	lo, hi uint64
	e      symbols.ORCEntry
}

func (o fakeORC) find(ip uint64) (symbols.ORCEntry, bool) {
	for _, f := range o {
		if ip >= f.lo && ip < f.hi {
			return f.e, true
		}
	}
	return symbols.ORCEntry{}, false
}

const (
	stackLo uint64 = 0xffffc90000010000
	stackHi        = stackLo + 0x4000
	irqLo   uint64 = 0xffff88807fc00000
	irqHi          = irqLo + 0x4000
	fnA     uint64 = 0xffffffff81001000 // each function is 0x100 bytes
	fnB     uint64 = 0xffffffff81002000
	fnC     uint64 = 0xffffffff81003000
	fnD     uint64 = 0xffffffff81004000
	fnEntry uint64 = 0xffffffff81005000
	fnIRQ   uint64 = 0xffffffff81006000
	fnEnd   uint64 = 0xffffffff81007000
)

func callAt(sp int16) symbols.ORCEntry {
	return symbols.ORCEntry{Type: symbols.ORCCall, SPReg: symbols.ORCRegSP, SPOffset: sp}
}

func testWalker(mem fakeStack, orc fakeORC) *orcWalker {
	x86 := x86Regs()
	return &orcWalker{
		regs:      x86.orc,
		read:      mem.read,
		readWords: mem.readWords,
		find:      orc.find,
		isText:    func(ip uint64) bool { return ip >= fnA && ip < fnEnd+0x100 },
		userMode:  func(r []uint64) bool { return r[x86.RegCS]&3 != 0 },
		name:      func(a uint64) string { return fmt.Sprintf("%x", a) },
		stacks:    []stackRange{{StackTask, stackLo, stackHi}, {StackIRQ, irqLo, irqHi}},
	}
}

func framePCs(tr *Trace) string {
	var s []string
	for _, f := range tr.Frames {
		s = append(s, fmt.Sprintf("%x@%x", f.PC, f.SP))
	}
	return strings.Join(s, " ")
}

// TestORCWalkCalls: a switched-out task in A, called by B (which keeps a
// frame pointer, its SP found from BP), called by C, whose caller is the
// end of the stack.
func TestORCWalkCalls(t *testing.T) {
	mem := fakeStack{}
	sp := uint64(stackHi - 0x100)
	// A's frame: 0x10 bytes of locals, return address into B.
	mem[sp+0x10] = fnB + 0x20
	// B: push %rbp; mov %rsp,%rbp; its caller's SP is BP+16, its saved BP at BP.
	bpB := sp + 0x30
	mem[bpB] = 0x1111 // C's BP
	mem[bpB+8] = fnC + 0x40
	// C: 8 bytes of locals, return into the end-of-stack function.
	mem[bpB+0x18] = fnEnd + 0x8
	orc := fakeORC{
		{fnA, fnA + 0x100, callAt(0x18)},
		{fnB, fnB + 0x100, symbols.ORCEntry{Type: symbols.ORCCall, SPReg: symbols.ORCRegBP, SPOffset: 16, BPReg: symbols.ORCRegPrevSP, BPOffset: -16}},
		{fnC, fnC + 0x100, callAt(0x10)},
		{fnEnd, fnEnd + 0x100, symbols.ORCEntry{Type: symbols.ORCEndOfStack}},
	}
	w := testWalker(mem, orc)
	tr := &Trace{}
	st := orcState{ip: fnA + 0x10, sp: sp, bp: bpB}
	tr.Frames = append(tr.Frames, Frame{PC: st.ip, SP: sp - 8, Stack: StackTask})
	w.walk(&st, tr)
	if tr.Err != nil {
		t.Fatal(tr.Err)
	}
	want := fmt.Sprintf("%x@%x %x@%x %x@%x %x@%x", fnA+0x10, sp-8, fnB+0x20, sp+0x10, fnC+0x40, bpB+8, fnEnd+8, bpB+0x18)
	if got := framePCs(tr); got != want {
		t.Errorf("frames\n got %s\nwant %s", got, want)
	}
	if st.bp != 0x1111 {
		t.Errorf("C's frame pointer %x, want 1111", st.bp)
	}
}

// TestORCWalkInterrupt: registers from a dump note in an IRQ handler on the
// IRQ stack; the handler was called by the entry code, which saved a full
// pt_regs on the task stack for an interrupted kernel function D, called by
// the syscall entry, which saved the user's registers.
func TestORCWalkInterrupt(t *testing.T) {
	x86 := x86Regs()
	mem := fakeStack{}
	irqSP := uint64(irqHi - 0x40)
	// The IRQ handler (fnIRQ) has 8 bytes of locals; its return address
	// into the entry code (fnEntry) sits on the IRQ stack.
	mem[irqSP+8] = fnEntry + 0x30
	// The entry code: its pt_regs lie on the task stack, found through
	// SP_INDIRECT (the IRQ stack's top word holds the task stack pointer).
	regsAddr := uint64(stackHi - 0x400)
	mem[irqSP+0x10] = regsAddr
	kregs := make([]uint64, x86.PtRegsWords)
	kregs[x86.RegIP] = fnD + 0x12
	kregs[x86.RegCS] = 0x10
	kregs[x86.RegSP] = regsAddr + uint64(8*x86.PtRegsWords)
	kregs[x86.RegBP] = 0x2222
	for i, v := range kregs {
		mem[regsAddr+uint64(8*i)] = v
	}
	// D was interrupted (exact IP), 0x20 bytes deep; it returns into the
	// syscall entry (fnC here), whose pt_regs are user-mode.
	dSP := kregs[x86.RegSP]
	mem[dSP+0x20] = fnC + 0x50
	uregsAddr := dSP + 0x28
	uregs := make([]uint64, x86.PtRegsWords)
	uregs[x86.RegIP] = 0x401000
	uregs[x86.RegCS] = 0x33
	for i, v := range uregs {
		mem[uregsAddr+uint64(8*i)] = v
	}
	orc := fakeORC{
		{fnIRQ, fnIRQ + 0x100, callAt(0x10)},
		{fnEntry, fnEntry + 0x100, symbols.ORCEntry{Type: symbols.ORCRegs, SPReg: symbols.ORCRegSPIndirect, SPOffset: 0}},
		{fnD, fnD + 0x100, callAt(0x28)},
		{fnC, fnC + 0x100, symbols.ORCEntry{Type: symbols.ORCRegs, SPReg: symbols.ORCRegSP, SPOffset: 0}},
	}
	w := testWalker(mem, orc)
	regs := make([]uint64, x86.PtRegsWords)
	regs[x86.RegIP] = fnIRQ + 0x4
	regs[x86.RegSP] = irqSP
	regs[x86.RegCS] = 0x10
	tr := &Trace{Regs: regs}
	w.startRegs(tr, regs)
	if tr.Err != nil {
		t.Fatalf("%v (frames %s)", tr.Err, framePCs(tr))
	}
	// The entry frame's SP_INDIRECT: after the handler returns, SP is
	// irqSP+0x10, whose word holds regsAddr.
	want := fmt.Sprintf("%x@%x %x@%x %x@%x", fnIRQ+4, irqSP, fnEntry+0x30, irqSP+8, fnC+0x50, dSP+0x20)
	if got := framePCs(tr); got != want {
		t.Fatalf("frames\n got %s\nwant %s", got, want)
	}
	f := tr.Frames
	if f[1].Regs == nil || f[1].Regs.User || f[1].Regs.Addr != regsAddr || f[1].Regs.Regs[x86.RegIP] != fnD+0x12 {
		t.Errorf("entry frame's kernel registers: %+v", f[1].Regs)
	}
	if f[2].Regs == nil || !f[2].Regs.User || f[2].Regs.Addr != uregsAddr {
		t.Errorf("syscall frame's user registers: %+v", f[2].Regs)
	}
	if f[0].Stack != StackIRQ || f[1].Stack != StackIRQ || f[2].Stack != StackTask {
		t.Errorf("stacks %v %v %v", f[0].Stack, f[1].Stack, f[2].Stack)
	}
	if !f[0].Exact || f[1].Exact || f[2].Exact {
		t.Errorf("exactness %v %v %v", f[0].Exact, f[1].Exact, f[2].Exact)
	}
}

// TestORCWalkPartialRegs: an IRET frame (REGS_PARTIAL), whose frame pointer
// comes from the full pt_regs met before it.
func TestORCWalkPartialRegs(t *testing.T) {
	x86 := x86Regs()
	mem := fakeStack{}
	sp := uint64(stackHi - 0x200)
	// The frame's ORC: an IRET frame at SP; it interrupted D.
	iret := []uint64{fnD + 0x8, 0x10, 0x246, sp + 0x80, 0x18}
	for i, v := range iret {
		mem[sp+uint64(8*i)] = v
	}
	mem[sp+0x80+0x28] = fnEnd + 1
	orc := fakeORC{
		{fnEntry, fnEntry + 0x100, symbols.ORCEntry{Type: symbols.ORCRegsPartial, SPReg: symbols.ORCRegSP}},
		{fnD, fnD + 0x100, callAt(0x30)},
		{fnEnd, fnEnd + 0x100, symbols.ORCEntry{Type: symbols.ORCEndOfStack}},
	}
	w := testWalker(mem, orc)
	full := make([]uint64, x86.PtRegsWords)
	full[x86.RegIP], full[x86.RegSP], full[x86.RegCS], full[x86.RegBP] = fnEntry+2, sp, 0x10, 0x3333
	tr := &Trace{Regs: full}
	w.startRegs(tr, full)
	if tr.Err != nil {
		t.Fatal(tr.Err)
	}
	if len(tr.Frames) != 2 || tr.Frames[0].Regs == nil || !tr.Frames[0].Regs.Partial || tr.Frames[1].PC != fnEnd+1 {
		t.Fatalf("frames %s, regs %+v", framePCs(tr), tr.Frames[0].Regs)
	}
	if tr.Frames[0].Regs.Addr != sp-uint64(8*x86.RegIP) {
		t.Errorf("partial pt_regs at %x, want %x", tr.Frames[0].Regs.Addr, sp-uint64(8*x86.RegIP))
	}
}

// TestORCWalkErrors: undefined entries, code without ORC data that is not
// text, and a stack pointer that goes backwards all end the walk with an
// error, keeping the frames found.
func TestORCWalkErrors(t *testing.T) {
	sp := uint64(stackHi - 0x100)
	for name, c := range map[string]struct {
		mem fakeStack
		orc fakeORC
		ip  uint64
	}{
		"undefined":    {fakeStack{}, fakeORC{{fnA, fnA + 0x100, symbols.ORCEntry{Type: symbols.ORCUndefined}}}, fnA + 4},
		"not text":     {fakeStack{}, fakeORC{}, 0xdead0000},
		"backwards sp": {fakeStack{sp - 0x18: fnA + 4}, fakeORC{{fnA, fnA + 0x100, callAt(-0x10)}}, fnA + 4},
		"unreadable":   {fakeStack{}, fakeORC{{fnA, fnA + 0x100, callAt(0x10)}}, fnA + 4},
	} {
		w := testWalker(c.mem, c.orc)
		tr := &Trace{Frames: []Frame{{PC: c.ip, SP: sp - 8}}}
		st := orcState{ip: c.ip, sp: sp}
		w.walk(&st, tr)
		if tr.Err == nil || len(tr.Frames) == 0 {
			t.Errorf("%s: no error (frames %s)", name, framePCs(tr))
		}
	}
}

// TestFrameRecordWalk: an arm64 chain of frame records with
// pointer-authentication codes in the return addresses, across the IRQ
// stack to the task stack, ending at the record inside pt_regs.
func TestFrameRecordWalk(t *testing.T) {
	const pac uint64 = 0xff7f000000000000 // the bits above a 48-bit address, less bit 55
	strip := func(a uint64) uint64 {
		if a>>55&1 != 0 {
			return a | pac
		}
		return a &^ pac
	}
	const kernel uint64 = 0xffff800008010000
	signed := func(a uint64) uint64 { return a&^pac | 0x002a000000000000 }
	mem := fakeStack{}
	irqFP := uint64(irqHi - 0x100)
	taskFP := uint64(stackHi - 0x300)
	final := uint64(stackHi - 0x150)
	mem[irqFP], mem[irqFP+8] = irqFP+0x40, signed(kernel+0x100)
	mem[irqFP+0x40], mem[irqFP+0x48] = taskFP, signed(kernel+0x200)
	mem[taskFP], mem[taskFP+8] = final, signed(kernel+0x300)
	userRegs := &SavedRegs{Addr: final - 0x100, User: true}
	w := &frameWalker{readWords: mem.readWords, strip: strip, final: final,
		stacks:    []stackRange{{StackTask, stackLo, stackHi}, {StackIRQ, irqLo, irqHi}},
		finalRegs: func() *SavedRegs { return userRegs }}
	tr := &Trace{}
	w.walk(tr, signed(kernel+0x10), irqFP, irqFP)
	if tr.Err != nil {
		t.Fatal(tr.Err)
	}
	want := fmt.Sprintf("%x@%x %x@%x %x@%x %x@%x", kernel+0x10, irqFP, kernel+0x100, irqFP, kernel+0x200, irqFP+0x40, kernel+0x300, taskFP)
	if got := framePCs(tr); got != want {
		t.Errorf("frames\n got %s\nwant %s", got, want)
	}
	if last := tr.Frames[len(tr.Frames)-1]; last.Regs != userRegs || last.Stack != StackTask {
		t.Errorf("last frame %+v", last)
	}
	for _, f := range tr.Frames {
		if !f.Exact {
			t.Errorf("arm64 frames are named by their exact address: %+v", f)
		}
	}

	// A record pointing back down the same stack, and a misaligned one,
	// are errors.
	mem[taskFP] = taskFP - 0x10
	tr = &Trace{}
	w.walk(tr, kernel, taskFP, taskFP)
	if tr.Err == nil {
		t.Error("a record pointing backwards was followed")
	}
	tr = &Trace{}
	w.walk(tr, kernel, taskFP+4, taskFP)
	if tr.Err == nil {
		t.Error("a misaligned record was followed")
	}
}
