package symbols

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The symbol cache: what every start would otherwise rebuild from .symtab
// (decoding ~150,000 entries, sorting them by address and hashing their
// names, ~30 ms on two cores), kept in one file per vmlinux next to the
// DWARF index cache (same directory, named by build-id) and mapped
// read-only. Its header ties it to the vmlinux's size, mtime and .symtab
// length, and a CRC-32C covers the rest; a file failing any check, or whose
// tables are out of range or out of order, is ignored and rewritten.
//
// Layout (little-endian): a 64-byte header (magic, CRC, size, mtime,
// .symtab length, symbol count, name slots, names length), the symbols in
// address order (24 bytes each: address, size, name offset and length,
// nm letter), the name hash table's slots (4 bytes each: sorted position +
// 1, 0 when empty) and the names.
//
// The names of the Symbols handed out point into the mapping, which is
// therefore never unmapped (it is a few MB of a file's page cache).

const (
	symCacheMagic = "GOCRSYM\x02"
	symHdrSize    = 64
	symRecSize    = 24
	// Small symbol tables (test kernels) are decoded faster than a cache
	// file is written: they are not cached.
	symCacheMin = 20000
)

// readSymbolsCached fills the symbol tables from the cache when a valid
// file is there; else it decodes .symtab and writes the cache.
func (v *Vmlinux) readSymbolsCached(symtabLen uint64) error {
	path := v.cachePath("syms-")
	if path != "" {
		if err := v.readSymCache(path, symtabLen); err == nil {
			v.symsFrom = "cache " + path
			return nil
		}
	}
	if err := v.readSymbols(); err != nil {
		return err
	}
	v.symsFrom = "symtab"
	if path != "" && len(v.syms) >= symCacheMin {
		if err := writeFileAtomic(path, v.symCacheImage(symtabLen)); err != nil {
			v.symsFrom = "symtab (cache not written: " + err.Error() + ")"
		}
	}
	return nil
}

// SymbolsSource says where the symbol tables came from: "cache FILE",
// "symtab" or "symtab (cache not written: …)".
func (v *Vmlinux) SymbolsSource() string { return v.symsFrom }

// symCacheImage lays the symbol tables out as a cache file.
func (v *Vmlinux) symCacheImage(symtabLen uint64) []byte {
	namesLen := 0
	for i := range v.syms {
		namesLen += min(len(v.syms[i].Name), 0xffff)
	}
	n, nslots := len(v.syms), len(v.byName.slots)
	img := make([]byte, symHdrSize+n*symRecSize+nslots*4+namesLen)
	copy(img, symCacheMagic)
	le.PutUint64(img[16:], uint64(v.size))
	le.PutUint64(img[24:], uint64(v.modTime))
	le.PutUint64(img[32:], symtabLen)
	le.PutUint32(img[40:], uint32(n))
	le.PutUint32(img[44:], uint32(nslots))
	le.PutUint32(img[48:], uint32(namesLen))
	recs := img[symHdrSize:]
	slots := recs[n*symRecSize:]
	names := slots[nslots*4:]
	np := 0
	for i := range v.syms {
		s := &v.syms[i]
		r := recs[i*symRecSize:]
		le.PutUint64(r, s.Addr)
		le.PutUint64(r[8:], s.Size)
		le.PutUint32(r[16:], uint32(np))
		l := copy(names[np:], s.Name[:min(len(s.Name), 0xffff)])
		le.PutUint16(r[20:], uint16(l))
		r[22] = s.Type
		if v.dupName(i) {
			r[23] = 1
		}
		np += l
	}
	for i, x := range v.byName.slots {
		le.PutUint32(slots[i*4:], uint32(x))
	}
	le.PutUint32(img[8:], crc32.Checksum(img[16:], crcTable))
	return img
}

