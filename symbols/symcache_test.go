package symbols

import (
	"strings"
	"testing"
)

// TestSymbolCacheImage: a symbol cache image gives back the same tables,
// and one that is corrupt, stale or out of range is refused.
func TestSymbolCacheImage(t *testing.T) {
	v := buildTestProgram(t, "-gdwarf-5")
	symtab := v.File.Section(".symtab").Size
	want := append([]Symbol(nil), v.syms...)
	wantDups := append([]uint64(nil), v.dups...)
	img := v.symCacheImage(symtab)
	if err := v.symsFromImage(img, symtab); err != nil {
		t.Fatal(err)
	}
	if len(v.syms) != len(want) || len(want) == 0 {
		t.Fatalf("%d symbols from the image, %d from .symtab", len(v.syms), len(want))
	}
	for i := range want {
		if v.syms[i] != want[i] {
			t.Fatalf("symbol %d: %+v from the image, %+v from .symtab", i, v.syms[i], want[i])
		}
		if v.dupName(i) != (wantDups[i/64]&(1<<(i%64)) != 0) {
			t.Fatalf("symbol %d (%s): duplicate mark differs", i, want[i].Name)
		}
		if s, ok := v.Lookup(want[i].Name); !ok || s.Name != want[i].Name {
			t.Fatalf("Lookup(%q) = %+v, %v", want[i].Name, s, ok)
		}
	}
	refused := func(what string, b []byte, symtab uint64, msg string) {
		t.Helper()
		err := v.symsFromImage(b, symtab)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want an error saying %q", what, err, msg)
		}
	}
	corrupt := append([]byte(nil), img...)
	corrupt[len(corrupt)-1] ^= 0xff
	refused("a flipped byte", corrupt, symtab, "checksum")
	refused("another .symtab", img, symtab+24, "another copy")
	stale := append([]byte(nil), img...)
	le.PutUint64(stale[24:], le.Uint64(stale[24:])+1) // the vmlinux's mtime
	refused("a changed mtime", stale, symtab, "another copy")
	refused("a cut file", img[:len(img)-1], symtab, "checksum")
	refused("another version", append([]byte("GOCRSYM\x00"), img[8:]...), symtab, "version")
	// A name out of range under a valid checksum: refused by the checks
	// of structure, not trusted.
	bad := append([]byte(nil), img...)
	le.PutUint32(bad[symHdrSize+16:], 1<<30)
	le.PutUint32(bad[8:], crc32c(bad[16:]))
	refused("a name out of range", bad, symtab, "out of range")
	bad = append([]byte(nil), img...)
	le.PutUint64(bad[symHdrSize:], ^uint64(0)) // the first symbol's address
	le.PutUint32(bad[8:], crc32c(bad[16:]))
	refused("symbols out of order", bad, symtab, "out of address order")
	// The refused images left the tables as they were.
	if len(v.syms) != len(want) || v.syms[0] != want[0] {
		t.Fatal("a refused image changed the symbol table")
	}
}
