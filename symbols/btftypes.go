package symbols

import (
	"fmt"
	"strings"
)

// The C type model from BTF alone, for a kernel image without DWARF (the
// types of a dump opened without a vmlinux come from the kernel's in-memory
// BTF): the same *Types the DWARF gives, its name index built from the BTF's
// named types, a Type's Off being its BTF type id. What BTF does not carry
// is not there: no source lines, no static functions' prototypes beyond
// what pahole encoded (FUNC entries), an enum's underlying type unnamed.

// btfTypes returns the type model over the vmlinux's .BTF section.
func (v *Vmlinux) btfTypes() (*Types, error) {
	l := v.Layouts()
	if l.data == nil {
		return nil, fmt.Errorf("no .BTF section")
	}
	return NewBTFTypes(l.data)
}

// NewBTFTypes returns a type model over a BTF blob (a .BTF section, or the
// kernel's __start_BTF..__stop_BTF read from memory).
func NewBTFTypes(data []byte) (*Types, error) {
	b, err := parseBTF(data)
	if err != nil {
		return nil, err
	}
	ix, err := btfIndex(b)
	if err != nil {
		return nil, err
	}
	return &Types{btf: b, ix: ix, byOff: map[uint64]*Type{}, void: &Type{Kind: TypeVoid, Name: "void", Size: 1}}, nil
}

// NewSplitBTFTypes returns the type model of a module's split BTF over its
// base, the vmlinux's BTF types (a model NewBTFTypes made): its own types
// are indexed, those it refers to in the base are read from there.
func NewSplitBTFTypes(data []byte, base *Types) (*Types, error) {
	if base == nil || base.btf == nil {
		return nil, fmt.Errorf("a split BTF needs its base's BTF")
	}
	b, err := parseSplitBTF(data, base.btf)
	if err != nil {
		return nil, err
	}
	ix, err := btfIndex(b)
	if err != nil {
		return nil, err
	}
	return &Types{btf: b, ix: ix, byOff: map[uint64]*Type{}, void: base.void}, nil
}

// BTFStartID is the first type id of a split BTF's model (0 for a whole
// BTF's, or one not from BTF).
func (ts *Types) BTFStartID() uint32 {
	if ts.btf == nil {
		return 0
	}
	return ts.btf.first
}

// btfIndex indexes the BTF's named types, functions, variables and enum
// constants in the DWARF index's form (names are offsets in the BTF's
// string section, as the DWARF index's are in .debug_str).
func btfIndex(b *btfRaw) (*Index, error) {
	best := map[indexKey]scanHit{}
	// A split BTF's names may lie in its base's strings: the index gets a
	// string section of its own names.
	strs := b.strs
	var own []byte
	ownAt := map[string]uint32{}
	if b.base != nil {
		own = []byte{0}
	}
	add := func(kind Kind, nameOff uint32, id uint32, decl bool) {
		if nameOff == 0 {
			return
		}
		if own != nil {
			name := b.str(nameOff)
			if name == "" {
				return
			}
			at, ok := ownAt[name]
			if !ok {
				at = uint32(len(own))
				own = append(append(own, name...), 0)
				ownAt[name] = at
			}
			nameOff = at
		} else if strs[nameOff] == 0 {
			return
		}
		k := indexKey(uint64(kind)<<56 | uint64(nameOff))
		h := scanHit{off: uint64(id), decl: decl}
		if old, ok := best[k]; !ok || h.better(old) {
			best[k] = h
		}
	}
	o := b.order
	lo, hi := b.ids()
	for id := lo; id < hi; id++ {
		t, err := b.typ(id)
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case btfKindStruct:
			add(KindStruct, t.nameOff, id, false)
		case btfKindUnion:
			add(KindUnion, t.nameOff, id, false)
		case btfKindFwd:
			if t.kflag {
				add(KindUnion, t.nameOff, id, true)
			} else {
				add(KindStruct, t.nameOff, id, true)
			}
		case btfKindEnum, btfKindEnum64:
			add(KindEnum, t.nameOff, id, false)
			step := uint32(8)
			if t.kind == btfKindEnum64 {
				step = 12
			}
			for i := range t.vlen {
				add(KindEnumerator, o.Uint32(t.extra[i*step:]), id, false)
			}
		case btfKindTypedef:
			add(KindTypedef, t.nameOff, id, false)
		case btfKindInt, btfKindFloat:
			add(KindBase, t.nameOff, id, false)
		case btfKindFunc:
			add(KindFunction, t.nameOff, id, false)
		case btfKindVar:
			add(KindVariable, t.nameOff, id, false)
		}
	}
	d := &Dwarf{}
	d.sec.str = strs
	if own != nil {
		d.sec.str = own
	}
	return d.buildImage(best, nil)
}

