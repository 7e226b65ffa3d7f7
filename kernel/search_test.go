package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
)

// searchOver runs Search over one segment mapping virtual base.. onto a
// byte slice, with pages missing where hole says.
func searchOver(t *testing.T, mem []byte, base uint64, hole func(page int) bool, q SearchQuery) []SearchHit {
	t.Helper()
	const ps = 4096
	var segs []SearchSegment
	for p := 0; p*ps < len(mem); p++ {
		if hole != nil && hole(p) {
			continue
		}
		segs = appendPiece(segs, SearchPiece{base + uint64(p*ps), uint64(p * ps), ps})
	}
	read := func(b []byte, phys uint64) error {
		if phys+uint64(len(b)) > uint64(len(mem)) {
			return fmt.Errorf("past the end")
		}
		copy(b, mem[phys:])
		return nil
	}
	var hits []SearchHit
	q.PageSize = ps
	err := Search(context.Background(), segs, q, binary.LittleEndian, read, func(h SearchHit) bool {
		hits = append(hits, h)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// A string's context stops at its page's end, as crash reads a page at a
// time, unless the match itself crosses into the next (readable) page; a
// missing page breaks a match across it; results come in address order
// across chunks and workers.
func TestSearchCharsPages(t *testing.T) {
	mem := make([]byte, 3<<20)
	put := func(at int, s string) { copy(mem[at:], s) }
	put(100, "@@MARK one")
	put(4096-3, "@@MARK crosses")                // crosses into page 1
	put(2*4096-20, "@@MARK near the end")        // ends before page 2, context cut
	put(3*4096-4, "@@MARK over a hole")          // page 3 is missing
	put(1<<20-3, "@@MARK over a chunk boundary") // crosses the first 1 MiB chunk
	put(2<<20+5, "@@MARK late")
	hole := func(p int) bool { return p == 3 }
	hits := searchOver(t, mem, 0xffff888000000000, hole, SearchQuery{Mode: SearchChars, Strings: [][]byte{[]byte("@@MARK")}})
	want := []struct {
		off  uint64
		text string
	}{
		{100, "@@MARK one"},
		{4096 - 3, "@@MARK crosses"},
		{2*4096 - 20, "@@MARK near the en"},
		{1<<20 - 3, "@@MARK over a chunk boundary"},
		{2<<20 + 5, "@@MARK late"},
	}
	if len(hits) != len(want) {
		t.Fatalf("%d hits, want %d: %+v", len(hits), len(want), hits)
	}
	for i, w := range want {
		h := hits[i]
		if h.Addr != 0xffff888000000000+w.off {
			t.Errorf("hit %d at %x, want offset %x", i, h.Addr, w.off)
		}
		text := string(h.Context[:min(len(h.Context), len(w.text))])
		if text != w.text {
			t.Errorf("hit %d: context %q, want it to start %q", i, h.Context, w.text)
		}
		if i == 2 && len(h.Context) != 20 {
			t.Errorf("context of a match near its page's end: %d bytes, want 20 (to the page's end)", len(h.Context))
		}
		if i == 1 && len(h.Context) != charsContext {
			t.Errorf("context of a match crossing pages: %d bytes, want %d", len(h.Context), charsContext)
		}
	}
}

// Values are compared at aligned addresses with the mask's bits ignored,
// in units of 8, 4 or 2 bytes.
func TestSearchValues(t *testing.T) {
	mem := make([]byte, 64<<10)
	binary.LittleEndian.PutUint64(mem[8:], 0xffff888012345678)
	binary.LittleEndian.PutUint64(mem[4096:], 0xffff8880123400ff)
	binary.LittleEndian.PutUint64(mem[20:], 0xffff888012345678) // unaligned for 8
	for _, c := range []struct {
		q    SearchQuery
		want []uint64
	}{
		{SearchQuery{Mode: SearchLong, Values: []uint64{0xffff888012345678}}, []uint64{8}},
		{SearchQuery{Mode: SearchLong, Values: []uint64{0xffff888012340000}, Mask: 0xffff}, []uint64{8, 4096}},
		{SearchQuery{Mode: SearchInt, Values: []uint64{0x12345678}}, []uint64{8, 20}},
		{SearchQuery{Mode: SearchShort, Values: []uint64{0xffff}}, []uint64{14, 26, 4102}},
	} {
		hits := searchOver(t, mem, 0, nil, c.q)
		var got []uint64
		for _, h := range hits {
			got = append(got, h.Addr)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%+v: hits at %v, want %v", c.q, got, c.want)
		}
	}
}
