package memory_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
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
		if (d.VMCoreInfo != nil) != r.VMCoreInfo {
			t.Fatalf("VMCOREINFO found %v, manifest says %v", d.VMCoreInfo != nil, r.VMCoreInfo)
		}
		if got := d.VMCoreInfo.OSRelease(); r.VMCoreInfo && got != truth.Uname.Release {
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

// TestCorpusTruncated cuts a real ELF dump short: what is present stays
// readable, the rest is reported as truncated, never read as zeros.
func TestCorpusTruncated(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		var src string
		for _, f := range r.Files {
			if f.Format == "elf" {
				src = f.Path
			}
		}
		if src == "" {
			t.Fatal("run has no ELF dump")
		}
		full := open(t, src)
		const cut = 48 << 20
		dst := filepath.Join(t.TempDir(), "cut")
		corpus.CopyPrefix(t, src, dst, cut)
		d := open(t, dst)
		a, b := make([]byte, 4096), make([]byte, 4096)
		var before, after int
		for _, rg := range full.Ranges() {
			for p := rg.Start &^ 4095; p+4096 <= rg.End && before+after < 1<<16; p += 1 << 20 {
				if p < rg.Start {
					continue
				}
				errFull := full.ReadPhys(a, p)
				errCut := d.ReadPhys(b, p)
				var tr *memory.TruncatedError
				switch {
				case errFull != nil:
					continue
				case errCut == nil:
					if !bytes.Equal(a, b) {
						t.Fatalf("page %#x differs in the cut file", p)
					}
					before++
				case errors.As(errCut, &tr):
					after++
				default:
					t.Fatalf("page %#x: %v", p, errCut)
				}
			}
		}
		if before == 0 || after == 0 {
			t.Errorf("%d pages read before the cut, %d reported truncated", before, after)
		}
	})
}

// TestConcurrentReads reads the same dump from several goroutines (run
// with -race): the page cache and decoders are shared.
func TestCorpusConcurrentReads(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		if f.Format == "elf" {
			return
		}
		d := open(t, f.Paths()...)
		var pages []uint64
		for _, rg := range d.Ranges() {
			for p := rg.Start; p < rg.End && len(pages) < 4096; p += 4096 * 7 {
				if d.ReadPhys(make([]byte, 8), p) == nil {
					pages = append(pages, p)
				}
			}
		}
		want := make([][]byte, len(pages))
		for i, p := range pages {
			want[i] = make([]byte, 4096)
			d.ReadPhys(want[i], p)
		}
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			go func(g int) {
				buf := make([]byte, 4096)
				for i := range pages {
					j := (i*7 + g*131) % len(pages)
					if err := d.ReadPhys(buf, pages[j]); err != nil || !bytes.Equal(buf, want[j]) {
						errs <- fmt.Errorf("goroutine %d page %#x: %v", g, pages[j], err)
						return
					}
				}
				errs <- nil
			}(g)
		}
		for g := 0; g < 4; g++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
}
