package kernel_test

import (
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// vmapMachine lays out struct vmap_area {va_start; va_end; rb_node (24);
// list; union {subtree_max_size; vm}} (5.4+) in VMCOREINFO and links the
// areas given on vmap_area_list.
func vmapMachine(t *testing.T, areas [][3]uint64, loop bool) *kerneltest.Machine {
	m := kerneltest.New()
	m.Offset("vmap_area", "va_start", 0)
	m.Offset("vmap_area", "va_end", 8)
	m.Offset("vmap_area", "list", 40)
	m.Offset("vmap_area", "subtree_max_size", 56)
	m.Offset("vmap_area", "vm", 56)
	m.Size("vmap_area", 64)
	head := m.Var(16)
	m.Symbol("vmap_area_list", head)
	prev := head
	var first uint64
	for _, a := range areas {
		va := m.Object(64)
		m.PutU64(va, a[0])
		m.PutU64(va+8, a[1])
		m.PutU64(va+56, a[2])
		m.PutU64(prev, va+40)
		m.PutU64(va+48, prev)
		prev = va + 40
		if first == 0 {
			first = va + 40
		}
	}
	if loop {
		m.PutU64(prev, first) // the last area points back at the first
	} else {
		m.PutU64(prev, head)
	}
	m.PutU64(head+8, prev)
	return m
}

// TestVmapAreas: the busy areas with a vm_struct, in list order; an area
// without one (vm_map_ram) is left out; a list that loops back on an
// area is an error after the areas read.
func TestVmapAreas(t *testing.T) {
	areas := [][3]uint64{
		{0xffffc90000000000, 0xffffc90000005000, 0xffff888000123000},
		{0xffffc90000005000, 0xffffc90000007000, 0}, // vm_map_ram: no vm_struct
		{0xffffc90000008000, 0xffffc9000000b000, 0xffff888000124000},
	}
	k := vmapMachine(t, areas, false).Kernel(t)
	got, err := k.VmapAreas()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Start != areas[0][0] || got[0].End != areas[0][1] || got[0].VM != areas[0][2] ||
		got[1].Start != areas[2][0] || got[1].VM != areas[2][2] {
		t.Fatalf("areas %+v", got)
	}
	k = vmapMachine(t, areas, true).Kernel(t)
	got, err = k.VmapAreas()
	if err == nil || !strings.Contains(err.Error(), "corrupt list") || len(got) != 2 {
		t.Fatalf("a looping list: %d areas, %v", len(got), err)
	}
}
