package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// CharDev is one registered character device region (struct
// char_device_struct in chrdevs[]).
type CharDev struct {
	Major, BaseMinor int
	Name             string
	Cdev, Ops        uint64 // 0 when none
}

// BlockDev is one registered block major (struct blk_major_name in
// major_names[]) and the gendisk found for it.
type BlockDev struct {
	Major        int
	Name         string
	Gendisk, Ops uint64 // 0 when none was found
}

// Devices reads the kernel's character and block device registrations.
type Devices struct{ d objDeps }

// Devices returns the reader of the kernel's device registrations.
func (k *Kernel) Devices() *Devices { return &Devices{k.objDeps()} }

// majorHash is CHRDEV_MAJOR_HASH_SIZE and BLKDEV_MAJOR_HASH_SIZE.
const majorHash = 255

// CharDevs lists chrdevs[]: each hash slot's chain in order. A region
// without a cdev of its own is looked up in cdev_map's probes by its
// first device number.
func (v *Devices) CharDevs() ([]CharDev, error) {
	o := v.d.obj()
	base := o.sym("chrdevs")
	n, err := v.d.arrayLen("chrdevs")
	if err != nil {
		n = majorHash
	}
	next := o.off("char_device_struct", "next")
	major := o.off("char_device_struct", "major")
	minor := o.off("char_device_struct", "baseminor")
	name := o.off("char_device_struct", "name")
	cdevOff := o.off("char_device_struct", "cdev")
	opsOff := o.off("cdev", "ops")
	if o.err != nil {
		return nil, o.err
	}
	nameIsArray := true
	if t, err := v.d.memberType("char_device_struct", "name"); err == nil && t.Kind == symbols.TypePointer {
		nameIsArray = false
	}
	var out []CharDev
	var bad UnreadableObjectsError
	for i := 0; i < n && o.err == nil; i++ {
		seen := map[uint64]bool{}
		head := o.u64(base + uint64(8*i))
		for cd := head; cd != 0 && !seen[cd] && o.err == nil; {
			seen[cd] = true
			// A region that cannot be read costs it and the rest of its
			// chain; a cdev that cannot be read costs its region.
			e := v.d.obj()
			c := CharDev{Major: int(int32(e.u32(cd + major))), BaseMinor: int(int32(e.u32(cd + minor)))}
			if nameIsArray {
				c.Name = e.str(cd+name, 64)
			} else {
				c.Name = e.strp(cd+name, 64)
			}
			c.Cdev = e.u64(cd + cdevOff)
			at := cd
			cd = e.u64(cd + next)
			if e.err != nil {
				bad = append(bad, fmt.Errorf("char_device_struct %x: %w", at, e.err))
				break
			}
			if c.Cdev != 0 {
				ops, err := v.d.ReadU64(c.Cdev + opsOff)
				if err != nil {
					bad = append(bad, fmt.Errorf("major %d: cdev %x: %w", c.Major, c.Cdev, err))
					continue
				}
				c.Ops = ops
			}
			if c.Ops == 0 {
				c.Cdev, c.Ops = v.probe("cdev_map", c.Major, c.BaseMinor, func(data uint64) uint64 {
					ops, err := v.d.ReadU64(data + opsOff)
					if err != nil {
						return 0
					}
					return ops
				})
			}
			out = append(out, c)
		}
	}
	if o.err != nil {
		return out, o.err
	}
	return out, bad.or(nil)
}

