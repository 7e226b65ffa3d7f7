package kernel

import "strings"

// xaEntry is one present entry of an xarray.
type xaEntry struct {
	Index, Value uint64
}

// walkXArray returns the present entries of the xarray (or, on kernels
// before it, radix_tree_root) at root, in index order: the id tables'
// walk (irq_desc_tree, an IPC namespace's idr). It takes the node size
// from the layout's offsets, so that it works from VMCOREINFO and BTF
// alone, and leaves out internal entries (siblings, retries).
func (d objDeps) walkXArray(root uint64) ([]xaEntry, error) {
	_, err := d.Offset("xarray", "xa_head")
	x, xerr := NewXArray(d.Reader, d.Layout, nil, err != nil)
	if xerr != nil {
		return nil, xerr
	}
	head, err := x.Head(root)
	if err != nil {
		return nil, err
	}
	if head == 0 {
		return nil, nil
	}
	var out []xaEntry
	err = x.Walk(head, false, func(e XAEntry) error {
		if !e.Internal {
			out = append(out, xaEntry{e.Index, e.Value})
		}
		return nil
	})
	return out, err
}

// walkMaple returns the entries of the maple tree at tree (struct
// maple_tree) in index order. A node below the root that cannot be read
// costs its subtree: the entries of the rest come back with an
// *UnreadableObjectsError naming each node left out.
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
	var skipped UnreadableObjectsError
	m.skip = func(err error) { skipped = append(skipped, err) }
	err = m.walk(root, func(e MapleEntry) error { out = append(out, e); return nil })
	if err != nil { // the root cannot be read, or the tree is corrupt
		return out, err
	}
	return out, skipped.or(nil)
}

// UnreadableObjectsError names the objects (tree nodes, list entries) a
// walk could not read and left out, with the reason: one line each.
type UnreadableObjectsError []error

func (e UnreadableObjectsError) Error() string { return strings.Join(e.Lines(), "\n") }

// Lines is one line per object left out.
func (e UnreadableObjectsError) Lines() []string {
	var out []string
	for _, err := range e {
		out = append(out, err.Error())
	}
	return out
}

func (e UnreadableObjectsError) Unwrap() []error { return e }

// or is the error of a walk that left out e's objects and itself ended
// with err: err alone when nothing was left out, else e with err (a list
// broken after them) as its last line.
func (e UnreadableObjectsError) or(err error) error {
	if len(e) == 0 {
		return err
	}
	if err != nil {
		e = append(e, err)
	}
	return e
}
