package kernel

import (
	"fmt"
	"sort"
)

// VmapArea is one busy vmalloc area: a struct vmap_area and its
// vm_struct.
type VmapArea struct {
	Addr       uint64 // the struct vmap_area
	VM         uint64 // its struct vm_struct
	Start, End uint64 // va_start, va_end
}

// VmapAreas lists the busy vmalloc areas that have a vm_struct, by
// address: from vmap_area_list (before 6.9), else from each vmap_node's
// busy list (vmap_nodes, nr_vmap_nodes).
func (k *Kernel) VmapAreas() ([]VmapArea, error) {
	start, err1 := k.Offset("vmap_area", "va_start")
	end, err2 := k.Offset("vmap_area", "va_end")
	vm, err3 := k.Offset("vmap_area", "vm")
	list, err4 := k.Offset("vmap_area", "list")
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return nil, err
		}
	}
	var heads []uint64
	if h, err := k.SymbolAddr("vmap_area_list"); err == nil {
		heads = append(heads, h)
	} else {
		nodes, err := k.SymbolAddr("vmap_nodes")
		if err != nil {
			return nil, fmt.Errorf("no vmap_area_list nor vmap_nodes: %w", err)
		}
		base, err := k.ReadU64(nodes)
		if err != nil {
			return nil, err
		}
		n := uint64(1)
		if a, err := k.SymbolAddr("nr_vmap_nodes"); err == nil {
			if v, err := k.ReadU32(a); err == nil && v > 0 && v < 4096 {
				n = uint64(v)
			}
		}
		size, err := k.Size("vmap_node")
		if err != nil {
			return nil, err
		}
		busy, err := k.Offset("vmap_node", "busy")
		if err != nil {
			return nil, err
		}
		head, err := k.Offset("rb_list", "head")
		if err != nil {
			return nil, err
		}
		for i := uint64(0); i < n; i++ {
			heads = append(heads, base+i*uint64(size)+uint64(busy+head))
		}
	}
	var out []VmapArea
	for _, h := range heads {
		err := walkList(k, h, func(node uint64) error {
			va := node - uint64(list)
			var b [3]uint64
			for i, o := range []int64{start, end, vm} {
				v, err := k.ReadU64(va + uint64(o))
				if err != nil {
					return err
				}
				b[i] = v
			}
			if b[2] != 0 {
				out = append(out, VmapArea{Addr: va, Start: b[0], End: b[1], VM: b[2]})
			}
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, nil
}

// VmapAreaOf finds the busy vmalloc area holding addr.
func (k *Kernel) VmapAreaOf(addr uint64) (VmapArea, bool, error) {
	areas, err := k.VmapAreas()
	for _, a := range areas {
		if addr >= a.Start && addr < a.End {
			return a, true, nil
		}
	}
	return VmapArea{}, false, err
}

// TaskOfAddr finds the task whose task_struct (inStruct) or kernel stack
// holds addr.
func (k *Kernel) TaskOfAddr(addr uint64) (t Task, inStruct, ok bool, err error) {
	tasks, err := k.Tasks()
	if err != nil {
		return Task{}, false, false, err
	}
	size, err := k.Size("task_struct")
	if a, e := k.SymbolAddr("arch_task_struct_size"); e == nil {
		// x86_64 sizes task_struct by the CPU's FPU state at boot.
		if n, e := k.ReadU32(a); e == nil && n > 0 {
			size, err = int64(n), nil
		}
	}
	if err == nil {
		for _, t := range tasks {
			if addr >= t.Addr && addr < t.Addr+uint64(size) {
				return t, true, true, nil
			}
		}
	}
	for _, t := range tasks {
		lo, hi, err := k.TaskStack(t)
		if err == nil && addr >= lo && addr < hi {
			return t, false, true, nil
		}
	}
	return Task{}, false, false, nil
}
