package kernel

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// The maple tree (6.1+, lib/maple_tree.c) keeps a range-to-pointer map in
// 256-byte nodes. A pointer to a node is "encoded": the node's address in
// the bits above the low 8, the node's type (enum maple_type) in bits 3-6,
// and 0b10 in bits 0-1, which is what tells a node pointer from a stored
// entry. Every node has its parent pointer first, then its pivots (the
// inclusive upper end of each slot's range), then its slots. The ranges of
// a node are implied by its parent: slot i covers (pivot[i-1], pivot[i]],
// the first slot starting at the node's minimum and the last ending at its
// maximum.

// Maple node types, enum maple_type.
const (
	mapleDense   = 0
	mapleLeaf64  = 1
	mapleRange64 = 2
	mapleArange  = 3
)

const (
	mapleNodeSize  = 256
	mapleNodeMask  = mapleNodeSize - 1
	mapleMaxHeight = 31 // MAPLE_HEIGHT_MAX
)

// MapleLayout is where the pivots, slots and end marker lie in the two node
// layouts: maple_range_64 (leaves and plain internal nodes) and
// maple_arange_64 (internal nodes of trees that track gaps, as mm_mt does).
type MapleLayout struct {
	RangePivots, RangeSlots, RangeMeta    int64 // offsets in struct maple_range_64
	NRangeSlots                           int
	ArangePivots, ArangeSlots, ArangeMeta int64 // offsets in struct maple_arange_64
	NArangeSlots                          int
	MetaEnd                               int64 // offset of end in struct maple_metadata
}

// MapleEntry is one non-empty range of a maple tree: [First, Last] maps to
// Value.
type MapleEntry struct {
	First, Last, Value uint64
}

// mapleReader walks maple trees in some memory.
type mapleReader struct {
	read  func(p []byte, addr uint64) error
	order binary.ByteOrder
	lay   MapleLayout
	// skip, when set, is told of each node below the root that cannot
	// be read: the walk leaves out that node's subtree and goes on.
	skip func(error)
}

// mapleIsNode: an encoded node pointer ends in 0b10 and is above the
// range reserved for internal values (xa_is_node).
func mapleIsNode(v uint64) bool { return v&3 == 2 && v > 4096 }

// mapleIsChild: a node pointer in an internal node's slot, which the
// kernel encodes as node | type<<3 | MAPLE_ENODE_NULL (0b100), without the
// root's 0b10 (mt_mk_node).
func mapleIsChild(v uint64) bool { return v > 4096 && (v&3 == 2 || v&7 == 4) }

// mapleNode is one decoded node.
type mapleNode struct {
	addr   uint64
	typ    int
	pivots []uint64
	slots  []uint64
}

func (m *mapleReader) node(enc uint64) (*mapleNode, error) {
	n := &mapleNode{addr: enc &^ mapleNodeMask, typ: int(enc>>3) & 0xf}
	buf := make([]byte, mapleNodeSize)
	if err := m.read(buf, n.addr); err != nil {
		return nil, fmt.Errorf("maple node %x: %w", n.addr, err)
	}
	u64 := func(off int64) uint64 { return m.order.Uint64(buf[off:]) }
	if parent := u64(0); parent&^mapleNodeMask == n.addr && parent&1 == 0 {
		// A node removed from the tree points to itself.
		return nil, fmt.Errorf("maple node %x is dead (freed while the tree changed)", n.addr)
	}
	var pivOff, slotOff, metaOff int64
	var nslots int
	switch n.typ {
	case mapleLeaf64, mapleRange64:
		pivOff, slotOff, metaOff, nslots = m.lay.RangePivots, m.lay.RangeSlots, m.lay.RangeMeta, m.lay.NRangeSlots
	case mapleArange:
		pivOff, slotOff, metaOff, nslots = m.lay.ArangePivots, m.lay.ArangeSlots, m.lay.ArangeMeta, m.lay.NArangeSlots
	default:
		return nil, fmt.Errorf("maple node %x: unsupported node type %d", n.addr, n.typ)
	}
	if nslots < 2 || slotOff+int64(nslots)*8 > mapleNodeSize || pivOff+int64(nslots-1)*8 > mapleNodeSize {
		return nil, fmt.Errorf("maple node layout does not fit in %d bytes", mapleNodeSize)
	}
	for i := 0; i < nslots-1; i++ {
		n.pivots = append(n.pivots, u64(pivOff+int64(i)*8))
	}
	// The last used slot: gap-tracking nodes record it in their metadata;
	// the others are full when their last pivot is set, and otherwise
	// record it in the metadata kept in the place of the last slot.
	end := nslots - 1
	last := n.pivots[nslots-2]
	switch {
	case n.typ == mapleArange:
		end = int(buf[metaOff+m.lay.MetaEnd])
	case last == 0:
		end = int(buf[metaOff+m.lay.MetaEnd])
	}
	if end >= nslots {
		return nil, fmt.Errorf("maple node %x: end %d of %d slots", n.addr, end, nslots)
	}
	for i := 0; i <= end; i++ {
		n.slots = append(n.slots, u64(slotOff+int64(i)*8))
	}
	return n, nil
}

