package symbols

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The symbol cache: what every start would otherwise rebuild from .symtab
// (decoding ~150,000 entries, sorting them by address and hashing their
// names, ~30 ms on two cores), kept in one file per vmlinux next to the
// DWARF index cache (same directory, named by build-id) and mapped
// read-only. Its header ties it to the vmlinux's size, mtime and .symtab
// length, and a CRC-32C covers the rest; a file failing any check, or whose
// tables are out of range or out of order, is ignored and rewritten. A
// start that decodes .symtab writes the file on another goroutine while
// it goes on (Close waits for it): ~10 MB, off the answer's path.
//
// Layout (little-endian): a 64-byte header (magic, CRC, size, mtime,
// .symtab length, symbol count, name slots, names length, the offset of
// the in-place symbols, the address they are laid out for), the symbols in
// address order (24 bytes each: address, size, name offset and length,
// nm letter), the name hash table's slots (4 bytes each: sorted position +
// 1, 0 when empty), the names, and (when this build lays a Symbol out as
// a little-endian 64-bit one) the in-place symbols: the same table as Go
// Symbols (40 bytes each, names pointing into the names as the file is
// mapped at that address; the duplicate mark in a padding byte).
//
// A start maps the file at that address when it is free (an address
// derived from the build-id, outside where Go places its heap) and takes
// the in-place symbols as they are, after checking each one's name and
// address order: no copy of ~150,000 symbols into the heap (6 MB for the
// collector to zero, scan and write-barrier; a third of a warm start).
// Mapped elsewhere (the address taken, or the image in memory), the
// address-order records are decoded as before.
//
// The names of the Symbols handed out point into the mapping, which is
// therefore never unmapped (it is a few MB of a file's page cache). Cache
// files are only ever replaced whole (written aside, then renamed over),
// so the mapped file never changes under a running gocrash; a tool that
// rewrote or truncated one in place while gocrash ran would change what
// the mapping shows, as it would for any mapped file (the vmlinux too).

const (
	symCacheMagic = "GOCRSYM\x03"
	symHdrSize    = 64
	symRecSize    = 24
	symGoRecSize  = 40 // an in-place Symbol
	// Small symbol tables (test kernels) are decoded faster than a cache
	// file is written: they are not cached.
	symCacheMin = 20000
)

// readSymbolsCached fills the symbol tables from the cache when a valid
// file is there; else it decodes .symtab and writes the cache.
func (v *Vmlinux) readSymbolsCached(symtabLen uint64) error {
	path := v.cachePath("syms-")
	if path != "" {
		err := v.readSymCache(path, symtabLen)
		if err != nil && waitCacheWriter(path) {
			err = v.readSymCache(path, symtabLen)
		}
		if err == nil {
			v.symsFrom = "cache " + path
			return nil
		}
	}
	if err := v.readSymbols(); err != nil {
		return err
	}
	v.symsFrom = "symtab"
	if path != "" && len(v.syms) >= symCacheMin {
		// Written while the rest of the start goes on (Close waits);
		// PATH.new is made here, so that an open after this one waits
		// for the file rather than writes it too.
		f, err := createCacheMarked(path)
		if err == nil && f != nil {
			v.inBackground(func() {
				_ = fillCacheMarked(path, f, func(f *os.File) error {
					crc, err := v.writeSymCache(f, symtabLen)
					if err != nil {
						return err
					}
					var b [4]byte
					le.PutUint32(b[:], crc)
					_, err = f.WriteAt(b[:], 8)
					return err
				})
			})
		}
	}
	return nil
}

// A cache file being written in the background is first PATH.new (made
// only if absent), renamed to PATH when whole: a start that finds no valid
// PATH but a fresh PATH.new waits for it (this process's earlier open, or
// another gocrash starting at the same time) rather than decode and write
// it again. A PATH.new older than staleWriter is a writer's that died.
const (
	staleWriter   = 10 * time.Second
	waitForWriter = time.Second
)

// createCacheMarked creates PATH.new; it is nil (and no error) when
// another writer's PATH.new is there.
func createCacheMarked(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(tmp); serr == nil && time.Since(fi.ModTime()) < staleWriter {
			return nil, nil // another writer's
		}
		os.Remove(tmp)
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	return f, err
}

