package symbols

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// btfRaw reads a .BTF section in place (see the kernel's
// Documentation/bpf/btf.rst). Opening it is one pass over the type section
// that records where each type id starts and indexes the named structs and
// unions; everything else (members, enumerators, sizes) is decoded when
// asked. The section's bytes are read where they lie (the vmlinux's
// mapping), never copied.
type btfRaw struct {
	order binary.ByteOrder
	types []byte   // the type section
	strs  []byte   // the string section, NUL-terminated
	offs  []uint32 // offs[id]: where type id starts in types; offs[0] is void
	// comp maps a name to the first struct with a non-zero size or union
	// of that name, in type id order. The keys point into strs.
	comp map[string]uint32
	// A split BTF (a module's) continues a base BTF (the vmlinux's): its
	// type ids start at first, after the base's, and its string offsets
	// at strBase, the base's string section's length. A type id or string
	// offset below those is the base's. For a base BTF both are 0.
	base    *btfRaw
	first   uint32
	strBase uint32
}

// ids is the range of type ids the section itself holds: [lo, hi).
func (b *btfRaw) ids() (lo, hi uint32) {
	lo = b.first
	if lo == 0 {
		lo = 1 // void
	}
	return lo, b.first + uint32(len(b.offs))
}

// strEnd is the end of the string offsets this BTF can name.
func (b *btfRaw) strEnd() uint64 { return uint64(b.strBase) + uint64(len(b.strs)) }

// BTF kinds.
const (
	btfKindVoid = iota
	btfKindInt
	btfKindPtr
	btfKindArray
	btfKindStruct
	btfKindUnion
	btfKindEnum
	btfKindFwd
	btfKindTypedef
	btfKindVolatile
	btfKindConst
	btfKindRestrict
	btfKindFunc
	btfKindFuncProto
	btfKindVar
	btfKindDatasec
	btfKindFloat
	btfKindDeclTag
	btfKindTypeTag
	btfKindEnum64
)

const (
	btfMagic     = 0xeB9F
	btfHeaderLen = 24 // magic, version, flags, hdr_len, then four u32
	btfTypeLen   = 12 // name_off, info, size/type
	btfMaxDepth  = 32 // of typedef and qualifier chains, nested arrays
	btfSizeofPtr = 8  // the kernels gocrash reads are 64-bit
	btfMemberLen = 12 // name_off, type, offset
	btfMaxTypeID = 1<<31 - 1
)

var errBTFCorrupt = errors.New("corrupt BTF")

// btfCorrupt reports a malformed section.
func btfCorrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBTFCorrupt, fmt.Sprintf(format, args...))
}

// btfTrailer is how many bytes of kind-specific data follow a type's
// 12-byte header; false for a kind this reader does not know.
func btfTrailer(kind, vlen uint32) (uint32, bool) {
	switch kind {
	case btfKindInt, btfKindVar, btfKindDeclTag:
		return 4, true
	case btfKindPtr, btfKindFwd, btfKindTypedef, btfKindVolatile, btfKindConst,
		btfKindRestrict, btfKindFunc, btfKindFloat, btfKindTypeTag:
		return 0, true
	case btfKindArray:
		return 12, true
	case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
		return 12 * vlen, true
	case btfKindEnum, btfKindFuncProto:
		return 8 * vlen, true
	}
	return 0, false
}

// parseBTF reads the header and indexes the types of a .BTF section.
func parseBTF(data []byte) (*btfRaw, error) { return parseSplitBTF(data, nil) }

