package kernel

import (
	"fmt"
	"sort"

	"github.com/gocrash/gocrash/symbols"
)

// VmapArea is one busy vmap_area of the vmalloc space with its vm_struct.
type VmapArea struct {
	Addr       uint64 // the vmap_area
	VM         uint64 // its vm_struct (0 for vm_map_ram areas)
	Start, End uint64 // va_start, va_end
}

// Vmalloc reads the vmalloc areas over a Reader, a Layout and Symbols.
type Vmalloc struct {
	Reader
	Layout
	Symbols
}

// NewVmalloc reads vmalloc areas through r, l and s.
func NewVmalloc(r Reader, l Layout, s Symbols) *Vmalloc {
	return &Vmalloc{Reader: r, Layout: l, Symbols: s}
}

// vmVMArea is mm/vmalloc.c's VM_VM_AREA: the flag of a vmap_area that has
// a vm_struct, in kernels whose vmap_area has flags (before 5.4).
const vmVMArea = 0x4

// VmapAreas lists the busy vmap_areas that have a vm_struct, in address
// order: vmap_area_list, or from 6.9 each vmap_node's busy list.
func (k *Vmalloc) VmapAreas() ([]VmapArea, error) {
	listOff, err := k.Offset("vmap_area", "list")
	if err != nil {
		return nil, err
	}
	startOff, err1 := k.Offset("vmap_area", "va_start")
	endOff, err2 := k.Offset("vmap_area", "va_end")
	vmOff, err3 := k.Offset("vmap_area", "vm")
	for _, e := range []error{err1, err2, err3} {
		if e != nil {
			return nil, e
		}
	}
	// Before 5.4 vmap_area.flags had VM_VM_AREA for an area with a
	// vm_struct; from 5.2 the augmented tree's subtree_max_size shares
	// its word with vm, and the flags that came back later (vm_map_ram's
	// types) say nothing of vm: there an area has a vm_struct when vm is
	// set.
	flagsOff, err := k.Offset("vmap_area", "flags")
	if symbols.IsMissing(err) {
		flagsOff = -1
	} else if err != nil {
		return nil, err
	}
	if _, err := k.Offset("vmap_area", "subtree_max_size"); err == nil {
		flagsOff = -1
	} else if !symbols.IsMissing(err) {
		return nil, err
	}
	var heads []uint64
	if h, err := k.SymbolAddr("vmap_area_list"); err == nil {
		heads = append(heads, h)
	} else if !symbols.IsMissing(err) {
		return nil, err
	} else if heads, err = k.vmapNodeLists(); err != nil {
		return nil, err
	}
	var out []VmapArea
	for _, h := range heads {
		err := walkList(k, h, func(node uint64) error {
			va := node - uint64(listOff)
			a := VmapArea{Addr: va}
			var err error
			if a.Start, err = k.ReadU64(va + uint64(startOff)); err != nil {
				return fmt.Errorf("vmap_area %x: %w", va, err)
			}
			if a.End, err = k.ReadU64(va + uint64(endOff)); err != nil {
				return fmt.Errorf("vmap_area %x: %w", va, err)
			}
			if a.VM, err = k.ReadU64(va + uint64(vmOff)); err != nil {
				return fmt.Errorf("vmap_area %x: %w", va, err)
			}
			if flagsOff >= 0 {
				f, err := k.ReadU64(va + uint64(flagsOff))
				if err != nil {
					return fmt.Errorf("vmap_area %x: %w", va, err)
				}
				if f != vmVMArea {
					return nil
				}
			} else if a.VM == 0 {
				return nil
			}
			out = append(out, a)
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	if len(heads) > 1 {
		sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	}
	return out, nil
}

// vmapNodeLists are the busy lists' heads of the vmap_nodes (6.9+):
// vmap_nodes[0..nr_vmap_nodes).busy.head.
func (k *Vmalloc) vmapNodeLists() ([]uint64, error) {
	p, err := k.SymbolAddr("vmap_nodes")
	if err != nil {
		return nil, err
	}
	nodes, err := k.ReadU64(p)
	if err != nil {
		return nil, err
	}
	n := uint64(1)
	if a, err := k.SymbolAddr("nr_vmap_nodes"); err == nil {
		v, err := k.ReadU32(a)
		if err != nil {
			return nil, err
		}
		n = uint64(v)
	}
	size, err := k.Size("vmap_node")
	if err != nil {
		return nil, err
	}
	busy, err := k.Offset("vmap_node", "busy.head")
	if err != nil {
		return nil, err
	}
	if n == 0 || n > 1<<12 {
		return nil, fmt.Errorf("nr_vmap_nodes = %d", n)
	}
	var out []uint64
	for i := uint64(0); i < n; i++ {
		out = append(out, nodes+i*uint64(size)+uint64(busy))
	}
	return out, nil
}