// fillCacheMarked writes f, PATH.new, as fill writes it and renames it to
// path.
func fillCacheMarked(path string, f *os.File, fill func(*os.File) error) error {
	err := fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// waitCacheWriter waits (at most waitForWriter) while a fresh PATH.new is
// there; it reports whether there was one.
func waitCacheWriter(path string) bool {
	fi, err := os.Stat(path + ".new")
	if err != nil || time.Since(fi.ModTime()) >= staleWriter {
		return false
	}
	for t := time.Now(); time.Since(t) < waitForWriter; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(path + ".new"); err != nil {
			break // renamed into place, or given up
		}
	}
	return true
}

// SymbolsSource says where the symbol tables came from: "cache FILE" or
// "symtab" (the cache file then being written in the background).
func (v *Vmlinux) SymbolsSource() string { return v.symsFrom }

// symCacheImage lays the symbol tables out as a cache file.
func (v *Vmlinux) symCacheImage(symtabLen uint64) []byte {
	var b bytes.Buffer
	crc, _ := v.writeSymCache(&b, symtabLen)
	img := b.Bytes()
	le.PutUint32(img[8:], crc)
	return img
}

// cacheWriter writes a cache file through a buffer of a fixed size,
// checksumming all but its first skip bytes a buffer at a time (a
// checksum and a write per record cost most of the writing).
type cacheWriter struct {
	w    io.Writer
	buf  []byte
	skip int
	crc  uint32
	err  error
}

func (c *cacheWriter) write(p []byte) {
	if len(c.buf)+len(p) > cap(c.buf) {
		c.flush()
	}
	c.buf = append(c.buf, p...)
}

func (c *cacheWriter) writeString(p string) {
	if len(c.buf)+len(p) > cap(c.buf) {
		c.flush()
	}
	c.buf = append(c.buf, p...)
}

