package kernel

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// sixNodeTree lays out a red-black tree of six nodes keyed by allocation
// order, under an rb_root at root:
//
//	    n3
//	  n1  n4
//	n0  n2  n5
//
// link sets a node's children.
func sixNodeTree(f *fakeVFS) (n []uint64, link func(p, l, r uint64), root uint64) {
	n = make([]uint64, 6)
	for i := range n {
		n[i] = f.alloc()
	}
	link = func(p, l, r uint64) { f.put64(p+0x10, l); f.put64(p+0x08, r) }
	link(n[3], n[1], n[4])
	link(n[1], n[0], n[2])
	link(n[4], 0, n[5])
	root = f.alloc()
	f.put64(root, n[3])
	return n, link, root
}

// TestRBTreeSkipsUnreadable: a child pointer to memory the dump lacks
// costs that child's subtree, named in one line of the
// UnreadableObjectsError; the walk goes on past it, in order.
func TestRBTreeSkipsUnreadable(t *testing.T) {
	f := newFakeVFS()
	k := &FileSystem{Reader: f, Layout: fakeVFSLayout{}}
	n, link, rootHolder := sixNodeTree(f)
	const gone1, gone2 = 0xffff888000900000, 0xffff888000a00000
	link(n[1], gone1, n[2]) // n0 is lost
	link(n[4], 0, gone2)    // so is n5
	got, err := k.RBTree(rootHolder)
	if want := []uint64{n[1], n[2], n[3], n[4]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("nodes %x, want %x", got, want)
	}
	var u UnreadableObjectsError
	if !errors.As(err, &u) || len(u) != 2 {
		t.Fatalf("error %v, want two objects left out", err)
	}
	for i, l := range u.Lines() {
		want := fmt.Sprintf("rb_node %x (rb_left of %x)", uint64(gone1), n[1])
		if i == 1 {
			want = fmt.Sprintf("rb_node %x (rb_right of %x)", uint64(gone2), n[4])
		}
		if !strings.HasPrefix(l, want+": ") {
			t.Errorf("line %d %q, want %q and the reason", i, l, want)
		}
	}
	// An unreadable root node is the whole tree: an error, no nodes.
	f.put64(rootHolder, gone1)
	if got, err := k.RBTree(rootHolder); err == nil || len(got) != 0 || errors.As(err, &u) {
		t.Errorf("unreadable root: %x, %v", got, err)
	}
}
