package symbols

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The DWARF reader. gocrash reads .debug_info itself rather than through
// debug/dwarf: the name index needs an abbreviation-driven scan that skips
// what it does not need (debug/dwarf decodes every attribute of every DIE,
// ~3 s for the Debian vmlinux's 16.8 million DIEs), and the type model needs
// single DIEs decoded on demand without parsing every unit's abbreviation
// table up front. DWARF 2 to 5 are read, 32- and 64-bit formats, and the
// sections DWARF 5 added (.debug_str_offsets, .debug_line_str, .debug_addr).
// The ET_EXEC vmlinux's .rela.debug_* sections are not applied: the Debian
// kernel's hold only relocations the linker has already resolved.

// DecodeError says where .debug_info (or a section it refers to) is bad.
type DecodeError struct {
	Section string
	Offset  uint64
	Msg     string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("DWARF %s at offset %#x: %s", e.Section, e.Offset, e.Msg)
}

// dwarfSections holds the debug sections, each a slice of the mapped file
// (or, for a compressed section, of its decompressed copy).
type dwarfSections struct {
	info, abbrev, str, lineStr, strOffsets, addr, line, aranges []byte
	order                                                       binary.ByteOrder
}

// unit is one compilation (or type/partial) unit's header.
type unit struct {
	off       uint64 // of the unit header
	data      uint64 // first DIE
	end       uint64
	version   uint16
	addrSize  uint8
	dwarf64   bool
	abbrevOff uint64
}

// Dwarf is the vmlinux's DWARF: its sections, units and abbreviation tables.
// It is safe for concurrent use.
type Dwarf struct {
	sec   dwarfSections
	units []unit

	// release, when set, gives back the memory of a stretch of a mapped
	// section that a scan is done with (it stays in the page cache).
	release func([]byte)

	lines lineIndex

	prefix prefixScan // the first-definition scan (index.go)

	mu      sync.Mutex
	abbrevs map[uint64]*abbrevTable
	strBase map[uint64]uint64 // unit offset -> DW_AT_str_offsets_base
}

// DWARF returns the vmlinux's debug information, read on first use. The
// error says what is missing (a vmlinux without debuginfo has no
// .debug_info: crash users know it as "no debugging data available").
func (v *Vmlinux) DWARF() (*Dwarf, error) {
	v.dwarfOnce.Do(func() { v.dwarf, v.dwarfErr = v.openDWARF() })
	return v.dwarf, v.dwarfErr
}

func (v *Vmlinux) openDWARF() (*Dwarf, error) {
	get := func(name string) ([]byte, error) {
		s := v.File.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		b := v.sectionBytes(s)
		if b == nil {
			return nil, fmt.Errorf("%s: section %s runs past the end of the file", v.Path, name)
		}
		if s.Flags&elf.SHF_COMPRESSED != 0 {
			return decompressSection(v.File, name, b)
		}
		return b, nil
	}
	d := &Dwarf{abbrevs: map[uint64]*abbrevTable{}, strBase: map[uint64]uint64{}}
	d.sec.order = v.File.ByteOrder
	for _, s := range []struct {
		name string
		dst  *[]byte
	}{
		{".debug_info", &d.sec.info}, {".debug_abbrev", &d.sec.abbrev}, {".debug_str", &d.sec.str},
		{".debug_line_str", &d.sec.lineStr}, {".debug_str_offsets", &d.sec.strOffsets},
		{".debug_addr", &d.sec.addr}, {".debug_line", &d.sec.line}, {".debug_aranges", &d.sec.aranges},
	} {
		b, err := get(s.name)
		if err != nil {
			return nil, err
		}
		*s.dst = b
	}
	if s := v.File.Section(".debug_info"); s != nil && s.Flags&elf.SHF_COMPRESSED == 0 {
		d.release = releaseMapped
	}
	if d.sec.info == nil || d.sec.abbrev == nil {
		return nil, fmt.Errorf("%s: no debugging data available (no .debug_info; install the kernel's -dbg package)", v.Path)
	}
	if err := v.readUnitsCached(d); err != nil {
		return nil, fmt.Errorf("%s: %v", v.Path, err)
	}
	return d, nil
}

