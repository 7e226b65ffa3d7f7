package kernel

import "testing"

// TestSlabCounters: the counters word's bit-fields on either byte order.
func TestSlabCounters(t *testing.T) {
	// inuse 33, objects 42, frozen 1.
	le := uint32(33) | 42<<16 | 1<<31
	be := uint32(33)<<16 | 42<<1 | 1
	if i, o := slabCounters(le, false); i != 33 || o != 42 {
		t.Errorf("little-endian: %d %d", i, o)
	}
	if i, o := slabCounters(be, true); i != 33 || o != 42 {
		t.Errorf("big-endian: %d %d", i, o)
	}
}
