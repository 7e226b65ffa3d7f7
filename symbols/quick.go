package symbols

import (
	"debug/elf"
	"maps"
	"path"
	"slices"
	"sort"
	"sync"
)

// Quick lookups: answers a first command needs before the DWARF name index
// exists (a batch run never builds it: that is a scan of all of
// .debug_info). A variable or function is found from its ELF symbol's
// address: a function's address is in .debug_aranges, which gives its
// compilation unit; a variable's unit lies between the units of the static
// (file-local) objects placed just below and above it, since the linker
// lays out data and .debug_info in the same object order (the symbol
// table's FILE entries say which object each static came from). Only those
// units are read. A name several symbols share (static functions of one
// name in many files) is left to the index, which picks the first
// definition in .debug_info order.

// quickState is what quick lookups build once: the address ranges of the
// units, and the statics' placement.
type quickState struct {
	once    sync.Once
	statics []staticObj // sorted by section, then address
}

type staticObj struct {
	sect uint16
	addr uint64
	unit int
}

// fileWindow is how many units past the last matched one a FILE entry's
// unit is looked for: objects without statics have no FILE entry, and a
// base name matched further on (sev.c, core.c) is more likely another
// file's.
const fileWindow = 32

// maxQuickUnits bounds the units one quick lookup reads.
const maxQuickUnits = 256

// quickObject finds the DIE of the variable or function called name by its
// ELF symbol; ok is false when the symbol does not settle it.
func (v *Vmlinux) quickObject(name string) (IndexEntry, bool) {
	_, i := v.byName.find(name, v.syms)
	if i < 0 || v.dupName(i) {
		return IndexEntry{}, false
	}
	s := v.syms[i]
	d, err := v.DWARF()
	if err != nil {
		return IndexEntry{}, false
	}
	var units []int
	all := true
	switch s.Type {
	case 't', 'T', 'W':
		li := &d.lines
		li.once.Do(func() { li.err = d.readAranges() })
		ar := li.ranges
		j := sort.Search(len(ar), func(j int) bool { return ar[j].hi > s.Addr })
		if j < len(ar) && ar[j].lo <= s.Addr {
			uo := ar[j].unit
			ui := sort.Search(len(d.units), func(i int) bool { return d.units[i].off >= uo })
			if ui < len(d.units) && d.units[ui].off == uo {
				units = []int{ui}
			}
		}
	case 'd', 'D', 'b', 'B', 'r', 'R', 'V':
		v.quick.once.Do(func() { v.buildQuickCached(d) })
		units, all = v.dataUnits(s.Addr)
	}
	if len(units) == 0 {
		return IndexEntry{}, false
	}
	e, ok := d.objectIn(units, name)
	switch {
	case ok && !e.Decl:
		return e, true
	case !all:
		// A definition may be in a unit not read.
		return IndexEntry{}, false
	case ok:
		return e, true
	}
	// The rule for an object with no definition: the DIE that defines an
	// object at address A (one with DW_AT_location, or a function's code)
	// can only be in the unit that emitted A's storage, and units (all
	// true) are the units that can have emitted it. When none of them
	// defines name, no unit does (jiffies, which the linker script
	// places on jiffies_64: only declarations describe it). Its type is
	// then a declaration's: the first in units (above), else the first
	// in .debug_info order, found by the first-definition scan, which
	// stops there and goes on from there for the next lookup.
	off, kind, found, err := d.firstDeclarationOf(name, []Kind{KindVariable, KindFunction}, uint64(len(d.sec.info))/declLimit)
	if err != nil || !found {
		return IndexEntry{}, false
	}
	return IndexEntry{Name: name, Kind: kind, Decl: true, Off: off}, true
}