// decompressSection inflates an SHF_COMPRESSED section (zlib or zstd).
func decompressSection(f *elf.File, name string, b []byte) ([]byte, error) {
	var typ, size uint64
	var hdr int
	if f.Class == elf.ELFCLASS64 {
		if len(b) < 24 {
			return nil, fmt.Errorf("section %s: compression header cut short", name)
		}
		typ, size, hdr = uint64(f.ByteOrder.Uint32(b)), f.ByteOrder.Uint64(b[8:]), 24
	} else {
		if len(b) < 12 {
			return nil, fmt.Errorf("section %s: compression header cut short", name)
		}
		typ, size, hdr = uint64(f.ByteOrder.Uint32(b)), uint64(f.ByteOrder.Uint32(b[4:])), 12
	}
	if size > 1<<32 {
		return nil, fmt.Errorf("section %s: claims %d bytes uncompressed", name, size)
	}
	var r io.Reader
	switch elf.CompressionType(typ) {
	case elf.COMPRESS_ZLIB:
		zr, err := zlib.NewReader(bytes.NewReader(b[hdr:]))
		if err != nil {
			return nil, fmt.Errorf("section %s: %v", name, err)
		}
		r = zr
	case elf.COMPRESS_ZSTD:
		zr, err := zstd.NewReader(bytes.NewReader(b[hdr:]), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("section %s: %v", name, err)
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("section %s: unknown compression type %d", name, typ)
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("section %s: decompressing: %v", name, err)
	}
	return out, nil
}

// readUnits reads every unit header of .debug_info.
func (d *Dwarf) readUnits() error {
	info := d.sec.info
	bo := d.sec.order
	released := uint64(0)
	for off := uint64(0); off < uint64(len(info)); {
		bad := func(msg string, args ...any) error {
			return &DecodeError{".debug_info", off, fmt.Sprintf(msg, args...)}
		}
		if off+4 > uint64(len(info)) {
			return bad("unit header cut short")
		}
		u := unit{off: off}
		length := uint64(bo.Uint32(info[off:]))
		p := off + 4
		if length == 0xffffffff {
			if p+8 > uint64(len(info)) {
				return bad("unit header cut short")
			}
			length = bo.Uint64(info[p:])
			p += 8
			u.dwarf64 = true
		} else if length >= 0xfffffff0 {
			return bad("reserved unit length %#x", length)
		}
		if length > uint64(len(info))-p {
			return bad("unit of %d bytes runs past the end of the section", length)
		}
		u.end = p + length
		if u.end-p < 2 {
			return bad("unit header cut short")
		}
		u.version = bo.Uint16(info[p:])
		p += 2
		offSize := uint64(4)
		if u.dwarf64 {
			offSize = 8
		}
		readOff := func() uint64 {
			if offSize == 8 {
				v := bo.Uint64(info[p:])
				p += 8
				return v
			}
			v := uint64(bo.Uint32(info[p:]))
			p += 4
			return v
		}
		switch {
		case u.version >= 2 && u.version <= 4:
			if u.end-p < offSize+1 {
				return bad("unit header cut short")
			}
			u.abbrevOff = readOff()
			u.addrSize = info[p]
			p++
		case u.version == 5:
			if u.end-p < 2+offSize {
				return bad("unit header cut short")
			}
			utype := info[p]
			u.addrSize = info[p+1]
			p += 2
			u.abbrevOff = readOff()
			switch utype {
			case 0x01, 0x03: // DW_UT_compile, DW_UT_partial
			case 0x04, 0x05: // DW_UT_skeleton, DW_UT_split_compile: dwo_id
				p += 8
			case 0x02, 0x06: // DW_UT_type, DW_UT_split_type: signature, type offset
				p += 8 + offSize
			default:
				return bad("unknown unit type %#x", utype)
			}
		default:
			return bad("DWARF version %d is not supported", u.version)
		}
		if p > u.end {
			return bad("unit header cut short")
		}
		if u.addrSize != 4 && u.addrSize != 8 {
			return bad("address size %d is not supported", u.addrSize)
		}
		if u.abbrevOff >= uint64(len(d.sec.abbrev)) {
			return bad("abbreviation offset %#x is past the end of .debug_abbrev", u.abbrevOff)
		}
		u.data = p
		d.units = append(d.units, u)
		off = u.end
		// Each header read faults in (with the kernel's fault-around)
		// 64 KiB of the section: give the pages back as we go, or the
		// headers alone would cost over 100 MB of resident memory.
		if d.release != nil && off-released > 4<<20 {
			d.release(info[released:off])
			released = off
		}
	}
	if d.release != nil {
		d.release(info[released:])
	}
	return nil
}

// unitOf returns the unit holding the DIE at off.
func (d *Dwarf) unitOf(off uint64) (*unit, error) {
	i := sort.Search(len(d.units), func(i int) bool { return d.units[i].end > off })
	if i == len(d.units) || off < d.units[i].data {
		return nil, &DecodeError{".debug_info", off, "no DIE at this offset"}
	}
	return &d.units[i], nil
}

// abbrevTable is one unit's abbreviation table, indexed by code.
type abbrevTable struct {
	dense  []abbrev // code -> abbrev, for codes below len(dense)
	sparse map[uint64]*abbrev
	all    []abbrevAttr // the attributes of dense's abbreviations
	spans  []abbrevSpan
}

type abbrevSpan struct{ code, start, end int }

func (t *abbrevTable) get(code uint64) *abbrev {
	if code < uint64(len(t.dense)) {
		if a := &t.dense[code]; a.tag != 0 {
			return a
		}
		return nil
	}
	return t.sparse[code]
}

// abbrev is one abbreviation: a DIE's tag and the attributes (and forms) it
// carries.
type abbrev struct {
	tag      uint16
	children bool
	attrs    []abbrevAttr
	// fixed is the byte size of the DIE's attributes when every form has a
	// size known from the abbreviation alone (a fast skip), else -1.
	fixed int
	// name, decl, sibling, specification: the index of those attributes in
	// attrs, or -1.
	name, decl, sibling, spec int8
	// nameAt, declAt, siblingAt, specAt: the byte offset of those
	// attributes' values from the end of the abbreviation code, when every
	// attribute before them has a fixed size (else -1): the scan reads them
	// without walking the attributes.
	nameAt, declAt, siblingAt, specAt int16
}

type abbrevAttr struct {
	attr, form uint16
	implicit   int64 // DW_FORM_implicit_const's value
}

// abbrevs returns the unit's abbreviation table, parsed on first use.
func (d *Dwarf) abbrevsOf(u *unit) (*abbrevTable, error) {
	d.mu.Lock()
	t, ok := d.abbrevs[u.abbrevOff]
	d.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := parseAbbrevs(d.sec.abbrev, u.abbrevOff, u, nil)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.abbrevs[u.abbrevOff] = t
	d.mu.Unlock()
	return t, nil
}

// parseAbbrevs parses the table at off. Form sizes depend on the unit's
// address and offset sizes, so a table is parsed for the unit that uses it
// (units sharing a table share those sizes in every file seen).
//
// reuse, when not nil, is a table whose memory may be reused (a scan parses
// a table per unit and needs only one at a time).
func parseAbbrevs(sec []byte, off uint64, u *unit, reuse *abbrevTable) (*abbrevTable, error) {
	b := buf{data: sec, off: off, name: ".debug_abbrev"}
	t := reuse
	if t == nil {
		t = &abbrevTable{dense: make([]abbrev, 0, 256), all: make([]abbrevAttr, 0, 1024)}
	} else {
		clear(t.dense)
		t.dense, t.all, t.spans, t.sparse = t.dense[:0], t.all[:0], t.spans[:0], nil
	}
	// Every abbreviation's attributes share one backing array, sliced up
	// once it stops growing.
	all, spans := t.all, t.spans
	for {
		code := b.uleb()
		if code == 0 || b.err != nil {
			break
		}
		a := abbrev{tag: uint16(b.uleb()), name: -1, decl: -1, sibling: -1, spec: -1,
			nameAt: -1, declAt: -1, siblingAt: -1, specAt: -1}
		a.children = b.u8() != 0
		fixed := 0
		start := len(all)
		for {
			at, form := b.uleb(), b.uleb()
			if b.err != nil {
				return nil, b.err
			}
			if at == 0 && form == 0 {
				break
			}
			aa := abbrevAttr{attr: uint16(at), form: uint16(form)}
			if form == formImplicitConst {
				aa.implicit = b.sleb()
			}
			i := int8(min(len(all)-start, 127))
			at16 := int16(-1)
			if fixed >= 0 && fixed < 1<<15 {
				at16 = int16(fixed)
			}
			switch aa.attr {
			case atName:
				a.name, a.nameAt = i, at16
			case atDeclaration:
				a.decl, a.declAt = i, at16
			case atSibling:
				a.sibling, a.siblingAt = i, at16
			case atSpecification:
				a.spec, a.specAt = i, at16
			}
			if fixed >= 0 {
				if n := fixedFormSize(aa.form, u); n >= 0 {
					fixed += n
				} else {
					fixed = -1
				}
			}
			all = append(all, aa)
		}
		a.fixed = fixed
		if len(all)-start > 127 {
			return nil, &DecodeError{".debug_abbrev", off, "abbreviation with more than 127 attributes"}
		}
		if a.tag == 0 {
			return nil, &DecodeError{".debug_abbrev", off, fmt.Sprintf("abbreviation %d has tag 0", code)}
		}
		if code < 1<<16 {
			if uint64(len(t.dense)) <= code {
				t.dense = slices.Grow(t.dense, int(code)+1-len(t.dense))[:code+1]
			}
			t.dense[code] = a
			spans = append(spans, abbrevSpan{int(code), start, len(all)})
		} else {
			if t.sparse == nil {
				t.sparse = map[uint64]*abbrev{}
			}
			a.attrs = slices.Clone(all[start:])
			t.sparse[code] = &a
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	for _, sp := range spans {
		t.dense[sp.code].attrs = all[sp.start:sp.end:sp.end]
	}
	t.all, t.spans = all, spans
	return t, nil
}

// buf is a cursor over a section with LEB128 and fixed-size reads; the
// first error sticks and later reads return zero.
type buf struct {
	data  []byte
	off   uint64
	name  string
	order binary.ByteOrder
	err   error
}

func (b *buf) fail(msg string) {
	if b.err == nil {
		b.err = &DecodeError{b.name, b.off, msg}
	}
	b.off = uint64(len(b.data))
}

func (b *buf) u8() uint8 {
	if b.off >= uint64(len(b.data)) {
		b.fail("unexpected end of section")
		return 0
	}
	v := b.data[b.off]
	b.off++
	return v
}

func (b *buf) bytes(n uint64) []byte {
	if n > uint64(len(b.data))-b.off || b.off > uint64(len(b.data)) {
		b.fail("unexpected end of section")
		return nil
	}
	v := b.data[b.off : b.off+n]
	b.off += n
	return v
}

func (b *buf) u16() uint16 {
	if p := b.bytes(2); p != nil {
		return b.order.Uint16(p)
	}
	return 0
}

func (b *buf) u32() uint32 {
	if p := b.bytes(4); p != nil {
		return b.order.Uint32(p)
	}
	return 0
}

func (b *buf) u64() uint64 {
	if p := b.bytes(8); p != nil {
		return b.order.Uint64(p)
	}
	return 0
}

func (b *buf) uleb() uint64 {
	if b.off < uint64(len(b.data)) && b.data[b.off] < 0x80 {
		v := b.data[b.off]
		b.off++
		return uint64(v)
	}
	var v uint64
	var shift uint
	for {
		if b.off >= uint64(len(b.data)) {
			b.fail("unexpected end of section in a LEB128 number")
			return 0
		}
		c := b.data[b.off]
		b.off++
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v
		}
	}
}

func (b *buf) sleb() int64 {
	var v int64
	var shift uint
	var c byte
	for {
		if b.off >= uint64(len(b.data)) {
			b.fail("unexpected end of section in a LEB128 number")
			return 0
		}
		c = b.data[b.off]
		b.off++
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			break
		}
	}
	if shift < 64 && c&0x40 != 0 {
		v |= -1 << shift
	}
	return v
}

// cstr reads a NUL-terminated string.
func (b *buf) cstr() []byte {
	if b.off >= uint64(len(b.data)) {
		b.fail("unexpected end of section in a string")
		return nil
	}
	i := bytes.IndexByte(b.data[b.off:], 0)
	if i < 0 {
		b.fail("unterminated string")
		return nil
	}
	s := b.data[b.off : b.off+uint64(i)]
	b.off += uint64(i) + 1
	return s
}

// NoRelease keeps scanned pages mapped (for measurements).
func (d *Dwarf) NoRelease() { d.release = nil }
