package memory

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"io"
	"math/bits"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	lzo "github.com/anchore/go-lzo"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// The kdump-compressed format (makedumpfile -c/-l/-p/-z, QEMU
// dump-guest-memory -z), all in the dumping machine's byte order:
//
//	block 0              disk_dump_header: signature "KDUMP   " (or
//	                     "DISKDUMP"), header_version, utsname, timestamp,
//	                     block_size (= page size), sub_hdr_size and
//	                     bitmap_blocks (in blocks), max_mapnr, nr_cpus
//	block 1              kdump_sub_header: phys_base, dump_level, split
//	                     range, and the file offsets of the VMCOREINFO text
//	                     and the ELF notes (header_version >= 3 / 4)
//	block 1+sub_hdr_size two bitmaps of bitmap_blocks/2 blocks each, one bit
//	                     per page frame, least significant bit first: the
//	                     first marks RAM, the second pages kept in the dump
//	then                 one 24-byte page_desc {offset, size, flags,
//	                     page_flags} per kept page, in frame order
//	then                 page data, each page compressed on its own
//	                     (zlib 0x1, LZO 0x2, snappy 0x4, zstd 0x20) or stored
//	                     as is when size == block_size
//
// A page of RAM that is not kept was excluded by the dump level.
const (
	kdumpHeaderSize   = 464 // sizeof(struct disk_dump_header) on 64-bit
	kdumpPageDescSize = 24

	dumpZlib            = 0x1
	dumpLZO             = 0x2
	dumpSnappy          = 0x4
	dumpIncomplete      = 0x8
	dumpExcludedVmemmap = 0x10
	dumpZstd            = 0x20
)

// sizedReaderAt is a file image: a mapping of a regular file, or the
// rebuilt view of a flattened file.
type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}

type kdumpFile struct {
	path       string
	r          sizedReaderAt
	closeFn    func() error
	order      binary.ByteOrder
	blockSize  uint64
	maxMapnr   uint64
	startPfn   uint64
	endPfn     uint64
	bm         *bitmaps // the RAM and kept bitmaps, read by chunk
	startRank  uint64   // kept pages below startPfn
	descOffset int64

	// The whole-bitmap facts, gathered on first use (Ranges, Describe).
	layoutOnce  sync.Once
	layout      kdumpLayout
	presentOnce sync.Once
	presentRng  []Range
	decoded     atomic.Uint64 // pages decompressed or copied out of the file

	zstdDec   *zstd.Decoder
	inflaters sync.Pool // of *inflater
	raws      sync.Pool // of *[]byte: a page's compressed bytes
	cache     *pageCache
}

func openKdumpFile(path string, f *os.File, size int64) (*Dump, error) {
	data, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	closeFn := func() error {
		err := unix.Munmap(data)
		if e := f.Close(); err == nil {
			err = e
		}
		return err
	}
	d, err := openKdump(path, bytes.NewReader(data), closeFn)
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	return d, nil
}