// parseSplitBTF reads a split BTF over base (a module's over the
// vmlinux's); with base nil, a whole BTF.
func parseSplitBTF(data []byte, base *btfRaw) (*btfRaw, error) {
	if len(data) < btfHeaderLen {
		return nil, btfCorrupt("%d bytes, shorter than the header", len(data))
	}
	b := &btfRaw{base: base}
	if base != nil {
		_, b.first = base.ids()
		b.strBase = uint32(base.strEnd())
	}
	switch {
	case binary.LittleEndian.Uint16(data) == btfMagic:
		b.order = binary.LittleEndian
	case binary.BigEndian.Uint16(data) == btfMagic:
		b.order = binary.BigEndian
	default:
		return nil, btfCorrupt("bad magic %#04x", binary.LittleEndian.Uint16(data))
	}
	if data[2] != 1 {
		return nil, fmt.Errorf("BTF version %d is not supported", data[2])
	}
	o := b.order
	hdrLen := uint64(o.Uint32(data[4:]))
	if hdrLen < btfHeaderLen || hdrLen > uint64(len(data)) {
		return nil, btfCorrupt("header length %d", hdrLen)
	}
	rest := data[hdrLen:]
	section := func(off, n uint32, what string) ([]byte, error) {
		if uint64(off)+uint64(n) > uint64(len(rest)) {
			return nil, btfCorrupt("%s section (%d bytes at %d) runs past the end (%d)", what, n, off, len(rest))
		}
		return rest[off : off+n : off+n], nil
	}
	var err error
	if b.types, err = section(o.Uint32(data[8:]), o.Uint32(data[12:]), "type"); err != nil {
		return nil, err
	}
	if b.strs, err = section(o.Uint32(data[16:]), o.Uint32(data[20:]), "string"); err != nil {
		return nil, err
	}
	if base != nil && base.order != b.order {
		return nil, btfCorrupt("the split BTF's byte order is not its base's")
	}
	if len(b.strs) == 0 || (base == nil && b.strs[0] != 0) || b.strs[len(b.strs)-1] != 0 {
		return nil, btfCorrupt("the string section does not start and end with NUL")
	}
	if err := b.index(); err != nil {
		return nil, err
	}
	return b, nil
}

// index is the one pass over the type section.
func (b *btfRaw) index() error {
	o, t := b.order, b.types
	// Kernel BTF averages a little over 30 bytes a type. A base's offs[0]
	// is void; a split BTF's offs[0] is its first type.
	b.offs = make([]uint32, 1, len(t)/28+2)
	if b.base != nil {
		b.offs = b.offs[:0]
	}
	b.comp = make(map[string]uint32, len(t)/300+16)
	for pos := 0; pos < len(t); {
		if len(t)-pos < btfTypeLen {
			return btfCorrupt("type %d is cut short", len(b.offs))
		}
		if len(b.offs) > btfMaxTypeID {
			return btfCorrupt("too many types")
		}
		nameOff := o.Uint32(t[pos:])
		info := o.Uint32(t[pos+4:])
		kind, vlen := info>>24&0x1f, info&0xffff
		n, ok := btfTrailer(kind, vlen)
		if !ok {
			return btfCorrupt("type %d has unknown kind %d", len(b.offs), kind)
		}
		if uint64(len(t)-pos-btfTypeLen) < uint64(n) {
			return btfCorrupt("type %d is cut short", len(b.offs))
		}
		if uint64(nameOff) >= b.strEnd() {
			return btfCorrupt("type %d's name is past the string section", len(b.offs))
		}
		id := b.first + uint32(len(b.offs))
		b.offs = append(b.offs, uint32(pos))
		if nameOff != 0 && (kind == btfKindUnion || kind == btfKindStruct && o.Uint32(t[pos+8:]) > 0) {
			name := b.str(nameOff)
			if _, seen := b.comp[name]; !seen && name != "" {
				b.comp[name] = id
			}
		}
		pos += btfTypeLen + int(n)
	}
	return nil
}

// str is the string at off, pointing into the section (off is known to be
// in the section, which ends with a NUL).
func (b *btfRaw) str(off uint32) string {
	if off < b.strBase {
		return b.base.str(off)
	}
	s := b.strs[off-b.strBase:]
	n := bytes.IndexByte(s, 0)
	if n <= 0 {
		return ""
	}
	return unsafe.String(&s[0], n)
}

// nameIs reports whether the string at off is name, without building it.
func (b *btfRaw) nameIs(off uint32, name string) bool {
	if off < b.strBase {
		return b.base.nameIs(off, name)
	}
	off -= b.strBase
	if uint64(off)+uint64(len(name)) >= uint64(len(b.strs)) {
		return false
	}
	s := b.strs[off:]
	return s[len(name)] == 0 && string(s[:len(name)]) == name
}

// btfT is one decoded type header.
type btfT struct {
	id      uint32
	nameOff uint32
	kind    uint32
	vlen    uint32
	kflag   bool
	st      uint32 // size or type, by kind
	extra   []byte // the kind-specific data
}

