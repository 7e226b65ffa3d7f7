package kernel

import "fmt"

// pathOffsets are the members a dentry's path is built from.
type pathOffsets struct {
	dName, dParent, qLen, qName int64
	mountMnt                    int64 // struct mount's embedded vfsmount
	mntParent, mntMountpoint    int64 // struct mount
}

func readPathOffsets(l Layout) (pathOffsets, error) {
	var o pathOffsets
	for _, m := range []struct {
		typ, member string
		dst         *int64
	}{
		{"dentry", "d_name", &o.dName}, {"dentry", "d_parent", &o.dParent},
		{"qstr", "len", &o.qLen}, {"qstr", "name", &o.qName},
		{"mount", "mnt", &o.mountMnt}, {"mount", "mnt_parent", &o.mntParent},
		{"mount", "mnt_mountpoint", &o.mntMountpoint},
	} {
		off, err := l.Offset(m.typ, m.member)
		if err != nil {
			return o, err
		}
		*m.dst = off
	}
	return o, nil
}

// maxPathNames bounds a path walk: a dentry chain longer than this is
// corrupt (PATH_MAX allows at most 2048 names).
const maxPathNames = 4096

// dPath is the full path of dentry, seen through the vfsmount vfsmnt (0:
// only up to the root of the dentry's own file system), as crash builds it
// (get_pathname, after the kernel's __d_path): each dentry's name, from
// dentry up its d_parent chain to the root of its mount; then from the
// dentry that mount is mounted on (mnt_mountpoint) in its parent mount
// (mnt_parent), until the mount that is its own parent. The names are
// joined with "/", the root's own name "/" giving the leading one. A
// dentry without a name (len 0: a pipe's or socket's) ends the walk, so
// those give "" or a partial path, as in crash.
func dPath(r Reader, l Layout, dentry, vfsmnt uint64) (string, error) {
	if dentry == 0 {
		return "", nil
	}
	o, err := readPathOffsets(l)
	if err != nil {
		return "", err
	}
	path := ""
	parent := dentry
	for steps := 0; ; steps++ {
		if steps > maxPathNames {
			return path, fmt.Errorf("dentry %x: path deeper than %d names", dentry, maxPathNames)
		}
		cur := parent
		n, err := r.ReadU32(cur + uint64(o.dName+o.qLen))
		if err != nil {
			return path, fmt.Errorf("dentry %x: %w", cur, err)
		}
		if n == 0 || n > 255 {
			break
		}
		p, err := r.ReadU64(cur + uint64(o.dName+o.qName))
		if err != nil {
			return path, fmt.Errorf("dentry %x: %w", cur, err)
		}
		if p == 0 {
			break
		}
		b := make([]byte, n)
		if err := r.ReadVirt(b, p); err != nil {
			return path, fmt.Errorf("dentry %x name: %w", cur, err)
		}
		name := cstr(b)
		if len(name) != int(n) {
			break // the name is not the length d_name says: stop, as crash does
		}
		switch {
		case cur == dentry:
			path = name
		case (n > 1 || name != "/") && (len(path) == 0 || path[0] != '/'):
			path = name + "/" + path
		default:
			path = name + path
		}
		if parent, err = r.ReadU64(cur + uint64(o.dParent)); err != nil {
			return path, fmt.Errorf("dentry %x: %w", cur, err)
		}
		if cur == parent && vfsmnt != 0 {
			// The root of a mount: go on from its mount point.
			if len(path) >= 2 && path[:2] == "//" {
				path = path[1:]
			}
			mnt := vfsmnt - uint64(o.mountMnt)
			if parent, err = r.ReadU64(mnt + uint64(o.mntMountpoint)); err != nil {
				return path, fmt.Errorf("mount %x: %w", mnt, err)
			}
			mp, err := r.ReadU64(mnt + uint64(o.mntParent))
			if err != nil {
				return path, fmt.Errorf("mount %x: %w", mnt, err)
			}
			if mp == mnt {
				break
			}
			vfsmnt = mp + uint64(o.mountMnt)
		}
		if cur == parent || parent == 0 {
			break
		}
	}
	return path, nil
}
