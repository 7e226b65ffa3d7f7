package kernel

import (
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/arch"
)

// words is word-addressed memory for synthetic stacks.
type words map[uint64]uint64

func (m words) read(addr uint64, n int) ([]uint64, error) {
	out := make([]uint64, n)
	for i := range out {
		out[i] = m[addr+uint64(8*i)]
	}
	return out, nil
}

const (
	bcStack uint64 = 0xc000000004960000
	bcText  uint64 = 0xc000000000010000
)

// testRegs is a 4-word register set: pc, sp, user flag, unused.
func bcWalker(bc arch.BackChain, m words) *backChainWalker {
	return &backChainWalker{bc: bc, readWords: m.read,
		isText:   func(a uint64) bool { return a >= bcText && a < bcText+0x10000 },
		userMode: func(r []uint64) bool { return r[2] != 0 },
		regIndex: arch.RegIndex{PC: 0, SP: 1, FP: 1, LR: -1}, regWords: 4,
		stacks: []stackRange{{StackTask, bcStack, bcStack + 0x4000}}}
}

func frameList(tr *Trace) string {
	s := ""
	for _, f := range tr.Frames {
		s += fmt.Sprintf("%x@%x", f.PC-bcText, f.SP-bcStack)
		if f.Regs != nil {
			s += fmt.Sprintf("[regs %x user=%v]", f.Regs.Addr-bcStack, f.Regs.User)
		}
		s += " "
	}
	return s
}

// TestBackChainPPC: ppc64's layout (chain at 0, LR save at 16, a marker
// at 96, pt_regs at 112). A switched-out task's first (switch) frame is
// not shown; a kernel-mode exception frame goes on from the interrupted
// registers, their frame's stale slot left out; a user-mode one ends the
// trace.
func TestBackChainPPC(t *testing.T) {
	bc := arch.BackChain{ReturnSlot: 16, MinFrame: 32, MarkerSlot: 96, Markers: []uint64{0x53474552}, RegsOffset: 112, SkipFirstSaved: true}
	s := func(off uint64) uint64 { return bcStack + off }
	m := words{
		s(0x100): s(0x200), s(0x110): bcText + 0x999, // switch frame: a stale slot
		s(0x200): s(0x300), s(0x210): bcText + 0x10, // __switch_to
		s(0x300): s(0x500), s(0x310): bcText + 0x20, s(0x360): 0x53474552, // an interrupt frame
		s(0x370): bcText + 0x30, s(0x378): s(0x600), s(0x380): 0, // its pt_regs: pc, sp, kernel mode
		s(0x600): s(0x700), s(0x610): bcText + 0x888, // the interrupted function's stale slot
		s(0x700): s(0x800), s(0x710): bcText + 0x40,
		s(0x800): 0x7fff0000, s(0x810): bcText + 0x50, s(0x860): 0x53474552, // the system call's frame
		s(0x870): 0x10001000, s(0x878): 0x7fff0000, s(0x880): 1, // user registers
	}
	w := bcWalker(bc, m)
	tr := &Trace{}
	w.walk(tr, s(0x100), 0, false)
	want := "10@200 20@300[regs 370 user=false] 30@600 40@700 50@800[regs 870 user=true] "
	if got := frameList(tr); got != want || tr.Err != nil {
		t.Errorf("saved context:\n got %s (%v)\nwant %s", got, tr.Err, want)
	}
	// From registers (the dump's notes): the pc first, then the chain.
	tr = &Trace{}
	w.walk(tr, s(0x600), bcText+0x31, true)
	if got, want := frameList(tr), "31@600 40@700 50@800[regs 870 user=true] "; got != want {
		t.Errorf("from registers:\n got %s\nwant %s", got, want)
	}
	// A chain pointing back down the stack is an error, not a loop.
	m[s(0x700)] = s(0x680)
	tr = &Trace{}
	w.walk(tr, s(0x600), bcText+0x31, true)
	if tr.Err == nil {
		t.Errorf("backward chain accepted: %s", frameList(tr))
	}
}

// TestBackChainS390: s390x's packed-stack frames (chain at 152, r14 at
// 136), an entry frame told by its zero chain, and a kernel thread's
// empty pt_regs at the top ending the walk.
func TestBackChainS390(t *testing.T) {
	bc := arch.BackChain{ChainSlot: 152, ReturnSlot: 136, MinFrame: 160, RegsOffset: 168}
	s := func(off uint64) uint64 { return bcStack + off }
	m := words{
		s(0x1000 + 152): s(0x1100), s(0x1000 + 136): bcText + 0x10, // __schedule's frame
		s(0x1100 + 152): s(0x1200), s(0x1100 + 136): bcText + 0x20,
		s(0x1200 + 152): 0, s(0x1200 + 136): bcText + 0x30, // the last frame: pt_regs above it are empty
	}
	tr := &Trace{}
	bcWalker(bc, m).walk(tr, s(0x1000), 0, false)
	if got, want := frameList(tr), "10@1000 20@1100 30@1200 "; got != want || tr.Err != nil {
		t.Errorf("got %s (%v), want %s", got, tr.Err, want)
	}
}
