package kernel

import (
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/symbols"
)

// TestCrashPath: registers at a fault in D (a dump note, as oops_end passes
// them to crash_kexec), whose pt_regs the entry code saved on the task
// stack, with a copy of them lower down (as __crash_kexec's fixed_regs).
// Below the pt_regs lie two return addresses into the crash path's A: a
// stale one, whose walk reaches other registers, and the live one, whose
// walk goes A, B, the entry code and its pt_regs. The trace is the live
// chain, then D's caller C (D itself is the exception frame's RIP).
func TestCrashPath(t *testing.T) {
	x86 := x86Regs()
	n := x86.PtRegsWords
	mem := fakeStack{}
	for a := stackLo; a < stackHi; a += 8 {
		mem[a] = 0
	}
	regsAddr := uint64(stackHi - 0x400)
	regs := make([]uint64, n)
	for i := range regs {
		regs[i] = 0x1000 + uint64(i)
	}
	regs[x86.RegIP] = fnD + 0x12
	regs[x86.RegCS] = 0x10
	regs[x86.RegSP] = regsAddr + uint64(8*n)
	for i, v := range regs {
		mem[regsAddr+uint64(8*i)] = v
		mem[stackLo+0x100+uint64(8*i)] = v
	}
	slot := regsAddr - 0x100
	stale := slot - 0x80
	for _, s := range []uint64{stale, slot} {
		mem[s] = fnA + 0x10
		mem[s+0x18] = fnB + 0x20
		mem[s+0x38] = fnEntry + 0x30
	}
	dSP := regs[x86.RegSP]
	mem[dSP+8] = fnC + 0x50
	orc := fakeORC{
		{fnA, fnA + 0x100, callAt(0x18)},
		{fnB, fnB + 0x100, callAt(0x20)},
		{fnEntry, fnEntry + 0x100, symbols.ORCEntry{Type: symbols.ORCRegs, SPReg: symbols.ORCRegSP, SPOffset: 0xc0}},
		{fnD, fnD + 0x100, callAt(0x10)},
		{fnC, fnC + 0x100, symbols.ORCEntry{Type: symbols.ORCEndOfStack}},
	}
	w := testWalker(mem, orc)
	rank := func(ret uint64) int {
		if ret-1 >= fnA && ret-1 < fnA+0x100 {
			return 0
		}
		return -1
	}
	tr := &Trace{Regs: regs}
	st, ok := w.crashPath(tr, regs, rank)
	if !ok {
		t.Fatal("no crash path found")
	}
	w.walk(st, tr)
	if tr.Err != nil {
		t.Fatalf("%v (frames %s)", tr.Err, framePCs(tr))
	}
	want := fmt.Sprintf("%x@%x %x@%x %x@%x %x@%x", fnA+0x10, slot, fnB+0x20, slot+0x18, fnEntry+0x30, slot+0x38, fnC+0x50, dSP+8)
	if got := framePCs(tr); got != want {
		t.Fatalf("frames\n got %s\nwant %s", got, want)
	}
	if r := tr.Frames[2].Regs; r == nil || r.Addr != regsAddr || r.User || r.Regs[x86.RegIP] != fnD+0x12 {
		t.Errorf("entry frame's registers %+v", r)
	}

	// The live anchor gone: only the stale chain is left, and it is not
	// taken.
	mem[slot] = 0
	tr = &Trace{Regs: regs}
	if _, ok := w.crashPath(tr, regs, rank); ok || len(tr.Frames) != 0 {
		t.Errorf("a stale chain was taken: %s", framePCs(tr))
	}
	// Registers that are nowhere on the stack: no crash path.
	mem[slot] = fnA + 0x10
	other := append([]uint64(nil), regs...)
	other[0]++
	if _, ok := w.crashPath(&Trace{Regs: other}, other, rank); ok {
		t.Error("a crash path for registers not saved on the stack")
	}
}
