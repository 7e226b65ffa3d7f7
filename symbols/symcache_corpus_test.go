package symbols_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/symbols"
)

// TestCorpusSymbolCache: on each corpus vmlinux the first open decodes
// .symtab and writes the symbol cache, the second maps it and has the same
// symbols; a corrupt or stale cache file is detected, never trusted, and
// rewritten.
func TestCorpusSymbolCache(t *testing.T) {
	for _, path := range vmlinuxes(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			dir := t.TempDir()
			open := func(want string) *symbols.Vmlinux {
				t.Helper()
				v, err := symbols.OpenCached(path, dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { v.Close() })
				if !strings.HasPrefix(v.SymbolsSource(), want) {
					t.Fatalf("symbols from %q, want %s", v.SymbolsSource(), want)
				}
				return v
			}
			v1 := open("symtab")
			v2 := open("cache ")
			a, b := v1.Symbols(), v2.Symbols()
			if len(a) != len(b) || len(a) < 20000 {
				t.Fatalf("%d symbols decoded, %d from the cache", len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("symbol %d: %+v decoded, %+v from the cache", i, a[i], b[i])
				}
				if i%97 != 0 {
					continue
				}
				s1, ok1 := v1.Lookup(a[i].Name)
				s2, ok2 := v2.Lookup(a[i].Name)
				if s1 != s2 || ok1 != ok2 {
					t.Fatalf("Lookup(%q): %+v decoded, %+v from the cache", a[i].Name, s1, s2)
				}
				n1, o1, _ := v1.Nearest(a[i].Addr + 1)
				n2, o2, _ := v2.Nearest(a[i].Addr + 1)
				if n1 != n2 || o1 != o2 {
					t.Fatalf("Nearest(%#x): %+v decoded, %+v from the cache", a[i].Addr+1, n1, n2)
				}
			}
			files, _ := filepath.Glob(filepath.Join(dir, "syms-*.idx"))
			if len(files) != 1 {
				t.Fatalf("cache files: %v", files)
			}
			img, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			// A flipped byte in the names, then a header for another copy
			// of the vmlinux (a stale file): each is refused and rewritten.
			for _, spoil := range []func(b []byte){
				func(b []byte) { b[len(b)-3] ^= 0x20 },
				func(b []byte) { b[24]++ }, // the vmlinux's mtime
			} {
				b := append([]byte(nil), img...)
				spoil(b)
				if err := os.WriteFile(files[0], b, 0o644); err != nil {
					t.Fatal(err)
				}
				v := open("symtab")
				if got := v.Symbols(); len(got) != len(a) || got[len(got)-1] != a[len(a)-1] {
					t.Fatal("symbols differ after a spoilt cache")
				}
				open("cache ")
			}
		})
	}
}
