package kernel

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/symbols"
)

// fakeVFS is a little memory of dentries, mounts and rb_nodes built by a
// test, with made-up layouts.
type fakeVFS struct {
	mem  map[uint64][]byte // 256-byte objects by address
	next uint64
}

func newFakeVFS() *fakeVFS { return &fakeVFS{mem: map[uint64][]byte{}, next: 0xffff888000100000} }

func (f *fakeVFS) alloc() uint64 {
	a := f.next
	f.next += 0x100
	f.mem[a] = make([]byte, 0x100)
	return a
}

func (f *fakeVFS) put64(addr, v uint64) {
	binary.LittleEndian.PutUint64(f.mem[addr&^0xff][addr&0xff:], v)
}

func (f *fakeVFS) ReadVirt(p []byte, addr uint64) error {
	b, ok := f.mem[addr&^0xff]
	if !ok || int(addr&0xff)+len(p) > len(b) {
		return fmt.Errorf("no memory at %x", addr)
	}
	copy(p, b[addr&0xff:])
	return nil
}
func (f *fakeVFS) ReadU64(a uint64) (uint64, error) {
	var b [8]byte
	err := f.ReadVirt(b[:], a)
	return binary.LittleEndian.Uint64(b[:]), err
}
func (f *fakeVFS) ReadU32(a uint64) (uint32, error) {
	var b [4]byte
	err := f.ReadVirt(b[:], a)
	return binary.LittleEndian.Uint32(b[:]), err
}
func (f *fakeVFS) ReadU16(a uint64) (uint16, error) {
	var b [2]byte
	err := f.ReadVirt(b[:], a)
	return binary.LittleEndian.Uint16(b[:]), err
}
func (f *fakeVFS) ReadCString(a uint64, max int) (string, error) {
	b := make([]byte, max)
	for i := range b {
		if err := f.ReadVirt(b[i:i+1], a+uint64(i)); err != nil {
			return "", err
		}
		if b[i] == 0 {
			return string(b[:i]), nil
		}
	}
	return string(b), nil
}
func (f *fakeVFS) ByteOrder() binary.ByteOrder { return binary.LittleEndian }

// fakeVFSLayout: dentry {d_parent 0x08, d_name 0x20 (qstr: len 0x04, name
// 0x08)}; mount {mnt_parent 0x10, mnt_mountpoint 0x18, mnt 0x20};
// rb_node {rb_right 0x08, rb_left 0x10}.
type fakeVFSLayout struct{}

func (fakeVFSLayout) Offset(s, m string) (int64, error) {
	if o, ok := map[string]int64{
		"dentry.d_parent": 0x08, "dentry.d_name": 0x20, "qstr.len": 0x04, "qstr.name": 0x08,
		"mount.mnt_parent": 0x10, "mount.mnt_mountpoint": 0x18, "mount.mnt": 0x20,
		"rb_node.rb_right": 0x08, "rb_node.rb_left": 0x10,
	}[s+"."+m]; ok {
		return o, nil
	}
	return 0, &symbols.MissingError{What: s + "." + m}
}
func (fakeVFSLayout) Size(s string) (int64, error) { return 0, &symbols.MissingError{What: s} }

// dentry makes a dentry named name under parent (0: its own parent).
func (f *fakeVFS) dentry(name string, parent uint64) uint64 {
	d := f.alloc()
	if parent == 0 {
		parent = d
	}
	f.put64(d+0x08, parent)
	binary.LittleEndian.PutUint32(f.mem[d][0x24:], uint32(len(name)))
	f.put64(d+0x28, d+0x80) // the name inline, at 0x80
	copy(f.mem[d][0x80:], name)
	return d
}

// mount makes a struct mount mounted on mountpoint in parent (0: the
// namespace's root, its own parent) and returns its vfsmount.
func (f *fakeVFS) mount(parent, mountpoint uint64) uint64 {
	m := f.alloc()
	if parent == 0 {
		parent = m
	} else {
		parent -= 0x20
	}
	f.put64(m+0x10, parent)
	f.put64(m+0x18, mountpoint)
	return m + 0x20
}

func TestDPath(t *testing.T) {
	f := newFakeVFS()
	root := f.dentry("/", 0)
	rootMnt := f.mount(0, root)
	dev := f.dentry("dev", root)
	tmp := f.dentry("tmp", root)
	initD := f.dentry("init", root)
	devRoot := f.dentry("/", 0)
	devMnt := f.mount(rootMnt, dev)
	console := f.dentry("console", devRoot)
	pts := f.dentry("pts", devRoot)
	ptsRoot := f.dentry("/", 0)
	ptsMnt := f.mount(devMnt, pts)
	pty := f.dentry("0", ptsRoot)
	tmpRoot := f.dentry("/", 0)
	tmpMnt := f.mount(rootMnt, tmp)
	out := f.dentry("fdholder.out", tmpRoot)
	pipe := f.dentry("", 0)
	for _, c := range []struct {
		dentry, mnt uint64
		want        string
	}{
		{root, rootMnt, "/"},
		{initD, rootMnt, "/init"},
		{console, devMnt, "/dev/console"},
		{console, 0, "/console"}, // without the mount: up to its file system's root
		{pty, ptsMnt, "/dev/pts/0"},
		{out, tmpMnt, "/tmp/fdholder.out"},
		{tmpRoot, tmpMnt, "/tmp/"}, // a mount's root, as crash writes it
		{dev, rootMnt, "/dev"},     // the mount point itself, in the parent mount
		{pipe, 0, ""},              // no name
	} {
		got, err := dPath(f, fakeVFSLayout{}, c.dentry, c.mnt)
		if err != nil || got != c.want {
			t.Errorf("dPath(%x, %x) = %q, %v; want %q", c.dentry, c.mnt, got, err, c.want)
		}
	}
	// A dentry whose parent chain loops never ends on its own.
	a := f.dentry("a", 0)
	b := f.dentry("b", a)
	f.put64(a+0x08, b)
	if _, err := dPath(f, fakeVFSLayout{}, b, 0); err == nil {
		t.Error("dPath of a looping parent chain: no error")
	}
	// An unreadable dentry is an error, not a panic.
	if _, err := dPath(f, fakeVFSLayout{}, 0xdead0000, 0); err == nil {
		t.Error("dPath of unmapped memory: no error")
	}
}

func TestRBTreeInOrder(t *testing.T) {
	f := newFakeVFS()
	k := &FileSystem{Reader: f, Layout: fakeVFSLayout{}}
	n, link, rootHolder := sixNodeTree(f)
	got, err := k.RBTree(rootHolder)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(n) {
		t.Errorf("in order %x, want %x", got, n)
	}
	// A cycle is reported.
	link(n[5], n[3], 0)
	if _, err := k.RBTree(rootHolder); err == nil {
		t.Error("a tree with a cycle: no error")
	}
}
