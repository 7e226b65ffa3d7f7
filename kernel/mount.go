package kernel

import (
	"errors"
	"fmt"
)

// Mount is one mounted file system of a mount namespace (a struct mount,
// which embeds the vfsmount the rest of the kernel passes around).
type Mount struct {
	Addr       uint64 // struct mount
	VFSMount   uint64 // &mount->mnt
	SB         uint64 // mnt.mnt_sb
	Root       uint64 // mnt.mnt_root: the dentry mounted
	Parent     uint64 // mnt_parent (itself for the namespace's root)
	Mountpoint uint64 // mnt_mountpoint: the dentry it is mounted on
	Type       string // mnt_sb->s_type->name
	DevName    string // mnt_devname
	Dir        string // d_path of the mount point in the parent mount
}

// Mounts returns the mounts of the mount namespace ns (see TaskNamespace)
// in the kernel's order: from the namespace's root mount along
// mnt_namespace.list (mount.mnt_list), or, on kernels that keep the
// namespace's mounts in a red-black tree (mnt_namespace.mounts,
// mount.mnt_node; 6.8+), in the tree's order (mount id).
func (k *FileSystem) Mounts(ns uint64) ([]Mount, error) {
	var addrs []uint64
	var bad UnreadableObjectsError
	listOff, err := optionalOffset(k, "mnt_namespace", "list")
	if err != nil {
		return nil, err
	}
	if listOff >= 0 {
		rootOff, err := k.Offset("mnt_namespace", "root")
		if err != nil {
			return nil, err
		}
		ml, err := k.Offset("mount", "mnt_list")
		if err != nil {
			return nil, err
		}
		root, err := k.ReadU64(ns + uint64(rootOff))
		if err != nil {
			return nil, fmt.Errorf("mnt_namespace %x: %w", ns, err)
		}
		head := ns + uint64(listOff)
		// As crash walks it: from the root mount's list node round to
		// the namespace's list head.
		node := root + uint64(ml)
		seen := map[uint64]bool{}
		for node != head {
			if node == 0 || seen[node] || len(seen) > maxListLen {
				return nil, fmt.Errorf("mnt_namespace %x: corrupt mount list at %x", ns, node)
			}
			seen[node] = true
			addrs = append(addrs, node-uint64(ml))
			if node, err = k.ReadU64(node); err != nil {
				return nil, fmt.Errorf("mnt_namespace %x mount list: %w", ns, err)
			}
		}
	} else {
		mounts, err := k.Offset("mnt_namespace", "mounts")
		if err != nil {
			return nil, fmt.Errorf("mnt_namespace has neither list nor mounts: %w", err)
		}
		node, err := k.Offset("mount", "mnt_node")
		if err != nil {
			return nil, err
		}
		nodes, err := k.RBTree(ns + uint64(mounts))
		var skipped UnreadableObjectsError
		if errors.As(err, &skipped) && len(nodes) > 0 {
			// Each subtree left out is one line; the rest is read.
			for _, e := range skipped {
				bad = append(bad, fmt.Errorf("mnt_namespace %x mounts: %w", ns, e))
			}
		} else if err != nil {
			return nil, fmt.Errorf("mnt_namespace %x mounts: %w", ns, err)
		}
		for _, n := range nodes {
			addrs = append(addrs, n-uint64(node))
		}
	}
	// A mount that cannot be read costs that mount; a mount point whose
	// path cannot be read costs its path (Dir is left empty).
	out := make([]Mount, 0, len(addrs))
	for _, a := range addrs {
		m, err := k.ReadMount(a)
		var pe *mountPathError
		if errors.As(err, &pe) {
			out = append(out, m)
		}
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, m)
	}
	if len(bad) > 0 {
		return out, bad
	}
	return out, nil
}

// mountPathError is a mount whose mount point's path could not be read.
type mountPathError struct {
	mount uint64
	err   error
}

func (e *mountPathError) Error() string { return fmt.Sprintf("mount %x path: %v", e.mount, e.err) }
func (e *mountPathError) Unwrap() error { return e.err }

