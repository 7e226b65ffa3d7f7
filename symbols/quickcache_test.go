package symbols

import (
	"slices"
	"strings"
	"testing"
)

// TestUnitsCacheImage: a units cache image gives back the same unit table
// and statics, and one that is corrupt, stale, of another version or out
// of range (under a valid checksum) is refused.
func TestUnitsCacheImage(t *testing.T) {
	v := buildTestProgram(t, "-gdwarf-5")
	d, err := v.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.units) == 0 {
		t.Fatal("no units")
	}
	statics := []staticObj{{1, 0x1000, 0}, {1, 0x2000, len(d.units) - 1}, {2, 0x10, 0}}
	for _, st := range [][]staticObj{nil, {}, statics} {
		img := v.unitsImage(d.units, st, d)
		units, got, err := v.unitsFromImage(img, d)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(units, d.units) {
			t.Fatalf("units %+v from the image, %+v read", units, d.units)
		}
		if (got == nil) != (st == nil) || got != nil && !slices.Equal(*got, st) {
			t.Fatalf("statics %v from the image, want %v", got, st)
		}
	}
	img := v.unitsImage(d.units, statics, d)
	refused := func(what string, b []byte, msg string) {
		t.Helper()
		if _, _, err := v.unitsFromImage(b, d); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want an error saying %q", what, err, msg)
		}
	}
	flip := func(at int, x byte) []byte {
		b := slices.Clone(img)
		b[at] ^= x
		return b
	}
	resealed := func(b []byte) []byte {
		le.PutUint32(b[8:], crc32c(b[16:]))
		return b
	}
	refused("a flipped byte", flip(len(img)-3, 0x40), "checksum")
	refused("a changed mtime", flip(24, 1), "another copy")
	refused("another .debug_info", flip(32, 8), "another copy")
	refused("a cut file", img[:len(img)-1], "checksum")
	refused("another version", append([]byte("GOCRUNT\x00"), img[8:]...), "version")
	refused("a cut file, resealed", resealed(slices.Clone(img[:len(img)-8])), "the header says")
	b := slices.Clone(img)
	le.PutUint64(b[unitsHdrSize+16:], uint64(len(d.sec.info))+1) // the first unit's end
	refused("a unit past the section", resealed(b), "out of range")
	b = slices.Clone(img)
	le.PutUint64(b[unitsHdrSize+24:], uint64(len(d.sec.abbrev))) // its abbreviations
	refused("abbreviations past the section", resealed(b), "out of range")
	st := unitsHdrSize + len(d.units)*unitRecSize
	b = slices.Clone(img)
	le.PutUint32(b[st+4:], uint32(len(d.units))) // the first static's unit
	refused("a static's unit out of range", resealed(b), "out of range")
	b = slices.Clone(img)
	le.PutUint64(b[st+8:], 0x3000) // the first static after the second
	refused("statics out of order", resealed(b), "out of order")
}

// TestQuickCacheImage: the quick answers' file keeps values and "not
// found" answers, and a layout cache (another magic) or another copy's
// file is not taken for one.
func TestQuickCacheImage(t *testing.T) {
	m := &layoutMemo{magic: quickCacheMagic, size: 10, mtime: 20, btfLen: 30,
		answers: map[string]layoutAnswer{"O jiffies": {value: 0x6000000123}, "F 1 99 task_struct": {missing: notFound}}}
	img := m.encode()
	got, err := m.decode(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["O jiffies"] != m.answers["O jiffies"] || got["F 1 99 task_struct"] != m.answers["F 1 99 task_struct"] {
		t.Fatalf("answers %v, want %v", got, m.answers)
	}
	lay := &layoutMemo{size: 10, mtime: 20, btfLen: 30, answers: m.answers}
	if _, err := m.decode(lay.encode()); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a layout cache read as quick answers: %v", err)
	}
	other := &layoutMemo{magic: quickCacheMagic, size: 11, mtime: 20, btfLen: 30, answers: m.answers}
	if _, err := m.decode(other.encode()); err == nil || !strings.Contains(err.Error(), "another copy") {
		t.Errorf("another copy's answers: %v", err)
	}
	bad := slices.Clone(img)
	bad[len(bad)-2] ^= 1
	if _, err := m.decode(bad); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a flipped byte: %v", err)
	}
}
