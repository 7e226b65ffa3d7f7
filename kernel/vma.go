package kernel

import (
	"fmt"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// VMA is one vm_area_struct of a user address space: [Start, End) mapped
// with Flags (vm_flags), from the file File (0: anonymous memory) at page
// offset PgOff.
type VMA struct {
	Addr       uint64 // the vm_area_struct
	Start, End uint64
	Flags      uint64
	File       uint64 // struct file, 0 for anonymous memory
	PgOff      uint64 // vm_pgoff: the file offset of Start, in pages
	Path       string // the file's path (see FilePath), "" when anonymous
}

// vmaLayout is where vm_area_struct keeps what VMA shows.
type vmaLayout struct {
	start, end, flags, file, pgoff int64
}

func (k *UserSpace) vmaLayout() (vmaLayout, error) {
	var l vmaLayout
	for _, f := range []struct {
		member string
		dst    *int64
	}{{"vm_start", &l.start}, {"vm_end", &l.end}, {"vm_flags", &l.flags}, {"vm_file", &l.file}, {"vm_pgoff", &l.pgoff}} {
		off, err := k.Offset("vm_area_struct", f.member)
		if err != nil {
			return l, err
		}
		*f.dst = off
	}
	return l, nil
}

// readVMA reads the vm_area_struct at addr (without its file's path).
func (k *UserSpace) readVMA(l vmaLayout, addr uint64) (VMA, error) {
	v := VMA{Addr: addr}
	for _, f := range []struct {
		off int64
		dst *uint64
	}{{l.start, &v.Start}, {l.end, &v.End}, {l.flags, &v.Flags}, {l.file, &v.File}, {l.pgoff, &v.PgOff}} {
		x, err := k.ReadU64(addr + uint64(f.off))
		if err != nil {
			return v, fmt.Errorf("vm_area_struct %x: %w", addr, err)
		}
		*f.dst = x
	}
	if v.End <= v.Start {
		return v, fmt.Errorf("vm_area_struct %x: end %x is not above start %x", addr, v.End, v.Start)
	}
	return v, nil
}

// TaskMM returns task's mm_struct, 0 for a kernel thread or an exited task.
func (k *UserSpace) TaskMM(task uint64) (uint64, error) {
	off, err := k.Offset("task_struct", "mm")
	if err != nil {
		return 0, err
	}
	return k.ReadU64(task + uint64(off))
}

// mapleLayout reads the maple node layouts from the kernel's types.
func (k *UserSpace) mapleLayout() (MapleLayout, error) { return mapleLayoutOf(k.Layout) }

// vmaSource is how an mm_struct keeps its VMAs: a maple tree (mm_mt, 6.1+)
// or the list from mm->mmap linked by vm_next.
type vmaSource struct {
	k      *UserSpace
	lay    vmaLayout
	maple  *mapleReader
	mtRoot int64 // offset of mm_mt.ma_root in mm_struct
	mmap   int64 // offset of mmap in mm_struct
	next   int64 // offset of vm_next in vm_area_struct
}

func (k *UserSpace) vmaSource() (*vmaSource, error) {
	lay, err := k.vmaLayout()
	if err != nil {
		return nil, err
	}
	s := &vmaSource{k: k, lay: lay}
	mt, err := k.Offset("mm_struct", "mm_mt")
	if err != nil && !symbols.IsMissing(err) {
		return nil, err
	}
	if err == nil {
		root, err := k.Offset("maple_tree", "ma_root")
		if err != nil {
			return nil, err
		}
		ml, err := k.mapleLayout()
		if err != nil {
			return nil, err
		}
		s.mtRoot = mt + root
		s.maple = &mapleReader{read: func(p []byte, a uint64) error { return k.ReadVirt(p, a) }, order: k.ByteOrder(), lay: ml}
		return s, nil
	}
	if s.mmap, err = k.Offset("mm_struct", "mmap"); err != nil {
		return nil, fmt.Errorf("mm_struct has neither mm_mt nor mmap: %w", err)
	}
	if s.next, err = k.Offset("vm_area_struct", "vm_next"); err != nil {
		return nil, err
	}
	return s, nil
}

// each calls fn with each VMA of mm in address order; fn returns false to
// stop.
func (s *vmaSource) each(mm uint64, fn func(VMA) bool) error {
	k := s.k
	if s.maple != nil {
		root, err := k.ReadU64(mm + uint64(s.mtRoot))
		if err != nil {
			return fmt.Errorf("mm %x maple tree: %w", mm, err)
		}
		stop := fmt.Errorf("stop")
		err = s.maple.walk(root, func(e MapleEntry) error {
			v, err := k.readVMA(s.lay, e.Value)
			if err != nil {
				return err
			}
			if !fn(v) {
				return stop
			}
			return nil
		})
		if err == stop {
			return nil
		}
		return err
	}
	vma, err := k.ReadU64(mm + uint64(s.mmap))
	if err != nil {
		return fmt.Errorf("mm %x mmap: %w", mm, err)
	}
	seen := map[uint64]bool{}
	for ; vma != 0; vma, err = k.ReadU64(vma + uint64(s.next)) {
		if err != nil {
			return err
		}
		if seen[vma] || len(seen) > maxListLen {
			return fmt.Errorf("mm %x: corrupt VMA list at %x", mm, vma)
		}
		seen[vma] = true
		v, err := k.readVMA(s.lay, vma)
		if err != nil {
			return err
		}
		if !fn(v) {
			return nil
		}
	}
	return err
}

// VMAs returns every VMA of the address space mm, in address order, with
// their files' paths.
func (k *UserSpace) VMAs(mm uint64) ([]VMA, error) {
	s, err := k.vmaSource()
	if err != nil {
		return nil, err
	}
	var out []VMA
	var perr error
	err = s.each(mm, func(v VMA) bool {
		if v.Path, perr = k.FilePath(v.File); perr != nil {
			return false
		}
		out = append(out, v)
		return true
	})
	if err == nil {
		err = perr
	}
	return out, err
}

// FindVMA returns the VMA of task's address space that holds addr; ok is
// false when no VMA does (or the task has no address space). On a maple
// tree it descends to the one leaf; on the older list it walks the list.
func (k *UserSpace) FindVMA(task, addr uint64) (v VMA, ok bool, err error) {
	mm, err := k.TaskMM(task)
	if err != nil || mm == 0 {
		return v, false, err
	}
	s, err := k.vmaSource()
	if err != nil {
		return v, false, err
	}
	if s.maple != nil {
		root, err := k.ReadU64(mm + uint64(s.mtRoot))
		if err != nil {
			return v, false, fmt.Errorf("mm %x maple tree: %w", mm, err)
		}
		e, found, err := s.maple.load(root, addr)
		if err != nil || !found {
			return v, false, err
		}
		if v, err = k.readVMA(s.lay, e.Value); err != nil {
			return v, false, err
		}
		if addr < v.Start || addr >= v.End {
			return v, false, fmt.Errorf("maple tree range %x-%x holds vm_area_struct %x of %x-%x", e.First, e.Last, v.Addr, v.Start, v.End)
		}
	} else {
		err = s.each(mm, func(x VMA) bool {
			if addr >= x.Start && addr < x.End {
				v, ok = x, true
				return false
			}
			return true
		})
		if err != nil || !ok {
			return v, false, err
		}
	}
	v.Path, err = k.FilePath(v.File)
	return v, true, err
}

// FilePath is the path of the open file file (a struct file), as crash
// builds it: the names of the dentries from file->f_path.dentry up to the
// root of its mount, then on from the dentry the mount is mounted on in
// its parent mount, up to the root mount. 0 gives "".
func (k *UserSpace) FilePath(file uint64) (string, error) {
	if file == 0 {
		return "", nil
	}
	offs := map[string]int64{}
	for _, m := range []struct{ typ, member string }{
		{"file", "f_path"}, {"path", "dentry"}, {"path", "mnt"}, {"dentry", "d_name"}, {"dentry", "d_parent"},
		{"qstr", "len"}, {"qstr", "name"}, {"mount", "mnt"}, {"mount", "mnt_parent"}, {"mount", "mnt_mountpoint"},
	} {
		off, err := k.Offset(m.typ, m.member)
		if err != nil {
			return "", err
		}
		offs[m.typ+"."+m.member] = off
	}
	fpath := file + uint64(offs["file.f_path"])
	dentry, err := k.ReadU64(fpath + uint64(offs["path.dentry"]))
	if err != nil {
		return "", fmt.Errorf("file %x: %w", file, err)
	}
	vfsmnt, err := k.ReadU64(fpath + uint64(offs["path.mnt"]))
	if err != nil {
		return "", fmt.Errorf("file %x: %w", file, err)
	}
	var mnt uint64 // struct mount around the vfsmount
	if vfsmnt != 0 {
		mnt = vfsmnt - uint64(offs["mount.mnt"])
	}
	var names []string
	for steps := 0; dentry != 0; steps++ {
		if steps > 4096 {
			return "", fmt.Errorf("file %x: path deeper than 4096 names", file)
		}
		name := dentry + uint64(offs["dentry.d_name"])
		n, err := k.ReadU32(name + uint64(offs["qstr.len"]))
		if err != nil {
			return "", err
		}
		p, err := k.ReadU64(name + uint64(offs["qstr.name"]))
		if err != nil {
			return "", err
		}
		if n == 0 || p == 0 || n > 255 {
			break
		}
		b := make([]byte, n)
		if err := k.ReadVirt(b, p); err != nil {
			return "", fmt.Errorf("dentry %x name: %w", dentry, err)
		}
		if s := string(b); s != "/" {
			names = append(names, s)
		}
		parent, err := k.ReadU64(dentry + uint64(offs["dentry.d_parent"]))
		if err != nil {
			return "", err
		}
		if parent != dentry {
			dentry = parent
			continue
		}
		// The root of a mount: go on from its mount point in the
		// parent mount, unless this is the root mount.
		if mnt == 0 {
			break
		}
		mparent, err := k.ReadU64(mnt + uint64(offs["mount.mnt_parent"]))
		if err != nil {
			return "", err
		}
		if mparent == mnt || mparent == 0 {
			break
		}
		if dentry, err = k.ReadU64(mnt + uint64(offs["mount.mnt_mountpoint"])); err != nil {
			return "", err
		}
		mnt = mparent
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return "/" + strings.Join(names, "/"), nil
}
