package memory

import (
	"encoding/binary"
	"io"
	"math/bits"
	"sync"
	"sync/atomic"
)

// bitmapChunkWords is how much of a kdump-compressed file's two bitmaps is
// read at once: 512 words of each (4 KiB), 32,768 page frames (128 MiB of
// 4 KiB pages). A chunk is read on the first look-up of a frame in it, so
// opening a dump reads no bitmap but the count below, however large the
// machine was.
const bitmapChunkWords = 512

// bitmapChunk is one chunk of the RAM and kept bitmaps as words, with the
// kept pages below each word.
type bitmapChunk struct {
	ram, kept [bitmapChunkWords]uint64
	rank      [bitmapChunkWords]uint32 // kept pages in the chunk's words [0, i)
	base      uint64                   // kept pages below the chunk
}

// bitmaps reads a kdump-compressed file's RAM bitmap (at off) and kept
// bitmap (at off+size), one bit per page frame below maxMapnr, a chunk at
// a time. Safe for concurrent use.
type bitmaps struct {
	r        sizedReaderAt
	off      int64
	size     int64 // bytes of each bitmap
	maxMapnr uint64
	words    uint64
	base     []uint64 // kept pages below each chunk, and the total last
	mu       sync.Mutex
	chunks   []atomic.Pointer[bitmapChunk]
}

// newBitmaps counts the kept pages of each chunk: the one pass over the
// kept bitmap that open makes (32 KiB of it per GiB of the machine's
// memory, counted 4 KiB at a time and not kept), since where the page
// descriptors end is the number of kept pages.
func newBitmaps(r sizedReaderAt, off, size int64, maxMapnr uint64) (*bitmaps, error) {
	b := &bitmaps{r: r, off: off, size: size, maxMapnr: maxMapnr, words: (maxMapnr + 63) / 64}
	n := (b.words + bitmapChunkWords - 1) / bitmapChunkWords
	b.chunks = make([]atomic.Pointer[bitmapChunk], n)
	b.base = make([]uint64, n+1)
	var w [bitmapChunkWords]uint64
	buf := make([]byte, bitmapChunkWords*8)
	for c := uint64(0); c < n; c++ {
		if err := b.read(w[:], 1, c, buf); err != nil {
			return nil, err
		}
		var kept int
		for _, x := range w {
			kept += bits.OnesCount64(x)
		}
		b.base[c+1] = b.base[c] + uint64(kept)
	}
	return b, nil
}

// read fills w with chunk c of bitmap which (0: RAM, 1: kept), the words
// past the bitmap's end zero and the bits at or past maxMapnr cleared.
// buf is the caller's scratch space, bitmapChunkWords*8 bytes.
func (b *bitmaps) read(w []uint64, which int, c uint64, buf []byte) error {
	clear(w)
	first := c * bitmapChunkWords
	nw := min(uint64(bitmapChunkWords), b.words-first)
	start := int64(first * 8)
	end := min(start+int64(nw*8), b.size)
	if end > start {
		p := buf[:end-start]
		if n, err := b.r.ReadAt(p, b.off+int64(which)*b.size+start); err != nil && err != io.EOF {
			return err
		} else {
			clear(p[n:])
		}
	}
	for i := uint64(0); i < nw; i++ {
		w[i] = binary.LittleEndian.Uint64(buf[i*8:])
		if tail := b.maxMapnr - (first+i)*64; tail < 64 {
			w[i] &= uint64(1)<<tail - 1
		}
	}
	return nil
}

// chunk returns chunk c, reading it on first use.
func (b *bitmaps) chunk(c uint64) (*bitmapChunk, error) {
	if ch := b.chunks[c].Load(); ch != nil {
		return ch, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ch := b.chunks[c].Load(); ch != nil {
		return ch, nil
	}
	ch := &bitmapChunk{base: b.base[c]}
	buf := make([]byte, bitmapChunkWords*8)
	if err := b.read(ch.ram[:], 0, c, buf); err != nil {
		return nil, err
	}
	if err := b.read(ch.kept[:], 1, c, buf); err != nil {
		return nil, err
	}
	for i := 1; i < bitmapChunkWords; i++ {
		ch.rank[i] = ch.rank[i-1] + uint32(bits.OnesCount64(ch.kept[i-1]))
	}
	b.chunks[c].Store(ch)
	return ch, nil
}

// frame looks pfn up: whether it is RAM, whether it is kept, and the kept
// pages below it.
func (b *bitmaps) frame(pfn uint64) (ram, kept bool, rank uint64, err error) {
	w := pfn / 64
	if w >= b.words {
		return false, false, b.base[len(b.base)-1], nil
	}
	ch, err := b.chunk(w / bitmapChunkWords)
	if err != nil {
		return false, false, 0, err
	}
	i, bit := w%bitmapChunkWords, uint64(1)<<(pfn%64)
	rank = ch.base + uint64(ch.rank[i]) + uint64(bits.OnesCount64(ch.kept[i]&(bit-1)))
	return ch.ram[i]&bit != 0, ch.kept[i]&bit != 0, rank, nil
}

// rankOf counts the kept pages below pfn.
func (b *bitmaps) rankOf(pfn uint64) (uint64, error) {
	_, _, r, err := b.frame(pfn)
	return r, err
}

// eachWord calls fn with every word of both bitmaps from word first on, in
// order, reading them a chunk at a time without keeping them (the whole-map
// walks: ranges, present pages, counts), until fn returns false.
func (b *bitmaps) eachWord(first uint64, fn func(w, ram, kept uint64) bool) error {
	var ram, kept [bitmapChunkWords]uint64
	buf := make([]byte, bitmapChunkWords*8)
	for c := first / bitmapChunkWords; c < uint64(len(b.chunks)); c++ {
		if ch := b.chunks[c].Load(); ch != nil {
			ram, kept = ch.ram, ch.kept
		} else if err := b.read(ram[:], 0, c, buf); err != nil {
			return err
		} else if err := b.read(kept[:], 1, c, buf); err != nil {
			return err
		}
		for i := uint64(0); i < bitmapChunkWords; i++ {
			w := c*bitmapChunkWords + i
			if w < first {
				continue
			}
			if w >= b.words || !fn(w, ram[i], kept[i]) {
				return nil
			}
		}
	}
	return nil
}
