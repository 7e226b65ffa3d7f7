package kernel

import (
	"fmt"
	"math/bits"
	"strconv"
)

// XAEntry is one entry of an XArray or radix tree: its index, the value
// in its slot, and its position: "root/N/..." the slot indexes from the
// root down to the node holding it (Slot its slot there), or "direct"
// for an entry kept in the root itself.
type XAEntry struct {
	Index    uint64
	Value    uint64
	Path     string
	Slot     uint64
	NodeAddr uint64 // the node holding the slot (0 for a direct entry)
	// Internal marks a leaf slot holding an internal entry (a sibling,
	// retry or zero entry) rather than a value; Value has its tag cleared.
	Internal bool
}

// XArray walks XArrays (struct xarray / xa_node, 4.20+) and the radix
// trees before them (struct radix_tree_root / radix_tree_node, which
// kept the node's level in shift too).
type XArray struct {
	r                 Reader
	head              int64 // xarray.xa_head / radix_tree_root.rnode
	slots, shift      int64 // in the node
	chunkShift        uint
	internal, tagMask uint64
	radix             bool
}

// MemberSizer answers the size of a struct member from the types.
type MemberSizer interface {
	MemberSize(structName, member string) (int64, error)
}

// NewXArray reads the XArray layout; radix asks for the older radix tree
// (on a kernel without one, whose radix_tree_root is an xarray, the
// XArray's). The node's slot count comes from types when given (nil: from
// the offsets alone, the slots array ending where the node's marks or
// tags begin, so that VMCOREINFO and BTF layouts serve).
func NewXArray(r Reader, lay Layout, types MemberSizer, radix bool) (*XArray, error) {
	x := &XArray{r: r, tagMask: 3}
	root, head, node := "xarray", "xa_head", "xa_node"
	x.internal = 2
	if radix {
		if _, err := lay.Offset("radix_tree_root", "rnode"); err == nil {
			root, head, node = "radix_tree_root", "rnode", "radix_tree_node"
			x.internal, x.radix = 1, true
		}
	}
	what := "xarray facility does not exist or has changed its format"
	if x.radix {
		what = "radix trees do not exist or have changed their format"
	}
	var err error
	if x.head, err = lay.Offset(root, head); err != nil {
		return nil, fmt.Errorf("%s", what)
	}
	if x.slots, err = lay.Offset(node, "slots"); err != nil {
		return nil, fmt.Errorf("%s", what)
	}
	if x.shift, err = lay.Offset(node, "shift"); err != nil {
		return nil, fmt.Errorf("%s", what)
	}
	n, err := x.slotsSize(lay, types, node)
	if err != nil || n < 16 {
		return nil, fmt.Errorf("cannot determine length of %s.slots[] array", node)
	}
	x.chunkShift = uint(bits.TrailingZeros64(uint64(n / 8)))
	return x, nil
}

// ChunkSize is the number of slots in a node.
func (x *XArray) ChunkSize() uint64 { return 1 << x.chunkShift }

// Head reads the root's head pointer (xa_head / rnode) of the root at addr.
func (x *XArray) Head(root uint64) (uint64, error) {
	return x.r.ReadU64(root + uint64(x.head))
}

// Walk visits the entries under head (a root's head pointer, or with node
// set a node pointer) in index order. A slot whose value is an internal
// node pointer is descended into; the values of the other slots are
// given as stored, with an internal entry's tag bit cleared.
func (x *XArray) Walk(head uint64, node bool, fn func(XAEntry) error) error {
	isInternal := head&x.tagMask == x.internal
	p := head
	if node {
		if head&x.tagMask == x.internal {
			p &^= x.tagMask
		}
	} else if head&x.tagMask != 0 {
		p &^= x.tagMask
	}
	height := uint64(0)
	if node || isInternal {
		sh, err := x.nodeShift(p)
		if err != nil {
			return err
		}
		height = uint64(sh)/uint64(x.chunkShift) + 1
	}
	if height == 0 {
		return fn(XAEntry{Value: p, Path: "direct"})
	}
	if height > 64/uint64(x.chunkShift)+1 {
		return fmt.Errorf("xa_node %x: height %d is too great", p, height)
	}
	seen := map[uint64]bool{}
	var visit func(n uint64, height uint64, path string, index uint64) error
	visit = func(n uint64, height uint64, path string, index uint64) error {
		if seen[n] {
			return fmt.Errorf("duplicate tree node: %x", n)
		}
		seen[n] = true
		size := x.ChunkSize()
		buf := make([]byte, size*8)
		if err := x.r.ReadVirt(buf, n+uint64(x.slots)); err != nil {
			return fmt.Errorf("xa_node %x slots: %w", n, err)
		}
		order := x.r.ByteOrder()
		shift := (height - 1) * uint64(x.chunkShift)
		for off := uint64(0); off < size; off++ {
			slot := order.Uint64(buf[off*8:])
			if slot == 0 {
				continue
			}
			internal := slot&x.tagMask == x.internal
			if internal {
				slot &^= x.internal
			}
			// In an xarray a slot above the leaves holds a node only when
			// it is an internal entry above 4096 (smaller ones are
			// sibling and retry entries); a value there is a multi-index
			// entry. The radix trees before it kept nodes only above the
			// leaves.
			leaf := height == 1 || (!x.radix && !(internal && slot > 4096))
			if leaf {
				if err := fn(XAEntry{Index: index | off<<shift, Value: slot, Path: path, Slot: off, NodeAddr: n, Internal: internal}); err != nil {
					return err
				}
				continue
			}
			if err := visit(slot, height-1, path+"/"+strconv.FormatUint(off, 10), index|off<<shift); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(p, height, "root", 0)
}

// slotsSize is the byte size of node's slots array: from the types, else
// the distance from the slots to the marks (xa_node) or tags
// (radix_tree_node) that follow them.
func (x *XArray) slotsSize(lay Layout, types MemberSizer, node string) (int64, error) {
	if types != nil {
		return types.MemberSize(node, "slots")
	}
	for _, m := range []string{"marks", "tags"} {
		if after, err := lay.Offset(node, m); err == nil && after > x.slots {
			return after - x.slots, nil
		}
	}
	return 0, fmt.Errorf("%s has neither marks nor tags after its slots", node)
}

func (x *XArray) nodeShift(n uint64) (uint8, error) {
	var b [1]byte
	if err := x.r.ReadVirt(b[:], n+uint64(x.shift)); err != nil {
		return 0, fmt.Errorf("xa_node %x shift: %w", n, err)
	}
	return b[0], nil
}
