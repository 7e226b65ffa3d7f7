package symbols

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestSymbolCacheInPlace: a symbol cache file mapped at its address gives
// the same tables used in place (no copy), and in-place symbols out of
// range or out of order under a valid checksum are refused, never used.
func TestSymbolCacheInPlace(t *testing.T) {
	if !inPlaceLayout() {
		t.Skip("this build does not lay symbols out in place (not a 64-bit little-endian machine)")
	}
	v := buildTestProgram(t, "-gdwarf-5")
	// The address is chosen by build-id; another test of this process may
	// hold the test program's (or a corpus vmlinux's) symbols in place
	// there, so this test takes a build-id whose address is free.
	free := false
	for i := 0; i < 1024 && !free; i++ {
		v.BuildID = fmt.Sprintf("in-place-test-%d", i)
		free = addressFree(v.symCacheBase())
	}
	if !free {
		t.Skip("no slot of the in-place symbol cache can be mapped here (an address space under 64 TiB, or all 128 slots taken)")
	}
	symtab := v.File.Section(".symtab").Size
	want := slices.Clone(v.syms)
	img := v.symCacheImage(symtab)
	base, region := v.symCacheBase(), le.Uint32(img[52:])
	if region == 0 || le.Uint64(img[56:]) != base {
		t.Fatalf("in-place symbols at %#x, for %#x (want %#x)", region, le.Uint64(img[56:]), base)
	}
	path := filepath.Join(t.TempDir(), "syms.idx")
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(img)
	if err := v.readSymCache(path, symtab); err != nil {
		t.Fatal(err)
	}
	if p := uint64(uintptr(unsafe.Pointer(&v.syms[0]))); p != base+uint64(region) {
		t.Fatalf("symbols at %#x, not in place at %#x", p, base+uint64(region))
	}
	if !slices.Equal(v.syms, want) {
		t.Fatal("the in-place symbols differ from .symtab's")
	}
	for _, s := range want {
		if got, ok := v.Lookup(s.Name); !ok || got.Name != s.Name {
			t.Fatalf("Lookup(%q) = %+v, %v", s.Name, got, ok)
		}
	}
	// Back to tables in the heap, and the address free again.
	if err := v.symsFromImage(slices.Clone(img), symtab); err != nil {
		t.Fatal(err)
	}
	if err := unix.MunmapPtr(*(*unsafe.Pointer)(unsafe.Pointer(&base)), uintptr(len(img))); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, spoil func(rec []byte), msg string) {
		t.Helper()
		b := slices.Clone(img)
		spoil(b[region:])
		le.PutUint32(b[8:], crc32c(b[16:]))
		write(b)
		if err := v.readSymCache(path, symtab); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want an error saying %q", what, err, msg)
		}
	}
	refused("a name pointer past the names", func(r []byte) { le.PutUint64(r, base+uint64(len(img))) }, "out of range")
	refused("a name pointer before the names", func(r []byte) { le.PutUint64(r, base) }, "out of range")
	refused("a name too long", func(r []byte) { le.PutUint64(r[8:], uint64(len(img))) }, "out of range")
	refused("symbols out of order", func(r []byte) { le.PutUint64(r[16:], ^uint64(0)) }, "out of address order")
	refused("a bad duplicate mark", func(r []byte) { r[33] = 7 }, "duplicate mark")
	if !slices.Equal(v.syms, want) {
		t.Fatal("a refused file changed the symbol table")
	}
}

// addressFree reports whether nothing is mapped at base (one page probed
// with MAP_FIXED_NOREPLACE, then unmapped).
func addressFree(base uint64) bool {
	at, size := *(*unsafe.Pointer)(unsafe.Pointer(&base)), uintptr(os.Getpagesize())
	p, err := unix.MmapPtr(-1, 0, at, size, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE)
	if err != nil {
		return false
	}
	unix.MunmapPtr(p, size)
	return p == at
}
