package symbols_test

import (
	"bufio"
	"debug/elf"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols"
)

// vmlinuxes returns each distinct corpus vmlinux.
func vmlinuxes(t testing.TB) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range corpus.Runs(t) {
		if !seen[r.Vmlinux] {
			seen[r.Vmlinux] = true
			out = append(out, r.Vmlinux)
		}
	}
	return out
}

// TestCorpusSymbolsMatchSystemMap checks every symbol of the System.map
// Debian ships with each kernel (nm's listing) against gocrash's symbol
// table: same address and same type letter, for names that occur once.
func TestCorpusSymbolsMatchSystemMap(t *testing.T) {
	for _, path := range vmlinuxes(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			v, err := symbols.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			entries := systemMap(t, filepath.Join(filepath.Dir(path), "System.map"))
			checked, bad := 0, 0
			for name, es := range entries {
				if len(es) != 1 {
					continue
				}
				s, ok := v.Lookup(name)
				if !ok || s.Addr != es[0].addr || s.Type != es[0].typ {
					if bad < 10 {
						t.Errorf("%s: System.map %x %c, gocrash %x %c (found %v)", name, es[0].addr, es[0].typ, s.Addr, s.Type, ok)
					}
					bad++
				}
				checked++
			}
			if checked < 50000 || bad > 0 {
				t.Errorf("%d of %d symbols differ", bad, checked)
			}
			t.Logf("%d symbols equal to System.map's", checked)
			// The names the kernel itself prints inside functions: a
			// compiler-split ".cold" part, the entry code's labels.
			names := []string{"sysrq_handle_crash"}
			switch v.Machine {
			case elf.EM_X86_64:
				names = append(names, "entry_SYSCALL_64_after_hwframe")
			case elf.EM_PPC64:
				names = append(names, "system_call_vectored_common")
			case elf.EM_S390:
				names = append(names, "system_call")
			default:
				names = append(names, "el0_svc")
			}
			for name, es := range entries {
				if strings.HasSuffix(name, ".cold") && len(es) == 1 {
					names = append(names, name)
					break
				}
			}
			for _, name := range names {
				s, ok := v.Lookup(name)
				if !ok {
					t.Errorf("%s missing", name)
					continue
				}
				if n, off, ok := v.Nearest(s.Addr + 1); !ok || n.Name != name || off != 1 {
					t.Errorf("Nearest(%s+1) = %s+%d", name, n.Name, off)
				}
			}
		})
	}
}

func BenchmarkOpenVmlinux(b *testing.B) {
	for _, path := range vmlinuxes(b) {
		b.Run(filepath.Base(filepath.Dir(path)), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				v, err := symbols.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				v.Close()
			}
		})
	}
}

func BenchmarkLayouts(b *testing.B) {
	for _, path := range vmlinuxes(b) {
		b.Run(filepath.Base(filepath.Dir(path)), func(b *testing.B) {
			v, err := symbols.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			for i := 0; i < b.N; i++ {
				l := v.Layouts()
				if _, err := l.Offset("task_struct", "tasks"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// mapEntry is one System.map line's address and type letter.
type mapEntry struct {
	addr uint64
	typ  byte
}

// systemMap reads a System.map: each name's entries.
func systemMap(t *testing.T, path string) map[string][]mapEntry {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries := map[string][]mapEntry{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) != 3 {
			continue
		}
		a, err := strconv.ParseUint(fl[0], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		entries[fl[2]] = append(entries[fl[2]], mapEntry{a, fl[1][0]})
	}
	return entries
}
