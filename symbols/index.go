package symbols

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kind is what a name in the DWARF index stands for.
type Kind uint8

// The kinds of names the index holds.
const (
	KindStruct Kind = iota + 1
	KindUnion
	KindEnum
	KindTypedef
	KindBase
	KindVariable
	KindFunction
	KindEnumerator
)

var kindNames = [...]string{"", "struct", "union", "enum", "typedef", "base type", "variable", "function", "enumerator"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsType reports whether the kind names a type.
func (k Kind) IsType() bool { return k >= KindStruct && k <= KindBase }

func kindOfTag(tag uint16) Kind {
	switch tag {
	case tagStructureType:
		return KindStruct
	case tagUnionType:
		return KindUnion
	case tagEnumerationType:
		return KindEnum
	case tagTypedef:
		return KindTypedef
	case tagBaseType, tagUnspecifiedType:
		return KindBase
	case tagVariable:
		return KindVariable
	case tagSubprogram:
		return KindFunction
	}
	return 0
}

// IndexEntry is one indexed name: the DIE that defines it (or, with Decl,
// only declares it: no definition was found). For an enumerator, Off is its
// enumeration type's DIE.
type IndexEntry struct {
	Name string
	Kind Kind
	Decl bool
	Off  uint64
}

// Index maps the names of the vmlinux's file-scope DWARF entities (types,
// variables, functions, enumerators) to their DIEs. One entry is kept per
// name and kind: the first definition in .debug_info order, else the first
// declaration. It is an immutable image (the same bytes as its cache file),
// so loading a cached index is mapping a file.
type Index struct {
	img     []byte
	n       int
	mask    uint32
	entries []byte // n × entrySize
	slots   []byte // (mask+1) × 4: entry number + 1, 0 when empty
	names   []byte
}

const (
	indexMagic   = "GOCRIDX\x03"
	indexHdrSize = 64
	entrySize    = 16
	flagDecl     = 1
)

var le = binary.LittleEndian

// Len is the number of entries.
func (ix *Index) Len() int { return ix.n }

func (ix *Index) entry(i int) IndexEntry {
	e := ix.entries[i*entrySize:]
	no, nl := le.Uint32(e), le.Uint16(e[4:])
	return IndexEntry{
		Name: unsafe.String(&ix.names[no], int(nl)),
		Kind: Kind(e[6]),
		Decl: e[7]&flagDecl != 0,
		Off:  le.Uint64(e[8:]),
	}
}

func (ix *Index) entryName(i int) []byte {
	e := ix.entries[i*entrySize:]
	no, nl := le.Uint32(e), le.Uint16(e[4:])
	return ix.names[no : no+uint32(nl)]
}

func nameHash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

func nameHashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Lookup returns the entries called name, of the given kinds (all kinds when
// none is given), in kind order.
func (ix *Index) Lookup(name string, kinds ...Kind) []IndexEntry {
	if ix == nil || ix.n == 0 || name == "" {
		return nil
	}
	var out []IndexEntry
	for s := nameHashString(name) & ix.mask; ; s = (s + 1) & ix.mask {
		v := le.Uint32(ix.slots[s*4:])
		if v == 0 {
			break
		}
		i := int(v - 1)
		if string(ix.entryName(i)) != name {
			continue
		}
		e := ix.entry(i)
		if len(kinds) == 0 || containsKind(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// Names returns the sorted names beginning with prefix of the given kinds
// (completion).
func (ix *Index) Names(prefix string, kinds ...Kind) []string {
	if ix == nil {
		return nil
	}
	seen := map[string]bool{}
	for i := 0; i < ix.n; i++ {
		n := ix.entryName(i)
		if !strings.HasPrefix(unsafe.String(unsafe.SliceData(n), len(n)), prefix) {
			continue
		}
		e := ix.entry(i)
		if len(kinds) == 0 || containsKind(kinds, e.Kind) {
			seen[e.Name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// indexKey identifies a name during the scan: for names stored in
// .debug_str (nearly all), the kind and the string's offset (the linker
// merges equal strings, so equal names share an offset); short names stored
// inline go through a string map instead.
type indexKey uint64

type scanHit struct {
	off  uint64
	decl bool
}

// better reports whether h should replace old: a definition beats a
// declaration, then the earlier DIE wins.
func (h scanHit) better(old scanHit) bool {
	if h.decl != old.decl {
		return !h.decl
	}
	return h.off < old.off
}

type scanResult struct {
	// seen[off] and defined[off] are bit masks of the kinds (bit kind-1)
	// for which the name at .debug_str offset off has been recorded at
	// all, and as a definition. A worker takes units in .debug_info order,
	// so its first definition of a name is its earliest: later ones are
	// dropped with one byte test.
	seen     []uint16 // low byte: seen; high byte: defined
	filter   [1 << filterBits]uint32
	hits     []strHit
	abbrevs  *abbrevTable       // reused for each unit
	byInline map[string]scanHit // kind byte + name, for names not in .debug_str
	err      error
}

const filterBits = 12

type strHit struct {
	key indexKey // kind<<56 | 1<<55 for .debug_line_str | string offset
	hit scanHit
}

// record notes a name in .debug_str (or .debug_line_str, which is rare and
// goes through byInline's slower path instead).
func (r *scanResult) record(kind Kind, strOff uint64, h scanHit) {
	if r.seen == nil {
		// A scan of a few units (quick.go): every name is kept.
		r.hits = append(r.hits, strHit{indexKey(uint64(kind)<<56 | strOff), h})
		return
	}
	if strOff >= uint64(len(r.seen)) {
		return
	}
	// Most calls repeat a common type (every unit that includes a header
	// has its types): a small direct-mapped cache of defined names keeps
	// those in L1 instead of a random read of the big table.
	fk := uint32(strOff)<<4 | uint32(kind)
	slot := &r.filter[(fk*2654435761)>>(32-filterBits)]
	if *slot == fk {
		return
	}
	bit := uint16(1) << (kind - 1)
	m := r.seen[strOff]
	if m&(bit<<8) != 0 || h.decl && m&bit != 0 {
		return
	}
	m |= bit
	if !h.decl {
		m |= bit << 8
	}
	r.seen[strOff] = m
	if !h.decl && strOff < 1<<28 {
		*slot = fk
	}
	r.hits = append(r.hits, strHit{indexKey(uint64(kind)<<56 | strOff), h})
}

// BuildIndex scans .debug_info on all CPUs. progress, when not nil, is
// called now and then with the bytes scanned so far and the total.
//
// The units a first-definition lookup has read already (FirstDefinition)
// are not read again: their finds join the merge.
func (d *Dwarf) BuildIndex(progress func(done, total uint64)) (*Index, error) {
	pre := &d.prefix
	pre.mu.Lock()
	defer pre.mu.Unlock()
	workers := min(runtime.GOMAXPROCS(0), max(1, len(d.units)-pre.next))
	results := make([]scanResult, workers, workers+1)
	var next, done atomic.Uint64
	next.Store(uint64(pre.next))
	done.Store(pre.end)
	total := uint64(len(d.sec.info))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func(r *scanResult) {
			defer wg.Done()
			seen, free := hugeUint16s(len(d.sec.str))
			defer free()
			r.seen = seen
			r.byInline = map[string]scanHit{}
			for {
				i := next.Add(1) - 1
				if i >= uint64(len(d.units)) || r.err != nil {
					return
				}
				u := &d.units[i]
				if err := d.scanUnit(u, r); err != nil {
					r.err = err
					return
				}
				if d.release != nil {
					d.release(d.sec.info[u.off:u.end])
				}
				n := done.Add(u.end - u.off)
				if progress != nil {
					progress(n, total)
				}
			}
		}(&results[w])
	}
	wg.Wait()
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
	}
	if pre.defs != nil {
		results = append(results, pre.r)
		defer func() {
			pre.free()
			pre.r, pre.defs, pre.decls, pre.strs, pre.next, pre.end = scanResult{}, nil, nil, nil, 0, 0
		}()
	}
	// Merge the workers' finds.
	best := make(map[indexKey]scanHit, len(results[0].hits)*5/4)
	inline := map[string]scanHit{}
	for _, r := range results {
		for _, sh := range r.hits {
			if old, ok := best[sh.key]; !ok || sh.hit.better(old) {
				best[sh.key] = sh.hit
			}
		}
		for k, h := range r.byInline {
			if old, ok := inline[k]; !ok || h.better(old) {
				inline[k] = h
			}
		}
		r.seen, r.abbrevs = nil, nil
	}
	return d.buildImage(best, inline)
}

// scanUnit indexes one unit's file-scope names. It decodes only the name,
// declaration and sibling attributes of the DIEs it looks at, and jumps over
// the children of every DIE that has a sibling pointer.
func (d *Dwarf) scanUnit(u *unit, r *scanResult) error {
	t, err := parseAbbrevs(d.sec.abbrev, u.abbrevOff, u, r.abbrevs)
	if err != nil {
		return err
	}
	r.abbrevs = t
	b := buf{data: d.sec.info[:u.end], off: u.data, name: ".debug_info", order: d.sec.order}
	depth := 0
	inEnum := -1 // depth of the children of the enumeration being read
	var enumOff uint64
	for b.off < u.end && b.err == nil {
		dieOff := b.off
		// Nearly every code is one byte: read it here, not in a call.
		var code uint64
		if c := b.data[b.off]; c < 0x80 {
			code = uint64(c)
			b.off++
		} else {
			code = b.uleb()
		}
		if code == 0 {
			depth--
			if depth < inEnum {
				inEnum = -1
			}
			if depth <= 0 {
				break
			}
			continue
		}
		a := t.get(code)
		if a == nil {
			return &DecodeError{".debug_info", dieOff, fmt.Sprintf("abbreviation code %d is not in the unit's table", code)}
		}
		kind := Kind(0)
		if depth == 1 {
			kind = kindOfTag(a.tag)
		} else if depth == inEnum && a.tag == tagEnumerator {
			kind = KindEnumerator
		}
		if kind == 0 && (!a.children || a.sibling < 0) && a.fixed >= 0 {
			b.off += uint64(a.fixed)
			if a.children {
				depth++
			}
			continue
		}
		var (
			inline    []byte
			named     bool
			decl      bool
			sibling   uint64
			hasSpec   bool
			lineStr   bool
			strOffset uint64
			spec      uint64
		)
		if a.fixed >= 0 && (kind == 0 || a.name < 0 || a.nameAt >= 0 && a.attrs[a.name].form == formStrp && !u.dwarf64) &&
			(a.sibling < 0 || a.siblingAt >= 0 && a.attrs[a.sibling].form == formRef4) &&
			(a.decl < 0 || a.declAt >= 0) && (a.spec < 0 || a.specAt >= 0 && a.attrs[a.spec].form == formRef4) {
			// Every attribute has a fixed size: read the few needed at
			// their offsets.
			base := b.off
			if base+uint64(a.fixed) > uint64(len(b.data)) {
				return &DecodeError{".debug_info", dieOff, "DIE runs past the end of its unit"}
			}
			p := b.data[base:]
			if kind != 0 && a.name >= 0 {
				strOffset, named = uint64(b.order.Uint32(p[a.nameAt:])), true
			}
			if a.decl >= 0 {
				decl = a.attrs[a.decl].form == formFlagPresent || a.attrs[a.decl].form == formFlag && p[a.declAt] != 0
			}
			if a.sibling >= 0 {
				sibling = u.off + uint64(b.order.Uint32(p[a.siblingAt:]))
			}
			if a.spec >= 0 {
				hasSpec, spec = true, u.off+uint64(b.order.Uint32(p[a.specAt:]))
			}
			b.off = base + uint64(a.fixed)
		} else {
			for i := range a.attrs {
				at := &a.attrs[i]
				switch {
				case int8(i) == a.name && kind != 0:
					switch at.form {
					case formStrp:
						if u.dwarf64 {
							strOffset = b.u64()
						} else {
							strOffset = uint64(b.u32())
						}
						named = true
					case formLineStrp:
						if u.dwarf64 {
							strOffset = b.u64()
						} else {
							strOffset = uint64(b.u32())
						}
						named, lineStr = true, true
					case formString:
						inline = b.cstr()
						named = inline != nil
					default:
						v := d.readForm(&b, at.form, at.implicit, u)
						inline = v.str
						named = inline != nil
					}
				case int8(i) == a.decl:
					v := d.readForm(&b, at.form, at.implicit, u)
					decl = v.u != 0
				case int8(i) == a.sibling:
					v := d.readForm(&b, at.form, at.implicit, u)
					if v.class == classRef {
						sibling = v.u
					}
				case int8(i) == a.spec:
					hasSpec = true
					v := d.readForm(&b, at.form, at.implicit, u)
					if v.class == classRef {
						spec = v.u
					}
				default:
					skipForm(&b, at.form, u)
				}
			}
		}
		if b.err != nil {
			break
		}
		if kind == KindVariable && hasSpec && !named && !decl {
			// A definition completing an earlier declaration (an array's
			// size, say): named by the declaration it refers to.
			if so, ok := d.specName(u, t, spec); ok {
				strOffset, named, hasSpec = so, true, false
			}
		}
		if kind != 0 && named && !hasSpec {
			h := scanHit{off: dieOff, decl: decl}
			if kind == KindEnumerator {
				h = scanHit{off: enumOff, decl: false}
			}
			if lineStr {
				inline = cstrAt(d.sec.lineStr, strOffset)
			}
			if inline != nil {
				k := string(rune(kind)) + string(inline)
				if old, ok := r.byInline[k]; !ok || h.better(old) {
					r.byInline[k] = h
				}
			} else {
				r.record(kind, strOffset, h)
			}
		}
		if a.children {
			if depth == 1 && a.tag == tagEnumerationType {
				depth++
				inEnum, enumOff = depth, dieOff
			} else if depth >= 1 && sibling > b.off && sibling <= u.end {
				b.off = sibling
			} else {
				depth++
			}
		}
	}
	if b.err != nil {
		return b.err
	}
	return nil
}

// specName reads the .debug_str offset of the name of the DIE at off, in
// unit u (whose abbreviations are t).
func (d *Dwarf) specName(u *unit, t *abbrevTable, off uint64) (uint64, bool) {
	if off < u.data || off >= u.end {
		return 0, false
	}
	b := buf{data: d.sec.info[:u.end], off: off, name: ".debug_info", order: d.sec.order}
	a := t.get(b.uleb())
	if a == nil || a.name < 0 {
		return 0, false
	}
	for i := range a.attrs {
		at := &a.attrs[i]
		if int8(i) == a.name {
			if at.form != formStrp {
				return 0, false
			}
			if u.dwarf64 {
				return b.u64(), b.err == nil
			}
			return uint64(b.u32()), b.err == nil
		}
		skipForm(&b, at.form, u)
	}
	return 0, false
}

// buildImage lays the merged scan out as an index image.
func (d *Dwarf) buildImage(byStr map[indexKey]scanHit, byInline map[string]scanHit) (*Index, error) {
	type ent struct {
		name []byte
		kind Kind
		hit  scanHit
	}
	ents := make([]ent, 0, len(byStr)+len(byInline))
	for k, h := range byStr {
		name := cstrAt(d.sec.str, uint64(k)&(1<<56-1))
		if len(name) == 0 || len(name) > 0xffff {
			continue
		}
		ents = append(ents, ent{name, Kind(k >> 56), h})
	}
	for k, h := range byInline {
		if len(k) < 2 || len(k) > 0xffff {
			continue
		}
		ents = append(ents, ent{[]byte(k[1:]), Kind(k[0]), h})
	}
	nslots := uint32(1)
	for nslots < uint32(len(ents))*2 {
		nslots <<= 1
	}
	namesLen := 0
	for _, e := range ents {
		namesLen += len(e.name)
	}
	size := indexHdrSize + len(ents)*entrySize + int(nslots)*4 + namesLen
	img := make([]byte, size)
	copy(img, indexMagic)
	le.PutUint32(img[40:], uint32(len(ents)))
	le.PutUint32(img[44:], nslots)
	le.PutUint32(img[48:], uint32(namesLen))
	entries := img[indexHdrSize : indexHdrSize+len(ents)*entrySize]
	slots := img[indexHdrSize+len(entries) : indexHdrSize+len(entries)+int(nslots)*4]
	names := img[indexHdrSize+len(entries)+len(slots):]
	mask := nslots - 1
	np := 0
	for i, e := range ents {
		p := entries[i*entrySize:]
		le.PutUint32(p, uint32(np))
		np += copy(names[np:], e.name)
		le.PutUint16(p[4:], uint16(len(e.name)))
		p[6] = byte(e.kind)
		if e.hit.decl {
			p[7] = flagDecl
		}
		le.PutUint64(p[8:], e.hit.off)
		for s := nameHash(e.name) & mask; ; s = (s + 1) & mask {
			if le.Uint32(slots[s*4:]) == 0 {
				le.PutUint32(slots[s*4:], uint32(i+1))
				break
			}
		}
	}
	return indexFromImage(img)
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// seal writes the header fields that tie an image to its vmlinux, and the
// checksum.
func sealImage(img []byte, size, mtime, infoLen uint64) {
	le.PutUint64(img[16:], size)
	le.PutUint64(img[24:], mtime)
	le.PutUint64(img[32:], infoLen)
	le.PutUint32(img[8:], crc32.Checksum(img[16:], crcTable))
}

// indexFromImage checks an image's structure (not its checksum) and returns
// the index over it.
func indexFromImage(img []byte) (*Index, error) {
	if len(img) < indexHdrSize || string(img[:8]) != indexMagic {
		return nil, fmt.Errorf("not a gocrash index")
	}
	n, nslots, nnames := le.Uint32(img[40:]), le.Uint32(img[44:]), le.Uint32(img[48:])
	if nslots == 0 || nslots&(nslots-1) != 0 || nslots < n {
		return nil, fmt.Errorf("index hash table of %d slots for %d entries", nslots, n)
	}
	want := uint64(indexHdrSize) + uint64(n)*entrySize + uint64(nslots)*4 + uint64(nnames)
	if uint64(len(img)) != want {
		return nil, fmt.Errorf("index is %d bytes, its header says %d", len(img), want)
	}
	ix := &Index{img: img, n: int(n), mask: nslots - 1}
	p := indexHdrSize
	ix.entries = img[p : p+int(n)*entrySize]
	p += len(ix.entries)
	ix.slots = img[p : p+int(nslots)*4]
	p += len(ix.slots)
	ix.names = img[p:]
	for i := 0; i < ix.n; i++ {
		e := ix.entries[i*entrySize:]
		if le.Uint16(e[4:]) == 0 || uint64(le.Uint32(e))+uint64(le.Uint16(e[4:])) > uint64(nnames) || e[6] == 0 || e[6] > byte(KindEnumerator) {
			return nil, fmt.Errorf("index entry %d is out of range", i)
		}
	}
	for s := uint32(0); s < nslots; s++ {
		if v := le.Uint32(ix.slots[s*4:]); v > n {
			return nil, fmt.Errorf("index slot %d is out of range", s)
		}
	}
	return ix, nil
}

// hugeUint16s allocates n zeroed uint16s outside the Go heap, asking for
// transparent huge pages: the scan's random lookups in this table otherwise
// spend most of their time on TLB misses. free returns the memory.
func hugeUint16s(n int) (s []uint16, free func()) {
	size := (n*2 + 2<<20 - 1) &^ (2<<20 - 1)
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]uint16, n), func() {}
	}
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n), func() { unix.Munmap(b) }
}

// prefixScan is the name scan of the units from the first, as far as
// first-definition lookups have needed it (see FirstDefinition): it is the
// index's own scan, so a name and kind defined in the units it has read
// has its index entry there. BuildIndex goes on from where it stopped.
type prefixScan struct {
	mu    sync.Mutex
	next  int // units read
	end   uint64
	r     scanResult
	free  func()
	defs  map[indexKey]uint64 // the first definitions met, by name and kind
	decls map[indexKey]uint64 // the first declarations met, by name and kind
	strs  map[string][]uint64 // where names asked about are in .debug_str
}

// FirstDefinition scans the units in .debug_info order, no further than
// limit bytes into it, for the first file-scope definition of name as a
// kind (a struct, say): the DIE the index would give for it. found is
// false when none is in that part; the caller then builds the index.
func (d *Dwarf) FirstDefinition(name string, kind Kind, limit uint64) (off uint64, found bool, err error) {
	off, _, found, err = d.firstDefinitionOf(name, []Kind{kind}, limit)
	return off, found, err
}

// firstDefinitionOf is the first file-scope definition of name as any of
// kinds, in .debug_info order, within limit bytes: the one with the lowest
// DIE offset, and its kind.
func (d *Dwarf) firstDefinitionOf(name string, kinds []Kind, limit uint64) (off uint64, kind Kind, found bool, err error) {
	return d.firstOf(name, kinds, limit, false)
}

// firstDeclarationOf is the first file-scope declaration (a DIE with
// DW_AT_declaration) of name as any of kinds, in .debug_info order, within
// limit bytes; found is false too when a definition of name as one of kinds
// comes first.
func (d *Dwarf) firstDeclarationOf(name string, kinds []Kind, limit uint64) (off uint64, kind Kind, found bool, err error) {
	return d.firstOf(name, kinds, limit, true)
}

// firstOf is firstDefinitionOf, or with decl firstDeclarationOf, going on
// with the prefix scan as far as the answer needs.
func (d *Dwarf) firstOf(name string, kinds []Kind, limit uint64, decl bool) (off uint64, kind Kind, found bool, err error) {
	if name == "" {
		return 0, 0, false, nil
	}
	p := &d.prefix
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.defs == nil {
		seen, free := hugeUint16s(len(d.sec.str))
		p.r = scanResult{seen: seen, byInline: map[string]scanHit{}}
		p.free, p.defs, p.decls, p.strs = free, map[indexKey]uint64{}, map[indexKey]uint64{}, map[string][]uint64{}
	}
	strs, ok := p.strs[name]
	if !ok {
		pat := append([]byte(name), 0)
		for from := 0; ; {
			i := bytes.Index(d.sec.str[from:], pat)
			if i < 0 {
				break
			}
			strs = append(strs, uint64(from+i))
			from += i + 1
		}
		p.strs[name] = strs
	}
	// lookup finds name in what has been read; defined is whether a
	// definition was there, when a declaration is asked for.
	defined := false
	lookup := func() bool {
		for _, k := range kinds {
			for _, so := range strs {
				key := indexKey(uint64(k)<<56 | so)
				o, ok := p.defs[key]
				if decl {
					defined = defined || ok
					o, ok = p.decls[key]
				}
				if ok && (!found || o < off) {
					off, kind, found = o, k, true
				}
			}
			if h, ok := p.r.byInline[string(rune(k))+name]; ok {
				if decl && !h.decl {
					defined = true
				} else if h.decl == decl && (!found || h.off < off) {
					off, kind, found = h.off, k, true
				}
			}
		}
		return found || defined
	}
	if lookup() {
		return off, kind, found && !defined, nil
	}
	for p.next < len(d.units) && d.units[p.next].off < limit {
		u := &d.units[p.next]
		n := len(p.r.hits)
		if err := d.scanUnit(u, &p.r); err != nil {
			return 0, 0, false, err
		}
		if d.release != nil {
			d.release(d.sec.info[u.off:u.end])
		}
		p.next++
		p.end = u.end
		for _, h := range p.r.hits[n:] {
			if !h.hit.decl {
				p.defs[h.key] = h.hit.off
			} else if _, ok := p.decls[h.key]; !ok {
				p.decls[h.key] = h.hit.off
			}
		}
		if lookup() {
			return off, kind, found && !defined, nil
		}
	}
	return 0, 0, false, nil
}
