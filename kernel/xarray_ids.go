package kernel

import "fmt"

// walkXArray is the walk the id tables (irq_desc_tree, an IPC namespace's
// idr) need: every present entry by index, with the node size taken from
// the layout's offsets, so that it works from VMCOREINFO and BTF alone.
// The XArray type (xarray.go) is tree's walker, with positions.
//
// The xarray (4.20+; the radix tree of older kernels has the same node
// shape, struct radix_tree_node, and 5.x's radix_tree_root is an xarray):
// xa_head is an entry or an internal node pointer (low bits 0b10, above
// 4096); a node has its level's shift and XA_CHUNK_SIZE slots.

// xaEntry is one present entry of an xarray.
type xaEntry struct {
	Index, Value uint64
}

// walkXArray returns the entries of the xarray (or radix_tree_root) at
// root, in index order.
func (d objDeps) walkXArray(root uint64) ([]xaEntry, error) {
	o := d.obj()
	node := "xa_node"
	headOff := uint64(0)
	if o.has("xarray", "xa_head") {
		headOff = o.off("xarray", "xa_head")
	} else {
		node = "radix_tree_node"
		headOff = o.off("radix_tree_root", "rnode")
	}
	shiftOff := o.off(node, "shift")
	slotsOff := o.off(node, "slots")
	// The slots are followed by the tags (or marks) array.
	var nslots uint64 = 64
	for _, m := range []string{"marks", "tags"} {
		if o.has(node, m) {
			if after, err := d.Offset(node, m); err == nil && uint64(after) > slotsOff {
				nslots = (uint64(after) - slotsOff) / 8
			}
			break
		}
	}
	head := o.u64(root + headOff)
	if o.err != nil {
		return nil, o.err
	}
	isNode := func(v uint64) bool { return v&3 == 2 && v > 4096 }
	var out []xaEntry
	var walk func(enc, base uint64, depth int) error
	walk = func(enc, base uint64, depth int) error {
		if depth > 16 {
			return fmt.Errorf("xarray at %x: too deep", root)
		}
		n := enc &^ 3
		shift := uint64(o.u8(n + shiftOff))
		slots := o.bytes(n+slotsOff, int(8*nslots))
		if o.err != nil {
			return o.err
		}
		for i := uint64(0); i < nslots; i++ {
			v := d.ByteOrder().Uint64(slots[8*i:])
			if v == 0 {
				continue
			}
			idx := base + i<<shift
			if isNode(v) {
				if shift == 0 {
					continue // a sibling or retry entry
				}
				if err := walk(v, idx, depth+1); err != nil {
					return err
				}
				continue
			}
			if v&3 == 2 {
				continue // internal: sibling, retry, zero
			}
			out = append(out, xaEntry{idx, v})
		}
		return nil
	}
	switch {
	case head == 0:
	case isNode(head):
		if err := walk(head, 0, 0); err != nil {
			return out, err
		}
	default:
		out = append(out, xaEntry{0, head})
	}
	return out, nil
}

// walkMaple returns the entries of the maple tree at tree (struct
// maple_tree) in index order.
func (k *Kernel) walkMaple(tree uint64) ([]MapleEntry, error) {
	rootOff, err := k.Offset("maple_tree", "ma_root")
	if err != nil {
		return nil, err
	}
	ml, err := k.UserSpace.mapleLayout()
	if err != nil {
		return nil, err
	}
	m := &mapleReader{read: func(p []byte, a uint64) error { return k.ReadVirt(p, a) }, order: k.ByteOrder(), lay: ml}
	root, err := k.ReadU64(tree + uint64(rootOff))
	if err != nil {
		return nil, err
	}
	var out []MapleEntry
	err = m.walk(root, func(e MapleEntry) error { out = append(out, e); return nil })
	return out, err
}
