package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// FileSystem reads the kernel's VFS objects: tasks' open files, root and
// working directories, dentries, inodes, mounts and swap devices, over a
// Reader, a Layout and Symbols.
type FileSystem struct {
	Reader
	Layout
	Symbols
}

// NewFileSystem reads the VFS through r, l and s.
func NewFileSystem(r Reader, l Layout, s Symbols) *FileSystem {
	return &FileSystem{Reader: r, Layout: l, Symbols: s}
}

// Inode is what gocrash reads of a struct inode.
type Inode struct {
	Addr    uint64
	Mode    uint32 // i_mode: the file type (S_IFMT bits) and permissions
	SB      uint64 // i_sb
	Mapping uint64 // i_mapping (an address_space)
	NrPages uint64 // i_mapping->nrpages: its pages in the page cache
	Pipe    bool   // i_op is pipe_inode_operations (an anonymous pipe)
}

// The S_IFMT file types of an inode's mode.
const (
	SIFMT   = 0o170000
	SIFSOCK = 0o140000
	SIFLNK  = 0o120000
	SIFREG  = 0o100000
	SIFBLK  = 0o060000
	SIFDIR  = 0o040000
	SIFCHR  = 0o020000
	SIFIFO  = 0o010000
)

// ReadInode reads the inode at addr.
func (k *FileSystem) ReadInode(addr uint64) (Inode, error) {
	in := Inode{Addr: addr}
	mode, err := k.Offset("inode", "i_mode")
	if err != nil {
		return in, err
	}
	m, err := k.ReadU16(addr + uint64(mode))
	if err != nil {
		return in, fmt.Errorf("inode %x: %w", addr, err)
	}
	in.Mode = uint32(m)
	for _, f := range []struct {
		member string
		dst    *uint64
	}{{"i_sb", &in.SB}, {"i_mapping", &in.Mapping}} {
		off, err := k.Offset("inode", f.member)
		if err != nil {
			return in, err
		}
		if *f.dst, err = k.ReadU64(addr + uint64(off)); err != nil {
			return in, fmt.Errorf("inode %x: %w", addr, err)
		}
	}
	if in.Mode&SIFMT == SIFIFO {
		if pipeOps, err := k.SymbolAddr("pipe_inode_operations"); err == nil {
			off, err := k.Offset("inode", "i_op")
			if err != nil {
				return in, err
			}
			op, err := k.ReadU64(addr + uint64(off))
			if err != nil {
				return in, fmt.Errorf("inode %x: %w", addr, err)
			}
			in.Pipe = op == pipeOps
		}
	}
	if in.Mapping != 0 {
		off, err := k.Offset("address_space", "nrpages")
		if err != nil {
			return in, err
		}
		if in.NrPages, err = k.ReadU64(in.Mapping + uint64(off)); err != nil {
			return in, fmt.Errorf("inode %x i_mapping %x: %w", addr, in.Mapping, err)
		}
	}
	return in, nil
}

// DentryInode returns dentry->d_inode (0 for a negative dentry).
func (k *FileSystem) DentryInode(dentry uint64) (uint64, error) {
	off, err := k.Offset("dentry", "d_inode")
	if err != nil {
		return 0, err
	}
	v, err := k.ReadU64(dentry + uint64(off))
	if err != nil {
		return 0, fmt.Errorf("dentry %x: %w", dentry, err)
	}
	return v, nil
}

// DentrySB returns dentry->d_sb.
func (k *FileSystem) DentrySB(dentry uint64) (uint64, error) {
	off, err := k.Offset("dentry", "d_sb")
	if err != nil {
		return 0, err
	}
	return k.ReadU64(dentry + uint64(off))
}

// DPath is the full path of dentry seen through the vfsmount vfsmnt, as
// crash builds it (see dPath); vfsmnt 0 stops at the root of the
// dentry's file system.
func (k *FileSystem) DPath(dentry, vfsmnt uint64) (string, error) {
	return dPath(k, k, dentry, vfsmnt)
}

// OpenFile is one open file descriptor of a task.
type OpenFile struct {
	FD     int
	File   uint64 // struct file
	Dentry uint64 // file->f_path.dentry
	VFSMnt uint64 // file->f_path.mnt
	Inode  uint64 // dentry->d_inode, 0 when there is none
	Path   string // d_path over the mounts
	Info   Inode  // the inode, when there is one
	Err    error  // what could not be read of this file
}