// typ decodes type id's header (id 0, void, has kind 0).
func (b *btfRaw) typ(id uint32) (btfT, error) {
	if id == 0 {
		return btfT{}, nil
	}
	if id < b.first {
		return b.base.typ(id)
	}
	if uint64(id-b.first) >= uint64(len(b.offs)) {
		_, hi := b.ids()
		return btfT{}, btfCorrupt("type id %d is out of range (%d types)", id, hi-1)
	}
	pos := b.offs[id-b.first]
	info := b.order.Uint32(b.types[pos+4:])
	t := btfT{id: id, nameOff: b.order.Uint32(b.types[pos:]), kind: info >> 24 & 0x1f, vlen: info & 0xffff, kflag: info>>31 != 0, st: b.order.Uint32(b.types[pos+8:])}
	n, _ := btfTrailer(t.kind, t.vlen) // checked by index
	t.extra = b.types[pos+btfTypeLen : pos+btfTypeLen+n]
	return t, nil
}

// underlying follows typedefs and qualifiers (const, volatile, restrict,
// type tags) to the type they name.
func (b *btfRaw) underlying(id uint32) (btfT, error) {
	for range btfMaxDepth {
		t, err := b.typ(id)
		if err != nil {
			return btfT{}, err
		}
		switch t.kind {
		case btfKindTypedef, btfKindConst, btfKindVolatile, btfKindRestrict, btfKindTypeTag:
			id = t.st
		default:
			return t, nil
		}
	}
	return btfT{}, btfCorrupt("type %d: typedef or qualifier chain longer than %d", id, btfMaxDepth)
}

// sizeof is the byte size of type id: ints, floats, enums, structs and
// unions carry it, a pointer is 8, an array is its element count times its
// element's size, and typedefs and qualifiers have their target's.
func (b *btfRaw) sizeof(id uint32) (int64, error) {
	n := int64(1)
	for range btfMaxDepth {
		t, err := b.typ(id)
		if err != nil {
			return 0, err
		}
		var elem int64
		switch t.kind {
		case btfKindArray:
			nelems := int64(b.order.Uint32(t.extra[8:]))
			if n > 0 && nelems > math.MaxInt64/n {
				return 0, fmt.Errorf("type %d: size overflows", t.id)
			}
			n *= nelems
			id = b.order.Uint32(t.extra)
			continue
		case btfKindTypedef, btfKindConst, btfKindVolatile, btfKindRestrict, btfKindTypeTag:
			id = t.st
			continue
		case btfKindVoid:
			elem = 0
		case btfKindPtr:
			elem = btfSizeofPtr
		case btfKindInt, btfKindFloat, btfKindEnum, btfKindEnum64, btfKindStruct, btfKindUnion, btfKindDatasec:
			elem = int64(t.st)
		default:
			return 0, fmt.Errorf("BTF type %d (kind %d) has no size", t.id, t.kind)
		}
		if n > 0 && elem > math.MaxInt64/n {
			return 0, fmt.Errorf("type %d: size overflows", t.id)
		}
		return n * elem, nil
	}
	return 0, fmt.Errorf("BTF type %d: deeper than %d", id, btfMaxDepth)
}

// btfMember is one decoded struct or union member.
type btfMember struct {
	nameOff uint32
	typ     uint32
	bitOff  uint32 // from the start of the struct
	bits    uint32 // bitfield width; 0 for a whole member
}

// member decodes member i of struct or union t.
func (b *btfRaw) member(t btfT, i uint32) (btfMember, error) {
	d := t.extra[i*btfMemberLen:]
	m := btfMember{nameOff: b.order.Uint32(d), typ: b.order.Uint32(d[4:]), bitOff: b.order.Uint32(d[8:])}
	if uint64(m.nameOff) >= b.strEnd() {
		return btfMember{}, btfCorrupt("type %d member %d's name is past the string section", t.id, i)
	}
	if t.kflag {
		// Bitfield size in the top 8 bits, bit offset in the low 24.
		m.bits, m.bitOff = m.bitOff>>24, m.bitOff&0xffffff
		return m, nil
	}
	// Without kind_flag a bitfield is a member whose type is an int
	// narrower than its storage or not starting at its first bit.
	mt, err := b.typ(m.typ)
	if err != nil {
		return btfMember{}, err
	}
	if mt.kind == btfKindInt {
		enc := b.order.Uint32(mt.extra)
		off, bits := enc>>16&0xff, enc&0xff
		if off > 0 || bits != mt.st*8 {
			m.bitOff += off
			m.bits = bits
		}
	}
	return m, nil
}

// findMember finds member name of struct or union id, looking inside
// anonymous members as C does (the struct's own members first); the offset
// is in bytes from the start of id. ok is false when there is no such
// member.
func (b *btfRaw) findMember(id uint32, name string) (m btfMember, off int64, ok bool, err error) {
	return b.findMemberDepth(id, name, 0, map[uint32]uint8{})
}

