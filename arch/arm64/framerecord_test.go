package arm64

import (
	"encoding/binary"
	"testing"
)

// TestSavesFrameRecord: the prologue stores of the frame record (with and
// without writeback, any offset) are found; other pairs and stores are not.
func TestSavesFrameRecord(t *testing.T) {
	code := func(insns ...uint32) []byte {
		b := make([]byte, 4*len(insns))
		for i, in := range insns {
			binary.LittleEndian.PutUint32(b[4*i:], in)
		}
		return b
	}
	const (
		paciasp    = 0xd503233f
		stpPre16   = 0xa9bf7bfd // stp x29, x30, [sp, #-16]!
		stpPre48   = 0xa9bd7bfd // stp x29, x30, [sp, #-48]!
		stpOff32   = 0xa9027bfd // stp x29, x30, [sp, #32]
		movFP      = 0x910003fd // mov x29, sp
		stpX19X20  = 0xa9014ff3 // stp x19, x20, [sp, #16]
		stpX1X30X0 = 0xa9007801 // stp x1, x30, [x0]
		mrs        = 0xd53be040
		ret        = 0xd65f03c0
	)
	for _, c := range []struct {
		code []byte
		want bool
	}{
		{code(paciasp, stpPre16, movFP), true},
		{code(stpPre48), true},
		{code(0xd10103ff /* sub sp, sp, #64 */, stpOff32, 0x910083fd /* add x29, sp, #32 */), true},
		{code(paciasp), false},  // stopped before the store
		{code(mrs, ret), false}, // a leaf
		{code(stpX19X20, stpX1X30X0), false},
		{nil, false},
	} {
		if got := (&ARM64{}).SavesFrameRecord(c.code); got != c.want {
			t.Errorf("% x: %v, want %v", c.code, got, c.want)
		}
	}
}
