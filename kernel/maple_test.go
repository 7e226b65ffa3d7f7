package kernel

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// The layouts of struct maple_range_64 and maple_arange_64 on 64-bit
// kernels (pahole on 6.1 and 6.12).
var testMapleLayout = MapleLayout{
	RangePivots: 8, RangeSlots: 128, RangeMeta: 248, NRangeSlots: 16,
	ArangePivots: 8, ArangeSlots: 80, ArangeMeta: 240, NArangeSlots: 10,
}

// fakeMaple is a memory of 256-byte maple nodes built by a test.
type fakeMaple struct {
	nodes map[uint64][]byte
	next  uint64
}

func newFakeMaple() *fakeMaple {
	return &fakeMaple{nodes: map[uint64][]byte{}, next: 0xffff888000100000}
}

func (m *fakeMaple) read(p []byte, addr uint64) error {
	base := addr &^ mapleNodeMask
	b, ok := m.nodes[base]
	if !ok || addr-base+uint64(len(p)) > mapleNodeSize {
		return fmt.Errorf("no memory at %x", addr)
	}
	copy(p, b[addr-base:])
	return nil
}

func (m *fakeMaple) reader() *mapleReader {
	return &mapleReader{read: m.read, order: binary.LittleEndian, lay: testMapleLayout}
}

// put writes a node of type typ with its slots and the pivots given (as
// many as slots, or one less when the node is full and its last slot ends
// at the node's maximum), and returns its encoded pointer.
func (m *fakeMaple) put(typ int, pivots, slots []uint64) uint64 {
	addr := m.next
	m.next += mapleNodeSize
	b := make([]byte, mapleNodeSize)
	le := binary.LittleEndian
	le.PutUint64(b, 0xffff888000000001) // a root's parent: the tree, bit 0 set
	pivOff, slotOff, metaOff, nslots := testMapleLayout.RangePivots, testMapleLayout.RangeSlots, testMapleLayout.RangeMeta, testMapleLayout.NRangeSlots
	if typ == mapleArange {
		pivOff, slotOff, metaOff, nslots = testMapleLayout.ArangePivots, testMapleLayout.ArangeSlots, testMapleLayout.ArangeMeta, testMapleLayout.NArangeSlots
	}
	for i, p := range pivots {
		if i < nslots-1 {
			le.PutUint64(b[pivOff+int64(i)*8:], p)
		}
	}
	for i, s := range slots {
		le.PutUint64(b[slotOff+int64(i)*8:], s)
	}
	if typ == mapleArange || len(slots) < nslots {
		b[metaOff] = byte(len(slots) - 1)
	}
	m.nodes[addr] = b
	return addr | uint64(typ)<<3 | 2
}

// build makes a tree of the ranges (which cover 0 to the maximum in order),
// leaves taking the counts in sizes in turn, internal nodes up to 10
// children, and returns its root and its height.
func (m *fakeMaple) build(ranges []MapleEntry, sizes []int) (uint64, int) {
	type child struct{ enc, last uint64 }
	var level []child
	for i, k := 0, 0; i < len(ranges); k++ {
		n := min(sizes[k%len(sizes)], len(ranges)-i)
		chunk := ranges[i : i+n]
		i += n
		var pivots, slots []uint64
		for j, r := range chunk {
			slots = append(slots, r.Value)
			if j < testMapleLayout.NRangeSlots-1 {
				pivots = append(pivots, r.Last)
			}
		}
		level = append(level, child{m.put(mapleLeaf64, pivots, slots), chunk[n-1].Last})
	}
	height := 1
	for len(level) > 1 {
		var up []child
		for i := 0; i < len(level); i += testMapleLayout.NArangeSlots {
			group := level[i:min(i+testMapleLayout.NArangeSlots, len(level))]
			var pivots, slots []uint64
			for j, c := range group {
				slots = append(slots, c.enc)
				if j < testMapleLayout.NArangeSlots-1 {
					pivots = append(pivots, c.last)
				}
			}
			up = append(up, child{m.put(mapleArange, pivots, slots), group[len(group)-1].last})
		}
		level = up
		height++
	}
	return level[0].enc, height
}

// vmaRanges makes n VMA-like ranges with gaps between them (empty ranges,
// value 0), covering 0 to the maximum.
func vmaRanges(rng *rand.Rand, n int) (all, vmas []MapleEntry) {
	at := uint64(0x400000)
	all = append(all, MapleEntry{0, at - 1, 0})
	for i := 0; i < n; i++ {
		size := uint64(1+rng.Intn(64)) << 12
		v := MapleEntry{at, at + size - 1, 0xffff888001000000 + uint64(i)*0xc8}
		all, vmas = append(all, v), append(vmas, v)
		at += size
		if rng.Intn(3) > 0 { // a gap after two VMAs in three
			gap := uint64(1+rng.Intn(16)) << 12
			all = append(all, MapleEntry{at, at + gap - 1, 0})
			at += gap
		}
	}
	return append(all, MapleEntry{at, ^uint64(0), 0}), vmas
}

