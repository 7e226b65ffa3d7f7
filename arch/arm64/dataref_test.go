package arm64

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/gocrash/gocrash/arch"
)

func words(ws ...uint32) []byte {
	b := make([]byte, 4*len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// TestDataReferences reads the code of 6.1's ktime_get_real_seconds (an
// ADRP, then a load from the page: tk_core's xtime_sec) and the start of
// ktime_get_with_offset (ADRP+ADD: offs_real..., ADRP+ADD: tk_core),
// from the arm64 corpus dump.
func TestDataReferences(t *testing.T) {
	var a ARM64
	// adrp x0; ...; ldr x0, [x0, #2168]; ret
	got := a.DataReferences(words(0xaa1e03e9, 0xd503201f, 0xd000c700, 0xd503233f, 0xd50323bf, 0xf9443c00, 0xd65f03c0), 0xffffd1135b95fcd0)
	if want := []uint64{0xffffd1135d241000 + 2168}; !slices.Equal(got, want) {
		t.Errorf("ktime_get_real_seconds: %x, want %x", got, want)
	}
	code := words(0xaa1e03e9, 0xd503201f, 0xb000b5e2, 0xd503233f, 0xa9bc7bfd, 0xd00054e1, 0x9128e021, 0x910003fd,
		0xb94ae442, 0xa90153f3, 0xa9025bf5, 0xf9001bf7, 0xf8605837, 0x35000422, 0x9000c713, 0x91200273)
	got = a.DataReferences(code, 0xffffd1135b9610c0)
	want := []uint64{0xffffd1135c3ffa38, 0xffffd1135d01e000 + 2788, 0xffffd1135d241800}
	if !slices.Equal(got, want) {
		t.Errorf("ktime_get_with_offset: %x, want %x", got, want)
	}
	// A register written otherwise is no longer a page.
	if got := a.DataReferences(words(0xd000c700, 0xaa1e03e0, 0xf9443c00), 0xffffd1135b95fcd8); len(got) != 0 {
		t.Errorf("after mov x0, x30: %x", got)
	}
}

// Decoys: a page register the code overwrites otherwise is no longer
// taken as the page.
func TestDataReferencesForgets(t *testing.T) {
	var a ARM64
	const pc = 0xffffd1135b95fcd8
	page := uint64(0xffffd1135d241000) // adrp x0/x1 at pc
	for _, c := range []struct {
		name string
		code []byte
		want []uint64
	}{
		// adrp x1; ldr x0, [x1, #8]: the reference.
		{"kept", words(0xd000c701, 0xf9400420), []uint64{page + 8}},
		// adrp x1; bl; ldr x0, [x1, #8]: x1 is caller-saved.
		{"bl", words(0xd000c701, 0x94000002, 0xf9400420), nil},
		// adrp x1; blr x3; ldr x0, [x1, #8].
		{"blr", words(0xd000c701, 0xd63f0060, 0xf9400420), nil},
		// adrp x19; bl; ldr x0, [x19, #8]: x19 is callee-saved.
		{"bl keeps x19", words(0xd000c713, 0x94000002, 0xf9400660), []uint64{page + 8}},
		// adrp x1; ldp x2, x1, [sp, #16]; ldr x0, [x1, #8]: LDP's second.
		{"ldp", words(0xd000c701, 0xa94107e2, 0xf9400420), nil},
		// adrp x1; ldr x2, [x1, #8]!; ldr x0, [x1, #8]: written back.
		{"pre-index", words(0xd000c701, 0xf8408c22, 0xf9400420), []uint64{page + 8}},
		// adrp x1; ldr x2, [x1], #8; ldr x0, [x1, #8]: written back.
		{"post-index", words(0xd000c701, 0xf8408422, 0xf9400420), []uint64{page}},
	} {
		if got := a.DataReferences(c.code, pc); !slices.Equal(got, c.want) {
			t.Errorf("%s: %x, want %x", c.name, got, c.want)
		}
	}
}

// DataAccesses says how each address is used: formed (ADD), a 32-bit
// load, a load-exclusive (atomic), a 64-bit store.
func TestDataAccesses(t *testing.T) {
	var a ARM64
	const pc = 0xffffd1135b95fcd8
	page := uint64(0xffffd1135d241000)
	// adrp x1; ldr w0, [x1, #8]; add x1, x1, #8; ldaxr w0, [x1]; str x0, [x1]
	got := a.DataAccesses(words(0xd000c701, 0xb9400820, 0x91002021, 0x885ffc20, 0xf9000020), pc)
	want := []arch.DataAccess{
		{Addr: page + 8, Size: 4, Kind: arch.AccessLoad},
		{Addr: page + 8},
		{Addr: page + 8, Size: 4, Kind: arch.AccessAtomic},
		{Addr: page + 8, Size: 8, Kind: arch.AccessStore},
	}
	if !slices.Equal(got, want) {
		t.Errorf("accesses %+v, want %+v", got, want)
	}
}
