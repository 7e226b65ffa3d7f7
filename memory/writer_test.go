package memory

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// Test writers: small, independent producers of each dump format, so the
// readers are checked against files built from a known memory image.

type testPage struct {
	pfn  uint64
	data []byte // nil: RAM but excluded
}

var le = binary.LittleEndian

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func noteBytes(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	nb := append([]byte(name), 0)
	binary.Write(&b, le, uint32(len(nb)))
	binary.Write(&b, le, uint32(len(desc)))
	binary.Write(&b, le, typ)
	b.Write(nb)
	b.Write(make([]byte, align4(len(nb))-len(nb)))
	b.Write(desc)
	b.Write(make([]byte, align4(len(desc))-len(desc)))
	return b.Bytes()
}

func prstatusDesc(pid uint32, regs []uint64) []byte {
	d := make([]byte, prstatus64RegOffset+8*len(regs)+8)
	le.PutUint32(d[32:], pid)
	for i, r := range regs {
		le.PutUint64(d[prstatus64RegOffset+8*i:], r)
	}
	return d
}

type elfLoad struct {
	vaddr, paddr uint64
	data         []byte
	memsz        uint64 // 0: len(data)
}

// buildELFCore writes a little-endian ELF64 x86_64 core with one PT_NOTE and
// the given PT_LOADs.
func buildELFCore(notes []byte, loads []elfLoad) []byte {
	const ehsize, phsize = 64, 56
	nph := 1 + len(loads)
	off := uint64(ehsize + phsize*nph)
	var hdr, ph, body bytes.Buffer
	hdr.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	hdr.Write(make([]byte, 8))
	binary.Write(&hdr, le, uint16(4))  // ET_CORE
	binary.Write(&hdr, le, uint16(62)) // EM_X86_64
	binary.Write(&hdr, le, uint32(1))
	binary.Write(&hdr, le, uint64(0))      // entry
	binary.Write(&hdr, le, uint64(ehsize)) // phoff
	binary.Write(&hdr, le, uint64(0))      // shoff
	binary.Write(&hdr, le, uint32(0))
	binary.Write(&hdr, le, uint16(ehsize))
	binary.Write(&hdr, le, uint16(phsize))
	binary.Write(&hdr, le, uint16(nph))
	binary.Write(&hdr, le, uint16(64))
	binary.Write(&hdr, le, uint16(0))
	binary.Write(&hdr, le, uint16(0))
	phdr := func(typ uint32, o, va, pa, fs, ms uint64) {
		binary.Write(&ph, le, typ)
		binary.Write(&ph, le, uint32(7))
		for _, v := range []uint64{o, va, pa, fs, ms, 0} {
			binary.Write(&ph, le, v)
		}
	}
	phdr(4, off, 0, 0, uint64(len(notes)), uint64(len(notes)))
	body.Write(notes)
	off += uint64(len(notes))
	for _, l := range loads {
		ms := l.memsz
		if ms == 0 {
			ms = uint64(len(l.data))
		}
		phdr(1, off, l.vaddr, l.paddr, uint64(len(l.data)), ms)
		body.Write(l.data)
		off += uint64(len(l.data))
	}
	return append(append(hdr.Bytes(), ph.Bytes()...), body.Bytes()...)
}

// compressPage encodes a page for a kdump file with one of the four
// compressions (0: stored).
func compressPage(t testing.TB, flag uint32, page []byte) []byte {
	switch flag {
	case dumpZlib:
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(page)
		w.Close()
		return b.Bytes()
	case dumpLZO:
		return lzoLiteral(page)
	case dumpSnappy:
		return snappy.Encode(nil, page)
	case dumpZstd:
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		return enc.EncodeAll(page, nil)
	}
	return page
}

// lzoLiteral encodes src as an LZO1X stream made of one literal run and the
// end-of-stream marker: valid LZO1X, though it compresses nothing.
func lzoLiteral(src []byte) []byte {
	var b bytes.Buffer
	n := len(src)
	if n <= 238 {
		b.WriteByte(byte(17 + n))
	} else {
		b.WriteByte(0)
		rest := n - 18
		for rest > 255 {
			b.WriteByte(0)
			rest -= 255
		}
		b.WriteByte(byte(rest))
	}
	b.Write(src)
	b.Write([]byte{0x11, 0, 0})
	return b.Bytes()
}

// buildKdump writes a 64-bit little-endian kdump-compressed file (header
// version 6) holding pages, with vmcoreinfo and notes in the sub-header area.
func buildKdump(t testing.TB, flag uint32, pageSize int, maxMapnr uint64, pages []testPage, vmcoreinfo string, notes []byte, dumpLevel int) []byte {
	return buildKdumpPart(t, flag, pageSize, maxMapnr, pages, vmcoreinfo, notes, dumpLevel, 0, 0)
}

