package kernel

import (
	"testing"
)

func TestDataBlock(t *testing.T) {
	const bits, size = 6, 64 // a 64-byte ring
	cases := []struct {
		begin, next uint64
		off, n      uint64
		ok          bool
	}{
		{8, 8 + 16, 16, 8, true},           // same wrap, in order
		{64 + 8, 64 + 8 + 16, 16, 8, true}, // one lap later
		{64 + 56, 128 + 16, 8, 8, true},    // wrapped: data at the start
		{3, 3, 0, 0, false},                // data-less (odd lpos)
		{40, 40, 0, 0, false},              // empty
	}
	for _, c := range cases {
		off, n, ok := dataBlock(size, bits, c.begin, c.next)
		if ok != c.ok || off != c.off || n != c.n {
			t.Errorf("dataBlock(%d, %d) = %d, %d, %v; want %d, %d, %v", c.begin, c.next, off, n, ok, c.off, c.n, c.ok)
		}
	}
}

func TestPanicMessage(t *testing.T) {
	recs := []LogRecord{
		{Text: "sysrq: Trigger a crash"},
		{Text: "Oops: 0002 [#1] SMP"},
		{Text: "Kernel panic - not syncing: sysrq triggered crash"},
	}
	if got := PanicMessage(recs); got != "Kernel panic - not syncing: sysrq triggered crash" {
		t.Errorf("got %q", got)
	}
	if got := PanicMessage(recs[:2]); got != "Oops: 0002 [#1] SMP" {
		t.Errorf("got %q", got)
	}
}

func TestStateName(t *testing.T) {
	for _, c := range []struct {
		state, exit uint64
		want        string
	}{{0, 0, "RU"}, {1, 0, "IN"}, {2, 0, "UN"}, {0x402, 0, "ID"}, {4, 0, "ST"}, {8, 0, "TR"}, {0, 0x20, "ZO"}, {0x80, 0x10, "DE"}, {0x40, 0, "PA"}} {
		tk := Task{State: c.state, ExitState: c.exit}
		if got := tk.StateName(); string(got) != c.want {
			t.Errorf("state %#x exit %#x: %s, want %s", c.state, c.exit, got, c.want)
		}
	}
}