// btfAt builds the Type of BTF type id (its references too); the caller
// holds ts.mu.
func (ts *Types) btfAt(id uint64, depth int) (*Type, error) {
	if id == 0 {
		return nil, nil // void
	}
	if t, ok := ts.byOff[id]; ok {
		return t, nil
	}
	if depth > 64 {
		return nil, fmt.Errorf("BTF type %d: %v", id, errTooDeep)
	}
	b := ts.btf
	bt, err := b.typ(uint32(id))
	if err != nil {
		return nil, err
	}
	t := &Type{Name: b.str(bt.nameOff), Size: -1, Off: id, types: ts}
	ts.byOff[id] = t
	target := func(ref uint32) error {
		t.Target, err = ts.btfAt(uint64(ref), depth+1)
		return err
	}
	switch bt.kind {
	case btfKindInt:
		t.Kind, t.Size = TypeBase, int64(bt.st)
		enc := b.order.Uint32(bt.extra) >> 24
		switch {
		case enc&4 != 0:
			t.Encoding = EncBoolean
		case enc&2 != 0 || strings.HasSuffix(t.Name, "char"):
			t.Encoding = EncUnsignedChar
			if enc&1 != 0 {
				t.Encoding = EncSignedChar
			}
		case enc&1 != 0:
			t.Encoding = EncSigned
		default:
			t.Encoding = EncUnsigned
		}
	case btfKindFloat:
		t.Kind, t.Size, t.Encoding = TypeBase, int64(bt.st), EncFloat
	case btfKindPtr:
		t.Kind, t.Size = TypePointer, btfSizeofPtr
		err = target(bt.st)
	case btfKindStruct, btfKindUnion:
		t.Kind, t.Size = TypeStruct, int64(bt.st)
		if bt.kind == btfKindUnion {
			t.Kind = TypeUnion
		}
	case btfKindFwd:
		t.Kind, t.Decl = TypeStruct, true
		if bt.kflag {
			t.Kind = TypeUnion
		}
	case btfKindEnum, btfKindEnum64:
		t.Kind, t.Size = TypeEnum, int64(bt.st)
	case btfKindTypedef, btfKindConst, btfKindVolatile, btfKindRestrict:
		t.Kind = map[uint32]TypeKind{btfKindTypedef: TypeTypedef, btfKindConst: TypeConst,
			btfKindVolatile: TypeVolatile, btfKindRestrict: TypeRestrict}[bt.kind]
		err = target(bt.st)
	case btfKindTypeTag:
		// A type tag (__user, __rcu) qualifies nothing C can say:
		// it is its target.
		delete(ts.byOff, id)
		tt, err := ts.btfAt(uint64(bt.st), depth+1)
		if err != nil {
			return nil, err
		}
		ts.byOff[id] = tt
		return tt, nil
	case btfKindArray:
		t.Kind = TypeArray
		elem, n := b.order.Uint32(bt.extra), int64(b.order.Uint32(bt.extra[8:]))
		if n == 0 {
			// BTF has no bound for a flexible array member (DWARF's
			// -1): it says 0, as for the GNU [0] the kernel no
			// longer uses.
			n = -1
		}
		t.Dims = []int64{n}
		// DWARF gives int a[2][3] one array type with two dimensions;
		// BTF nests an array in an array: the nested ones are folded in.
		for range btfMaxDepth {
			et, err := b.typ(elem)
			if err != nil || et.kind != btfKindArray {
				break
			}
			t.Dims = append(t.Dims, int64(b.order.Uint32(et.extra[8:])))
			elem = b.order.Uint32(et.extra)
		}
		if err = target(elem); err == nil {
			if sz, serr := b.sizeof(uint32(id)); serr == nil {
				t.Size = sz
			}
		}
	case btfKindFuncProto, btfKindFunc:
		proto := bt
		if bt.kind == btfKindFunc {
			if proto, err = b.typ(bt.st); err != nil {
				break
			}
			if proto.kind != btfKindFuncProto {
				err = fmt.Errorf("BTF function %s (type %d) has no prototype", t.Name, id)
				break
			}
		}
		t.Kind, t.Prototyped = TypeFunc, true
		if err = target(proto.st); err != nil {
			break
		}
		for i := range proto.vlen {
			pt := b.order.Uint32(proto.extra[i*8+4:])
			if pt == 0 && i == proto.vlen-1 {
				t.Variadic = true
				continue
			}
			var p *Type
			if p, err = ts.btfAt(uint64(pt), depth+1); err != nil {
				break
			}
			t.Params = append(t.Params, p)
		}
	case btfKindVar:
		// A variable is looked up through ObjectType, which returns its type.
		err = target(bt.st)
		if err == nil {
			delete(ts.byOff, id)
			return t.Target, nil
		}
	default:
		err = fmt.Errorf("BTF type %d (kind %d) is not a C type", id, bt.kind)
	}
	if err != nil {
		delete(ts.byOff, id)
		return nil, err
	}
	return t, nil
}

