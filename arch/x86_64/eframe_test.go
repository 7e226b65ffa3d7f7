package x86_64

import (
	"fmt"
	"testing"
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

// Test layout: a 16 KiB task stack, kernel text at fnA..fnEnd+0x100.
const (
	stackLo uint64 = 0xffffc90000010000
	stackHi        = stackLo + 0x4000
	fnA     uint64 = 0xffffffff81001000 // each function is 0x100 bytes
	fnB     uint64 = 0xffffffff81002000
	fnD     uint64 = 0xffffffff81004000
	fnEnd   uint64 = 0xffffffff81007000

	efPageOffset uint64 = 0xffff888000000000
	efModule     uint64 = 0xffffffffc0001000 // a mapped module address
)

func testX86Check(mem fakeStack) *eframeCheck {
	return &eframeCheck{
		ptRegsSize:    8 * PtRegsWords,
		pageOffset:    efPageOffset,
		userTop:       0x0000800000000000,
		isText:        func(a uint64) bool { return a >= fnA && a < fnEnd+0x100 },
		isModule:      func(a uint64) bool { return a >= 0xffffffffc0000000 && a <= 0xffffffffff000000 },
		vmallocMapped: func(a uint64) bool { return a>>12 == efModule>>12 },
		symbolName:    func(uint64) string { return "" },
		read:          mem.read,
	}
}

// ptRegs builds an x86_64 pt_regs.
func ptRegs(ip, cs, flags, sp, ss uint64) []uint64 {
	r := make([]uint64, PtRegsWords)
	for i := range r {
		r[i] = 0x1000 + uint64(i) // distinct general registers
	}
	r[RegIP], r[RegCS], r[RegFlags], r[RegSP], r[RegSS] = ip, cs, flags, sp, ss
	return r
}

// TestX86EFrameSearch: a stack holding a kernel-mode pt_regs (an
// interrupt in fnD) and the user-mode pt_regs of the system call at the
// top, among noise words and pt_regs look-alikes that crash's checks
// reject; the search finds exactly the two, at their addresses, with their
// registers.
func TestX86EFrameSearch(t *testing.T) {
	words := make([]uint64, (stackHi-stackLo)/8)
	for i := range words {
		// Noise: text addresses, stack addresses, small numbers, flags-like values.
		switch i % 5 {
		case 0:
			words[i] = fnB + uint64(i)
		case 1:
			words[i] = stackLo + uint64(8*i)
		case 2:
			words[i] = uint64(i)
		case 3:
			words[i] = 0x246
		default:
			words[i] = 0xdeadbeef00000000 | uint64(i)
		}
	}
	put := func(addr uint64, r []uint64) {
		copy(words[(addr-stackLo)/8:], r)
	}
	user := ptRegs(0x401000, 0x33, 0x246, 0x7ffd00001000, 0x2b)
	userAt := stackHi - 8*PtRegsWords
	put(userAt, user)
	kern := ptRegs(fnD+0x12, 0x10, 0x046, stackLo+0x3000, 0x18)
	kernAt := stackLo + 0x2000
	put(kernAt, kern)

	// Look-alikes, each one check away from a frame.
	lookAlikes := map[string][]uint64{
		"reserved RFLAGS bit":     ptRegs(fnD, 0x10, 0x246|0x8, stackLo+0x100, 0x18),
		"RFLAGS bit 1 clear":      ptRegs(fnD, 0x10, 0x244, stackLo+0x100, 0x18),
		"kernel CS, user RIP":     ptRegs(0x401000, 0x10, 0x246, stackLo+0x100, 0x18),
		"kernel CS, user RSP":     ptRegs(fnD, 0x10, 0x246, 0x7ffd00001000, 0x18),
		"kernel CS, unmapped RIP": ptRegs(0xffffffffc0100000, 0x10, 0x246, stackLo+0x100, 0),
		"user CS, kernel RIP":     ptRegs(fnD, 0x33, 0x246, 0x7ffd00001000, 0x2b),
		"user CS, kernel RSP":     ptRegs(0x401000, 0x33, 0x246, stackLo+0x100, 0x2b),
		"user CS, kernel SS":      ptRegs(0x401000, 0x33, 0x246, 0x7ffd00001000, 0x18),
		"CS 0x13":                 ptRegs(0x401000, 0x13, 0x246, 0x7ffd00001000, 0x2b),
	}
	at := stackLo + 0x400
	var placed []string
	for name, r := range lookAlikes {
		put(at, r)
		placed = append(placed, fmt.Sprintf("%s at %x", name, at))
		at += 0x100
	}
	c := testX86Check(fakeStack{})
	for name, r := range lookAlikes {
		if c.verify(stackLo+0x400, r) {
			t.Errorf("%s: accepted", name)
		}
	}
	got := c.search(stackLo, words)
	if len(got) != 2 {
		for _, f := range got {
			t.Logf("found %x: %x", f.Addr, f.Regs)
		}
		t.Fatalf("%d frames found, want 2 (look-alikes: %v)", len(got), placed)
	}
	if got[0].Addr != kernAt || got[0].User || fmt.Sprint(got[0].Regs) != fmt.Sprint(kern) {
		t.Errorf("kernel frame: %+v, want at %x", got[0], kernAt)
	}
	if got[1].Addr != userAt || !got[1].User || fmt.Sprint(got[1].Regs) != fmt.Sprint(user) {
		t.Errorf("user frame: %+v, want at %x", got[1], userAt)
	}
}

// TestX86EFrameVerifyKernelCases: crash's other kernel-mode acceptances:
// a module RIP whose RSP is just above the pt_regs, a mapped vmalloc RIP,
// any RIP under a pt_regs that a page_fault entry pushed, and the user
// vsyscall page.
func TestX86EFrameVerifyKernelCases(t *testing.T) {
	at := stackLo + 0x800
	end := at + 8*PtRegsWords
	mem := fakeStack{at - 8: 0xffffffff81234567}
	c := testX86Check(mem)
	c.symbolName = func(a uint64) string {
		if a == 0xffffffff81234567 {
			return "page_fault"
		}
		return ""
	}
	for name, r := range map[string][]uint64{
		"module RIP, RSP at the end": ptRegs(0xffffffffc0200000, 0x10, 0x246, end, 0x18),
		"mapped vmalloc RIP":         ptRegs(efModule+0x10, 0x10, 0x246, stackLo+0x100, 0),
		"page_fault below":           ptRegs(0x1234, 0x10, 0x246, 0x5678, 0x18),
		"vsyscall RIP":               ptRegs(0xffffffffff600400, 0x33, 0x246, 0x7ffd00001000, 0x2b),
		"compat user":                ptRegs(0x8048000, 0x23, 0x246, 0xffffd000, 0x2b),
	} {
		if !c.verify(at, r) {
			t.Errorf("%s: rejected", name)
		}
	}
	// Without the page_fault word the odd registers are rejected.
	if c2 := testX86Check(fakeStack{}); c2.verify(at, ptRegs(0x1234, 0x10, 0x246, 0x5678, 0x18)) {
		t.Error("kernel CS with a user RIP and RSP accepted")
	}
}
