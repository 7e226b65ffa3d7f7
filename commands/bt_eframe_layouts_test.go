package commands

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/internal/archtest"
)

// fakeNamer names 0x1000-0x1fff "fn" and 0x2000-0x2fff "modfn" of module
// "mod".
type fakeNamer struct{}

func (fakeNamer) Symbolize(a uint64) (string, uint64, bool) {
	switch {
	case a >= 0x1000 && a < 0x2000:
		return "fn", a - 0x1000, true
	case a >= 0x2000 && a < 0x3000:
		return "modfn", a - 0x2000, true
	}
	return "", 0, false
}

func (fakeNamer) ModuleOf(a uint64) string {
	if a >= 0x2000 && a < 0x3000 {
		return "mod"
	}
	return ""
}

// TestLayoutBlocks: the ppc64 and s390x blocks equal what crash's printf
// calls print (ppc64_print_regs, ppc64_print_nip_lr, print_ptregs,
// s390x_print_lowcore's %#018lx).
func TestLayoutBlocks(t *testing.T) {
	ppc := archtest.New("ppc64le").(arch.BTLayout)
	r := make([]uint64, 44)
	for i := range r {
		r[i] = uint64(i)
	}
	r[32], r[36], r[40] = 0x1010, 0x5000, 0xc00 // NIP in fn, LR nowhere, a system call
	var want []string
	line := ""
	for i := 0; i < 32; i++ {
		if i > 0 && i%3 == 0 {
			want, line = append(want, line), ""
		}
		pad := ""
		if i < 10 {
			pad = " "
		}
		line += fmt.Sprintf(" R%d:%s %016x   ", i, pad, r[i])
	}
	want = append([]string{" System Call [c00] exception frame:"}, append(want, line)...)
	want = append(want,
		fmt.Sprintf(" NIP: %016x    MSR: %016x    OR3: %016x", r[32], r[33], r[34]),
		fmt.Sprintf(" CTR: %016x    LR:  %016x    XER: %016x", r[35], r[36], r[37]),
		fmt.Sprintf(" CCR: %016x    MQ:  %016x    DAR: %016x", r[38], r[39], r[41]),
		fmt.Sprintf(" DSISR: %016x     Syscall Result: %016x", r[42], r[43]),
		" [NIP  : fn+16]")
	got := formatLayoutRows(fakeNamer{}, ppc.TraceEFrameRows(r, false), r, 0)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ppc64 frame:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	head := formatLayoutRows(fakeNamer{}, ppc.SearchEFrameRows(r, true), r, 0xc000000003293e70)
	if head[0] != "  USER-MODE EXCEPTION FRAME AT c000000003293e70:" {
		t.Errorf("ppc64 bt -e header %q", head[0])
	}

	s390 := archtest.New("s390x").(arch.BTLayout)
	sr := make([]uint64, 27)
	sr[0], sr[1] = 0x0704c00180000000, 0x2010
	for i := 0; i < 16; i++ {
		sr[2+i] = uint64(i) << 32
	}
	got = formatLayoutRows(fakeNamer{}, s390.TraceEFrameRows(sr, false), sr, 0)
	want = []string{fmt.Sprintf(" PSW:  %016x %016x (modfn+16 [mod])", sr[0], sr[1])}
	for i := 0; i < 16; i += 4 {
		p := "       "
		if i == 0 {
			p = " GPRS: "
		}
		want = append(want, fmt.Sprintf("%s%016x %016x %016x %016x ", p, sr[2+i], sr[3+i], sr[4+i], sr[5+i]))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("s390x frame:\n%q\nwant\n%q", got, want)
	}
	sr[0] |= 1 << 48
	if got := formatLayoutRows(fakeNamer{}, s390.TraceEFrameRows(sr, true), sr, 0); !strings.HasSuffix(got[0], " (user space)") {
		t.Errorf("s390x user frame %q", got[0])
	}
	for v, want := range map[uint64]string{0: "000000000000000000", 0x10fdee: "0x000000000010fdee"} {
		if got := hexField(v, 16, true); got != want {
			t.Errorf("%%#018lx of %#x: %q, want %q", v, got, want)
		}
	}
}

// TestLayoutPartialRegs: a ppc64 frame whose trap has its low bit set
// saved only r0-r13, and crash prints only those.
func TestLayoutPartialRegs(t *testing.T) {
	ppc := archtest.New("ppc64le").(arch.BTLayout)
	r := make([]uint64, 44)
	r[40] = 0x901
	got := formatLayoutRows(fakeNamer{}, ppc.TraceEFrameRows(r, false), r, 0)
	if len(got) != 1+5+4 || !strings.HasPrefix(got[5], " R12: ") || strings.Contains(strings.Join(got, "\n"), "R14:") {
		t.Errorf("partial frame:\n%s", strings.Join(got, "\n"))
	}
}
