package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/symbols"
)

func treeCommand() *Command {
	return &Command{
		Name:     "tree",
		Synopsis: "tree [-t [radix|xarray|rbtree|maple]] [-r offset] [-[s|S] struct[.member[,member]]] -[x|d] [-o offset] [-l] [-p] [-N] start",
		Summary:  "display radix tree, XArray, red-black tree or maple tree",
		Help: `Prints the entries of a tree. start is the address (or symbol) of the
tree's root (an rb_root, xarray, radix_tree_root or maple_tree), or with -r
of a structure holding the root at that offset, or with -N the first node
itself (an rb_node, or an xa_node / maple node pointer as the root holds it).

For a red-black tree (the default), each entry is the structure holding the
rb_node at -o's offset; the nodes come root first, each before its left and
then its right subtree, or with -l in order from the leftmost. For an XArray
or radix tree, and a maple tree, the entries are the pointers stored, in
index order (on kernels whose radix_tree_root is an xarray, -t radix walks
the XArray). -p adds each entry's position: "root/l/r" in a red-black tree
(the right child of the root's left child); the index and the slots from
the root in an XArray ("index: 92  position: root/1/28"); in a maple tree,
the entry's ordinal and the slots down to it.

-s prints each entry as a struct, or its named members; -S reads members of
up to 8 bytes directly; -x and -d choose their integer format.`,
		Options: []Option{
			{"-t type", "rbtree (rb, the default), radix (ra), xarray (x) or maple (m)"},
			{"-r offset", "start is a structure holding the root at offset (a number or struct.member)"},
			{"-o offset", "red-black trees: the offset of the rb_node in each entry (a number or struct.member)"},
			{"-s struct", "print each entry as this struct, or struct.member[,member] those members (repeatable)"},
			{"-S struct", "like -s, reading members of up to 8 bytes directly from memory"},
			{"-l", "red-black trees: in linear (sorted) order from the leftmost node"},
			{"-p", "show each entry's position in the tree"},
			{"-N", "start is a node (rb_node, xa_node or maple node pointer), not a root"},
			{"-x", "print -s/-S integers in hexadecimal"},
			{"-d", "print -s/-S integers in decimal"},
			{"start", "the address or symbol of the root (or with -N of a node)"},
		},
		Examples: []string{
			"gocrash> tree -t rbtree -o vmap_area.rb_node vmap_area_root",
			"gocrash> tree -t rbtree -r mm_struct.mm_rb ffff8880047d8000 -o vm_area_struct.vm_rb -p",
			"gocrash> tree -t xarray -r address_space.i_pages ffff888003c4a7f0 -p",
			"gocrash> tree -t maple -r mm_struct.mm_mt ffff8880047d8000 -s vm_area_struct.vm_start,vm_end",
		},
		Results: []Result{&TreeResult{}},
		Run:     runTree,
	}
}

// TreeResult is a walked tree's entries, in the order crash prints them.
type TreeResult struct {
	Type    string      `json:"type"` // "rbtree", "radix", "xarray" or "maple"
	Entries []TreeEntry `json:"entries"`
	// Warnings are child pointers of a red-black tree that could not be
	// followed ("rb_node: ADDR: corrupted rb_left pointer: ADDR").
	Warnings []string `json:"warnings,omitempty"`

	positions bool
}

// TreeEntry is one entry of a tree: the structure's address (rbtree) or
// the pointer stored (the others), where it sits, and -s/-S's data.
type TreeEntry struct {
	Address Hex `json:"address"`
	// Position is "root/l/r" (rbtree), or the slot path with the slot
	// last ("root/1/28", XArray, radix and maple trees).
	Position string `json:"position"`
	// Index is the entry's index (XArray, radix tree); for a maple tree,
	// its ordinal from 1, as crash's -p shows it.
	Index *uint64 `json:"index,omitempty"`
	// First and Last are the range a maple tree entry covers.
	First *Hex       `json:"first,omitempty"`
	Last  *Hex       `json:"last,omitempty"`
	Data  *EntryData `json:"data,omitempty"`
}

func (r *TreeResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, e := range r.Entries {
		tw.printf("%x\n", uint64(e.Address))
		if r.positions {
			if e.Index != nil {
				tw.printf("  index: %d  position: %s\n", *e.Index, e.Position)
			} else {
				tw.printf("  position: %s\n", e.Position)
			}
		}
		if tw.err == nil && e.Data != nil {
			tw.err = e.Data.Text(w)
		}
	}
	for _, wn := range r.Warnings {
		tw.println("tree: " + wn)
	}
	return tw.err
}

// memberSizes answers member sizes from the DWARF/BTF types.
type memberSizes struct{ ts *symbols.Types }

func (m memberSizes) MemberSize(structName, member string) (int64, error) {
	t, err := lookupDataType(m.ts, structName)
	if err != nil {
		return 0, err
	}
	mm, err := t.MemberPath(member)
	if err != nil {
		return 0, err
	}
	return mm.Type.Sizeof(), nil
}