func (c *cacheWriter) flush() {
	from := min(c.skip, len(c.buf))
	c.skip -= from
	c.crc = crc32.Update(c.crc, crcTable, c.buf[from:])
	if c.err == nil {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
}

// writeSymCache writes the cache file's bytes to w as it lays them out
// (with a zero checksum) and returns the checksum that belongs at byte 8.
func (v *Vmlinux) writeSymCache(w io.Writer, symtabLen uint64) (uint32, error) {
	namesLen := 0
	for i := range v.syms {
		namesLen += min(len(v.syms[i].Name), 0xffff)
	}
	n, nslots := len(v.syms), len(v.byName.slots)
	namesAt := symHdrSize + n*symRecSize + nslots*4
	end, region := namesAt+namesLen, 0
	if inPlaceLayout() {
		region = (end + 7) &^ 7
	}
	var hdr [symHdrSize]byte
	copy(hdr[:], symCacheMagic)
	le.PutUint64(hdr[16:], uint64(v.size))
	le.PutUint64(hdr[24:], uint64(v.modTime))
	le.PutUint64(hdr[32:], symtabLen)
	le.PutUint32(hdr[40:], uint32(n))
	le.PutUint32(hdr[44:], uint32(nslots))
	le.PutUint32(hdr[48:], uint32(namesLen))
	base := v.symCacheBase()
	le.PutUint32(hdr[52:], uint32(region))
	le.PutUint64(hdr[56:], base)
	out := &cacheWriter{w: w, buf: make([]byte, 0, 256<<10), skip: 16} // the checksum covers all after byte 16
	out.write(hdr[:])
	name := func(s *Symbol) string { return s.Name[:min(len(s.Name), 0xffff)] }
	dup := func(i int) byte {
		if v.dupName(i) {
			return 1
		}
		return 0
	}
	var r [symGoRecSize]byte
	np := 0
	for i := range v.syms {
		s := &v.syms[i]
		le.PutUint64(r[:], s.Addr)
		le.PutUint64(r[8:], s.Size)
		le.PutUint32(r[16:], uint32(np))
		le.PutUint16(r[20:], uint16(len(name(s))))
		r[22], r[23] = s.Type, dup(i)
		out.write(r[:symRecSize])
		np += len(name(s))
	}
	for _, x := range v.byName.slots {
		le.PutUint32(r[:], uint32(x))
		out.write(r[:4])
	}
	for i := range v.syms {
		out.writeString(name(&v.syms[i]))
	}
	if region != 0 {
		out.write(make([]byte, region-end))
		np = 0
		for i := range v.syms {
			s := &v.syms[i]
			r = [symGoRecSize]byte{}
			le.PutUint64(r[:], base+uint64(namesAt+np))
			le.PutUint64(r[8:], uint64(len(name(s))))
			le.PutUint64(r[16:], s.Addr)
			le.PutUint64(r[24:], s.Size)
			r[32], r[33] = s.Type, dup(i)
			out.write(r[:])
			np += len(name(s))
		}
	}
	out.flush()
	return out.crc, out.err
}

// readSymCache maps and checks a symbol cache file and takes its tables.
func (v *Vmlinux) readSymCache(path string, symtabLen uint64) error {
	img, unmap, err := v.mapSymCache(path)
	if err != nil {
		return err
	}
	if err := v.symsFromMapping(img, symtabLen, true); err != nil {
		unmap()
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// symsFromImage checks a symbol cache image against this vmlinux and, when
// every check passes, makes its tables the vmlinux's.
func (v *Vmlinux) symsFromImage(img []byte, symtabLen uint64) error {
	return v.symsFromMapping(img, symtabLen, false)
}

// symsFromMapping is symsFromImage; mapped says img is a file's mapping
// (whose pages it may give back), not memory of the heap.
func (v *Vmlinux) symsFromMapping(img []byte, symtabLen uint64, mapped bool) error {
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
	want := symHdrSize + n*symRecSize + nslots*4 + namesLen
	region, base := uint64(le.Uint32(img[52:])), le.Uint64(img[56:])
	if region != 0 {
		if region != (want+7)&^7 {
			return fmt.Errorf("in-place symbols at %#x, after the names at %#x", region, want)
		}
		want = region + n*symGoRecSize
	}
	if uint64(len(img)) != want {
		return fmt.Errorf("%d bytes, the header says %d", len(img), want)
	}
	recs := img[symHdrSize : symHdrSize+n*symRecSize]
	slotBytes := img[symHdrSize+n*symRecSize : symHdrSize+n*symRecSize+nslots*4]
	names := img[symHdrSize+n*symRecSize+nslots*4 : symHdrSize+n*symRecSize+nslots*4+namesLen]
	if region != 0 && inPlaceLayout() && uint64(uintptr(unsafe.Pointer(&img[0]))) == base {
		return v.symsInPlace(img[region:], base+symHdrSize+n*symRecSize+nslots*4, n, namesLen, slotBytes, recs, names, mapped)
	}
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
	return v.takeSymbols(syms, dups, slotBytes, recs, names, mapped)
}

// symsInPlace checks the in-place symbols (region, laid out for names at
// the address namesAt) and takes them as the table.
func (v *Vmlinux) symsInPlace(region []byte, namesAt, n, namesLen uint64, slotBytes, recs, names []byte, mapped bool) error {
	dups := make([]uint64, (n+63)/64)
	var last uint64
	for i := uint64(0); i < n; i++ {
		// Read as numbers: no string is made of a pointer not yet
		// checked.
		r := region[i*symGoRecSize:]
		p, l, a := le.Uint64(r), le.Uint64(r[8:]), le.Uint64(r[16:])
		if l == 0 || p < namesAt || p-namesAt > namesLen || l > namesLen-(p-namesAt) {
			return fmt.Errorf("symbol %d's name is out of range", i)
		}
		if a < last {
			return fmt.Errorf("symbol %d is out of address order", i)
		}
		last = a
		switch r[33] {
		case 0:
		case 1:
			dups[i/64] |= 1 << (i % 64)
		default:
			return fmt.Errorf("symbol %d's duplicate mark is %d", i, r[33])
		}
	}
	syms := unsafe.Slice((*Symbol)(unsafe.Pointer(&region[0])), n)
	if err := v.takeSymbols(syms, dups, slotBytes, recs, names, mapped); err != nil {
		return err
	}
	if mapped {
		releaseMapped(region) // read again page by page as searched
	}
	return nil
}

// takeSymbols checks the name slots and makes the tables the vmlinux's.
func (v *Vmlinux) takeSymbols(syms []Symbol, dups []uint64, slotBytes, recs, names []byte, mapped bool) error {
	nslots := uint64(len(slotBytes) / 4)
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
		if x < 0 || x > int32(len(syms)) {
			return fmt.Errorf("name slot %d is out of range", i)
		}
	}
	v.syms, v.byName, v.dups = syms, nameTable{slots: slots, mask: nslots - 1}, dups
	// The records are decoded and the names are read only when asked
	// for: give their pages back (they stay in the page cache, and a
	// name read faults its page in again), which keeps the resident size
	// of a start down by most of the file.
	if mapped {
		releaseMapped(recs)
		releaseMapped(names)
	}
	return nil
}

// mapCacheFile maps a cache file read-only, refusing FIFOs and sockets
// (opening one would wait for a writer) and files too small for a header
// or too big to be a cache.
func mapCacheFile(path string, hdr int64) ([]byte, error) {
	f, fi, err := openCacheFile(path, hdr)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
}

// openCacheFile opens a cache file to be mapped (see mapCacheFile).
func openCacheFile(path string, hdr int64) (*os.File, os.FileInfo, error) {
	f, fi, err := openFile(path, "a cache file")
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() < hdr || fi.Size() > 1<<31 {
		f.Close()
		return nil, nil, fmt.Errorf("%s: bad size", path)
	}
	return f, fi, nil
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// inPlaceLayout reports whether this build lays a Symbol out as the
// cache's in-place records are written: a 64-bit little-endian machine,
// the fields at their offsets.
func inPlaceLayout() bool {
	var s Symbol
	return unsafe.Sizeof(s) == symGoRecSize && unsafe.Offsetof(s.Name) == 0 && unsafe.Sizeof(s.Name) == 16 &&
		unsafe.Offsetof(s.Addr) == 16 && unsafe.Offsetof(s.Size) == 24 && unsafe.Offsetof(s.Type) == 32 &&
		unsafe.Sizeof(uintptr(0)) == 8 && binary.NativeEndian.Uint16([]byte{1, 0}) == 1
}

// symCacheBase is the address this vmlinux's symbol cache is laid out to
// be mapped at: one of 128 4-GiB slots from 64 TiB, by build-id (Go puts
// its heap from 0xc000000000, in 1-TiB steps far from here).
func (v *Vmlinux) symCacheBase() uint64 {
	id := v.BuildID
	if id == "" {
		id = v.Path
	}
	return 0x4000_0000_0000 + uint64(crc32c([]byte(id))%128)<<32
}

// mapSymCache maps a symbol cache file at the address its in-place
// symbols are laid out for when that address is free, else anywhere; unmap
// undoes either.
func (v *Vmlinux) mapSymCache(path string) (img []byte, unmap func(), err error) {
	f, fi, err := openCacheFile(path, symHdrSize)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var hdr [symHdrSize]byte
	base := v.symCacheBase()
	if _, err := f.ReadAt(hdr[:], 0); err == nil && inPlaceLayout() && le.Uint32(hdr[52:]) != 0 && le.Uint64(hdr[56:]) == base {
		// inPlaceLayout holds: a 64-bit address, so base is one pointer.
		size, at := uintptr(fi.Size()), *(*unsafe.Pointer)(unsafe.Pointer(&base))
		p, err := unix.MmapPtr(int(f.Fd()), 0, at, size, unix.PROT_READ,
			unix.MAP_SHARED|unix.MAP_POPULATE|unix.MAP_FIXED_NOREPLACE)
		if err == nil {
			unmap := func() { unix.MunmapPtr(p, size) }
			if p == at {
				return unsafe.Slice((*byte)(p), size), unmap, nil
			}
			unmap() // a kernel without MAP_FIXED_NOREPLACE put it elsewhere
		}
	}
	img, err = unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, nil, err
	}
	return img, func() { unix.Munmap(img) }, nil
}