// The states of a type in a member search.
const (
	searching = 1 // on the path from the struct asked about: met again, it contains itself
	searched  = 2 // searched, without the member: not searched again
)

// findMemberDepth searches each type once (state): a corrupt section
// whose anonymous members name the same types over and over would
// otherwise cost vlen to the power of the depth.
func (b *btfRaw) findMemberDepth(id uint32, name string, depth int, state map[uint32]uint8) (m btfMember, off int64, ok bool, err error) {
	if depth > btfMaxDepth {
		return btfMember{}, 0, false, btfCorrupt("type %d: anonymous members nested deeper than %d", id, btfMaxDepth)
	}
	t, err := b.underlying(id)
	if err != nil || (t.kind != btfKindStruct && t.kind != btfKindUnion) || state[t.id] == searched {
		return btfMember{}, 0, false, err
	}
	if state[t.id] == searching {
		return btfMember{}, 0, false, btfCorrupt("type %d contains itself", t.id)
	}
	state[t.id] = searching
	for i := range t.vlen {
		m, err := b.member(t, i)
		if err != nil {
			return btfMember{}, 0, false, err
		}
		if m.nameOff != 0 && b.nameIs(m.nameOff, name) {
			return m, int64(m.bitOff / 8), true, nil
		}
	}
	for i := range t.vlen {
		m, err := b.member(t, i)
		if err != nil {
			return btfMember{}, 0, false, err
		}
		if m.nameOff == 0 || b.str(m.nameOff) == "" {
			inner, ioff, ok, err := b.findMemberDepth(m.typ, name, depth+1, state)
			if err != nil || ok {
				return inner, int64(m.bitOff/8) + ioff, ok, err
			}
		}
	}
	state[t.id] = searched
	return btfMember{}, 0, false, nil
}

// composite picks the type a struct or union name means: the first struct
// with a non-zero size or union of that name; failing that, the first type
// of any kind with that name, through typedefs and qualifiers.
func (b *btfRaw) composite(name string) (uint32, bool, error) {
	if id, ok := b.comp[name]; ok {
		return id, true, nil
	}
	if name == "" {
		return 0, false, nil
	}
	// Rare: a name no sized struct or union has (a typedef, a forward
	// declaration, a type this kernel lacks). Scan for it.
	lo, hi := b.ids()
	for id := lo; id < hi; id++ {
		if b.nameIs(b.order.Uint32(b.types[b.offs[id-b.first]:]), name) {
			t, err := b.underlying(id)
			return t.id, err == nil, err
		}
	}
	return 0, false, nil
}

// enumerator scans the enums, in type order, for the constant name.
func (b *btfRaw) enumerator(name string) (int64, bool) {
	v, _, ok := b.enumOf(name, false)
	return v, ok
}

// enumOf finds the first enum, in type order, with the constant name: its
// value, and with all (else nil) every constant of that enum in order.
func (b *btfRaw) enumOf(name string, all bool) (int64, []Enumerator, bool) {
	o := b.order
	lo, hi := b.ids()
	for id := lo; id < hi; id++ {
		pos := b.offs[id-b.first]
		info := o.Uint32(b.types[pos+4:])
		kind, vlen := info>>24&0x1f, info&0xffff
		var step uint32
		switch kind {
		case btfKindEnum:
			step = 8
		case btfKindEnum64:
			step = 12
		default:
			continue
		}
		value := func(d []byte) int64 {
			if kind == btfKindEnum64 {
				return int64(uint64(o.Uint32(d[4:])) | uint64(o.Uint32(d[8:]))<<32)
			}
			if info>>31 != 0 { // kind_flag: a signed enum
				return int64(int32(o.Uint32(d[4:])))
			}
			return int64(o.Uint32(d[4:]))
		}
		d := b.types[pos+btfTypeLen : pos+btfTypeLen+step*vlen]
		for i := uint32(0); i < vlen; i, d = i+1, d[step:] {
			if !b.nameIs(o.Uint32(d), name) {
				continue
			}
			v := value(d)
			if !all {
				return v, nil, true
			}
			es := make([]Enumerator, vlen)
			e := b.types[pos+btfTypeLen:]
			for j := range es {
				es[j] = Enumerator{Name: b.str(o.Uint32(e)), Value: value(e)}
				e = e[step:]
			}
			return v, es, true
		}
	}
	return 0, nil, false
}
