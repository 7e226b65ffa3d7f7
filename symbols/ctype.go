package symbols

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// TypeKind is the kind of a C type.
type TypeKind uint8

// The kinds of C types.
const (
	TypeVoid TypeKind = iota
	TypeBase
	TypePointer
	TypeStruct
	TypeUnion
	TypeEnum
	TypeTypedef
	TypeArray
	TypeFunc
	TypeConst
	TypeVolatile
	TypeRestrict
	TypeAtomic
)

// Base type encodings (DW_ATE_*).
const (
	EncAddress      = 0x1
	EncBoolean      = 0x2
	EncFloat        = 0x4
	EncSigned       = 0x5
	EncSignedChar   = 0x6
	EncUnsigned     = 0x7
	EncUnsignedChar = 0x8
	EncUTF          = 0x10
)

// Type is a C type read from DWARF. Struct, union and enum bodies are read
// on first use (Members, Enumerators), so that naming a type costs one DIE.
// Types are shared and must not be modified.
type Type struct {
	Kind     TypeKind
	Name     string // tag, typedef or base type name; "" when anonymous
	Size     int64  // in bytes; -1 when unknown (void, functions, incomplete types)
	Encoding uint8  // base types: DW_ATE_*
	Decl     bool   // an incomplete (declared, not defined) struct, union or enum
	// Target is what a pointer points to, a typedef or qualifier names,
	// an array holds, a function returns, or an enum is stored as; nil
	// means void (or, for enums, unknown).
	Target *Type
	// Dims are an array's dimensions, outermost first: -1 for an array
	// without a bound (a flexible array member).
	Dims []int64
	// Params are a function's parameter types; Variadic marks "...",
	// Prototyped a declaration with a parameter list.
	Params     []*Type
	Variadic   bool
	Prototyped bool
	Off        uint64 // the DIE's offset in .debug_info

	types  *Types
	once   sync.Once
	body   []Member
	enums  []Enumerator
	bodyEr error
}

// Member is a struct or union member.
type Member struct {
	Name string // "" for an anonymous struct or union
	Type *Type
	// Offset is the byte offset from the start of the containing type;
	// for a bit-field, the byte holding its first bit.
	Offset int64
	// BitSize is non-zero for a bit-field; BitOffset is then its first bit
	// counted from the start of the containing type (little-endian
	// numbering: bit 0 is the least significant bit of byte 0).
	BitSize, BitOffset int64
}

// Enumerator is one constant of an enum.
type Enumerator struct {
	Name  string
	Value int64
}

// Types builds C types from the vmlinux's DWARF, each DIE once.
type Types struct {
	d     *Dwarf
	ix    *Index
	mu    sync.Mutex
	byOff map[uint64]*Type
	void  *Type

	ixOnce sync.Once
	ixErr  error
	full   func() (*Index, error) // loads or builds the index
	cached func() *Index          // the index if loaded or cached, else nil
	quick  *quickHooks            // lookups without the index (quick.go)
	// first, when set, is Dwarf.firstDefinitionOf remembered (quickcache.go).
	first func(name string, kinds []Kind, limit uint64) (uint64, bool, error)

	// layers, in a Layered view, are the type models it looks names up
	// in, in order; such a view has nothing else.
	layers []*Types

	// btf, when set, is where the types come from instead of DWARF
	// (btftypes.go): a Type's Off is then its BTF type id. objects are
	// the types of globals BTF does not describe (only per-CPU ones
	// have VARs), by name: "init_task": "struct task_struct".
	btf     *btfRaw
	objects map[string]string
}

