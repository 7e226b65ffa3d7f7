package kernel

import (
	"fmt"
	"sort"

	"github.com/gocrash/gocrash/symbols"
)

// Placing a module's debuginfo object: each allocated section of the .ko
// is where the kernel put it, found through the module's own symbol table
// (kallsyms) in the dump. A symbol X at offset o of section S in the
// object, at address A in the dump, puts S at A - o; every symbol of S
// with a twin in the dump must agree. The module's struct module is the
// object's .gnu.linkonce.this_module. Sections with no symbol in the dump
// (merged strings, init code freed after loading) are left unplaced.

// Placement is where a module object's sections are in the running kernel.
type Placement struct {
	Bases    map[int]uint64 // run-time base by section header index
	Matched  int            // symbols found in both
	Unplaced []string       // allocated sections not placed
}

// PlaceObject places o's sections as the kernel placed module m's.
func (m *Module) PlaceObject(o *symbols.ModuleObject) (*Placement, error) {
	if name := o.ModuleName(); name != "" && name != m.Name {
		return nil, fmt.Errorf("%s is module %s's object, not %s's", o.Path, name, m.Name)
	}
	inDump := map[string][]uint64{}
	for _, s := range m.symtab {
		inDump[s.Name] = append(inDump[s.Name], s.Addr)
	}
	inObj := map[string]int{}
	for _, s := range o.Symbols {
		inObj[s.Name]++
	}
	names := map[int]string{}
	alloc := map[int]bool{}
	for _, s := range o.Sections {
		names[s.Index] = s.Name
		alloc[s.Index] = true
	}
	p := &Placement{Bases: map[int]uint64{}}
	by := map[int]string{} // the symbol that placed each section
	for _, s := range o.Sections {
		if s.Name == ".gnu.linkonce.this_module" {
			p.Bases[s.Index], by[s.Index] = m.Addr, "struct module"
		}
	}
	for _, s := range o.Symbols {
		addrs := inDump[s.Name]
		if !alloc[s.Section] || len(addrs) != 1 || inObj[s.Name] != 1 {
			continue
		}
		base := addrs[0] - s.Value
		if !m.Holds(addrs[0]) {
			continue
		}
		if old, ok := p.Bases[s.Section]; ok && old != base {
			return nil, fmt.Errorf("%s does not match the dump's module %s: %s puts section %s at %#x, %s at %#x",
				o.Path, m.Name, by[s.Section], names[s.Section], old, s.Name, base)
		} else if !ok {
			p.Bases[s.Section], by[s.Section] = base, s.Name
		}
		p.Matched++
	}
	if p.Matched == 0 {
		return nil, fmt.Errorf("%s does not match the dump's module %s: none of its symbols is in the module's symbol table", o.Path, m.Name)
	}
	// Sections must not overlap.
	type ext struct {
		lo, hi uint64
		name   string
	}
	var placed []ext
	for _, s := range o.Sections {
		if b, ok := p.Bases[s.Index]; ok {
			placed = append(placed, ext{b, b + s.Size, s.Name})
		} else if s.Size > 0 {
			p.Unplaced = append(p.Unplaced, s.Name)
		}
	}
	sort.Slice(placed, func(i, j int) bool { return placed[i].lo < placed[j].lo })
	for i := 1; i < len(placed); i++ {
		if placed[i].lo < placed[i-1].hi {
			return nil, fmt.Errorf("%s does not match the dump's module %s: sections %s and %s overlap", o.Path, m.Name, placed[i-1].name, placed[i].name)
		}
	}
	return p, nil
}
