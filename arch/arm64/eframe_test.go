package arm64

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/arch"
)

// TestARM64EFrameSearch: a kernel-mode pt_regs at an 8-byte aligned place
// among noise and look-alikes (SP off the stack, an EL0 or AArch32 PSTATE,
// LR outside text).
func TestARM64EFrameSearch(t *testing.T) {
	const (
		lo   uint64 = 0xffff800008010000
		hi          = lo + 0x4000
		text uint64 = 0xffffd34b05400000
		pac  uint64 = 0xffff000000000000
	)
	size := 8 * (RegPState + 1 + 8) // some bookkeeping after pstate, as in pt_regs
	buf := make([]byte, hi-lo)
	for i := 0; i+8 <= len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], lo+uint64(i)) // stack addresses everywhere
	}
	frame := func(sp, fp, pc, lr, pstate uint64) []uint64 {
		r := make([]uint64, RegPState+1)
		for i := range r {
			r[i] = uint64(0x100 + i)
		}
		r[RegSP], r[RegFP], r[RegPC], r[RegLR], r[RegPState] = sp, fp, pc, lr, pstate
		return r
	}
	put := func(at uint64, r []uint64) {
		for i, v := range r {
			binary.LittleEndian.PutUint64(buf[at-lo+uint64(8*i):], v)
		}
	}
	good := frame(lo+0x1200, lo+0x1200, text+0x40, (text+0x80)&^pac, 0x60000005) // LR with its PAC bits cleared
	goodAt := lo + 0x1000
	put(goodAt, good)
	for i, r := range [][]uint64{
		frame(hi+0x10, lo+0x1200, text, text, 0x5),       // SP off the stack
		frame(lo+0x1200, lo+0x1200, text, text, 0x0),     // EL0
		frame(lo+0x1200, lo+0x1200, text, text, 0x15),    // AArch32
		frame(lo+0x1200, lo+0x1200, text, 0x400000, 0x5), // LR not text
		frame(lo+0x1200, lo+0x1200, text, text, 0x1_0000_0005),
	} {
		put(lo+0x2000+uint64(0x200*i), r)
	}
	c := &eframeCheck{ptRegsSize: uint64(size), lo: lo, hi: hi, pacMask: pac,
		isText: func(a uint64) bool { return a >= text && a < text+0x1000 }}
	got := c.search(buf, binary.LittleEndian, RegPState+1)
	if len(got) != 1 || got[0].Addr != goodAt || fmt.Sprint(got[0].Regs) != fmt.Sprint(good) {
		t.Fatalf("found %+v, want one frame at %x", got, goodAt)
	}
}

// TestARM64UserFrameAtTop: a user task's frame at the top of its stack is
// added whatever it holds: pt_regs ends at the top when it has a
// stackframe member, 16 bytes below it when not; a kernel thread has none.
func TestARM64UserFrameAtTop(t *testing.T) {
	const lo uint64 = 0xffff800008010000
	a := &ARM64{}
	size := uint64(8 * (a.PtRegsWords() + 4))
	for _, c := range []struct {
		user, stackframe bool
		at               uint64
	}{{true, true, lo + 0x4000 - size}, {true, false, lo + 0x4000 - size - 16}, {false, true, 0}} {
		s := arch.EFrameStack{Base: lo, Data: make([]byte, 0x4000), Order: binary.LittleEndian, PtRegsSize: size,
			PtRegsStackframe: c.stackframe, UserTask: c.user, IsText: func(uint64) bool { return false }}
		if c.user {
			binary.LittleEndian.PutUint64(s.Data[c.at-lo+8*RegPC:], 0x400123)
		}
		got, err := a.SearchEFrames(s)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !c.user && len(got) != 0:
			t.Errorf("kernel thread: %+v", got)
		case c.user && (len(got) != 1 || got[0].Addr != c.at || !got[0].User || got[0].Regs[RegPC] != 0x400123 || len(got[0].Regs) != a.PtRegsWords()):
			t.Errorf("stackframe %v: %+v, want a user frame at %x", c.stackframe, got, c.at)
		}
	}
}