// openKdump reads a kdump-compressed image from r.
func openKdump(path string, r sizedReaderAt, closeFn func() error) (*Dump, error) {
	bad := func(off int64, format string, args ...any) error {
		return &FormatError{Path: path, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	hdr := make([]byte, kdumpHeaderSize)
	if n, _ := r.ReadAt(hdr, 0); n < len(hdr) {
		return nil, bad(int64(n), "file truncated: kdump-compressed header cut short (file is %d bytes)", r.Size())
	}
	var order binary.ByteOrder = binary.LittleEndian
	if v := binary.LittleEndian.Uint32(hdr[8:]); v == 0 || v > 0xffff {
		order = binary.BigEndian
	}
	version := int32(order.Uint32(hdr[8:]))
	if version <= 0 || version > 0xffff {
		return nil, bad(8, "kdump-compressed header version %d is not valid", version)
	}
	uts := func(i int) string { return cstring(hdr[12+65*i : 12+65*(i+1)]) }
	blockSize := uint64(order.Uint32(hdr[428:]))
	subHdrSize := uint64(order.Uint32(hdr[432:]))
	bitmapBlocks := uint64(order.Uint32(hdr[436:]))
	maxMapnr := uint64(order.Uint32(hdr[440:]))
	status := order.Uint32(hdr[424:])
	nrCPUs := int32(order.Uint32(hdr[460:]))
	if blockSize < 1024 || blockSize > 1<<20 || blockSize&(blockSize-1) != 0 {
		return nil, bad(428, "kdump-compressed block size %d is not a power of two between 1 KiB and 1 MiB (32-bit dumps are not supported)", blockSize)
	}
	if bitmapBlocks == 0 || bitmapBlocks%2 != 0 {
		return nil, bad(436, "kdump-compressed bitmap size of %d blocks is not a positive even number", bitmapBlocks)
	}
	k := &kdumpFile{path: path, r: r, closeFn: closeFn, order: order, blockSize: blockSize, maxMapnr: maxMapnr}
	d := &Dump{Path: path, Format: FormatKdump, Machine: uts(4), ByteOrder: order, DumpLevel: -1, Bits: 64, b: k}
	d.Header = append(d.Header,
		[2]string{"signature", string(hdr[:8])},
		[2]string{"header_version", fmt.Sprint(version)},
		[2]string{"utsname", fmt.Sprintf("%s %s %s %s %s", uts(0), uts(1), uts(2), uts(3), uts(4))},
		[2]string{"status", fmt.Sprintf("%#x", status)},
		[2]string{"compression", compressionName(status)},
		[2]string{"block_size", fmt.Sprint(blockSize)},
		[2]string{"sub_hdr_size", fmt.Sprint(subHdrSize)},
		[2]string{"bitmap_blocks", fmt.Sprint(bitmapBlocks)},
		[2]string{"nr_cpus", fmt.Sprint(nrCPUs)})

	// The sub-header: fields exist from the header version noted.
	sub := make([]byte, 104)
	subOff := int64(blockSize)
	if n, _ := r.ReadAt(sub, subOff); n < len(sub) && version >= 6 || n < 16 {
		return nil, bad(subOff, "file truncated: kdump sub-header cut short")
	}
	u64 := func(o int) uint64 { return order.Uint64(sub[o:]) }
	d.DumpLevel = int(int32(order.Uint32(sub[8:])))
	k.endPfn = maxMapnr
	splitFlag := version >= 2 && order.Uint32(sub[12:]) != 0
	if splitFlag {
		k.startPfn, k.endPfn = u64(16), u64(24)
	}
	if version >= 6 {
		k.maxMapnr = u64(96)
		if order.Uint32(sub[12:]) != 0 {
			k.startPfn, k.endPfn = u64(80), u64(88)
		} else {
			k.endPfn = k.maxMapnr
		}
	}
	d.Header = append(d.Header,
		[2]string{"phys_base", fmt.Sprintf("%#x", u64(0))},
		[2]string{"dump_level", fmt.Sprint(d.DumpLevel)},
		[2]string{"max_mapnr", fmt.Sprint(k.maxMapnr)})
	if splitFlag {
		d.Header = append(d.Header, [2]string{"split", fmt.Sprintf("part holding pfn %#x-%#x", k.startPfn, k.endPfn)})
	}
	readArea := func(what string, off, size uint64) ([]byte, error) {
		if size == 0 {
			return nil, nil
		}
		if size > 64<<20 || off > uint64(r.Size()) || off+size > uint64(r.Size()) {
			return nil, bad(int64(off), "file truncated or corrupt: %s (%d bytes) runs past its end", what, size)
		}
		b := make([]byte, size)
		_, err := r.ReadAt(b, int64(off))
		return b, err
	}
	if version >= 3 {
		vi, err := readArea("VMCOREINFO", u64(32), u64(40))
		if err != nil {
			return nil, err
		}
		if vi != nil {
			d.VMCoreInfo = ParseVMCoreInfo(vi)
		}
	}
	if version >= 4 {
		nb, err := readArea("ELF notes", u64(48), u64(56))
		if err != nil {
			return nil, err
		}
		notes, err := ParseNotes(nb, order)
		if err != nil {
			return nil, bad(int64(u64(48)), "%v", err)
		}
		for j := range notes {
			notes[j].Offset += int64(u64(48))
		}
		d.Notes = notes
		if d.VMCoreInfo == nil {
			for _, n := range notes {
				if n.Name == "VMCOREINFO" {
					d.VMCoreInfo = ParseVMCoreInfo(n.Desc)
				}
			}
		}
	}

	// Bitmaps.
	bmOff := int64(blockSize * (1 + subHdrSize))
	bmLen := int64(bitmapBlocks / 2 * blockSize)
	// Bound what the headers may make us allocate by the bytes the file
	// really holds (a flattened file's logical size can be anything).
	stored := r.Size()
	if s, ok := r.(interface{ storedSize() int64 }); ok {
		stored = s.storedSize()
	}
	if bmOff+2*bmLen > r.Size() || 2*bmLen > stored {
		return nil, bad(bmOff, "file truncated: bitmaps of %d bytes run past its end (%d bytes)", 2*bmLen, r.Size())
	}
	if uint64(bmLen)*8 < k.maxMapnr {
		return nil, bad(bmOff, "bitmap of %d bytes cannot cover max_mapnr %d", bmLen, k.maxMapnr)
	}
	if k.startPfn > k.endPfn || k.endPfn > k.maxMapnr {
		return nil, bad(subOff, "split range %#x-%#x outside max_mapnr %#x", k.startPfn, k.endPfn, k.maxMapnr)
	}
	bm, err := newBitmaps(r, bmOff, bmLen, k.maxMapnr)
	if err != nil {
		return nil, err
	}
	k.bm = bm
	if k.startRank, err = bm.rankOf(k.startPfn); err != nil {
		return nil, bad(bmOff, "reading the dump bitmap: %v", err)
	}
	k.descOffset = int64(blockSize * (1 + subHdrSize + bitmapBlocks))
	endRank, err := bm.rankOf(k.endPfn)
	if err != nil {
		return nil, bad(bmOff, "reading the dump bitmap: %v", err)
	}
	kept := endRank - k.startRank
	k.cache = newPageCache(pageCacheSize(kept, blockSize))
	if descEnd := k.descOffset + int64(kept)*kdumpPageDescSize; descEnd > r.Size() {
		// The pages whose descriptors are cut read as truncated.
		d.Truncated = &Truncation{Size: r.Size(), Needed: descEnd, AtLeast: true}
	} else if needed, short := k.dataEnd(descEnd, kept); needed > r.Size() || short {
		d.Truncated = &Truncation{Size: r.Size(), Needed: max(needed, r.Size()), AtLeast: short}
	}
	// Partial, as crash says: a dump level was applied (QEMU declares level
	// 1, writing zero pages through one shared page), or pages are missing
	// (which only a dump of level 0 needs its whole RAM bitmap to tell).
	d.Filtered = d.DumpLevel > 0
	if !d.Filtered {
		l, err := k.facts()
		if err != nil {
			return nil, err
		}
		d.Filtered = l.partRAM > l.kept
	}
	if d.Machine == "" || d.Machine == "Unknown" {
		d.Machine = inferMachine(d)
	}
	d.SplitPart = splitFlag
	d.Incomplete = status&dumpIncomplete != 0
	d.ExcludedVmemmap = status&dumpExcludedVmemmap != 0
	if status&dumpIncomplete != 0 {
		d.Header = append(d.Header, [2]string{"incomplete", "makedumpfile did not finish writing this dump"})
	}
	return d, nil
}

func padWord(b []byte) []byte {
	if len(b) >= 8 {
		return b[:8]
	}
	var w [8]byte
	copy(w[:], b)
	return w[:]
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// dataEnd is where the page data ends, from the page descriptors of the
// kept pages (descEnd is where the descriptors end), and whether one of
// them was never written (zero: a flattened file's records cut before
// they wrote it). makedumpfile and QEMU write the data in frame order
// after the descriptors, the one copy of the zero page first, so the last
// descriptor whose data lies past the first page's ends it: the
// descriptors are read backwards, a block at a time, up to there (for a
// dump of zero pages only, or one written otherwise, all of them). A
// never-written descriptor anywhere before them is found by unwritten's
// binary search.
func (k *kdumpFile) dataEnd(descEnd int64, kept uint64) (needed int64, short bool) {
	needed = descEnd
	const block = 4096
	buf := make([]byte, block*kdumpPageDescSize)
	short = k.unwritten(kept, buf)
	for hi := kept; hi > 0; {
		lo := hi - min(hi, block)
		b := buf[:(hi-lo)*kdumpPageDescSize]
		n, _ := k.r.ReadAt(b, k.descOffset+int64(lo)*kdumpPageDescSize)
		if n < len(b) {
			return needed, true
		}
		past := false
		for i := len(b) - kdumpPageDescSize; i >= 0; i -= kdumpPageDescSize {
			off, size := int64(k.order.Uint64(b[i:])), int64(k.order.Uint32(b[i+8:]))
			if size == 0 {
				short = true
				continue
			}
			needed = max(needed, off+size)
			past = past || off > descEnd
		}
		if past {
			break
		}
		hi = lo
	}
	return needed, short
}

// unwritten reports whether a kept descriptor is zero (never written) or
// past the file's end, by a binary search over the blocks of block
// descriptors for the first holding one (each probed block is checked
// whole): the descriptors are written in order, so the unwritten ones
// follow the written; O(log(kept/block)) blocks are read.
func (k *kdumpFile) unwritten(kept uint64, buf []byte) bool {
	block := uint64(len(buf) / kdumpPageDescSize)
	found := false
	for lo, hi := uint64(0), (kept+block-1)/block; lo < hi; {
		mid := lo + (hi-lo)/2
		first := mid * block
		b := buf[:(min(first+block, kept)-first)*kdumpPageDescSize]
		n, _ := k.r.ReadAt(b, k.descOffset+int64(first)*kdumpPageDescSize)
		zero := n < len(b)
		for i := 0; !zero && i < len(b); i += kdumpPageDescSize {
			zero = k.order.Uint32(b[i+8:]) == 0
		}
		if zero {
			found, hi = true, mid
		} else {
			lo = mid + 1
		}
	}
	return found
}

// kdumpLayout is what the whole RAM bitmap says: its ranges and counts.
type kdumpLayout struct {
	rng                     []Range
	ramPages, partRAM, kept uint64
	err                     error
}

// facts walks the bitmaps once, on first use.
func (k *kdumpFile) facts() (*kdumpLayout, error) {
	k.layoutOnce.Do(func() {
		l := &k.layout
		bs, open := k.blockSize, false
		l.err = k.bm.eachWord(0, func(w, ram, kept uint64) bool {
			if ram == 0 && !open || ram == ^uint64(0) && open {
				l.ramPages += uint64(bits.OnesCount64(ram))
			} else {
				for b := uint64(0); b < 64; b++ {
					pfn := w*64 + b
					if ram&(1<<b) == 0 {
						open = false
						continue
					}
					l.ramPages++
					if open {
						l.rng[len(l.rng)-1].End = (pfn + 1) * bs
					} else {
						l.rng = append(l.rng, Range{pfn * bs, (pfn + 1) * bs})
						open = true
					}
				}
			}
			if ram == ^uint64(0) && open {
				l.rng[len(l.rng)-1].End = (w + 1) * 64 * bs
			}
			lo, hi := max(w*64, k.startPfn), min(w*64+64, k.endPfn)
			if lo < hi {
				mask := ^uint64(0)
				if hi-lo < 64 {
					mask = (uint64(1)<<(hi-lo) - 1) << (lo - w*64)
				}
				l.partRAM += uint64(bits.OnesCount64(ram & mask))
				l.kept += uint64(bits.OnesCount64(kept & mask))
			}
			return true
		})
	})
	return &k.layout, k.layout.err
}

// describe is help -D's line on the pages, which needs the whole bitmaps.
func (k *kdumpFile) describe() [][2]string {
	l, err := k.facts()
	if err != nil {
		return [][2]string{{"pages", err.Error()}}
	}
	return [][2]string{{"pages", fmt.Sprintf("%d RAM, %d in this file's range, %d of them in the file, %d excluded", l.ramPages, l.partRAM, l.kept, l.partRAM-l.kept)}}
}

func (k *kdumpFile) readPhys(p []byte, addr uint64) error {
	for len(p) > 0 {
		pfn, off := addr/k.blockSize, addr%k.blockSize
		n := min(uint64(len(p)), k.blockSize-off)
		if err := k.readPage(p[:n], pfn, off); err != nil {
			return err
		}
		p = p[n:]
		addr += n
	}
	return nil
}

// readPage copies the bytes of page frame pfn from off into dst.
func (k *kdumpFile) readPage(dst []byte, pfn, off uint64) error {
	addr := pfn * k.blockSize
	if pfn >= k.maxMapnr || pfn < k.startPfn || pfn >= k.endPfn {
		return &NotInDumpError{Addr: addr}
	}
	if k.cache.read(pfn, dst, off) {
		return nil
	}
	page, err := k.decode(pfn, k.cache.buffer(k.blockSize))
	if err != nil {
		return err
	}
	k.decoded.Add(1)
	k.cache.put(pfn, page, dst, off)
	return nil
}

// decode decodes page frame pfn into page (blockSize bytes).
func (k *kdumpFile) decode(pfn uint64, page []byte) ([]byte, error) {
	addr := pfn * k.blockSize
	ram, kept, rank, err := k.bm.frame(pfn)
	switch {
	case err != nil:
		return nil, &CorruptPageError{Addr: addr, Err: fmt.Errorf("bitmap: %w", err)}
	case !ram:
		return nil, &NotInDumpError{Addr: addr}
	case !kept:
		return nil, &ExcludedError{Addr: addr}
	}
	var desc [kdumpPageDescSize]byte
	doff := k.descOffset + int64(rank-k.startRank)*kdumpPageDescSize
	if n, _ := k.r.ReadAt(desc[:], doff); n < len(desc) {
		return nil, &TruncatedError{Addr: addr, Offset: doff, FileSize: k.r.Size()}
	}
	dataOff := int64(k.order.Uint64(desc[0:]))
	size := uint64(k.order.Uint32(desc[8:]))
	flags := k.order.Uint32(desc[12:])
	if size == 0 {
		// A descriptor never written: the file was cut short.
		return nil, &TruncatedError{Addr: addr, Offset: doff, FileSize: k.r.Size()}
	}
	if size > 2*k.blockSize+1024 || dataOff < 0 {
		return nil, &CorruptPageError{Addr: addr, Err: fmt.Errorf("page descriptor at offset %#x: size %d, offset %#x", doff, size, dataOff)}
	}
	rb, _ := k.raws.Get().(*[]byte)
	if rb == nil || uint64(cap(*rb)) < size {
		b := make([]byte, 2*k.blockSize+1024)
		rb = &b
	}
	defer k.raws.Put(rb)
	raw := (*rb)[:size]
	if n, _ := k.r.ReadAt(raw, dataOff); n < len(raw) {
		return nil, &TruncatedError{Addr: addr, Offset: dataOff + int64(n), FileSize: k.r.Size()}
	}
	switch {
	case flags&dumpZlib != 0:
		err = k.inflate(page, raw)
	case flags&dumpLZO != 0:
		var n int
		n, err = lzo.Decompress(raw, page)
		if err == nil && uint64(n) != k.blockSize {
			err = fmt.Errorf("lzo: %d bytes decoded, want %d", n, k.blockSize)
		}
	case flags&dumpSnappy != 0:
		var n int
		if n, err = snappy.DecodedLen(raw); err == nil && uint64(n) != k.blockSize {
			err = fmt.Errorf("snappy: %d bytes encoded, want %d", n, k.blockSize)
		} else if err == nil {
			_, err = snappy.Decode(page, raw)
		}
	case flags&dumpZstd != 0:
		var out []byte
		if out, err = k.zstd().DecodeAll(raw, page[:0]); err == nil && uint64(len(out)) != k.blockSize {
			err = fmt.Errorf("zstd: %d bytes decoded, want %d", len(out), k.blockSize)
		} else if err == nil {
			page = out
		}
	case size == k.blockSize:
		copy(page, raw)
	default:
		err = fmt.Errorf("page of %d bytes with no compression flag (flags %#x)", size, flags)
	}
	if err != nil {
		return nil, &CorruptPageError{Addr: addr, Err: err}
	}
	return page, nil
}

// inflater is a zlib reader kept for reuse: making one per page costs more
// than the decoding.
type inflater struct {
	src *bytes.Reader
	zr  io.ReadCloser
}

func (k *kdumpFile) inflate(dst, src []byte) error {
	inf, _ := k.inflaters.Get().(*inflater)
	if inf == nil {
		inf = &inflater{src: bytes.NewReader(src)}
		zr, err := zlib.NewReader(inf.src)
		if err != nil {
			return err
		}
		inf.zr = zr
	} else {
		inf.src.Reset(src)
		if err := inf.zr.(zlib.Resetter).Reset(inf.src, nil); err != nil {
			return err
		}
	}
	if _, err := io.ReadFull(inf.zr, dst); err != nil {
		return err
	}
	k.inflaters.Put(inf)
	return nil
}

func (k *kdumpFile) zstd() *zstd.Decoder {
	k.cache.mu.Lock()
	defer k.cache.mu.Unlock()
	if k.zstdDec == nil {
		k.zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	}
	return k.zstdDec
}

func (k *kdumpFile) ranges() []Range {
	l, _ := k.facts()
	return l.rng
}

func (k *kdumpFile) close() error {
	if k.zstdDec != nil {
		k.zstdDec.Close()
	}
	if k.closeFn != nil {
		return k.closeFn()
	}
	return nil
}

// pageCache holds decoded pages, safe for concurrent use: a segmented
// LRU of max pages. A page enters on probation; read again while there, it
// is promoted to the protected part (three quarters of max), whose least
// recently used page goes back on probation. So a walk that reads each
// object's pages once (every task's stack, the memory map) cycles through
// probation alone, and the pages every object needs again (page tables,
// the lists' and per-CPU areas' pages) stay: what a walk decodes per
// object does not grow once the walk outgrows the cache.
type pageCache struct {
	mu                   sync.Mutex
	max, maxProtected    int
	probation, protected *list.List
	items                map[uint64]*list.Element
	free                 [][]byte // evicted pages' buffers
}

// pageCacheSize is how many decoded pages (blocks of blockSize bytes) a
// file's cache holds: an eighth of the pages it keeps, bounded in bytes, at
// least 4 MiB and at most 256 MiB of pages whatever the block size (1,024
// to 65,536 pages of 4 KiB, 64 to 4,096 of 64 KiB); each part of a split
// dump has a cache of its own. A walk over every object of one kind (tasks, slabs,
// the memory map) that outgrows the cache decodes each object's pages
// again on its second pass over them (a command that lists the tasks and
// then reads each, the next command's walk): the cache grows with the
// dump so that the objects of a larger machine still fit, and what a walk
// decodes per object stays flat up to the cap.
func pageCacheSize(kept, blockSize uint64) int {
	const floor, limit = 4 << 20, 256 << 20
	return int(min(max(kept/8, floor/blockSize), limit/blockSize))
}

type cacheEntry struct {
	pfn       uint64
	data      []byte
	protected bool
}

func newPageCache(max int) *pageCache {
	return &pageCache{max: max, maxProtected: max * 3 / 4, probation: list.New(), protected: list.New(), items: map[uint64]*list.Element{}}
}

// read copies page pfn's bytes from off into dst if the cache holds it.
// The copy is made under the lock: an evicted page's buffer is reused.
func (c *pageCache) read(pfn uint64, dst []byte, off uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[pfn]
	if !ok {
		return false
	}
	ce := e.Value.(*cacheEntry)
	copy(dst, ce.data[off:])
	if ce.protected {
		c.protected.MoveToFront(e)
		return true
	}
	c.probation.Remove(e)
	ce.protected = true
	c.items[pfn] = c.protected.PushFront(ce)
	if c.protected.Len() > c.maxProtected {
		old := c.protected.Back()
		c.protected.Remove(old)
		oe := old.Value.(*cacheEntry)
		oe.protected = false
		c.items[oe.pfn] = c.probation.PushFront(oe)
	}
	return true
}

// buffer is a page buffer of size bytes to decode into: an evicted page's
// when there is one, so that a walk over more pages than the cache holds
// allocates no more than the cache.
func (c *pageCache) buffer(size uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.free); n > 0 {
		b := c.free[n-1]
		c.free = c.free[:n-1]
		if uint64(len(b)) == size {
			return b
		}
	}
	return make([]byte, size)
}

// put adds page pfn, whose bytes from off it copies into dst.
func (c *pageCache) put(pfn uint64, data, dst []byte, off uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	copy(dst, data[off:])
	if _, ok := c.items[pfn]; ok {
		c.recycle(data) // decoded twice at once
		return
	}
	c.items[pfn] = c.probation.PushFront(&cacheEntry{pfn: pfn, data: data})
	if c.probation.Len()+c.protected.Len() > c.max {
		from := c.probation
		if from.Len() == 0 {
			from = c.protected
		}
		e := from.Back()
		from.Remove(e)
		ce := e.Value.(*cacheEntry)
		delete(c.items, ce.pfn)
		c.recycle(ce.data)
	}
}

func (c *pageCache) recycle(b []byte) {
	if len(c.free) < 16 {
		c.free = append(c.free, b)
	}
}

// compressionName names the compression a kdump header's status declares.
func compressionName(status uint32) string {
	var names []string
	for _, c := range []struct {
		bit  uint32
		name string
	}{{dumpZlib, "zlib"}, {dumpLZO, "lzo"}, {dumpSnappy, "snappy"}, {dumpZstd, "zstd"}} {
		if status&c.bit != 0 {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (k *kdumpFile) pagesDecoded() uint64 { return k.decoded.Load() }
