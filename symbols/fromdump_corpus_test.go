package symbols_test

import (
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/internal/corpustest"
	"github.com/gocrash/gocrash/symbols"
)

// TestCorpusFromDump: the kernel image made from a dump's memory, with no
// vmlinux (issue 18), on every corpus dump whose kernel has BTF (Debian's
// x86_64 and arm64; its ppc64el and s390x kernels have none). Its symbols
// against the System.map of the kernel: every name that occurs once there
// and kallsyms has is at the same address with the same type letter (or,
// for x86_64's per-CPU variables, kallsyms' 'A'), and
// kallsyms has nearly all of them (a kernel whose kallsyms holds only text,
// arm64's, has all its functions, and the data symbols it exports: their
// letter is not known, their address is checked). Its types against
// pahole's reading of the vmlinux's DWARF, once a kernel: the layouts of
// the type tests' structs.
// imageFound are the data symbols found in the kernel image when
// kallsyms has only text (by structure, or through the code of the
// functions that read them).
var imageFound = []string{"init_task", "jiffies_64", "__per_cpu_offset", "linux_banner", "modules", "btf_modules",
	"tk_core", "chrdevs", "major_names", "cdev_map", "hstates", "hugetlb_max_hstate", "panic_cpu"}

func TestCorpusFromDump(t *testing.T) {
	paholed := map[string]bool{}
	for _, r := range append(corpus.Runs(t), corpus.CrashRuns(t)...) {
		if r.Arch != "x86_64" && r.Arch != "arm64" {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			_, v, err := corpustest.FromDump(t, r.Files[0])
			if err != nil {
				t.Fatal(err)
			}
			if want, err := corpusBuildID(r.Vmlinux); err != nil || v.BuildID != want {
				t.Errorf("build-id %s, the vmlinux's %s (%v)", v.BuildID, want, err)
			}
			textOnly := true
			for _, s := range v.Symbols() {
				if s.Type == 'd' || s.Type == 'b' || s.Type == 'r' {
					textOnly = false
					break
				}
			}
			perCPUEnd, _ := v.Addr("__per_cpu_end")
			entries := systemMap(t, r.Vmlinux[:len(r.Vmlinux)-len("vmlinux")]+"System.map")
			once, text, found, foundText, bad := 0, 0, 0, 0, 0
			for name, es := range entries {
				if len(es) != 1 {
					continue
				}
				once++
				isText := es[0].typ == 't' || es[0].typ == 'T' || es[0].typ == 'W'
				if isText {
					text++
				}
				s, ok := v.Lookup(name)
				if !ok {
					continue
				}
				found++
				if isText {
					foundText++
				}
				// kallsyms makes x86_64's per-CPU symbols absolute, and
				// /proc/kallsyms says 'A' for them.
				perCPU := s.Type == 'A' && s.Addr <= perCPUEnd && (es[0].typ|0x20 == 'd' || es[0].typ|0x20 == 'b')
				// Of a kallsyms of text alone, only its own have a letter.
				fromKallsyms := !textOnly || s.Type == 't' || s.Type == 'T' || s.Type == 'W'
				if s.Addr != es[0].addr || (s.Type != es[0].typ && !perCPU && fromKallsyms) {
					if bad < 10 {
						t.Errorf("%s: System.map %x %c, from the dump %x %c", name, es[0].addr, es[0].typ, s.Addr, s.Type)
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d symbols differ from System.map's", bad, found)
			}
			// A kallsyms of text alone: the data the kernel model reads,
			// found in the image (at System.map's address, checked above).
			for _, name := range imageFound {
				if _, ok := v.Lookup(name); textOnly && !ok {
					t.Errorf("%s: not found in the image", name)
				}
			}
			switch {
			case textOnly && float64(foundText) < 0.99*float64(text):
				t.Errorf("kallsyms of text alone: %d of System.map's %d functions", foundText, text)
			case !textOnly && float64(found) < 0.99*float64(once):
				t.Errorf("%d of System.map's %d symbols", found, once)
			}
			t.Logf("%d of System.map's %d symbols (%d of %d functions) at its address with its letter; kallsyms of text alone: %v", found, once, foundText, text, textOnly)
			if paholed[r.Vmlinux] {
				return
			}
			paholed[r.Vmlinux] = true
			ts, err := v.Types()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d members of %d structs equal pahole's", checkPahole(t, ts, r.Vmlinux, paholeStructs), len(paholeStructs))
		})
	}
}

func corpusBuildID(path string) (string, error) {
	v, err := symbols.Open(path)
	if err != nil {
		return "", err
	}
	defer v.Close()
	return v.BuildID, nil
}