func TestMapleWalkAndLoad(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, tc := range []struct {
		name  string
		n     int
		sizes []int
		depth int
	}{
		{"one leaf", 5, []int{16}, 1},
		{"full leaves", 40, []int{16}, 2},
		{"leaves of 15 and partial", 60, []int{15, 7, 16, 3}, 2},
		{"three levels", 300, []int{16, 9, 15, 2, 12}, 3},
		{"four levels", 1200, []int{5, 16, 11}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all, vmas := vmaRanges(rng, tc.n)
			m := newFakeMaple()
			root, height := m.build(all, tc.sizes)
			if height != tc.depth {
				t.Fatalf("built %d levels, want %d", height, tc.depth)
			}
			r := m.reader()
			var got []MapleEntry
			if err := r.walk(root, func(e MapleEntry) error { got = append(got, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(vmas) {
				t.Fatalf("walk: %d entries\n%x\nwant %d\n%x", len(got), got, len(vmas), vmas)
			}
			for _, want := range all {
				for _, idx := range []uint64{want.First, want.Last, want.First + (want.Last-want.First)/2} {
					e, ok, err := r.load(root, idx)
					if err != nil {
						t.Fatal(err)
					}
					if ok != (want.Value != 0) || ok && e != want {
						t.Fatalf("load %x: %x %v, want %x", idx, e, ok, want)
					}
				}
			}
		})
	}
}

func TestMapleRootEntries(t *testing.T) {
	r := newFakeMaple().reader()
	n := 0
	if err := r.walk(0, func(MapleEntry) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("empty tree: %d entries, %v", n, err)
	}
	if _, ok, err := r.load(0, 0x400000); ok || err != nil {
		t.Errorf("empty tree: load found %v, %v", ok, err)
	}
	// A single entry at index 0 lives in ma_root itself.
	const v = 0xffff888001234000
	var got []MapleEntry
	if err := r.walk(v, func(e MapleEntry) error { got = append(got, e); return nil }); err != nil || len(got) != 1 || got[0] != (MapleEntry{0, 0, v}) {
		t.Errorf("root entry: %x, %v", got, err)
	}
	if e, ok, err := r.load(v, 0); !ok || err != nil || e.Value != v {
		t.Errorf("root entry load 0: %x %v %v", e, ok, err)
	}
	if _, ok, err := r.load(v, 1); ok || err != nil {
		t.Errorf("root entry load 1: %v %v", ok, err)
	}
}

func TestMapleCorrupt(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	all, _ := vmaRanges(rng, 100)
	le := binary.LittleEndian
	for _, tc := range []struct {
		name   string
		damage func(m *fakeMaple, root uint64)
		want   string
	}{
		{"missing node", func(m *fakeMaple, root uint64) {
			child := le.Uint64(m.nodes[root&^mapleNodeMask][testMapleLayout.ArangeSlots:])
			delete(m.nodes, child&^mapleNodeMask)
		}, "no memory"},
		{"dead node", func(m *fakeMaple, root uint64) {
			child := le.Uint64(m.nodes[root&^mapleNodeMask][testMapleLayout.ArangeSlots:]) &^ mapleNodeMask
			le.PutUint64(m.nodes[child], child)
		}, "dead"},
		{"cycle", func(m *fakeMaple, root uint64) {
			child := le.Uint64(m.nodes[root&^mapleNodeMask][testMapleLayout.ArangeSlots:]) &^ mapleNodeMask
			le.PutUint64(m.nodes[child][testMapleLayout.ArangeSlots:], root)
		}, "reached twice"},
		{"entry in an internal node", func(m *fakeMaple, root uint64) {
			le.PutUint64(m.nodes[root&^mapleNodeMask][testMapleLayout.ArangeSlots:], 0xffff888001000000)
		}, "not a node"},
		{"bad type", func(m *fakeMaple, root uint64) {
			b := m.nodes[root&^mapleNodeMask][testMapleLayout.ArangeSlots:]
			le.PutUint64(b, le.Uint64(b)&^0x78) // maple_dense
		}, "unsupported node type"},
		{"pivots going down", func(m *fakeMaple, root uint64) {
			b := m.nodes[root&^mapleNodeMask]
			le.PutUint64(b[testMapleLayout.ArangePivots+8:], 1)
		}, "before it starts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newFakeMaple()
			root, _ := m.build(all, []int{8})
			tc.damage(m, root)
			err := m.reader().walk(root, func(MapleEntry) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("walk: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestMapleSkipUnreadable: with skip set, a node below the root that
// cannot be read costs its subtree; the walk names it and goes on.
func TestMapleSkipUnreadable(t *testing.T) {
	var ranges []MapleEntry
	for i := uint64(0); i < 100; i++ {
		last := i*16 + 15
		if i == 99 {
			last = ^uint64(0)
		}
		ranges = append(ranges, MapleEntry{i * 16, last, 0xffff888002000000 + i*8})
	}
	m := newFakeMaple()
	root, height := m.build(ranges, []int{10})
	if height < 2 {
		t.Fatalf("height %d: no internal node", height)
	}
	// The second leaf is gone.
	rn, err := m.reader().node(root)
	if err != nil {
		t.Fatal(err)
	}
	gone := rn.slots[1] &^ mapleNodeMask
	delete(m.nodes, gone)
	r := m.reader()
	if err := r.walk(root, func(MapleEntry) error { return nil }); err == nil {
		t.Fatal("a walk without skip went past an unreadable node")
	}
	var skipped []error
	r.skip = func(err error) { skipped = append(skipped, err) }
	var got []MapleEntry
	if err := r.walk(root, func(e MapleEntry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	want := append(append([]MapleEntry{}, ranges[:10]...), ranges[20:]...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("walk gave %d entries, want the %d outside the lost leaf", len(got), len(want))
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), fmt.Sprintf("maple node %x: ", gone)) {
		t.Errorf("skipped %v, want the lost leaf %x named once", skipped, gone)
	}
	// The root itself cannot be skipped.
	delete(m.nodes, root&^mapleNodeMask)
	if err := r.walk(root, func(MapleEntry) error { return nil }); err == nil {
		t.Error("a walk whose root cannot be read succeeded")
	}
}
