package memory

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestELFBulkReads: a mapped ELF core reads large ranges with pread (so
// that a search of all memory does not leave the whole mapping resident)
// and small ones through the mapping; both give the segments' bytes,
// across a segment's end and into its zero-filled tail.
func TestELFBulkReads(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	a, b := make([]byte, 3<<20), make([]byte, 1<<20)
	rng.Read(a)
	rng.Read(b)
	img := buildELFCore(noteBytes("CORE", 1, prstatusDesc(1, make([]uint64, 27))), []elfLoad{
		{paddr: 0, data: a},
		{paddr: 4 << 20, data: b, memsz: 2 << 20},
	})
	d, err := Open(writeFile(t, "core", img))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, ok := d.b.(*elfCore)
	if !ok || c.bulk == nil {
		t.Fatalf("backend %T: not a mapped ELF core read with pread for large reads", d.b)
	}
	want := func(addr uint64, n int) []byte {
		out := make([]byte, n)
		for i := range out {
			p := addr + uint64(i)
			switch {
			case p < uint64(len(a)):
				out[i] = a[p]
			case p >= 4<<20 && p < 4<<20+uint64(len(b)):
				out[i] = b[p-4<<20]
			}
		}
		return out
	}
	for _, r := range []struct {
		addr uint64
		n    int
	}{{0, 16}, {12345, bulkRead - 1}, {0, bulkRead}, {100, 2 << 20}, {4 << 20, 2 << 20}, {4<<20 + 1000, 1<<20 + 5000}} {
		got := make([]byte, r.n)
		for i := range got {
			got[i] = 0xaa // the zero tail must be written
		}
		if err := d.ReadPhys(got, r.addr); err != nil {
			t.Fatalf("%#x+%#x: %v", r.addr, r.n, err)
		}
		if !bytes.Equal(got, want(r.addr, r.n)) {
			t.Errorf("%#x+%#x: bytes differ", r.addr, r.n)
		}
	}
	if err := d.ReadPhys(make([]byte, 2<<20), 2<<20); err == nil {
		t.Error("a read into the hole between the segments succeeded")
	}
}