// ReadMount reads the struct mount at addr.
func (k *FileSystem) ReadMount(addr uint64) (Mount, error) {
	m := Mount{Addr: addr}
	offs := map[string]int64{}
	for _, f := range []struct{ typ, member string }{
		{"mount", "mnt"}, {"mount", "mnt_parent"}, {"mount", "mnt_mountpoint"}, {"mount", "mnt_devname"},
		{"vfsmount", "mnt_sb"}, {"vfsmount", "mnt_root"}, {"super_block", "s_type"}, {"file_system_type", "name"},
	} {
		off, err := k.Offset(f.typ, f.member)
		if err != nil {
			return m, err
		}
		offs[f.typ+"."+f.member] = off
	}
	m.VFSMount = addr + uint64(offs["mount.mnt"])
	var err error
	read := func(a uint64) uint64 {
		v, e := k.ReadU64(a)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	m.Parent = read(addr + uint64(offs["mount.mnt_parent"]))
	m.Mountpoint = read(addr + uint64(offs["mount.mnt_mountpoint"]))
	dev := read(addr + uint64(offs["mount.mnt_devname"]))
	m.SB = read(m.VFSMount + uint64(offs["vfsmount.mnt_sb"]))
	m.Root = read(m.VFSMount + uint64(offs["vfsmount.mnt_root"]))
	if err != nil {
		return m, fmt.Errorf("mount %x: %w", addr, err)
	}
	if dev != 0 {
		if m.DevName, err = k.ReadCString(dev, 256); err != nil {
			return m, fmt.Errorf("mount %x devname: %w", addr, err)
		}
	}
	if m.SB != 0 {
		typ := read(m.SB + uint64(offs["super_block.s_type"]))
		var name uint64
		if typ != 0 {
			name = read(typ + uint64(offs["file_system_type.name"]))
		}
		if err != nil {
			return m, fmt.Errorf("mount %x super_block %x: %w", addr, m.SB, err)
		}
		if name != 0 {
			if m.Type, err = k.ReadCString(name, 64); err != nil {
				return m, fmt.Errorf("mount %x type name: %w", addr, err)
			}
		}
	}
	if m.Parent != 0 {
		if m.Dir, err = k.DPath(m.Mountpoint, m.Parent+uint64(offs["mount.mnt"])); err != nil {
			m.Dir = ""
			return m, &mountPathError{addr, err}
		}
	}
	return m, nil
}

// RBTree returns the nodes (struct rb_node addresses) of the red-black
// tree whose struct rb_root is at root, in order (leftmost first). A node
// that cannot be read costs its subtree: the walk goes on with the rest,
// and the UnreadableObjectsError returned beside the nodes names each
// node left out ("rb_node ADDR (rb_left of PARENT): REASON"). A node met
// twice or a tree larger than any the kernel builds ends the walk.
func (k *FileSystem) RBTree(root uint64) ([]uint64, error) {
	left, err := k.Offset("rb_node", "rb_left")
	if err != nil {
		return nil, err
	}
	right, err := k.Offset("rb_node", "rb_right")
	if err != nil {
		return nil, err
	}
	top, err := k.ReadU64(root) // rb_root.rb_node
	if err != nil {
		return nil, err
	}
	var out []uint64
	var bad UnreadableObjectsError
	seen := map[uint64]bool{}
	// child reads node's child pointer at off: 0 for none, or for one
	// whose own pointers cannot be read (named in bad).
	child := func(node uint64, off int64, side string) uint64 {
		c, err := k.ReadU64(node + uint64(off))
		if err != nil {
			bad = append(bad, fmt.Errorf("rb_node %x %s: %w", node, side, err))
			return 0
		}
		if c == 0 {
			return 0
		}
		if _, err = k.ReadU64(c + uint64(left)); err == nil {
			_, err = k.ReadU64(c + uint64(right))
		}
		if err != nil {
			bad = append(bad, fmt.Errorf("rb_node %x (%s of %x): %w", c, side, node, err))
			return 0
		}
		return c
	}
	var visit func(n uint64) error
	visit = func(n uint64) error {
		for n != 0 {
			if seen[n] || len(seen) > maxListLen {
				return fmt.Errorf("corrupt rb-tree at %x", n)
			}
			seen[n] = true
			if err := visit(child(n, left, "rb_left")); err != nil {
				return err
			}
			out = append(out, n)
			n = child(n, right, "rb_right")
		}
		return nil
	}
	if top != 0 {
		if _, err := k.ReadU64(top + uint64(left)); err != nil {
			return nil, fmt.Errorf("rb_node %x: %w", top, err)
		}
	}
	return out, bad.or(visit(top))
}
