package kernel

import (
	"fmt"
)

// MaplePosEntry is one non-empty slot of a maple tree with where it lies:
// Path is "root" then the slot index of each internal node on the way
// down ("root/2/0"), Slot the slot in the leaf, for tree -p; Ordinal
// counts the entries from 1 in order.
type MaplePosEntry struct {
	MapleEntry
	Path    string
	Slot    int
	Ordinal int
}

// MapleTree walks maple trees (struct maple_tree, 6.1+) in kernel memory.
type MapleTree struct {
	m    *mapleReader
	root int64 // maple_tree.ma_root
}

// NewMapleTree reads the maple tree layouts.
func NewMapleTree(r Reader, lay Layout) (*MapleTree, error) {
	root, err := lay.Offset("maple_tree", "ma_root")
	if err != nil {
		return nil, fmt.Errorf("maple trees do not exist in this kernel")
	}
	ml, err := mapleLayoutOf(lay)
	if err != nil {
		return nil, fmt.Errorf("maple tree layout: %w", err)
	}
	return &MapleTree{m: &mapleReader{read: r.ReadVirt, order: r.ByteOrder(), lay: ml}, root: root}, nil
}

// RootEntry reads ma_root of the maple_tree at addr.
func (t *MapleTree) RootEntry(addr uint64) (uint64, error) {
	var b [8]byte
	if err := t.m.read(b[:], addr+uint64(t.root)); err != nil {
		return 0, err
	}
	return t.m.order.Uint64(b[:]), nil
}

// Walk calls fn with each non-empty slot under enc (ma_root, or with node
// set an encoded node pointer, whose path is then "direct"), in order.
func (t *MapleTree) Walk(enc uint64, node bool, fn func(MaplePosEntry) error) error {
	ord := 0
	if !node && !mapleIsNode(enc) {
		if enc == 0 {
			return nil
		}
		ord++
		return fn(MaplePosEntry{MapleEntry: MapleEntry{0, 0, enc}, Path: "", Ordinal: ord})
	}
	path := "root"
	if node {
		path = "direct"
	}
	return t.m.walkNodes(enc, path, func(e MapleEntry, path string, slot int) error {
		ord++
		return fn(MaplePosEntry{MapleEntry: e, Path: path, Slot: slot, Ordinal: ord})
	})
}

// mapleLayoutOf reads the maple node layouts from the kernel's types.
func mapleLayoutOf(k Layout) (MapleLayout, error) {
	var l MapleLayout
	for _, f := range []struct {
		typ, member string
		dst         *int64
	}{
		{"maple_range_64", "pivot", &l.RangePivots}, {"maple_range_64", "slot", &l.RangeSlots}, {"maple_range_64", "meta", &l.RangeMeta},
		{"maple_arange_64", "pivot", &l.ArangePivots}, {"maple_arange_64", "slot", &l.ArangeSlots}, {"maple_arange_64", "meta", &l.ArangeMeta},
		{"maple_metadata", "end", &l.MetaEnd},
	} {
		off, err := k.Offset(f.typ, f.member)
		if err != nil {
			return l, err
		}
		*f.dst = off
	}
	// The slots follow the pivots, and there is one slot more.
	l.NRangeSlots = int(l.RangeSlots-l.RangePivots)/8 + 1
	l.NArangeSlots = int(l.ArangeSlots-l.ArangePivots)/8 + 1
	return l, nil
}
