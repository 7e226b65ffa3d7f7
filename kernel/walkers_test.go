package kernel_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// objs reserves n 64-byte objects.
func objs(m *kerneltest.Machine, n int) []uint64 {
	var out []uint64
	for range n {
		out = append(out, m.Object(64))
	}
	return out
}

// TestWalkListLoops: a singly-linked list A→B→C→D→C loops back to C, not
// to A or to A's successor: the hashed walk gives A B C D C and crash's
// "duplicate list entry" on C; Brent's finds the loop's length (2) and
// that it starts 2 links from A, at C; a list ending in NULL ends, and a
// list_head list with a NULL next pointer is broken ("invalid list entry:
// 0").
func TestWalkListLoops(t *testing.T) {
	m := kerneltest.New()
	o := objs(m, 4)
	a, b, c, d := o[0], o[1], o[2], o[3]
	const next = 16
	m.PutU64(a+next, b)
	m.PutU64(b+next, c)
	m.PutU64(c+next, d)
	m.PutU64(d+next, c)
	k := m.Kernel(t)

	res, err := kernel.WalkList(k, kernel.ListWalk{Start: a, NextOffset: next})
	var le *kernel.ListError
	if !errors.As(err, &le) || le.Kind != "duplicate list entry" || le.Addr != c {
		t.Fatalf("hashed walk: %v", err)
	}
	if want := []uint64{a, b, c, d, c}; !slices.Equal(res.Entries, want) {
		t.Errorf("hashed walk entries %x, want %x", res.Entries, want)
	}

	res, err = kernel.WalkList(k, kernel.ListWalk{Start: a, NextOffset: next, Brent: true})
	if !errors.As(err, &le) || le.Kind != "duplicate list entry" || le.Addr != c {
		t.Fatalf("Brent walk: %v", err)
	}
	if res.Loop == nil || !res.Loop.Found || res.Loop.Length != 2 || res.Loop.Distance != 2 || res.Loop.Duplicate != c {
		t.Fatalf("Brent walk loop %+v", res.Loop)
	}
	if len(res.Entries) != res.Loop.Shown || !slices.Equal(res.Entries[:3], []uint64{a, b, c}) {
		t.Errorf("Brent walk entries %x (shown %d)", res.Entries, res.Loop.Shown)
	}

	// A NULL-terminated list ends; as a list_head list it is broken.
	m.PutU64(d+next, 0)
	res, err = kernel.WalkList(k, kernel.ListWalk{Start: a, NextOffset: next})
	if err != nil || !slices.Equal(res.Entries, []uint64{a, b, c, d}) {
		t.Fatalf("NULL-ended list: %x, %v", res.Entries, err)
	}
	m.PutU64(a+next, b+next)
	m.PutU64(b+next, c+next)
	m.PutU64(c+next, d+next)
	res, err = kernel.WalkList(k, kernel.ListWalk{Start: a + next, EntryOffset: next, ListHead: true})
	if !errors.As(err, &le) || le.Kind != "invalid list entry" || le.Addr != 0 || len(res.Entries) != 4 || res.Entries[0] != a {
		t.Fatalf("broken list_head list: %x, %v", res.Entries, err)
	}
	// -e ends the walk at c.
	m.PutU64(a+next, b)
	m.PutU64(b+next, c)
	res, err = kernel.WalkList(k, kernel.ListWalk{Start: a, NextOffset: next, End: c})
	if err != nil || !slices.Equal(res.Entries, []uint64{a, b}) {
		t.Fatalf("-e: %x, %v", res.Entries, err)
	}
	// Unreadable next pointer.
	_, err = kernel.WalkList(k, kernel.ListWalk{Start: 0xffff000000000000, NextOffset: next})
	if !errors.As(err, &le) || le.Kind != "invalid list entry" || le.Err == nil {
		t.Fatalf("unreadable start: %v", err)
	}
}

