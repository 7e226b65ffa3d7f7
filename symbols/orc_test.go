package symbols

import (
	"encoding/binary"
	"testing"
)

// Layouts as the 6.1 and 6.12 kernels' BTF describe struct orc_entry.
func orcLayoutOld() ORCLayout {
	return ORCLayout{Size: 6, SPOffset: bitfield{0, 16}, BPOffset: bitfield{16, 16}, SPReg: bitfield{32, 4}, BPReg: bitfield{36, 4},
		Type: bitfield{40, 2}, End: bitfield{42, 1}, HasEndBit: true}
}

func orcLayoutNew() ORCLayout {
	return ORCLayout{Size: 6, SPOffset: bitfield{0, 16}, BPOffset: bitfield{16, 16}, SPReg: bitfield{32, 4}, BPReg: bitfield{36, 4},
		Type: bitfield{40, 3}, Signal: bitfield{43, 1}, HasSignal: true}
}

func orcEntryBytes(sp, bp int16, spReg, bpReg, byte5 byte) []byte {
	b := make([]byte, 6)
	binary.LittleEndian.PutUint16(b, uint16(sp))
	binary.LittleEndian.PutUint16(b[2:], uint16(bp))
	b[4] = spReg | bpReg<<4
	b[5] = byte5
	return b
}

func TestORCDecodeLayouts(t *testing.T) {
	for _, c := range []struct {
		name string
		lay  ORCLayout
		b    []byte
		want ORCEntry
	}{
		{"old call", orcLayoutOld(), orcEntryBytes(8, 0, ORCRegSP, ORCRegUndefined, 0), ORCEntry{SPOffset: 8, SPReg: ORCRegSP, Type: ORCCall}},
		{"old regs", orcLayoutOld(), orcEntryBytes(0, 0, ORCRegSP, 0, 1), ORCEntry{SPReg: ORCRegSP, Type: ORCRegs}},
		{"old partial", orcLayoutOld(), orcEntryBytes(0, 0, ORCRegSP, 0, 2), ORCEntry{SPReg: ORCRegSP, Type: ORCRegsPartial}},
		{"old end", orcLayoutOld(), orcEntryBytes(0, 0, ORCRegUndefined, 0, 1<<2), ORCEntry{Type: ORCEndOfStack}},
		{"old undefined", orcLayoutOld(), orcEntryBytes(0, 0, ORCRegUndefined, 0, 0), ORCEntry{Type: ORCUndefined}},
		{"new call bp", orcLayoutNew(), orcEntryBytes(32, -24, ORCRegSP, ORCRegPrevSP, 2), ORCEntry{SPOffset: 32, BPOffset: -24, SPReg: ORCRegSP, BPReg: ORCRegPrevSP, Type: ORCCall, SignalKnown: true}},
		{"new regs signal", orcLayoutNew(), orcEntryBytes(0, 0, ORCRegSP, 0, 3|1<<3), ORCEntry{SPReg: ORCRegSP, Type: ORCRegs, Signal: true, SignalKnown: true}},
		{"new end", orcLayoutNew(), orcEntryBytes(0, 0, 0, 0, 1), ORCEntry{Type: ORCEndOfStack, SignalKnown: true}},
		{"new undefined", orcLayoutNew(), orcEntryBytes(0, 0, 0, 0, 0), ORCEntry{Type: ORCUndefined, SignalKnown: true}},
	} {
		if got := c.lay.Decode(c.b); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestORCFind builds tables whose addresses are relative to each slot, in
// both sorted and unsorted order, and looks addresses up.
func TestORCFind(t *testing.T) {
	const base = 0xffffffff82000000
	addrs := []uint64{0xffffffff81000000, 0xffffffff81000010, 0xffffffff81000040}
	ents := [][]byte{
		orcEntryBytes(8, 0, ORCRegSP, 0, 2),
		orcEntryBytes(16, 0, ORCRegSP, 0, 2),
		orcEntryBytes(0, 0, 0, 0, 1),
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}} {
		ip := make([]byte, 4*len(order))
		var entries []byte
		for slot, i := range order {
			binary.LittleEndian.PutUint32(ip[4*slot:], uint32(int32(int64(addrs[i])-int64(base+uint64(4*slot)))))
			entries = append(entries, ents[i]...)
		}
		o, err := NewORC(ip, base, entries, orcLayoutNew(), binary.LittleEndian)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			addr uint64
			sp   int16
			typ  ORCType
			ok   bool
		}{
			{0xffffffff80ffffff, 0, 0, false},
			{0xffffffff81000000, 8, ORCCall, true},
			{0xffffffff8100000f, 8, ORCCall, true},
			{0xffffffff81000010, 16, ORCCall, true},
			{0xffffffff81000045, 0, ORCEndOfStack, true},
		} {
			e, ok := o.Find(c.addr)
			if ok != c.ok || ok && (e.SPOffset != c.sp || e.Type != c.typ) {
				t.Errorf("order %v: Find(%x) = %+v, %v", order, c.addr, e, ok)
			}
		}
	}
	if _, err := NewORC(make([]byte, 8), base, make([]byte, 6), orcLayoutNew(), binary.LittleEndian); err == nil {
		t.Error("tables of different lengths accepted")
	}
}
