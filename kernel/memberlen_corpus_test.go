package kernel_test

import (
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols"
)

// TestCorpusMemberLen: the lengths of the buddy allocator's arrays
// (zone.free_area, free_area.free_list) from VMCOREINFO's LENGTH(), or
// without it (the no-VMCOREINFO run) from the layouts' member and element
// sizes, equal the array bounds the DWARF types give; and
// nr_swapper_spaces's and hstates's symbol sizes are their types' lengths
// in elements; and the vm counters' enumerations read from BTF equal
// DWARF's.
func TestCorpusMemberLen(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		k := openKernel(t, r, r.Files[0])
		ts, err := k.Vmlinux.Types()
		if err != nil {
			t.Fatal(err)
		}
		dims := func(s, m string) int {
			st, err := ts.Lookup("struct " + s)
			if err != nil {
				t.Fatal(err)
			}
			mm, err := st.MemberPath(m)
			if err != nil {
				t.Fatal(err)
			}
			at := mm.Type.Strip()
			if at == nil || at.Kind != symbols.TypeArray || len(at.Dims) == 0 {
				t.Fatalf("%s.%s is not an array", s, m)
			}
			return int(at.Dims[0])
		}
		for _, c := range [][3]string{{"zone", "free_area", "free_area"}, {"free_area", "free_list", "list_head"}} {
			n, err := k.TypeLayout.MemberLen(c[0], c[1], c[2])
			if want := dims(c[0], c[1]); err != nil || n != want {
				t.Errorf("%s.%s: %d (%v), the DWARF array has %d", c[0], c[1], n, err, want)
			}
		}
		for _, c := range []struct {
			name string
			elem int64
		}{{"nr_swapper_spaces", 4}, {"hstates", 0}} {
			sz, ok := k.SymbolTable.SymbolSize(c.name)
			if !ok {
				continue
			}
			if c.elem == 0 {
				if c.elem, err = k.Size("hstate"); err != nil {
					t.Fatal(err)
				}
			}
			t2, _, err := ts.ObjectType(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if at := t2.Strip(); at == nil || at.Kind != symbols.TypeArray || int64(sz) != at.Dims[0]*c.elem {
				t.Errorf("%s: %d bytes, type %v", c.name, sz, at)
			}
		}
		// The vm counters' names from BTF (or DWARF without it) equal
		// the DWARF enumeration's.
		for _, end := range []string{"NR_VM_ZONE_STAT_ITEMS", "NR_VM_NODE_STAT_ITEMS", "NR_VM_NUMA_STAT_ITEMS", "NR_VM_EVENT_ITEMS"} {
			v, es, err := k.Vmlinux.Layouts().EnumeratorsOf(end)
			wv, wt, werr := ts.Enumerator(end)
			if symbols.IsMissing(werr) {
				if !symbols.IsMissing(err) {
					t.Errorf("%s: DWARF has none, the layouts %d (%v)", end, v, err)
				}
				continue
			}
			if werr != nil {
				t.Fatal(werr)
			}
			wes, werr := wt.Enumerators()
			if err != nil || werr != nil || v != wv || fmt.Sprint(es) != fmt.Sprint(wes) {
				t.Errorf("%s: %d %v (%v), DWARF %d %v (%v)", end, v, es, err, wv, wes, werr)
			}
		}
	})
}