// buildKdumpPart writes one part of a split dump holding the pages in
// [start, end) (end 0: not split).
func buildKdumpPart(t testing.TB, flag uint32, pageSize int, maxMapnr uint64, pages []testPage, vmcoreinfo string, notes []byte, dumpLevel int, start, end uint64) []byte {
	bs := uint64(pageSize)
	bitmapBytes := (maxMapnr + 7) / 8
	bitmapBlocks := (bitmapBytes + bs - 1) / bs * 2
	subHdrSize := uint64(1)
	// vmcoreinfo and notes go in the sub-header blocks, after the fixed part.
	extra := uint64(len(vmcoreinfo) + len(notes))
	subHdrSize += (extra + bs - 1) / bs
	hdr := make([]byte, bs)
	copy(hdr, "KDUMP   ")
	le.PutUint32(hdr[8:], 6)
	copy(hdr[12+65*1:], "testnode")
	copy(hdr[12+65*2:], "6.1.0-test")
	copy(hdr[12+65*4:], "x86_64")
	le.PutUint32(hdr[428:], uint32(bs))
	le.PutUint32(hdr[432:], uint32(subHdrSize))
	le.PutUint32(hdr[436:], uint32(bitmapBlocks))
	le.PutUint32(hdr[440:], uint32(maxMapnr))
	le.PutUint32(hdr[460:], 2)
	sub := make([]byte, subHdrSize*bs)
	le.PutUint32(sub[8:], uint32(dumpLevel))
	viOff := 2 * bs // block 1 is the sub-header's first block, fixed part
	le.PutUint64(sub[32:], viOff)
	le.PutUint64(sub[40:], uint64(len(vmcoreinfo)))
	le.PutUint64(sub[48:], viOff+uint64(len(vmcoreinfo)))
	le.PutUint64(sub[56:], uint64(len(notes)))
	le.PutUint64(sub[96:], maxMapnr)
	if end != 0 {
		le.PutUint32(sub[12:], 1)
		le.PutUint64(sub[16:], start)
		le.PutUint64(sub[24:], end)
		le.PutUint64(sub[80:], start)
		le.PutUint64(sub[88:], end)
	}
	copy(sub[bs:], vmcoreinfo)
	copy(sub[bs+uint64(len(vmcoreinfo)):], notes)
	bm := make([]byte, bitmapBlocks*bs)
	half := bitmapBlocks / 2 * bs
	kept := 0
	inPart := func(pfn uint64) bool { return end == 0 || pfn >= start && pfn < end }
	for _, p := range pages {
		bm[p.pfn/8] |= 1 << (p.pfn % 8)
		if p.data != nil {
			bm[half+p.pfn/8] |= 1 << (p.pfn % 8)
			if inPart(p.pfn) {
				kept++
			}
		}
	}
	descStart := bs * (1 + subHdrSize + bitmapBlocks)
	dataOff := descStart + uint64(kept)*kdumpPageDescSize
	var descs, data bytes.Buffer
	for _, p := range sortedPages(pages) {
		if p.data == nil || !inPart(p.pfn) {
			continue
		}
		c := compressPage(t, flag, p.data)
		f := flag
		if len(c) >= pageSize {
			c, f = p.data, 0
		}
		binary.Write(&descs, le, dataOff+uint64(data.Len()))
		binary.Write(&descs, le, uint32(len(c)))
		binary.Write(&descs, le, f)
		binary.Write(&descs, le, uint64(0))
		data.Write(c)
	}
	out := append(hdr, sub...)
	out = append(out, bm...)
	out = append(out, descs.Bytes()...)
	return append(out, data.Bytes()...)
}

func sortedPages(p []testPage) []testPage {
	out := append([]testPage(nil), p...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].pfn < out[j-1].pfn; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// flatten turns a file image into makedumpfile's flattened form, in records
// of at most chunk bytes, writing the first record again at the end (as
// makedumpfile rewrites headers) so overwriting is exercised.
func flatten(img []byte, chunk int) []byte {
	var b bytes.Buffer
	h := make([]byte, flatHeaderSize)
	copy(h, "makedumpfile")
	binary.BigEndian.PutUint64(h[16:], 1)
	binary.BigEndian.PutUint64(h[24:], 1)
	b.Write(h)
	rec := func(off int, data []byte) {
		binary.Write(&b, binary.BigEndian, int64(off))
		binary.Write(&b, binary.BigEndian, int64(len(data)))
		b.Write(data)
	}
	// Write a garbage first record, later overwritten by the real bytes.
	rec(0, bytes.Repeat([]byte{0xee}, min(chunk, len(img))))
	for off := len(img); off > 0; {
		start := max(off-chunk, 0)
		rec(start, img[start:off]) // reverse order: reads must not assume order
		off = start
	}
	binary.Write(&b, binary.BigEndian, int64(-1))
	binary.Write(&b, binary.BigEndian, int64(-1))
	return b.Bytes()
}