// Types returns the C type model over the DWARF index. The index itself
// is loaded (or built) when a lookup first needs it: a lookup of "struct
// NAME" or "union NAME" made before then, with no cached index on disk,
// is answered by scanning the units in order to the first definition,
// which is the one the index would give, when that is near the start of
// .debug_info (as the kernel's common structs are).
func (v *Vmlinux) Types() (*Types, error) {
	v.typesOnce.Do(func() {
		d, err := v.DWARF()
		if err != nil {
			// No DWARF: the types BTF describes, when the image has BTF.
			if bt, berr := v.btfTypes(); berr == nil {
				v.types = bt
				return
			}
			v.typesErr = err
			return
		}
		v.types = &Types{d: d, full: v.Index, cached: v.indexIfCached, byOff: map[uint64]*Type{},
			void: &Type{Kind: TypeVoid, Name: "void", Size: 1},
			first: func(name string, kinds []Kind, limit uint64) (uint64, bool, error) {
				return v.firstDefinitionCached(d, name, kinds, limit)
			},
			quick: &quickHooks{object: v.quickObjectCached, typeKinds: v.typeKindsCached, enumerator: v.enumeratorCached}}
	})
	return v.types, v.typesErr
}

// NewTypes returns a type model over d, looking names up in ix.
func NewTypes(d *Dwarf, ix *Index) *Types {
	return &Types{d: d, ix: ix, byOff: map[uint64]*Type{}, void: &Type{Kind: TypeVoid, Name: "void", Size: 1}}
}

// index returns the full name index, loading or building it on first use.
func (ts *Types) index() (*Index, error) {
	if ts.layers != nil {
		return ts.layers[0].index()
	}
	ts.ixOnce.Do(func() {
		if ts.ix == nil && ts.full != nil {
			ts.ix, ts.ixErr = ts.full()
		}
	})
	return ts.ix, ts.ixErr
}

// Index is the name index the types are looked up in (loaded or built on
// first use; nil when it cannot be).
func (ts *Types) Index() *Index {
	ix, _ := ts.index()
	return ix
}

// quickLimit is how far into .debug_info (a fraction of it) a first
// definition is looked for before the whole index is built instead.
const quickLimit = 16

// lookupFirst answers a one-kind lookup without the index while none is
// loaded or cached: ok is false when that is not possible.
func (ts *Types) lookupFirst(name string, kind Kind) (*Type, bool) {
	if ts.full == nil || ts.cached == nil || ts.cached() != nil {
		return nil, false
	}
	off, found, err := ts.firstDefinition(name, []Kind{kind}, uint64(len(ts.d.sec.info))/quickLimit)
	if err != nil || !found {
		return nil, false
	}
	t, err := ts.At(off)
	return t, err == nil
}

// firstDefinition is the offset of name's first definition as one of
// kinds within limit bytes of .debug_info (Dwarf.firstDefinitionOf),
// remembered in the vmlinux's quick answers when there are any: a warm
// start asks again what the first run scanned for.
func (ts *Types) firstDefinition(name string, kinds []Kind, limit uint64) (uint64, bool, error) {
	if ts.first != nil {
		return ts.first(name, kinds, limit)
	}
	off, _, found, err := ts.d.firstDefinitionOf(name, kinds, limit)
	return off, found, err
}

// Void is the void type.
func (ts *Types) Void() *Type { return ts.void }

