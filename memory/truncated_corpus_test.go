package memory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusTruncationDetected: every corpus dump file opens whole (no
// Truncated), and a prefix of an ELF, a kdump-compressed and a flattened
// file is detected at open with how much is missing.
func TestCorpusTruncationDetected(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		if len(f.Parts) > 0 {
			return
		}
		d, err := Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Truncated != nil {
			t.Errorf("a whole file is reported truncated: %v", d.Truncated)
		}
		if r.Method != "kdump" || r.Arch != "x86_64" || f.Name == "vmcore.lzo" || f.Name == "vmcore.elf31" {
			return
		}
		fi, err := os.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, frac := range []int64{30, 90} {
			cut := filepath.Join(t.TempDir(), f.Name)
			n := fi.Size() * frac / 100
			if f.Name == "vmcore" {
				n = min(n, 64<<20) // the raw ELF: its notes and some pages
			}
			corpus.CopyPrefix(t, f.Path, cut, n)
			td, err := Open(cut)
			if err != nil {
				t.Fatalf("%d%% of %s does not open: %v", frac, f.Name, err)
			}
			tr := td.Truncated
			td.Close()
			switch {
			case tr == nil:
				t.Errorf("%d bytes of %s: not detected as truncated", n, f.Name)
			case f.Format != "flattened" && (tr.Size != n || tr.Needed != fi.Size() || tr.AtLeast):
				t.Errorf("%d of %d bytes of %s: %+v", n, fi.Size(), f.Name, *tr)
			case f.Format == "flattened" && (!tr.AtLeast || tr.Needed <= tr.Size):
				t.Errorf("%d of %d bytes of %s: %+v", n, fi.Size(), f.Name, *tr)
			default:
				t.Logf("%s cut to %d bytes: %v", f.Name, n, tr)
			}
		}
	})
}