// TaskFiles is a task's file system context: its root and working
// directories (fs_struct) and its open files (files_struct's fdtable).
type TaskFiles struct {
	FS         uint64 // fs_struct, 0 for an exited task
	RootDentry uint64
	RootMnt    uint64
	Root       string
	CwdDentry  uint64
	CwdMnt     uint64
	Cwd        string
	Files      uint64 // files_struct, 0 for an exited task
	Fdtable    uint64
	MaxFDs     int
	Open       []OpenFile // by descriptor
}

// TaskFiles reads task's root, working directory and open files. An open
// file that cannot be read has its Err set; the walk goes on.
func (k *FileSystem) TaskFiles(task uint64) (TaskFiles, error) {
	var tf TaskFiles
	fsOff, err := k.Offset("task_struct", "fs")
	if err != nil {
		return tf, err
	}
	if tf.FS, err = k.ReadU64(task + uint64(fsOff)); err != nil {
		return tf, fmt.Errorf("task %x: %w", task, err)
	}
	if tf.FS != 0 {
		pd, err := k.Offset("path", "dentry")
		if err != nil {
			return tf, err
		}
		pm, err := k.Offset("path", "mnt")
		if err != nil {
			return tf, err
		}
		for _, f := range []struct {
			member         string
			dentry, vfsmnt *uint64
			path           *string
		}{{"root", &tf.RootDentry, &tf.RootMnt, &tf.Root}, {"pwd", &tf.CwdDentry, &tf.CwdMnt, &tf.Cwd}} {
			off, err := k.Offset("fs_struct", f.member)
			if err != nil {
				return tf, err
			}
			p := tf.FS + uint64(off)
			if *f.dentry, err = k.ReadU64(p + uint64(pd)); err != nil {
				return tf, fmt.Errorf("fs_struct %x: %w", tf.FS, err)
			}
			if *f.vfsmnt, err = k.ReadU64(p + uint64(pm)); err != nil {
				return tf, fmt.Errorf("fs_struct %x: %w", tf.FS, err)
			}
			if *f.path, err = k.DPath(*f.dentry, *f.vfsmnt); err != nil {
				return tf, err
			}
		}
	}
	filesOff, err := k.Offset("task_struct", "files")
	if err != nil {
		return tf, err
	}
	if tf.Files, err = k.ReadU64(task + uint64(filesOff)); err != nil || tf.Files == 0 {
		return tf, err
	}
	fdtOff, err := k.Offset("files_struct", "fdt")
	if err != nil {
		return tf, err
	}
	if tf.Fdtable, err = k.ReadU64(tf.Files + uint64(fdtOff)); err != nil || tf.Fdtable == 0 {
		return tf, err
	}
	var offs [3]int64
	for i, m := range []string{"max_fds", "fd", "open_fds"} {
		if offs[i], err = k.Offset("fdtable", m); err != nil {
			return tf, err
		}
	}
	maxFDs, err := k.ReadU32(tf.Fdtable + uint64(offs[0]))
	if err != nil {
		return tf, fmt.Errorf("fdtable %x: %w", tf.Fdtable, err)
	}
	if maxFDs > 1<<20 {
		return tf, fmt.Errorf("fdtable %x: max_fds %d is not believable", tf.Fdtable, maxFDs)
	}
	tf.MaxFDs = int(maxFDs)
	fdArr, err := k.ReadU64(tf.Fdtable + uint64(offs[1]))
	if err != nil {
		return tf, fmt.Errorf("fdtable %x: %w", tf.Fdtable, err)
	}
	openFDs, err := k.ReadU64(tf.Fdtable + uint64(offs[2]))
	if err != nil {
		return tf, fmt.Errorf("fdtable %x: %w", tf.Fdtable, err)
	}
	if fdArr == 0 || openFDs == 0 || maxFDs == 0 {
		return tf, nil
	}
	bits := make([]byte, (maxFDs+63)/64*8)
	if err := k.ReadVirt(bits, openFDs); err != nil {
		return tf, fmt.Errorf("fdtable %x open_fds: %w", tf.Fdtable, err)
	}
	order := k.ByteOrder()
	for w := 0; w*64 < int(maxFDs); w++ {
		set := order.Uint64(bits[w*8:])
		for b := 0; set != 0 && b < 64; b, set = b+1, set>>1 {
			if set&1 == 0 {
				continue
			}
			fd := w*64 + b
			file, err := k.ReadU64(fdArr + uint64(fd)*8)
			if err != nil {
				return tf, fmt.Errorf("fdtable %x fd %d: %w", tf.Fdtable, fd, err)
			}
			if file == 0 {
				continue
			}
			tf.Open = append(tf.Open, k.openFile(fd, file))
		}
	}
	return tf, nil
}