// At returns the type whose DIE is at off.
func (ts *Types) At(off uint64) (*Type, error) {
	if ts.layers != nil {
		return ts.layers[0].At(off)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.btf != nil {
		return ts.btfAt(off, 0)
	}
	return ts.at(off, 0)
}

// errTooDeep stops a malformed chain of type references.
var errTooDeep = errors.New("type references nest too deeply")

func (ts *Types) at(off uint64, depth int) (*Type, error) {
	if t, ok := ts.byOff[off]; ok {
		return t, nil
	}
	if depth > 64 {
		return nil, &DecodeError{".debug_info", off, errTooDeep.Error()}
	}
	e, err := ts.d.readDIE(off)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, &DecodeError{".debug_info", off, "type reference to a null entry"}
	}
	t := &Type{Name: e.name(), Size: -1, Off: off, types: ts}
	if sz, ok := e.constant(atByteSize); ok {
		t.Size = sz
	}
	t.Decl = e.flag(atDeclaration)
	// Cached before its references are followed: a struct's pointer to
	// itself finds it here.
	ts.byOff[off] = t
	target := func() error {
		ref, ok := e.ref(atType)
		if !ok {
			return nil
		}
		t.Target, err = ts.at(ref, depth+1)
		return err
	}
	switch e.tag {
	case tagBaseType:
		t.Kind = TypeBase
		if enc, ok := e.constant(atEncoding); ok {
			t.Encoding = uint8(enc)
		}
	case tagUnspecifiedType:
		t.Kind = TypeVoid
	case tagPointerType, 0x10 /* reference */, 0x42 /* rvalue reference */ :
		t.Kind = TypePointer
		if t.Size < 0 {
			t.Size = int64(e.u.addrSize)
		}
		err = target()
	case tagStructureType:
		t.Kind = TypeStruct
	case tagUnionType:
		t.Kind = TypeUnion
	case tagEnumerationType:
		t.Kind = TypeEnum
		err = target()
	case tagTypedef:
		t.Kind = TypeTypedef
		err = target()
	case tagConstType:
		t.Kind = TypeConst
		err = target()
	case tagVolatileType:
		t.Kind = TypeVolatile
		err = target()
	case tagRestrictType:
		t.Kind = TypeRestrict
		err = target()
	case tagAtomicType:
		t.Kind = TypeAtomic
		err = target()
	case tagArrayType:
		t.Kind = TypeArray
		if err = target(); err != nil {
			break
		}
		var kids []*die
		if kids, err = ts.d.childrenOf(e); err != nil {
			break
		}
		for _, k := range kids {
			if k.tag != tagSubrangeType {
				continue
			}
			n := int64(-1)
			if c, ok := k.constant(atCount); ok {
				n = c
			} else if ub, ok := k.attr(atUpperBound); ok && ub.class == classConst {
				n = ub.s + 1
				if ub.form != formSdata && ub.form != formImplicitConst {
					n = int64(ub.u) + 1
				}
			}
			t.Dims = append(t.Dims, n)
		}
		if len(t.Dims) == 0 {
			t.Dims = []int64{-1}
		}
		if t.Size < 0 {
			if es := ts.sizeOf(t.Target); es >= 0 {
				t.Size = es
				for _, n := range t.Dims {
					if n < 0 {
						t.Size = 0
						break
					}
					t.Size *= n
				}
			}
		}
	case tagSubroutineType, tagSubprogram:
		t.Kind = TypeFunc
		t.Prototyped = e.flag(atPrototyped)
		if err = target(); err != nil {
			break
		}
		var kids []*die
		if kids, err = ts.d.childrenOf(e); err != nil {
			break
		}
		for _, k := range kids {
			switch k.tag {
			case tagFormalParameter:
				ref, ok := k.ref(atType)
				if !ok {
					continue
				}
				var p *Type
				if p, err = ts.at(ref, depth+1); err != nil {
					break
				}
				t.Params = append(t.Params, p)
			case tagUnspecParams:
				t.Variadic = true
			}
		}
	default:
		err = &DecodeError{".debug_info", off, fmt.Sprintf("DIE with tag %#x is not a type", e.tag)}
	}
	if err != nil {
		delete(ts.byOff, off)
		return nil, err
	}
	return t, nil
}

// sizeOf is the byte size of t, following typedefs and qualifiers (-1 when
// unknown).
func (ts *Types) sizeOf(t *Type) int64 {
	for i := 0; t != nil && i < 64; i++ {
		switch t.Kind {
		case TypeTypedef, TypeConst, TypeVolatile, TypeRestrict, TypeAtomic:
			if t.Size >= 0 {
				return t.Size
			}
			t = t.Target
		default:
			return t.Size
		}
	}
	return -1
}

// Sizeof is the byte size of t, following typedefs and qualifiers; -1 when
// the type has no size (void, functions, incomplete types).
func (t *Type) Sizeof() int64 {
	if t == nil {
		return -1
	}
	return t.types.sizeOfLocked(t)
}

func (ts *Types) sizeOfLocked(t *Type) int64 {
	if ts == nil {
		return t.Size
	}
	return ts.sizeOf(t)
}