// btfBody reads a struct's or union's members or an enum's constants from
// the BTF; the caller holds ts.mu.
func (ts *Types) btfBody(t *Type) error {
	b := ts.btf
	bt, err := b.typ(uint32(t.Off))
	if err != nil {
		return err
	}
	switch bt.kind {
	case btfKindEnum:
		for i := range bt.vlen {
			d := bt.extra[i*8:]
			val := int64(int32(b.order.Uint32(d[4:])))
			t.enums = append(t.enums, Enumerator{Name: b.str(b.order.Uint32(d)), Value: val})
		}
	case btfKindEnum64:
		for i := range bt.vlen {
			d := bt.extra[i*12:]
			val := int64(uint64(b.order.Uint32(d[4:])) | uint64(b.order.Uint32(d[8:]))<<32)
			t.enums = append(t.enums, Enumerator{Name: b.str(b.order.Uint32(d)), Value: val})
		}
	case btfKindStruct, btfKindUnion:
		for i := range bt.vlen {
			m, err := b.member(bt, i)
			if err != nil {
				return err
			}
			mt, err := ts.btfAt(uint64(m.typ), 0)
			if err != nil {
				return err
			}
			if i < bt.vlen-1 && mt != nil && mt.Kind == TypeArray && len(mt.Dims) > 0 && mt.Dims[0] < 0 {
				// An array of no elements before the last member is a
				// GNU zero-length marker ([0]), not a flexible array.
				mt = mt.WithBound(0)
			}
			mem := Member{Name: b.str(m.nameOff), Type: mt, Offset: int64(m.bitOff / 8)}
			if m.bits != 0 {
				mem.BitSize, mem.BitOffset = int64(m.bits), int64(m.bitOff)
			}
			t.body = append(t.body, mem)
		}
	}
	return nil
}

// BTFSectionVars lists the variables BTF places in the data section called
// name (pahole encodes ".data..percpu", the per-CPU variables): each
// variable's offset in the section, and the section's size.
func BTFSectionVars(data []byte, name string) (map[string]uint64, uint64, error) {
	b, err := parseBTF(data)
	if err != nil {
		return nil, 0, err
	}
	var size uint64
	out := map[string]uint64{}
	lo, hi := b.ids()
	for id := lo; id < hi; id++ {
		t, err := b.typ(id)
		if err != nil {
			return nil, 0, err
		}
		if t.kind != btfKindDatasec || !b.nameIs(t.nameOff, name) {
			continue
		}
		size = uint64(t.st)
		for i := range t.vlen {
			d := t.extra[i*12:]
			v, err := b.typ(b.order.Uint32(d))
			if err != nil || v.kind != btfKindVar {
				continue
			}
			out[b.str(v.nameOff)] = uint64(b.order.Uint32(d[4:]))
		}
	}
	return out, size, nil
}

// declared is the type of a global the kernel model declares: a type name,
// maybe "volatile " first (jiffies).
func (ts *Types) declared(decl string) (*Type, Kind, error) {
	name, vol := strings.CutPrefix(decl, "volatile ")
	t, err := ts.Lookup(name)
	if err != nil || !vol {
		return t, KindVariable, err
	}
	return &Type{Kind: TypeVolatile, Target: t, Size: -1, Off: t.Off, types: ts}, KindVariable, nil
}
