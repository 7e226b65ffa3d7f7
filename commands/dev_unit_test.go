package commands

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
	"github.com/gocrash/gocrash/memory"
)

// vmcoreddDesc is a vmcoredd note's descriptor: the device's name in 44
// bytes, then its data.
func vmcoreddDesc(name string, data []byte) []byte {
	d := make([]byte, vmcoreddNameLen)
	copy(d, name)
	return append(d, data...)
}

// TestDevDeviceDumps: dev -V lists a dump's device dumps (vmcoredd notes)
// in crash's layout, each one's OFFSET where its data starts in the file
// (its note's offset plus the 64-byte vmcoredd_header); dev -v index shows
// the data as 64-bit words at those offsets (the last word whole), and
// with a file name copies the data to it; an index past the last and a
// dump without device dumps get crash's errors. Synthetic: no corpus dump
// has a device dump (the guests' drivers register none).
func TestDevDeviceDumps(t *testing.T) {
	m := kerneltest.New()
	s := &Session{Kernel: m.Kernel(t), Registry: NewRegistry()}
	if got := listText(s, "dev -V"); got != "dev: no device dumps found in this dumpfile\n" {
		t.Errorf("dev -V without device dumps: %q", got)
	}
	s.Kernel.Dump.Notes = append(s.Kernel.Dump.Notes,
		memory.Note{Name: "CORE", Type: memory.NTPRStatus, Desc: make([]byte, 336), Offset: 0x200},
		memory.Note{Name: "LINUX", Type: vmcoreddNote, Desc: vmcoreddDesc("virtio_blk", []byte("ABCDEFGHIJKLMNOPQRST")), Offset: 0x1000},
		memory.Note{Name: "LINUX", Type: vmcoreddNote, Desc: vmcoreddDesc("mlx5_core", make([]byte, 4096)), Offset: 0x1100})
	want := "INDEX  OFFSET             SIZE             NAME\n" +
		"  0    0x1040             20               virtio_blk\n" +
		"  1    0x1140             4096             mlx5_core\n"
	if got := listText(s, "dev -V"); got != want {
		t.Errorf("dev -V:\n%s--- want:\n%s", got, want)
	}
	want = "DEVICE: virtio_blk\n" +
		"            1040:  4847464544434241 504f4e4d4c4b4a49   ABCDEFGHIJKLMNOP\n" +
		"            1050:  0000000054535251                    QRST....\n"
	if got := listText(s, "dev -v 0"); got != want {
		t.Errorf("dev -v 0:\n%q\n--- want:\n%q", got, want)
	}
	out := filepath.Join(t.TempDir(), "dd0.bin")
	if got := listText(s, "dev -v 0 "+out); got != "DEVICE: virtio_blk\n20 bytes copied from 0x1040 to "+out+"\n" {
		t.Errorf("dev -v 0 FILE: %q", got)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "ABCDEFGHIJKLMNOPQRST" {
		t.Errorf("dev -v 0 FILE wrote %q (%v)", b, err)
	}
	r, err := s.Registry.Exec(context.Background(), s, []string{"dev", "-v", "1"})
	if dd, ok := r.(*DevDeviceDump); err != nil || !ok || dd.Name != "mlx5_core" || len(dd.Memory.Rows) != 256 || dd.Memory.Rows[255].Address != 0x1140+4080 {
		t.Errorf("dev -v 1: %T %v", r, err)
	}
	if got := listText(s, "dev -v 2"); got != "dev: no device dump found at index: 2\n" {
		t.Errorf("dev -v 2: %q", got)
	}
	if got := listText(s, "dev -v x"); !strings.Contains(got, "invalid device dump index: x") {
		t.Errorf("dev -v x: %q", got)
	}
}
