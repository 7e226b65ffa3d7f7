package kernel

import (
	"encoding/binary"
	"testing"
)

func TestDataBlock(t *testing.T) {
	const bits = 6 // a 64-byte ring
	ring := make([]byte, 64)
	put := func(at int, id uint64, text string) {
		binary.LittleEndian.PutUint64(ring[at:], id)
		copy(ring[at+8:], text)
	}
	put(8, 1, "hello")
	put(0, 2, "wrap") // a block that did not fit at the end went to the start
	cases := []struct {
		begin, next uint64
		want        string
		ok          bool
	}{
		{8, 8 + 16, "hello", true},           // same wrap, in order
		{64 + 8, 64 + 8 + 16, "hello", true}, // one lap later
		{64 + 56, 128 + 16, "wrap", true},    // wrapped: data at the start
		{3, 3, "", false},                    // data-less (odd lpos)
		{40, 40, "", false},                  // empty
	}
	for _, c := range cases {
		got, ok := dataBlock(ring, bits, c.begin, c.next)
		if ok != c.ok || (ok && string(got[:len(c.want)]) != c.want) {
			t.Errorf("dataBlock(%d, %d) = %q, %v; want %q, %v", c.begin, c.next, got, ok, c.want, c.ok)
		}
	}
}

func TestFormatRecord(t *testing.T) {
	r := LogRecord{TsNsec: 12_345_678_901, Text: "first line\nsecond line"}
	want := "[   12.345678] first line\n               second line"
	if got := FormatRecord(r, true); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := FormatRecord(r, false); got != "first line\nsecond line" {
		t.Errorf("no stamps: %q", got)
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
		if got := tk.StateName(); got != c.want {
			t.Errorf("state %#x exit %#x: %s, want %s", c.state, c.exit, got, c.want)
		}
	}
}