// probe searches a struct kobj_map (cdev_map, bdev_map) for the probe of
// major (and minor, unless negative); ops reads the operations of its
// data, and the first probe with operations is the answer.
func (v *Devices) probe(mapSym string, major, minor int, ops func(data uint64) uint64) (data, fops uint64) {
	a, err := v.d.SymbolAddr(mapSym)
	if err != nil {
		return 0, 0
	}
	o := v.d.obj()
	m := o.u64(a)
	probes := o.off("kobj_map", "probes")
	next := o.off("probe", "next")
	devOff := o.off("probe", "dev")
	dataOff := o.off("probe", "data")
	if o.err != nil || m == 0 || major < 0 || major >= majorHash {
		return 0, 0
	}
	seen := map[uint64]bool{}
	for p := o.u64(m + probes + uint64(8*major)); p != 0 && !seen[p] && o.err == nil; p = o.u64(p + next) {
		seen[p] = true
		dev := o.u32(p + devOff)
		d := o.u64(p + dataOff)
		if o.err != nil {
			break
		}
		if int(dev>>20) != major || minor >= 0 && int(dev&(1<<20-1)) != minor {
			continue
		}
		if minor >= 0 {
			// A character device's probe: the one for its first minor.
			return d, ops(d)
		}
		if d == 0 {
			continue
		}
		if f := ops(d); f != 0 {
			return d, f
		}
	}
	return 0, 0
}

// BlockDevs lists major_names[] (each hash slot's chain in order), each
// with a gendisk of that major: from bdev_map's probes (before 5.11), else
// from the block device inodes of blockdev_superblock.
func (v *Devices) BlockDevs() ([]BlockDev, error) {
	o := v.d.obj()
	base := o.sym("major_names")
	n, err := v.d.arrayLen("major_names")
	if err != nil {
		n = majorHash
	}
	next := o.off("blk_major_name", "next")
	major := o.off("blk_major_name", "major")
	name := o.off("blk_major_name", "name")
	fopsOff := o.off("gendisk", "fops")
	if o.err != nil {
		return nil, o.err
	}
	gendiskOps := func(g uint64) uint64 {
		f, err := v.d.ReadU64(g + fopsOff)
		if err != nil {
			return 0
		}
		return f
	}
	var disks map[int]uint64 // by major, from the bdev inodes
	var out []BlockDev
	var bad UnreadableObjectsError
	for i := 0; i < n && o.err == nil; i++ {
		seen := map[uint64]bool{}
		for bm := o.u64(base + uint64(8*i)); bm != 0 && !seen[bm] && o.err == nil; {
			seen[bm] = true
			// A major that cannot be read costs it and the rest of its chain.
			e := v.d.obj()
			b := BlockDev{Major: int(e.u32(bm + major)), Name: e.str(bm+name, 16)}
			at := bm
			bm = e.u64(bm + next)
			if e.err != nil {
				bad = append(bad, fmt.Errorf("blk_major_name %x: %w", at, e.err))
				break
			}
			if _, err := v.d.SymbolAddr("bdev_map"); err == nil {
				b.Gendisk, b.Ops = v.probe("bdev_map", b.Major, -1, gendiskOps)
			} else {
				if disks == nil {
					disks = v.bdevDisks()
				}
				if g := disks[b.Major]; g != 0 {
					b.Gendisk, b.Ops = g, gendiskOps(g)
				}
			}
			out = append(out, b)
		}
	}
	if o.err != nil {
		return out, o.err
	}
	return out, bad.or(nil)
}

// bdevDisks maps each major to the first gendisk with operations among the
// block devices on blockdev_superblock's inode list (5.11+: struct
// bdev_inode puts the inode right after the block_device).
func (v *Devices) bdevDisks() map[int]uint64 {
	out := map[int]uint64{}
	o := v.d.obj()
	sb := o.u64(o.sym("blockdev_superblock"))
	head := sb + o.off("super_block", "s_inodes")
	link := o.off("inode", "i_sb_list")
	bdSize := o.size("block_device")
	bdDisk := o.off("block_device", "bd_disk")
	gMajor := o.off("gendisk", "major")
	gFops := o.off("gendisk", "fops")
	if o.err != nil || sb == 0 {
		return out
	}
	_ = walkList(v.d, head, func(node uint64) error {
		inode := node - link
		disk, err := v.d.ReadU64(inode - bdSize + bdDisk)
		if err != nil || disk == 0 {
			return nil
		}
		m, err1 := v.d.ReadU32(disk + gMajor)
		f, err2 := v.d.ReadU64(disk + gFops)
		if err1 == nil && err2 == nil && f != 0 {
			if _, ok := out[int(m)]; !ok {
				out[int(m)] = disk
			}
		}
		return nil
	})
	return out
}
