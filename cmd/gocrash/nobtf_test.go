package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusWithoutBTF: a vmlinux without a .BTF section (a kernel built
// without CONFIG_DEBUG_INFO_BTF) gives the same answers, its layouts then
// coming from the DWARF. The corpus vmlinux is copied with its .BTF
// section header renamed, so the file is otherwise the same.
func TestCorpusWithoutBTF(t *testing.T) {
	var picked []*corpus.Run
	seen := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		if ef, err := elf.Open(r.Vmlinux); err == nil {
			hasBTF := ef.Section(".BTF") != nil
			ef.Close()
			if !hasBTF {
				// Debian builds its ppc64el and s390x kernels without BTF:
				// every test of them already runs on DWARF layouts alone.
				continue
			}
		}
		if !seen[r.Vmlinux] { // each kernel once
			seen[r.Vmlinux] = true
			picked = append(picked, r)
		}
	}
	if len(picked) == 0 {
		t.Fatal("no run in the corpus")
	}
	// The copies must not replace the originals' cached DWARF index.
	cache := t.TempDir()
	for _, r := range picked {
		t.Run(r.Name, func(t *testing.T) {
			nobtf := filepath.Join(t.TempDir(), "vmlinux")
			copyWithoutBTF(t, r.Vmlinux, nobtf)
			dump := r.Files[0].Paths()
			cmds := "sys\nps\nps -t\nforeach bt\nlog\nset\ntask -R pid,comm\n"
			code1, want, errs1 := runGocrash(t, cmds, append([]string{"-s", r.Vmlinux}, dump...)...)
			t.Setenv("XDG_CACHE_HOME", cache)
			code2, got, errs2 := runGocrash(t, cmds, append([]string{"-s", nobtf}, dump...)...)
			if code1 != 0 || code2 != 0 {
				t.Fatalf("exit status %d with BTF (%s), %d without (%s)", code1, errs1, code2, errs2)
			}
			got = strings.ReplaceAll(got, nobtf, r.Vmlinux)
			if got != want {
				t.Errorf("without BTF the output differs: %s", firstDiff(want, got))
			}
			if len(strings.Split(want, "\n")) < 200 {
				t.Errorf("too little output to compare: %d lines", len(strings.Split(want, "\n")))
			}
		})
	}
}

// copyWithoutBTF copies an ELF file, renaming its .BTF section to .XTF.
func copyWithoutBTF(t *testing.T, src, dst string) {
	t.Helper()
	ef, err := elf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	s := ef.Section(".BTF")
	shstr := ef.Section(".shstrtab")
	ef.Close()
	if s == nil || shstr == nil {
		t.Fatalf("%s has no .BTF section to hide", src)
	}
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	corpus.CopyPrefix(t, src, dst, fi.Size())
	out, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The section's name is at shstrtab + sh_name: find it by reading.
	buf := make([]byte, shstr.Size)
	if _, err := out.ReadAt(buf, int64(shstr.Offset)); err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(buf, []byte("\x00.BTF\x00"))
	if i < 0 {
		t.Fatal("no .BTF name in the section name table")
	}
	if _, err := out.WriteAt([]byte("X"), int64(shstr.Offset)+int64(i)+2); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	ef2, err := elf.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer ef2.Close()
	if ef2.Section(".BTF") != nil || ef2.Section(".XTF") == nil {
		t.Fatal("the copy still has a .BTF section")
	}
}

// firstDiff describes the first line where two texts differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, a, b)
		}
	}
	return "(same lines)"
}