// TestRBTreeWalk: a red-black tree of 5 nodes (root 30; 10 and 40 under
// it; 20 right of 10; 50 right of 40) in crash's order (root, left
// subtree, right subtree) and in linear order, with positions; a loop is
// crash's "duplicate tree entry".
func TestRBTreeWalk(t *testing.T) {
	m := kerneltest.New()
	m.Offset("rb_root", "rb_node", 0)
	m.Offset("rb_node", "rb_right", 8)
	m.Offset("rb_node", "rb_left", 16)
	n := objs(m, 5) // keys 10..50
	root := m.Var(8)
	m.PutU64(root, n[2])
	set := func(node, left, right uint64) {
		m.PutU64(node+16, left)
		m.PutU64(node+8, right)
	}
	set(n[2], n[0], n[3])
	set(n[0], 0, n[1])
	set(n[3], 0, n[4])
	k := m.Kernel(t)
	tr, err := kernel.NewRBTree(k, k.TypeLayout)
	if err != nil {
		t.Fatal(err)
	}
	first, err := tr.RootNode(root)
	if err != nil || first != n[2] {
		t.Fatalf("root node %x, %v", first, err)
	}
	got, warns, err := tr.Walk(kernel.RBWalk{Root: first})
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	want := []kernel.RBNode{{n[2], "root"}, {n[0], "root/l"}, {n[1], "root/l/r"}, {n[3], "root/r"}, {n[4], "root/r/r"}}
	if !slices.Equal(got, want) {
		t.Errorf("walk %v, want %v", got, want)
	}
	got, _, err = tr.Walk(kernel.RBWalk{Root: first, Linear: true})
	want = []kernel.RBNode{{n[0], "root/l"}, {n[1], "root/l/r"}, {n[2], "root"}, {n[3], "root/r"}, {n[4], "root/r/r"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("linear walk %v, %v, want %v", got, err, want)
	}
	set(n[4], n[2], 0) // a loop back to the root
	_, _, err = tr.Walk(kernel.RBWalk{Root: first})
	var de *kernel.RBTreeError
	if !errors.As(err, &de) || de.Node != n[2] {
		t.Errorf("looping tree: %v", err)
	}
	set(n[4], 0xffff000000001000, 0) // unreadable child: a warning
	got, warns, err = tr.Walk(kernel.RBWalk{Root: first})
	if err != nil || len(got) != 5 || len(warns) != 1 || warns[0].Node != n[4] || warns[0].Side != "rb_left" {
		t.Errorf("corrupt child: %v %v %v", got, warns, err)
	}
}

type sizes map[string]int64

func (s sizes) MemberSize(st, m string) (int64, error) { return s[st+"."+m], nil }

// TestXArrayWalk: an XArray of two levels (shift 6, then 0) with entries
// at 3, 64+5 and 130: their indexes and "root/N/slot" positions; a lone
// entry in the root is "direct".
func TestXArrayWalk(t *testing.T) {
	m := kerneltest.New()
	m.Offset("xarray", "xa_head", 8)
	m.Offset("xa_node", "shift", 0)
	m.Offset("xa_node", "slots", 40)
	m.Offset("xa_node", "marks", 40+64*8)
	const nodeSize = 40 + 64*8 + 3*8
	top, l0, l1, l2 := m.Object(nodeSize), m.Object(nodeSize), m.Object(nodeSize), m.Object(nodeSize)
	xa := m.Var(16)
	m.PutU64(xa+8, top|2)
	m.At(top)[0] = 6
	for i, c := range []uint64{l0, l1, l2} {
		m.PutU64(top+40+uint64(i)*8, c|2)
	}
	put := func(node, slot, v uint64) { m.PutU64(node+40+slot*8, v) }
	v := objs(m, 3)
	put(l0, 3, v[0])
	put(l1, 5, v[1])
	put(l2, 2, v[2])
	k := m.Kernel(t)
	x, err := kernel.NewXArray(k, k.TypeLayout, sizes{"xa_node.slots": 64 * 8}, false)
	if err != nil {
		t.Fatal(err)
	}
	head, err := x.Head(xa)
	if err != nil {
		t.Fatal(err)
	}
	var got []kernel.XAEntry
	if err := x.Walk(head, false, func(e kernel.XAEntry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []kernel.XAEntry{{3, v[0], "root/0", 3, l0, false}, {69, v[1], "root/1", 5, l1, false}, {130, v[2], "root/2", 2, l2, false}}
	if !slices.Equal(got, want) {
		t.Errorf("walk %+v, want %+v", got, want)
	}
	// -N: from the node pointer, the same entries.
	got = nil
	if err := x.Walk(top|2, true, func(e kernel.XAEntry) error { got = append(got, e); return nil }); err != nil || !slices.Equal(got, want) {
		t.Errorf("walk from the node: %+v, %v", got, err)
	}
	// With no member sizes the slot count comes from the offsets (the
	// marks follow the slots); a value above the leaves is a multi-index
	// entry, a small internal entry there a sibling, not a node.
	xo, err := kernel.NewXArray(k, k.TypeLayout, nil, false)
	if err != nil || xo.ChunkSize() != 64 {
		t.Fatalf("slots from offsets: %v, %v", xo, err)
	}
	m.PutU64(top+40+3*8, v[0])
	m.PutU64(top+40+4*8, 3<<2|2) // a sibling of slot 3
	got = nil
	if err := xo.Walk(head, false, func(e kernel.XAEntry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	want = append(want, kernel.XAEntry{3 << 6, v[0], "root", 3, top, false}, kernel.XAEntry{4 << 6, 3 << 2, "root", 4, top, true})
	if !slices.Equal(got, want) {
		t.Errorf("walk with multi-index entries %+v, want %+v", got, want)
	}
	m.PutU64(xa+8, v[0])
	head, _ = x.Head(xa)
	got = nil
	if err := x.Walk(head, false, func(e kernel.XAEntry) error { got = append(got, e); return nil }); err != nil || len(got) != 1 || got[0].Path != "direct" || got[0].Value != v[0] {
		t.Errorf("direct entry: %+v, %v", got, err)
	}
}
