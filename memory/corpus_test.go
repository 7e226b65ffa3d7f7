package memory_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/memory"
)

func open(t *testing.T, paths ...string) *memory.Dump {
	t.Helper()
	d, err := memory.OpenFiles(paths...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestCorpusOpen opens every corpus dump and checks what its headers say
// against the guest: the kernel release and the CPU notes.
func TestCorpusOpen(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		d := open(t, f.Paths()...)
		if want := map[string]memory.Format{"elf": memory.FormatELF, "kdump": memory.FormatKdump, "flattened": memory.FormatFlattened}[f.Format]; d.Format != want {
			t.Errorf("format %v, manifest says %s", d.Format, f.Format)
		}
		if d.VMCoreInfo == nil {
			t.Fatal("no VMCOREINFO")
		}
		if got := d.VMCoreInfo.OSRelease(); got != truth.Uname.Release {
			t.Errorf("OSRELEASE %q, guest said %q", got, truth.Uname.Release)
		}
		nregs := map[string]int{"x86_64": 27, "arm64": 34}[r.Arch]
		st, err := d.PRStatus(nregs)
		if err != nil {
			t.Fatal(err)
		}
		// kdump's capture records a note per CPU; QEMU one per vCPU.
		if len(st) != truth.NProc {
			t.Errorf("%d NT_PRSTATUS notes, guest had %d CPUs", len(st), truth.NProc)
		}
		if f.Format != "elf" && d.Filtered != f.Filtered {
			t.Errorf("filtered %v, manifest says %v", d.Filtered, f.Filtered)
		}
	})
}

// TestCorpusPagesAgree checks every page a filtered or converted dump keeps
// against the unfiltered ELF dump of the same run: byte for byte equal.
func TestCorpusPagesAgree(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		var ref *memory.Dump
		for _, f := range r.Files {
			if f.Format == "elf" && !f.Filtered {
				ref = open(t, f.Path)
				break
			}
		}
		if ref == nil {
			t.Fatal("run has no unfiltered ELF dump")
		}
		for _, f := range r.Files {
			if f.Path == ref.Path {
				continue
			}
			t.Run(f.Name, func(t *testing.T) {
				d := open(t, f.Paths()...)
				const ps = 4096
				a, b := make([]byte, ps), make([]byte, ps)
				var kept, excluded, checked, zeroed int
				for _, rg := range d.Ranges() {
					for p := rg.Start; p < rg.End; p += ps {
						n := min(ps, rg.End-p) // ELF ranges need not end on a page
						a, b := a[:n], b[:n]
						err := d.ReadPhys(a, p)
						if memory.IsExcluded(err) {
							excluded++
							continue
						}
						if err != nil {
							t.Fatalf("%#x: %v", p, err)
						}
						kept++
						if err := ref.ReadPhys(b, p); err != nil {
							var nid *memory.NotInDumpError
							if errors.As(err, &nid) {
								continue // e.g. a page the capture kernel's own range hid
							}
							t.Fatalf("reference %#x: %v", p, err)
						}
						checked++
						if !bytes.Equal(a, b) && f.Filtered && f.Format == "elf" && allZero(a) {
							// makedumpfile -E writes excluded pages that fall
							// inside a kept segment as zeros: ELF cannot say
							// "excluded".
							zeroed++
							continue
						}
						if !bytes.Equal(a, b) {
							t.Fatalf("page %#x differs from the unfiltered ELF", p)
						}
					}
				}
				if checked == 0 || (strings.Contains(f.How, "-d 31") && f.Format != "elf" && excluded == 0) {
					t.Errorf("kept %d, checked %d, excluded %d pages", kept, checked, excluded)
				}
				t.Logf("%d pages kept and equal, %d excluded, %d excluded as zeros", checked-zeroed, excluded, zeroed)
			})
		}
	})
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