// openFile reads one open file.
func (k *FileSystem) openFile(fd int, file uint64) OpenFile {
	of := OpenFile{FD: fd, File: file}
	if of.Dentry, of.VFSMnt, of.Err = fileDentry(k, k, file); of.Err != nil || of.Dentry == 0 {
		return of
	}
	if of.Inode, of.Err = k.DentryInode(of.Dentry); of.Err != nil || of.Inode == 0 {
		return of
	}
	if of.Info, of.Err = k.ReadInode(of.Inode); of.Err != nil {
		return of
	}
	of.Path, of.Err = k.DPath(of.Dentry, of.VFSMnt)
	return of
}

// TaskNamespace returns task->nsproxy->mnt_ns (0 for an exited task).
func (k *FileSystem) TaskNamespace(task uint64) (uint64, error) {
	off, err := k.Offset("task_struct", "nsproxy")
	if err != nil {
		return 0, err
	}
	ns, err := k.ReadU64(task + uint64(off))
	if err != nil || ns == 0 {
		return 0, err
	}
	mo, err := k.Offset("nsproxy", "mnt_ns")
	if err != nil {
		return 0, err
	}
	return k.ReadU64(ns + uint64(mo))
}

// optionalOffset is a member's offset, -1 when the kernel lacks it.
func optionalOffset(l Layout, typ, member string) (int64, error) {
	off, err := l.Offset(typ, member)
	if symbols.IsMissing(err) {
		return -1, nil
	}
	return off, err
}

// xaChunk is XA_CHUNK_SIZE, the slots of an xa_node (64 unless the kernel
// is built with CONFIG_BASE_SMALL).
const xaChunk = 64

// PageCache returns the struct pages in the page cache of the
// address_space mapping (mapping->i_pages, an XArray), in index order.
// Value entries (workingset shadows of evicted pages) are not pages and
// are left out.
func (k *FileSystem) PageCache(mapping uint64) ([]uint64, error) {
	ip, err := k.Offset("address_space", "i_pages")
	if err != nil {
		return nil, err
	}
	head, err := k.Offset("xarray", "xa_head")
	if err != nil {
		return nil, err
	}
	slots, err := k.Offset("xa_node", "slots")
	if err != nil {
		return nil, err
	}
	entry, err := k.ReadU64(mapping + uint64(ip+head))
	if err != nil {
		return nil, fmt.Errorf("address_space %x: %w", mapping, err)
	}
	var out []uint64
	seen := map[uint64]bool{}
	var walk func(e uint64, depth int) error
	walk = func(e uint64, depth int) error {
		switch {
		case e == 0 || e&1 == 1: // empty, or a value entry
			return nil
		case e&3 == 2 && e > 4096: // an internal entry: a node
			node := e - 2
			if seen[node] || depth > 16 || len(seen) > maxListLen {
				return fmt.Errorf("address_space %x: corrupt xarray at node %x", mapping, node)
			}
			seen[node] = true
			buf := make([]byte, xaChunk*8)
			if err := k.ReadVirt(buf, node+uint64(slots)); err != nil {
				return fmt.Errorf("xa_node %x: %w", node, err)
			}
			for i := range xaChunk {
				if err := walk(k.ByteOrder().Uint64(buf[i*8:]), depth+1); err != nil {
					return err
				}
			}
			return nil
		case e&3 == 2: // a retry or sibling entry
			return nil
		}
		out = append(out, e)
		return nil
	}
	return out, walk(entry, 0)
}
