package commands

import (
	"testing"

	"github.com/gocrash/gocrash/kernel"
)

func TestFormatRecord(t *testing.T) {
	r := kernel.LogRecord{TsNsec: 12_345_678_901, Text: "first line\nsecond line", Level: 6, CallerID: 123,
		Dict: []string{"SUBSYSTEM=pci", "DEVICE=+pci:0000:00:01.0"}}
	cases := []struct {
		f    LogFormat
		want string
	}{
		{LogFormat{}, "[   12.345678] first line\n               second line"},
		{LogFormat{NoStamps: true}, "first line\nsecond line"},
		{LogFormat{Level: true}, "[   12.345678] <6>first line\n                  second line"},
		{LogFormat{Caller: true, CallerWidth: 6}, "[   12.345678] [  T123] first line\n                        second line"},
		{LogFormat{NoStamps: true, Dict: true}, "first line\nsecond line\nSUBSYSTEM=pci\nDEVICE=+pci:0000:00:01.0"},
	}
	for _, c := range cases {
		if got := FormatRecord(r, c.f); got != c.want {
			t.Errorf("%+v:\ngot  %q\nwant %q", c.f, got, c.want)
		}
	}
	cpu := kernel.LogRecord{CallerID: 0x80000001, Text: "x"}
	if got := FormatRecord(cpu, LogFormat{NoStamps: true, Caller: true, CallerWidth: 6}); got != "[    C1] x" {
		t.Errorf("CPU caller: %q", got)
	}
	// The character ring's lines: what a line lacks is left out, as crash
	// prints the buffer's text.
	for _, c := range []struct {
		r    kernel.LogRecord
		want string
	}{
		{kernel.LogRecord{NoStamp: true, NoLevel: true, NoCaller: true, Text: "ning: cut line"}, "ning: cut line"},
		{kernel.LogRecord{NoStamp: true, NoCaller: true, Level: 5, Text: "no stamp"}, "<5>no stamp"},
		{kernel.LogRecord{TsNsec: 123456_000_001_000, Level: 6, NoCaller: true, Text: "long uptime"}, "[123456.000001] <6>long uptime"},
	} {
		if got := FormatRecord(c.r, LogFormat{Level: true, Caller: true, CallerWidth: 6}); got != c.want {
			t.Errorf("-m -c: got %q, want %q", got, c.want)
		}
	}
}
