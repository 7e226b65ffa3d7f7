package commands

import (
	"bytes"
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	for in, want := range map[uint64]string{
		1 << 30:             "1 GB",
		(1 << 30) - 32<<20:  "1 GB", // within 64 MiB of a GiB: rounded up
		(1 << 30) - 128<<20: "896 MB",
		1536 << 20:          "1.5 GB",
		(511 << 20) + 1<<19: "511.5 MB",
		0:                   "0",
	} {
		if got := FormatMemory(in); got != want {
			t.Errorf("FormatMemory(%d) = %q, want %q", in, got, want)
		}
	}
	if got := FormatUptime(3*time.Hour + 4*time.Minute + 5*time.Second); got != "03:04:05" {
		t.Errorf("uptime %q", got)
	}
	if got := FormatUptime(50 * time.Hour); got != "2 days, 02:00:00" {
		t.Errorf("uptime %q", got)
	}
	// avenrun is fixed point with 11 bits: 1.5 = 3072; crash rounds by 1/200.
	if got := loadavg(3072); got != "1.50" {
		t.Errorf("loadavg %q", got)
	}
	if got := loadavg(0); got != "0.00" {
		t.Errorf("loadavg %q", got)
	}
	var b bytes.Buffer
	KeyValues{{"KERNEL", "x"}, {"LOAD AVERAGE", "y"}}.Text(&b)
	if b.String() != "      KERNEL: x\nLOAD AVERAGE: y\n" {
		t.Errorf("render %q", b.String())
	}
}
