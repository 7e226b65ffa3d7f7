package symbols

import (
	"debug/elf"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The warm-start caches of the DWARF reader, kept next to the others (one
// file each per vmlinux, named by build-id) and checked the same way (the
// vmlinux's size and mtime, .debug_info's length, a CRC-32C, every entry
// in range; a file failing a check is ignored and rewritten):
//
//   - units-ID: the unit table (every unit header of .debug_info, which a
//     start would otherwise read by faulting in the whole section, ~15 ms)
//     and, once a quick lookup has placed them, the statics quick lookups
//     find a variable's unit by (quick.go: the units' names matched
//     against the symbol table's FILE entries, ~30 ms).
//   - quick-ID: the answers of quick lookups made without the name index
//     (a variable or function's DIE, a type's first definition), each a
//     scan of some units; remembered like the layout cache's answers and
//     rewritten at Close when new ones were added.
//
// A cache answer is the one the scan would give: both depend only on the
// vmlinux the file is checked against.

const (
	unitsCacheMagic = "GOCRUNT\x01"
	quickCacheMagic = "GOCRQCK\x01"
	unitsHdrSize    = 64
	unitRecSize     = 40
	staticRecSize   = 16
	// staticsNone in the header's statics count: not placed yet.
	staticsNone = 0xffffffff
)

// warmCaches is a vmlinux's DWARF-side warm-start state.
type warmCaches struct {
	memoOnce sync.Once
	memo     *layoutMemo // quick answers; nil when not cached
}

// debugInfoLen is the length .debug_info has (uncompressed), from its
// section header: the caches' check of the section without reading it.
func (v *Vmlinux) debugInfoLen() uint64 {
	if s := v.File.Section(".debug_info"); s != nil && s.Type != elf.SHT_NOBITS {
		return s.Size
	}
	return 0
}

// quickMemo is the memo of quick answers, nil when caching is off (or the
// vmlinux is a small test one, like the other caches).
func (v *Vmlinux) quickMemo() *layoutMemo {
	v.warm.memoOnce.Do(func() {
		if p := v.cachePath("quick-"); p != "" && len(v.syms) >= symCacheMin {
			v.warm.memo = &layoutMemo{path: p, magic: quickCacheMagic, size: v.size, mtime: v.modTime, btfLen: v.debugInfoLen()}
		}
	})
	return v.warm.memo
}

// saveWarm rewrites the quick answers' file when new answers were added.
func (v *Vmlinux) saveWarm() {
	if v.warm.memo != nil {
		v.warm.memo.save()
	}
}

// notFound is the remembered answer "not found" of a quick lookup.
const notFound = "not found"

// quickObjectCached is quickObject, remembered.
func (v *Vmlinux) quickObjectCached(name string) (IndexEntry, bool) {
	m := v.quickMemo()
	if m == nil {
		return v.quickObject(name)
	}
	x, err := m.answer("O "+name, func() (int64, error) {
		e, ok := v.quickObject(name)
		if !ok {
			return 0, &MissingError{What: notFound}
		}
		if e.Off >= 1<<48 {
			return 0, fmt.Errorf("offset too large to remember")
		}
		x := int64(e.Off) | int64(e.Kind)<<52
		if e.Decl {
			x |= 1 << 48
		}
		return x, nil
	})
	if err != nil || x < 0 {
		return IndexEntry{}, false
	}
	return IndexEntry{Name: name, Kind: Kind(x >> 52), Decl: x>>48&1 != 0, Off: uint64(x) & (1<<48 - 1)}, true
}

// firstDefinitionCached is d.firstDefinitionOf, remembered.
func (v *Vmlinux) firstDefinitionCached(d *Dwarf, name string, kinds []Kind, limit uint64) (uint64, bool, error) {
	m := v.quickMemo()
	if m == nil {
		off, _, found, err := d.firstDefinitionOf(name, kinds, limit)
		return off, found, err
	}
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = strconv.Itoa(int(k))
	}
	x, err := m.answer(fmt.Sprintf("F %s %d %s", strings.Join(ks, ","), limit, name), func() (int64, error) {
		off, _, found, err := d.firstDefinitionOf(name, kinds, limit)
		switch {
		case err != nil:
			return 0, err
		case !found:
			return 0, &MissingError{What: notFound}
		case off >= 1<<62:
			return 0, fmt.Errorf("offset too large to remember")
		}
		return int64(off), nil
	})
	if IsMissing(err) {
		return 0, false, nil
	}
	if err != nil || x < 0 || uint64(x) >= uint64(len(d.sec.info)) {
		return 0, false, err
	}
	return uint64(x), true, nil
}

// readUnitsCached fills d's unit table from the units cache when a valid
// file is there; else it reads the unit headers and writes the file.
func (v *Vmlinux) readUnitsCached(d *Dwarf) error {
	path := v.cachePath("units-")
	if path == "" || len(v.syms) < symCacheMin {
		return d.readUnits()
	}
	if img, err := mapCacheFile(path, unitsHdrSize); err == nil {
		units, statics, err := v.unitsFromImage(img, d)
		unix.Munmap(img)
		if err == nil {
			d.units = units
			if statics != nil {
				v.quick.statics = *statics
				v.quick.once.Do(func() {}) // placed: quick lookups use them
			}
			return nil
		}
	}
	if err := d.readUnits(); err != nil {
		return err
	}
	units := d.units
	v.inBackground(func() { _ = writeFileAtomic(path, v.unitsImage(units, nil, d)) })
	return nil
}

// buildQuickCached places the statics (buildQuick) and adds them to the
// units cache.
func (v *Vmlinux) buildQuickCached(d *Dwarf) {
	v.buildQuick(d)
	if path := v.cachePath("units-"); path != "" && len(v.syms) >= symCacheMin {
		st := v.quick.statics
		if st == nil {
			st = []staticObj{}
		}
		units := d.units
		v.inBackground(func() { _ = writeFileAtomic(path, v.unitsImage(units, st, d)) })
	}
}

// unitsImage lays a unit table (and the statics, when placed: non-nil)
// out as a units cache file.
func (v *Vmlinux) unitsImage(units []unit, statics []staticObj, d *Dwarf) []byte {
	img := make([]byte, unitsHdrSize+len(units)*unitRecSize+len(statics)*staticRecSize)
	copy(img, unitsCacheMagic)
	le.PutUint64(img[16:], uint64(v.size))
	le.PutUint64(img[24:], uint64(v.modTime))
	le.PutUint64(img[32:], uint64(len(d.sec.info)))
	le.PutUint64(img[40:], uint64(len(d.sec.abbrev)))
	le.PutUint32(img[48:], uint32(len(units)))
	ns := uint32(len(statics))
	if statics == nil {
		ns = staticsNone
	}
	le.PutUint32(img[52:], ns)
	p := img[unitsHdrSize:]
	for _, u := range units {
		le.PutUint64(p, u.off)
		le.PutUint64(p[8:], u.data)
		le.PutUint64(p[16:], u.end)
		le.PutUint64(p[24:], u.abbrevOff)
		le.PutUint16(p[32:], u.version)
		p[34] = u.addrSize
		if u.dwarf64 {
			p[35] = 1
		}
		p = p[unitRecSize:]
	}
	for _, s := range statics {
		le.PutUint16(p, s.sect)
		le.PutUint32(p[4:], uint32(s.unit))
		le.PutUint64(p[8:], s.addr)
		p = p[staticRecSize:]
	}
	le.PutUint32(img[8:], crc32.Checksum(img[16:], crcTable))
	return img
}

// unitsFromImage checks a units cache image against this vmlinux's DWARF
// and returns its unit table, and its statics (nil when not placed).
func (v *Vmlinux) unitsFromImage(img []byte, d *Dwarf) ([]unit, *[]staticObj, error) {
	if len(img) < unitsHdrSize || string(img[:8]) != unitsCacheMagic {
		return nil, nil, fmt.Errorf("not a gocrash units cache of this version")
	}
	if le.Uint64(img[16:]) != uint64(v.size) || le.Uint64(img[24:]) != uint64(v.modTime) ||
		le.Uint64(img[32:]) != uint64(len(d.sec.info)) || le.Uint64(img[40:]) != uint64(len(d.sec.abbrev)) {
		return nil, nil, fmt.Errorf("made for another copy of the vmlinux")
	}
	if le.Uint32(img[8:]) != crc32.Checksum(img[16:], crcTable) {
		return nil, nil, fmt.Errorf("checksum mismatch")
	}
	n, ns := uint64(le.Uint32(img[48:])), uint64(le.Uint32(img[52:]))
	placed := ns != staticsNone
	if !placed {
		ns = 0
	}
	if want := unitsHdrSize + n*unitRecSize + ns*staticRecSize; uint64(len(img)) != want {
		return nil, nil, fmt.Errorf("%d bytes, the header says %d", len(img), want)
	}
	infoLen, abbrevLen := uint64(len(d.sec.info)), uint64(len(d.sec.abbrev))
	units := make([]unit, n)
	p := img[unitsHdrSize:]
	next := uint64(0)
	for i := range units {
		u := unit{off: le.Uint64(p), data: le.Uint64(p[8:]), end: le.Uint64(p[16:]), abbrevOff: le.Uint64(p[24:]),
			version: le.Uint16(p[32:]), addrSize: p[34], dwarf64: p[35] == 1}
		// The units tile the section in order, as readUnits finds them.
		if u.off != next || u.data <= u.off || u.data > u.end || u.end > infoLen || u.abbrevOff >= abbrevLen ||
			u.version < 2 || u.version > 5 || u.addrSize != 4 && u.addrSize != 8 || p[35] > 1 {
			return nil, nil, fmt.Errorf("unit %d is out of range", i)
		}
		units[i], next = u, u.end
		p = p[unitRecSize:]
	}
	if next != infoLen {
		return nil, nil, fmt.Errorf("the units end at %#x, the section at %#x", next, infoLen)
	}
	if !placed {
		return units, nil, nil
	}
	statics := make([]staticObj, ns)
	for i := range statics {
		s := staticObj{sect: le.Uint16(p), unit: int(le.Uint32(p[4:])), addr: le.Uint64(p[8:])}
		if s.unit >= len(units) || int(s.sect) >= len(v.File.Sections) {
			return nil, nil, fmt.Errorf("static %d is out of range", i)
		}
		if i > 0 {
			if o := statics[i-1]; o.sect > s.sect || o.sect == s.sect && o.addr > s.addr {
				return nil, nil, fmt.Errorf("static %d is out of order", i)
			}
		}
		statics[i] = s
		p = p[staticRecSize:]
	}
	return units, &statics, nil
}

// typeKindsCached is l.nameKinds (the kinds of BTF types called name),
// remembered, so that a start answering from the cache does not index the
// BTF.
func (v *Vmlinux) typeKindsCached(name string) ([]Kind, bool) {
	l := v.Layouts()
	x, ok := v.btfAnswer("K "+name, func() (int64, bool) {
		kinds, ok := l.nameKinds(name)
		var mask int64
		for _, k := range kinds {
			mask |= 1 << k // the kinds are 1 to 8
		}
		return mask, ok
	})
	if !ok {
		return nil, false
	}
	var kinds []Kind
	for k := Kind(0); k < 63; k++ {
		if x&(1<<k) != 0 {
			kinds = append(kinds, k)
		}
	}
	return kinds, true
}

// enumeratorCached is l.hasEnumerator, remembered.
func (v *Vmlinux) enumeratorCached(name string) (has, ok bool) {
	l := v.Layouts()
	x, ok := v.btfAnswer("N "+name, func() (int64, bool) {
		has, ok := l.hasEnumerator(name)
		if has {
			return 1, ok
		}
		return 0, ok
	})
	return x == 1, ok
}

// btfAnswer is ask's answer to a question of the BTF, remembered under
// key; ok false (no usable BTF) is not remembered.
func (v *Vmlinux) btfAnswer(key string, ask func() (int64, bool)) (int64, bool) {
	m := v.quickMemo()
	if m == nil {
		return ask()
	}
	errNoBTF := fmt.Errorf("no usable BTF")
	x, err := m.answer(key, func() (int64, error) {
		x, ok := ask()
		if !ok {
			return 0, errNoBTF
		}
		return x, nil
	})
	return x, err == nil && x >= 0
}