// upper is the inclusive end of slot i of a node whose range ends at max.
func (n *mapleNode) upper(i int, max uint64) uint64 {
	if i < len(n.pivots) && (n.pivots[i] != 0 || i == 0) && n.pivots[i] < max {
		return n.pivots[i]
	}
	return max
}

func (n *mapleNode) leaf() bool { return n.typ < mapleRange64 }

// walk calls fn with each non-empty range of the tree whose ma_root is
// root, in order.
func (m *mapleReader) walk(root uint64, fn func(MapleEntry) error) error {
	if root == 0 {
		return nil
	}
	if !mapleIsNode(root) {
		return fn(MapleEntry{0, 0, root}) // a lone entry at index 0
	}
	return m.walkNodes(root, "root", func(e MapleEntry, _ string, _ int) error { return fn(e) })
}

// walkNodes calls fn with each non-empty slot of the leaves under the
// encoded node enc, in order, with its position: path (start, then the
// slot index of each internal node on the way down, "root/2/0") and its
// slot in the leaf.
func (m *mapleReader) walkNodes(enc uint64, start string, fn func(e MapleEntry, path string, slot int) error) error {
	seen := map[uint64]bool{}
	var visit func(enc, min, max uint64, path string, depth int) error
	visit = func(enc, min, max uint64, path string, depth int) error {
		if depth > mapleMaxHeight {
			return fmt.Errorf("maple tree deeper than %d levels", mapleMaxHeight)
		}
		n, err := m.node(enc)
		if err != nil && depth > 0 && m.skip != nil {
			m.skip(err)
			return nil
		}
		if err != nil {
			return err
		}
		if seen[n.addr] {
			return fmt.Errorf("maple node %x is reached twice", n.addr)
		}
		seen[n.addr] = true
		lo := min
		for i, s := range n.slots {
			hi := n.upper(i, max)
			if hi < lo {
				return fmt.Errorf("maple node %x: slot %d ends at %x before it starts at %x", n.addr, i, hi, lo)
			}
			switch {
			case s == 0:
			case n.leaf():
				if err := fn(MapleEntry{lo, hi, s}, path, i); err != nil {
					return err
				}
			case !mapleIsChild(s):
				return fmt.Errorf("maple node %x: slot %d holds %x, not a node", n.addr, i, s)
			default:
				if err := visit(s, lo, hi, path+"/"+strconv.Itoa(i), depth+1); err != nil {
					return err
				}
			}
			if hi >= max {
				break
			}
			lo = hi + 1
		}
		return nil
	}
	return visit(enc, 0, ^uint64(0), start, 0)
}

// load finds the range holding index, as mtree_load does: one node per
// level, down to a leaf.
func (m *mapleReader) load(root, index uint64) (MapleEntry, bool, error) {
	if root == 0 {
		return MapleEntry{}, false, nil
	}
	if !mapleIsNode(root) {
		return MapleEntry{0, 0, root}, index == 0, nil
	}
	enc, min, max := root, uint64(0), ^uint64(0)
	for depth := 0; ; depth++ {
		if depth > mapleMaxHeight {
			return MapleEntry{}, false, fmt.Errorf("maple tree deeper than %d levels", mapleMaxHeight)
		}
		n, err := m.node(enc)
		if err != nil {
			return MapleEntry{}, false, err
		}
		lo, i := min, 0
		for ; i < len(n.slots); i++ {
			hi := n.upper(i, max)
			if index <= hi || hi >= max {
				max = hi
				break
			}
			lo = hi + 1
		}
		if i == len(n.slots) {
			return MapleEntry{}, false, nil // past the node's data
		}
		s := n.slots[i]
		switch {
		case s == 0:
			return MapleEntry{}, false, nil
		case n.leaf():
			return MapleEntry{lo, max, s}, true, nil
		case !mapleIsChild(s):
			return MapleEntry{}, false, fmt.Errorf("maple node %x: slot %d holds %x, not a node", n.addr, i, s)
		}
		enc, min = s, lo
	}
}
