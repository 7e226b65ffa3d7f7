package kernel

import (
	"fmt"
)

// RBNode is one node of a red-black tree: its rb_node address and its
// position from the root ("root", "root/l/r": the right child of the
// root's left child).
type RBNode struct {
	Node     uint64
	Position string
}

// RBWalk is a walk of a red-black tree (struct rb_root / rb_node).
type RBWalk struct {
	// Root is the first rb_node (rb_root.rb_node, read by the caller or
	// by RBRoot).
	Root uint64
	// Linear walks in key order (leftmost first); otherwise each node
	// comes before its left subtree, then its right (crash's default).
	Linear bool
	Limit  int // 0: 1<<22 nodes
}

// RBTreeWarning is a child pointer that could not be followed (the
// subtree under it is skipped), as crash reports it.
type RBTreeWarning struct {
	Node, Child uint64
	Side        string // "rb_left" or "rb_right"
}

// RBTreeError is a node reached twice (the tree loops).
type RBTreeError struct{ Node uint64 }

func (e *RBTreeError) Error() string { return fmt.Sprintf("duplicate tree entry: %x", e.Node) }

// RBTree walks red-black trees with the kernel's rb_node layout.
type RBTree struct {
	r                    Reader
	rootOff, left, right int64
}

// NewRBTree reads struct rb_node's and rb_root's layout.
func NewRBTree(r Reader, lay Layout) (*RBTree, error) {
	t := &RBTree{r: r}
	var err error
	if t.rootOff, err = lay.Offset("rb_root", "rb_node"); err != nil {
		return nil, fmt.Errorf("red-black trees do not exist or have changed their format")
	}
	if t.left, err = lay.Offset("rb_node", "rb_left"); err != nil {
		return nil, fmt.Errorf("red-black trees do not exist or have changed their format")
	}
	if t.right, err = lay.Offset("rb_node", "rb_right"); err != nil {
		return nil, fmt.Errorf("red-black trees do not exist or have changed their format")
	}
	return t, nil
}

// RootNode reads the first node of the rb_root at root.
func (t *RBTree) RootNode(root uint64) (uint64, error) {
	return t.r.ReadU64(root + uint64(t.rootOff))
}

// Walk visits the tree's nodes in w's order. The nodes found come back
// with the warnings met and the error that stopped the walk.
func (t *RBTree) Walk(w RBWalk) ([]RBNode, []RBTreeWarning, error) {
	limit := w.Limit
	if limit <= 0 {
		limit = 1 << 22
	}
	var out []RBNode
	var warns []RBTreeWarning
	seen := map[uint64]bool{}
	// child reads a child pointer and checks that the child is readable.
	child := func(node uint64, off int64, side string) uint64 {
		c, err := t.r.ReadU64(node + uint64(off))
		if err != nil || c == 0 {
			return 0
		}
		if _, err := t.r.ReadU64(c + uint64(t.left)); err != nil {
			warns = append(warns, RBTreeWarning{Node: node, Child: c, Side: side})
			return 0
		}
		return c
	}
	var visit func(node uint64, pos string, depth int) error
	visit = func(node uint64, pos string, depth int) error {
		if node == 0 {
			return nil
		}
		if seen[node] {
			return &RBTreeError{Node: node}
		}
		seen[node] = true
		if len(seen) > limit {
			return fmt.Errorf("red-black tree of more than %d nodes", limit)
		}
		if w.Linear {
			if l := child(node, t.left, "rb_left"); l != 0 {
				if err := visit(l, pos+"/l", depth+1); err != nil {
					return err
				}
			}
		}
		out = append(out, RBNode{Node: node, Position: pos})
		if !w.Linear {
			if l := child(node, t.left, "rb_left"); l != 0 {
				if err := visit(l, pos+"/l", depth+1); err != nil {
					return err
				}
			}
		}
		if r := child(node, t.right, "rb_right"); r != 0 {
			return visit(r, pos+"/r", depth+1)
		}
		return nil
	}
	err := visit(w.Root, "root", 0)
	return out, warns, err
}