// dataUnits lists the units the object at addr can be defined in, in
// .debug_info order; all is true when it can be in no other.
func (v *Vmlinux) dataUnits(addr uint64) (units []int, all bool) {
	sect := -1
	for i, sc := range v.File.Sections {
		if sc.Flags&elf.SHF_ALLOC != 0 && addr >= sc.Addr && addr < sc.Addr+sc.Size {
			sect = i
			break
		}
	}
	st := v.quick.statics
	if sect < 0 {
		return nil, false
	}
	j := sort.Search(len(st), func(j int) bool {
		return st[j].sect > uint16(sect) || st[j].sect == uint16(sect) && st[j].addr > addr
	})
	lo, hi := -1, -1
	if j > 0 && st[j-1].sect == uint16(sect) {
		lo = st[j-1].unit
	}
	if j < len(st) && st[j].sect == uint16(sect) {
		hi = st[j].unit
	}
	if lo >= 0 && hi >= lo && hi-lo < maxQuickUnits {
		// Between two statics of the same run of input sections: the
		// object is in one of the units from lo to hi, and nowhere else.
		out := make([]int, 0, hi-lo+1)
		for u := lo; u <= hi; u++ {
			out = append(out, u)
		}
		return out, true
	}
	// At the edge of a run (the statics around it are of other kinds of
	// input section): the units next to its neighbours' only.
	var out []int
	for _, c := range []int{lo, hi} {
		for u := c - 2; c >= 0 && u <= c+2; u++ {
			if u >= 0 && u < len(v.dwarf.units) && !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	slices.Sort(out)
	return out, false
}

// buildQuick places the statics.
func (v *Vmlinux) buildQuick(d *Dwarf) {
	q := &v.quick
	// The units' file names, in order, to match the symbol table's FILE
	// entries (which are in the same order, named by base name).
	names := make([]string, len(d.units))
	// Reading the names is mostly page faults, a unit header each: two
	// goroutines read the halves of the unit table at once.
	half := len(d.units) / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.unitNames(names, half, len(d.units))
	}()
	d.unitNames(names, 0, half)
	<-done
	ef := v.File
	st := ef.Section(".symtab")
	if st == nil || int(st.Link) >= len(ef.Sections) {
		return
	}
	tab, strs := v.sectionBytes(st), v.sectionBytes(ef.Sections[st.Link])
	bo := ef.ByteOrder
	unit, next := -1, 0
	for i := 1; i < len(tab)/24; i++ {
		e := tab[i*24:]
		info, shndx := e[4], bo.Uint16(e[6:])
		if elf.SymBind(info>>4) != elf.STB_LOCAL {
			continue
		}
		switch elf.SymType(info & 0xf) {
		case elf.STT_FILE:
			file := string(cstrAt(strs, uint64(bo.Uint32(e))))
			unit = -1
			for u := next; u < len(names) && u < next+fileWindow; u++ {
				if names[u] == file {
					unit, next = u, u+1
					break
				}
			}
		case elf.STT_OBJECT:
			if unit >= 0 && shndx != 0 && shndx < uint16(elf.SHN_LORESERVE) {
				q.statics = append(q.statics, staticObj{shndx, bo.Uint64(e[8:]), unit})
			}
		}
	}
	slices.SortFunc(q.statics, func(a, b staticObj) int {
		if a.sect != b.sect {
			return int(a.sect) - int(b.sect)
		}
		if a.addr != b.addr {
			if a.addr < b.addr {
				return -1
			}
			return 1
		}
		return a.unit - b.unit
	})
}

// objectIn scans units for the file-scope variable or function name: the
// first definition, else the first declaration.
func (d *Dwarf) objectIn(units []int, name string) (IndexEntry, bool) {
	r := scanResult{byInline: map[string]scanHit{}}
	var decl IndexEntry
	for _, ui := range units {
		r.hits = r.hits[:0]
		clear(r.byInline)
		u := &d.units[ui]
		if err := d.scanUnit(u, &r); err != nil {
			return IndexEntry{}, false
		}
		if d.release != nil {
			d.release(d.sec.info[u.off:u.end])
		}
		var found []IndexEntry
		for _, h := range r.hits {
			kind := Kind(h.key >> 56)
			if kind != KindVariable && kind != KindFunction {
				continue
			}
			if string(cstrAt(d.sec.str, uint64(h.key)&(1<<55-1))) == name {
				found = append(found, IndexEntry{Name: name, Kind: kind, Decl: h.hit.decl, Off: h.hit.off})
			}
		}
		for _, k := range []Kind{KindVariable, KindFunction} {
			if h, ok := r.byInline[string(rune(k))+name]; ok {
				found = append(found, IndexEntry{Name: name, Kind: k, Decl: h.decl, Off: h.off})
			}
		}
		for _, e := range found {
			if !e.Decl {
				return e, true
			}
			if decl.Off == 0 {
				decl = e
			}
		}
	}
	return decl, decl.Off != 0
}

// nameKinds returns the index kinds of the BTF types called name (a forward
// declaration counts as its struct or union); ok is false when there is no
// usable BTF.
func (l *Layouts) nameKinds(name string) (kinds []Kind, ok bool) {
	if !l.lock() {
		return nil, false
	}
	defer l.mu.RUnlock()
	if l.load() != nil {
		return nil, false
	}
	b := l.btf
	for id := uint32(1); id < uint32(len(b.offs)); id++ {
		p := b.offs[id]
		if !b.nameIs(b.order.Uint32(b.types[p:]), name) {
			continue
		}
		info := b.order.Uint32(b.types[p+4:])
		var k Kind
		switch info >> 24 & 0x1f {
		case btfKindStruct:
			k = KindStruct
		case btfKindUnion:
			k = KindUnion
		case btfKindFwd:
			k = KindStruct
			if info>>31 != 0 {
				k = KindUnion
			}
		case btfKindEnum, btfKindEnum64:
			k = KindEnum
		case btfKindTypedef:
			k = KindTypedef
		case btfKindInt, btfKindFloat:
			k = KindBase
		default:
			continue
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds, true
}

// hasEnumerator reports whether some BTF enum has the constant name; ok is
// false when there is no usable BTF.
func (l *Layouts) hasEnumerator(name string) (has, ok bool) {
	if !l.lock() {
		return false, false
	}
	defer l.mu.RUnlock()
	if l.load() != nil {
		return false, false
	}
	_, has = l.btf.enumerator(name)
	return has, true
}

// quickHooks are the lookups a type model makes without the name index
// while none is loaded or cached (see Types).
type quickHooks struct {
	object     func(name string) (IndexEntry, bool)
	typeKinds  func(name string) ([]Kind, bool)
	enumerator func(name string) (has, ok bool)
}

// withoutIndex reports whether the quick paths apply: the index is neither
// loaded nor in a valid cache file.
func (ts *Types) withoutIndex() bool {
	return ts.quick != nil && ts.full != nil && ts.cached != nil && ts.cached() == nil
}

// missingType reports whether BTF says that no type of any of kinds is
// called name (only asked while the index is not there).
func (ts *Types) missingType(name string, kinds []Kind) bool {
	if len(kinds) == 0 || slices.ContainsFunc(kinds, func(k Kind) bool { return !k.IsType() }) ||
		name == "void" || baseTypeAlias(name) != "" || !ts.withoutIndex() {
		return false
	}
	have, ok := ts.quick.typeKinds(name)
	if !ok {
		return false
	}
	for _, k := range have {
		if slices.Contains(kinds, k) {
			return false
		}
	}
	return true
}

// onlyKind is the one kind of kinds BTF has a type called name of, when it
// has exactly one (a lookup of any type kind then becomes a one-kind
// lookup, answered by the first-definition scan).
func (ts *Types) onlyKind(name string, kinds []Kind) (Kind, bool) {
	if !ts.withoutIndex() {
		return 0, false
	}
	have, ok := ts.quick.typeKinds(name)
	if !ok {
		return 0, false
	}
	var only Kind
	n := 0
	for _, k := range have {
		if slices.Contains(kinds, k) {
			only, n = k, n+1
		}
	}
	return only, n == 1
}

// quickObject finds a variable or function without the index, while none
// is loaded or cached.
func (ts *Types) quickObject(name string) (IndexEntry, bool) {
	if !ts.withoutIndex() {
		return IndexEntry{}, false
	}
	return ts.quick.object(name)
}

// unitNames sets names[lo:hi] to the base names of those units' files.
func (d *Dwarf) unitNames(names []string, lo, hi int) {
	if lo >= hi {
		return
	}
	released := d.units[lo].off
	for i := lo; i < hi; i++ {
		names[i] = path.Base(d.unitName(&d.units[i]))
		// Each name read faults in 64 KiB around it: give those pages
		// back as we go, or they would add up to most of the section.
		if end := d.units[i].end; d.release != nil && end-released > 4<<20 {
			d.release(d.sec.info[released:end])
			released = end
		}
	}
	if d.release != nil {
		d.release(d.sec.info[released:d.units[hi-1].end])
	}
}

// unitName is the DW_AT_name of u's unit DIE, decoded with only that DIE's
// abbreviation (parsing each unit's whole table costs more than the rest
// of a quick lookup).
func (d *Dwarf) unitName(u *unit) string {
	b := buf{data: d.sec.info[:u.end], off: u.data, name: ".debug_info", order: d.sec.order}
	code := b.uleb()
	ab := buf{data: d.sec.abbrev, off: u.abbrevOff, name: ".debug_abbrev"}
	for ab.err == nil && b.err == nil {
		c := ab.uleb()
		if c == 0 {
			return ""
		}
		tag := ab.uleb()
		ab.u8() // children
		for ab.err == nil {
			at, form := ab.uleb(), ab.uleb()
			if at == 0 && form == 0 {
				break
			}
			var implicit int64
			if form == formImplicitConst {
				implicit = ab.sleb()
			}
			if c != code {
				continue
			}
			if tag != tagCompileUnit && tag != 0x41 /* partial */ {
				return ""
			}
			v := d.readForm(&b, uint16(form), implicit, u)
			if at == atName && v.class == classString {
				return string(v.str)
			}
		}
		if c == code {
			return ""
		}
	}
	return ""
}

// firstLimit is how far into .debug_info (a fraction of it) the
// first-definition scan looks for a struct layout or an enumerator before
// the whole index is built instead (which goes on from there).
const firstLimit = 2

// declLimit is the same for the declaration of an object no unit defines
// (a fraction of .debug_info): the headers that declare such an object are
// included early, and a symbol with no DWARF at all should not cost a long
// scan before the index is built.
const declLimit = 8

// firstComposite answers a layout question's type without the index, while
// none is loaded or cached: the first definition in .debug_info order of a
// struct, union or typedef called name, when it is (or names) a struct or
// union with a size. The kernel has one type of each such name; this is
// the rule BTF's answers follow too (the first sized struct or union of
// the name).
func (ts *Types) firstComposite(name string) (*Type, bool) {
	if !ts.withoutIndex() {
		return nil, false
	}
	off, found, err := ts.firstDefinition(name, []Kind{KindStruct, KindUnion, KindTypedef},
		uint64(len(ts.d.sec.info))/firstLimit)
	if err != nil || !found {
		return nil, false
	}
	t, err := ts.At(off)
	if err != nil {
		return nil, false
	}
	s := t.Strip()
	if s == nil || s.Decl || s.Size < 0 || s.Kind != TypeStruct && s.Kind != TypeUnion {
		return nil, false
	}
	return s, true
}

// firstEnumerator finds the enumerator name without the index, while none
// is loaded or cached: in the first enumeration in .debug_info order that
// has it, the one the index gives.
func (ts *Types) firstEnumerator(name string) (int64, *Type, bool) {
	if !ts.withoutIndex() {
		return 0, nil, false
	}
	off, found, err := ts.firstDefinition(name, []Kind{KindEnumerator}, uint64(len(ts.d.sec.info))/firstLimit)
	if err != nil || !found {
		return 0, nil, false
	}
	v, t, ok, err := ts.enumeratorAt(off, name)
	return v, t, ok && err == nil
}

// enumeratorAt is the value of the enumerator name of the enumeration whose
// DIE is at off; ok is false when it has none of that name.
func (ts *Types) enumeratorAt(off uint64, name string) (v int64, t *Type, ok bool, err error) {
	if t, err = ts.At(off); err != nil {
		return 0, nil, false, err
	}
	es, err := t.Enumerators()
	if err != nil {
		return 0, nil, false, err
	}
	for _, e := range es {
		if e.Name == name {
			return e.Value, t, true, nil
		}
	}
	return 0, nil, false, nil
}

// Asked lists the layout questions answered so far, each as its layout
// cache key ("S name" for a size, "O name path" for an offset, "E name" for
// an enumerator), sorted; nil when the answers are not kept (no cache
// directory).
func (l *Layouts) Asked() []string {
	if l.memo == nil {
		return nil
	}
	l.memo.mu.Lock()
	defer l.memo.mu.Unlock()
	return slices.Sorted(maps.Keys(l.memo.answers))
}