func runTree(ctx context.Context, s *Session, a *Args) (Result, error) {
	typ := "rbtree"
	if v, ok := a.Value("t"); ok {
		switch {
		case strings.HasPrefix(v, "ra"):
			typ = "radix"
		case strings.HasPrefix(v, "rb"):
			typ = "rbtree"
		case strings.HasPrefix(v, "x"):
			typ = "xarray"
		case strings.HasPrefix(v, "m"):
			typ = "maple"
		default:
			return nil, &UsageError{"invalid tree type: " + v}
		}
	}
	if a.Has("s") && a.Has("S") {
		return nil, &UsageError{"-S and -s options are mutually exclusive"}
	}
	if a.Has("x") && a.Has("d") {
		return nil, &UsageError{"-d and -x are mutually exclusive"}
	}
	names := map[string]string{"radix": "radix trees", "xarray": "Xarrays", "maple": "maple trees"}
	if typ != "rbtree" && a.Has("l") {
		return nil, fmt.Errorf("-l option is not applicable to %s", names[typ])
	}
	if typ != "rbtree" && a.Has("o") {
		return nil, fmt.Errorf("-o option is not applicable to %s", names[typ])
	}
	if a.Has("r") && a.Has("N") {
		return nil, fmt.Errorf("-r and -N options are mutually exclusive")
	}
	var rootOff, nodeOff int64
	if v, ok := a.Value("r"); ok {
		n, ok := offsetArg(s, v)
		if !ok {
			return nil, fmt.Errorf("invalid -r argument: %s", v)
		}
		rootOff = n
	}
	if v, ok := a.Value("o"); ok {
		n, ok := offsetArg(s, v)
		if !ok {
			return nil, fmt.Errorf("invalid -o argument: %s", v)
		}
		nodeOff = n
	}
	if len(a.Words) == 0 {
		return nil, &UsageError{"a starting address is required"}
	}
	if len(a.Words) > 1 {
		return nil, &UsageError{"too many arguments entered"}
	}
	start, err := parseAddress(s, a.Words[0])
	if err != nil || !s.isKernelAddr(start) {
		return nil, fmt.Errorf("invalid start argument: %s", a.Words[0])
	}
	node := a.Has("N")
	if !node {
		start += uint64(rootOff)
	}
	disp, err := newEntryDisplay(s, append(a.Values("s"), a.Values("S")...), a.Last("x", "d") == "x", a.Has("S"))
	if err != nil {
		return nil, err
	}
	res := &TreeResult{Type: typ, Entries: []TreeEntry{}, positions: a.Has("p")}
	add := func(e TreeEntry, dataAt uint64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if disp != nil {
			d, err := disp.gather(s, dataAt)
			e.Data = d
			if err != nil {
				res.Entries = append(res.Entries, e)
				return err
			}
		}
		res.Entries = append(res.Entries, e)
		return nil
	}
	switch typ {
	case "rbtree":
		t, err := kernel.NewRBTree(s.Kernel, s.Kernel.TypeLayout)
		if err != nil {
			return nil, err
		}
		root := start
		if !node {
			if root, err = t.RootNode(start); err != nil {
				return nil, readError(start, "rb_root rb_node", err)
			}
		}
		nodes, warns, werr := t.Walk(kernel.RBWalk{Root: root, Linear: a.Has("l")})
		for _, wn := range warns {
			res.Warnings = append(res.Warnings, fmt.Sprintf("rb_node: %x: corrupted %s pointer: %x", wn.Node, wn.Side, wn.Child))
		}
		for _, n := range nodes {
			addr := n.Node - uint64(nodeOff)
			if err := add(TreeEntry{Address: Hex(addr), Position: n.Position}, addr); err != nil {
				return res, err
			}
		}
		return res, werr
	case "radix", "xarray":
		ts, err := s.types()
		if err != nil {
			return nil, err
		}
		x, err := kernel.NewXArray(s.Kernel, s.Kernel.TypeLayout, memberSizes{ts}, typ == "radix")
		if err != nil {
			return nil, err
		}
		head := start
		if !node {
			if head, err = x.Head(start); err != nil {
				return nil, readError(start, "xarray xa_head", err)
			}
		}
		mask := x.ChunkSize() - 1
		werr := x.Walk(head, node, func(e kernel.XAEntry) error {
			idx := e.Index
			return add(TreeEntry{Address: Hex(e.Value), Position: fmt.Sprintf("%s/%d", e.Path, e.Index&mask), Index: &idx}, e.Value)
		})
		return res, werr
	default:
		t, err := kernel.NewMapleTree(s.Kernel, s.Kernel.TypeLayout)
		if err != nil {
			return nil, err
		}
		root := start
		if !node {
			if root, err = t.RootEntry(start); err != nil {
				return nil, readError(start, "maple_tree ma_root", err)
			}
		}
		werr := t.Walk(root, node, func(e kernel.MaplePosEntry) error {
			ord := uint64(e.Ordinal)
			first, last := Hex(e.First), Hex(e.Last)
			return add(TreeEntry{Address: Hex(e.Value), Position: fmt.Sprintf("%s/%d", e.Path, e.Slot), Index: &ord, First: &first, Last: &last}, e.Value)
		})
		return res, werr
	}
}
