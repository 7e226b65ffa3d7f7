package kernel

import "fmt"

// SwapDevice is one swap area in use (a swap_info_struct with SWP_USED).
type SwapDevice struct {
	Addr      uint64 // swap_info_struct
	Partition bool   // a block device (SWP_BLKDEV), else a file
	Pages     uint64 // usable pages
	InUse     uint64 // pages in use
	Prio      int
	File      uint64 // swap_file (struct file)
	Path      string // its path
}

// swap_info_struct.flags bits.
const (
	swpUsed   = 1 << 0
	swpBlkdev = 1 << 1
)

// SwapDevices returns the swap areas in use, in swap_info order (the
// first nr_swapfiles pointers of swap_info[]).
func (k *FileSystem) SwapDevices() ([]SwapDevice, error) {
	nrAddr, err := k.SymbolAddr("nr_swapfiles")
	if err != nil {
		return nil, fmt.Errorf("nr_swapfiles doesn't exist in this kernel!")
	}
	info, err := k.SymbolAddr("swap_info")
	if err != nil {
		return nil, fmt.Errorf("swap_info doesn't exist in this kernel!")
	}
	nr, err := k.ReadU32(nrAddr)
	if err != nil {
		return nil, err
	}
	if nr > 64 {
		return nil, fmt.Errorf("nr_swapfiles is %d: not believable", nr)
	}
	offs := map[string]int64{}
	for _, m := range []string{"flags", "prio", "pages", "inuse_pages", "swap_file"} {
		if offs[m], err = k.Offset("swap_info_struct", m); err != nil {
			return nil, err
		}
	}
	var out []SwapDevice
	for i := range uint64(nr) {
		p, err := k.ReadU64(info + i*8)
		if err != nil {
			return out, fmt.Errorf("swap_info[%d]: %w", i, err)
		}
		if p == 0 {
			continue
		}
		flags, err := k.ReadU64(p + uint64(offs["flags"]))
		if err != nil {
			return out, fmt.Errorf("swap_info[%d] %x: %w", i, p, err)
		}
		if flags&swpUsed == 0 {
			continue
		}
		d := SwapDevice{Addr: p, Partition: flags&swpBlkdev != 0}
		prio, err1 := k.ReadU16(p + uint64(offs["prio"]))
		pages, err2 := k.ReadU32(p + uint64(offs["pages"]))
		inuse, err3 := k.ReadU32(p + uint64(offs["inuse_pages"]))
		file, err4 := k.ReadU64(p + uint64(offs["swap_file"]))
		for _, e := range []error{err1, err2, err3, err4} {
			if e != nil {
				return out, fmt.Errorf("swap_info_struct %x: %w", p, e)
			}
		}
		d.Prio, d.Pages, d.InUse, d.File = int(int16(prio)), uint64(pages), uint64(inuse), file
		if file != 0 {
			dentry, vfsmnt, err := fileDentry(k, k, file)
			if err != nil {
				return out, err
			}
			if d.Path, err = k.DPath(dentry, vfsmnt); err != nil {
				return out, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}