// Strip returns t without typedefs and qualifiers.
func (t *Type) Strip() *Type {
	for i := 0; t != nil && i < 64; i++ {
		switch t.Kind {
		case TypeTypedef, TypeConst, TypeVolatile, TypeRestrict, TypeAtomic:
			if t.Target == nil {
				return t
			}
			t = t.Target
		default:
			return t
		}
	}
	return t
}

// Members returns a struct's or union's members (nil for other types).
func (t *Type) Members() ([]Member, error) {
	if t.Kind != TypeStruct && t.Kind != TypeUnion {
		return nil, nil
	}
	t.loadBody()
	return t.body, t.bodyEr
}

// Enumerators returns an enum's constants.
func (t *Type) Enumerators() ([]Enumerator, error) {
	if t.Kind != TypeEnum {
		return nil, nil
	}
	t.loadBody()
	return t.enums, t.bodyEr
}

func (t *Type) loadBody() {
	t.once.Do(func() {
		if t.types == nil {
			return
		}
		ts := t.types
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if ts.btf != nil {
			t.bodyEr = ts.btfBody(t)
			return
		}
		t.bodyEr = ts.readBody(t)
	})
}

func (ts *Types) readBody(t *Type) error {
	e, err := ts.d.readDIE(t.Off)
	if err != nil {
		return err
	}
	kids, err := ts.d.childrenOf(e)
	if err != nil {
		return err
	}
	if t.Kind == TypeEnum {
		signed := true
		if u := t.Target.Strip(); u != nil && u.Kind == TypeBase {
			signed = u.Encoding == EncSigned || u.Encoding == EncSignedChar
		}
		for _, k := range kids {
			if k.tag != tagEnumerator {
				continue
			}
			v, _ := k.attr(atConstValue)
			val := v.s
			if !signed && v.form != formSdata {
				val = int64(v.u)
			}
			t.enums = append(t.enums, Enumerator{Name: k.name(), Value: val})
		}
		return nil
	}
	for _, k := range kids {
		if k.tag != tagMember {
			continue
		}
		ref, ok := k.ref(atType)
		if !ok {
			continue
		}
		mt, err := ts.at(ref, 0)
		if err != nil {
			return err
		}
		m := Member{Name: k.name(), Type: mt}
		if loc, ok := k.attr(atDataMemberLocation); ok {
			switch loc.class {
			case classConst:
				m.Offset = int64(loc.u)
			case classBlock:
				// DW_OP_plus_uconst N, as DWARF 2 producers wrote it.
				if len(loc.block) > 0 && loc.block[0] == 0x23 {
					b := buf{data: loc.block, off: 1}
					m.Offset = int64(b.uleb())
				}
			}
		}
		if bs, ok := k.constant(atBitSize); ok {
			m.BitSize = bs
			if dbo, ok := k.constant(atDataBitOffset); ok {
				m.BitOffset = dbo
			} else if bo, ok := k.constant(atBitOffset); ok {
				// DWARF 2/3: counted from the most significant bit of
				// the storage unit at data_member_location.
				storage := ts.sizeOf(mt)
				if sz, ok := k.constant(atByteSize); ok {
					storage = sz
				}
				if ts.d.sec.order.Uint16([]byte{1, 0}) == 1 {
					m.BitOffset = m.Offset*8 + storage*8 - bo - bs
				} else {
					m.BitOffset = m.Offset*8 + bo
				}
			} else {
				m.BitOffset = m.Offset * 8
			}
			m.Offset = m.BitOffset / 8
		}
		t.body = append(t.body, m)
	}
	return nil
}

