package memory

import (
	"debug/elf"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestWriteFuzzSeeds writes the dump readers' seeds (testdata/fuzz/FuzzX)
// from the corpus: each architecture's ELF notes and VMCOREINFO, and the
// first blocks of a real ELF, kdump-compressed and flattened dump (their
// headers, notes and the start of the bitmaps). Run it only to rewrite
// them (GOCRASH_WRITE_FUZZ_SEEDS=1, with the corpus).
func TestWriteFuzzSeeds(t *testing.T) {
	corpus.WriteFuzzSeeds(t)
	done := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		for _, f := range r.Files {
			key := r.Arch + "-" + f.Format
			if done[key] || f.Parts != nil {
				continue
			}
			name := r.Arch + "-" + strings.SplitN(r.Release, "-", 2)[0] + "." + f.Format
			switch f.Format {
			case "elf":
				ef, err := elf.Open(f.Path)
				if err != nil {
					t.Logf("%s: %v", f.Path, err) // debug/elf refuses QEMU's section header
					continue
				}
				for _, p := range ef.Progs {
					if p.Type != elf.PT_NOTE || p.Filesz > 64<<10 {
						continue
					}
					notes, err := io.ReadAll(p.Open())
					if err != nil {
						t.Fatal(err)
					}
					if ef.ByteOrder == le {
						corpus.WriteFuzzSeed(t, "FuzzParseNotes", name, notes)
					}
					ns, err := ParseNotes(notes, ef.ByteOrder)
					if err != nil {
						t.Fatal(err)
					}
					for _, n := range ns {
						if n.Name == "VMCOREINFO" && (r.Arch == "x86_64" || r.Arch == "s390x") {
							corpus.WriteFuzzSeed(t, "FuzzVMCoreInfo", name, n.Desc)
						}
					}
					if r.Arch == "x86_64" {
						corpus.WriteFuzzSeed(t, "FuzzELF", name, prefix(t, f.Path, int64(p.Off+p.Filesz)))
					}
				}
				ef.Close()
			case "kdump":
				if r.Arch == "x86_64" && f.Filtered {
					corpus.WriteFuzzSeed(t, "FuzzKdump", name, prefix(t, f.Path, 2*4096))
				}
			case "flattened":
				if r.Arch == "arm64" || r.Arch == "s390x" {
					corpus.WriteFuzzSeed(t, "FuzzFlattened", name, prefix(t, f.Path, 2*4096))
				}
			}
			done[key] = true
		}
	}
}

// prefix is the first n bytes of a file.
func prefix(t *testing.T, path string, n int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	return b
}