// readSymCache maps and checks a symbol cache file and takes its tables.
func (v *Vmlinux) readSymCache(path string, symtabLen uint64) error {
	img, err := mapCacheFile(path, symHdrSize)
	if err != nil {
		return err
	}
	if err := v.symsFromImage(img, symtabLen); err != nil {
		unix.Munmap(img)
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// symsFromImage checks a symbol cache image against this vmlinux and, when
// every check passes, makes its tables the vmlinux's.
func (v *Vmlinux) symsFromImage(img []byte, symtabLen uint64) error {
	if len(img) < symHdrSize || string(img[:8]) != symCacheMagic {
		return fmt.Errorf("not a gocrash symbol cache of this version")
	}
	if le.Uint64(img[16:]) != uint64(v.size) || le.Uint64(img[24:]) != uint64(v.modTime) || le.Uint64(img[32:]) != symtabLen {
		return fmt.Errorf("made for another copy of the vmlinux")
	}
	if le.Uint32(img[8:]) != crc32.Checksum(img[16:], crcTable) {
		return fmt.Errorf("checksum mismatch")
	}
	n, nslots, namesLen := uint64(le.Uint32(img[40:])), uint64(le.Uint32(img[44:])), uint64(le.Uint32(img[48:]))
	if nslots == 0 || nslots&(nslots-1) != 0 || nslots < n {
		return fmt.Errorf("hash table of %d slots for %d symbols", nslots, n)
	}
	if want := symHdrSize + n*symRecSize + nslots*4 + namesLen; uint64(len(img)) != want {
		return fmt.Errorf("%d bytes, the header says %d", len(img), want)
	}
	recs := img[symHdrSize : symHdrSize+n*symRecSize]
	slotBytes := img[symHdrSize+n*symRecSize : symHdrSize+n*symRecSize+nslots*4]
	names := img[symHdrSize+n*symRecSize+nslots*4:]
	syms := make([]Symbol, n)
	dups := make([]uint64, (n+63)/64)
	var last uint64
	for i := range syms {
		r := recs[i*symRecSize:]
		off, l := uint64(le.Uint32(r[16:])), uint64(le.Uint16(r[20:]))
		if l == 0 || off+l > namesLen {
			return fmt.Errorf("symbol %d's name is out of range", i)
		}
		a := le.Uint64(r)
		if a < last {
			return fmt.Errorf("symbol %d is out of address order", i)
		}
		last = a
		syms[i] = Symbol{Name: unsafe.String(&names[off], int(l)), Addr: a, Size: le.Uint64(r[8:]), Type: r[22]}
		if r[23]&1 != 0 {
			dups[i/64] |= 1 << (i % 64)
		}
	}
	var slots []int32
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 && uintptr(unsafe.Pointer(&slotBytes[0]))%4 == 0 {
		slots = unsafe.Slice((*int32)(unsafe.Pointer(&slotBytes[0])), nslots)
	} else {
		slots = make([]int32, nslots)
		for i := range slots {
			slots[i] = int32(le.Uint32(slotBytes[i*4:]))
		}
	}
	for i, x := range slots {
		if x < 0 || uint64(x) > n {
			return fmt.Errorf("name slot %d is out of range", i)
		}
	}
	v.syms, v.byName, v.dups = syms, nameTable{slots: slots, mask: nslots - 1}, dups
	// The records are decoded and the names are read only when asked
	// for: give their pages back (they stay in the page cache, and a
	// name read faults its page in again), which keeps the resident size
	// of a start down by most of the file.
	releaseMapped(recs)
	releaseMapped(names)
	return nil
}

// mapCacheFile maps a cache file read-only, refusing FIFOs and sockets
// (opening one would wait for a writer) and files too small for a header
// or too big to be a cache.
func mapCacheFile(path string, hdr int64) ([]byte, error) {
	f, fi, err := openFile(path, "a cache file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !fi.Mode().IsRegular() || fi.Size() < hdr || fi.Size() > 1<<31 {
		return nil, fmt.Errorf("%s: bad size", path)
	}
	return unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crcTable) }