// Lookup finds a type by name as a C programmer writes it: "task_struct"
// (any kind), "struct task_struct", "union thread_union", "enum pid_type",
// a typedef or base type name ("pid_t", "unsigned int").
func (ts *Types) Lookup(name string) (*Type, error) {
	if ts.layers != nil {
		return ts.layeredLookup(name)
	}
	name = strings.Join(strings.Fields(name), " ")
	var kinds []Kind
	switch {
	case strings.HasPrefix(name, "struct "):
		name, kinds = name[7:], []Kind{KindStruct}
	case strings.HasPrefix(name, "union "):
		name, kinds = name[6:], []Kind{KindUnion}
	case strings.HasPrefix(name, "enum "):
		name, kinds = name[5:], []Kind{KindEnum}
	default:
		kinds = []Kind{KindStruct, KindUnion, KindEnum, KindTypedef, KindBase}
	}
	if ts.missingType(name, kinds) {
		return nil, &MissingError{What: "type " + name}
	}
	if k, ok := ts.onlyKind(name, kinds); ok {
		kinds = []Kind{k}
	}
	if len(kinds) == 1 {
		if t, ok := ts.lookupFirst(name, kinds[0]); ok {
			return t, nil
		}
	}
	ix, err := ts.index()
	if err != nil {
		return nil, err
	}
	ents := ix.Lookup(name, kinds...)
	if len(ents) == 0 {
		if alt := baseTypeAlias(name); alt != "" {
			ents = ix.Lookup(alt, KindBase)
		}
	}
	if len(ents) == 0 {
		return nil, &MissingError{What: "type " + name}
	}
	// A definition of any kind before a mere declaration.
	best := ents[0]
	for _, e := range ents {
		if best.Decl && !e.Decl {
			best = e
		}
	}
	return ts.At(best.Off)
}

// baseTypeAlias maps the spellings of C base types to GCC's DWARF names.
func baseTypeAlias(name string) string {
	switch name {
	case "unsigned":
		return "unsigned int"
	case "signed", "signed int":
		return "int"
	case "long", "signed long", "long signed int", "signed long int":
		return "long int"
	case "unsigned long", "unsigned long int":
		return "long unsigned int"
	case "long long", "signed long long", "signed long long int":
		return "long long int"
	case "unsigned long long", "unsigned long long int":
		return "long long unsigned int"
	case "short", "signed short", "signed short int":
		return "short int"
	case "unsigned short", "unsigned short int":
		return "short unsigned int"
	case "bool":
		return "_Bool"
	}
	return ""
}

// MemberPath finds the member at path ("thread.sp", "se.load.weight") in a
// struct or union, looking through anonymous members as C does. It
// returns the member with its Offset (and BitOffset) counted from the start
// of t.
func (t *Type) MemberPath(path string) (Member, error) {
	cur := t
	var base int64
	var m Member
	parts := strings.Split(path, ".")
	for i, part := range parts {
		s := cur.Strip()
		if s == nil || (s.Kind != TypeStruct && s.Kind != TypeUnion) {
			return Member{}, &MissingError{What: fmt.Sprintf("member %s of %s", path, TypeName(t))}
		}
		found, ok, err := findMemberIn(s, part)
		if err != nil {
			return Member{}, err
		}
		if !ok {
			return Member{}, &MissingError{What: fmt.Sprintf("member %s.%s", strings.TrimPrefix(strings.TrimPrefix(TypeName(t), "struct "), "union "), path)}
		}
		m = found
		if i < len(parts)-1 {
			base += found.Offset
		}
		cur = found.Type
	}
	m.Offset += base
	if m.BitSize != 0 {
		m.BitOffset += base * 8
	}
	return m, nil
}

// findMemberIn finds a direct or anonymous-nested member of t, with its
// offsets counted from the start of t.
func findMemberIn(t *Type, name string) (Member, bool, error) {
	ms, err := t.Members()
	if err != nil {
		return Member{}, false, err
	}
	for _, m := range ms {
		if m.Name == name {
			return m, true, nil
		}
	}
	for _, m := range ms {
		if m.Name != "" {
			continue
		}
		inner := m.Type.Strip()
		if inner == nil || (inner.Kind != TypeStruct && inner.Kind != TypeUnion) {
			continue
		}
		f, ok, err := findMemberIn(inner, name)
		if err != nil {
			return Member{}, false, err
		}
		if ok {
			f.Offset += m.Offset
			if f.BitSize != 0 {
				f.BitOffset += m.Offset * 8
			}
			return f, true, nil
		}
	}
	return Member{}, false, nil
}

// ObjectType returns the type of the variable or function called name, and
// which of the two it is.
func (ts *Types) ObjectType(name string) (*Type, Kind, error) {
	if ts.layers != nil {
		return ts.layeredObjectType(name)
	}
	var ents []IndexEntry
	if e, ok := ts.quickObject(name); ok {
		ents = []IndexEntry{e}
	} else {
		ix, err := ts.index()
		if err != nil {
			return nil, 0, err
		}
		ents = ix.Lookup(name, KindVariable, KindFunction)
	}
	if len(ents) == 0 {
		if decl, ok := ts.objects[name]; ok {
			// A global BTF has no VAR for, declared by the kernel model.
			return ts.declared(decl)
		}
		return nil, 0, &MissingError{What: "symbol " + name}
	}
	best := ents[0]
	for _, e := range ents {
		if best.Decl && !e.Decl {
			best = e
		}
	}
	return ts.objectTypeAt(best)
}

// objectTypeAt returns the type of the variable or function of entry best.
func (ts *Types) objectTypeAt(best IndexEntry) (*Type, Kind, error) {
	if best.Kind == KindFunction || ts.btf != nil {
		// (In BTF a variable's entry, a VAR, stands for its type.)
		t, err := ts.At(best.Off)
		return t, best.Kind, err
	}
	ts.mu.Lock()
	e, err := ts.d.readDIE(best.Off)
	ts.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	ref, ok := e.ref(atType)
	if !ok {
		// A definition that completes a declaration without changing its
		// type: the declaration has it.
		if spec, ok2 := e.ref(atSpecification); ok2 {
			ts.mu.Lock()
			de, err := ts.d.readDIE(spec)
			ts.mu.Unlock()
			if err == nil && de != nil {
				ref, ok = de.ref(atType)
			}
		}
	}
	if !ok {
		return nil, 0, &DecodeError{".debug_info", best.Off, "variable without a type"}
	}
	t, err := ts.At(ref)
	return t, KindVariable, err
}

// Enumerator finds the enum constant called name: its value and its type.
func (ts *Types) Enumerator(name string) (int64, *Type, error) {
	if ts.layers != nil {
		return ts.layeredEnumerator(name)
	}
	if ts.withoutIndex() {
		if has, ok := ts.quick.enumerator(name); ok && !has {
			return 0, nil, &MissingError{What: "enumerator " + name}
		}
		if v, t, ok := ts.firstEnumerator(name); ok {
			return v, t, nil
		}
	}
	ix, err := ts.index()
	if err != nil {
		return 0, nil, err
	}
	for _, e := range ix.Lookup(name, KindEnumerator) {
		if v, t, ok, err := ts.enumeratorAt(e.Off, name); err != nil || ok {
			return v, t, err
		}
	}
	return 0, nil, &MissingError{What: "enumerator " + name}
}

// Element is the type of one element of array t: the element type, or for
// a multi-dimensional array the array of the remaining dimensions.
func (t *Type) Element() *Type {
	if t.Kind != TypeArray || len(t.Dims) <= 1 {
		return t.Target
	}
	sub := &Type{Kind: TypeArray, Target: t.Target, Dims: t.Dims[1:], Size: -1, Off: t.Off, types: t.types}
	if es := t.Target.Sizeof(); es >= 0 {
		sub.Size = es
		for _, d := range sub.Dims {
			if d < 0 {
				sub.Size = 0
				break
			}
			sub.Size *= d
		}
	}
	return sub
}

// WithBound returns array t with its outer dimension set to n (completing
// an array declared without a size).
func (t *Type) WithBound(n int64) *Type {
	if t.Kind != TypeArray || len(t.Dims) == 0 {
		return t
	}
	dims := append([]int64{n}, t.Dims[1:]...)
	c := &Type{Kind: TypeArray, Target: t.Target, Dims: dims, Size: -1, Off: t.Off, types: t.types}
	if es := t.Element().Sizeof(); es >= 0 {
		c.Size = es * n
	}
	return c
}
