package symbols

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Finding the kallsyms tables in a kernel image whose VMCOREINFO does not
// list them (before 6.0, or a dump without VMCOREINFO). The method is this
// project's own, from how scripts/kallsyms.c lays the tables out (each
// table 8-byte aligned):
//
//  1. kallsyms_token_table: the tokens of byte values '0'..'9' are those
//     digits themselves (every digit occurs in some symbol name, and a byte
//     that occurs in names is never made a token), so the table holds
//     "0\x001\x00...9\x00". Each hit is checked against the
//     kallsyms_token_index that follows the table: 256 increasing u16
//     offsets, the first 0, each token ending where the next begins, the
//     digits' where the hit is.
//  2. kallsyms_num_syms and kallsyms_names: below the token table, an
//     8-aligned u32 n (its upper half zero) followed by n length-prefixed
//     entries that end where kallsyms_markers begin (ceil(n/256) u32s, the
//     first 0), which end at the token table, or at kallsyms_seqs_of_names
//     (3 bytes per symbol, 6.2+ and backports) which ends there.
//  3. The addresses: kallsyms_offsets and kallsyms_relative_base just after
//     the token index (6.4+), or just below kallsyms_num_syms (before), or
//     kallsyms_addresses below kallsyms_num_syms (kernels without relative
//     offsets): the layout whose addresses come out sorted, as kallsyms'
//     are, is the one.

// kallsymsImageSpan is how far past the kernel image's start the tables
// are looked for (they lie at the end of its read-only data, 20-30 MiB
// in), and kallsymsSpanChunk the reads it is made of.
const (
	kallsymsImageSpan  = 96 << 20
	kallsymsSpanChunk  = 2 << 20
	kallsymsNamesSpan  = 24 << 20 // below the token table, for kallsyms_names
	kallsymsOffsetSpan = 24 << 20 // above it, for kallsyms_offsets (6.4+)
)

var digitTokens = []byte("0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00")

// FindKallsyms looks for the kallsyms tables in the kernel image that
// starts at the run-time address start.
func FindKallsyms(read MemReader, start uint64, order binary.ByteOrder) (KallsymsTables, error) {
	img := &imageBuf{read: read, base: start}
	for end := uint64(0); end < kallsymsImageSpan; end += kallsymsSpanChunk {
		from := max(int(end)-len(digitTokens), 0)
		img.extend(end + kallsymsSpanChunk)
		for p := from; ; p++ {
			i := bytes.Index(img.buf[p:], digitTokens)
			if i < 0 {
				break
			}
			p += i
			if t, ok := img.tablesAt(p, order); ok {
				return t, nil
			}
		}
	}
	return KallsymsTables{}, fmt.Errorf("no kallsyms tables in the %d MiB of the kernel image at %#x", kallsymsImageSpan>>20, start)
}

// imageBuf is the kernel image read so far (pages that cannot be read are
// zeros).
type imageBuf struct {
	read MemReader
	base uint64
	buf  []byte
}

func (m *imageBuf) extend(to uint64) {
	for uint64(len(m.buf)) < to {
		addr := m.base + uint64(len(m.buf))
		n := min(int(to)-len(m.buf), kallsymsSpanChunk)
		if b, err := m.read(addr, n); err == nil {
			m.buf = append(m.buf, b...)
			continue
		}
		for n > 0 { // page by page
			b, err := m.read(addr, 4096)
			if err != nil {
				b = make([]byte, 4096)
			}
			m.buf = append(m.buf, b...)
			addr, n = addr+4096, n-4096
		}
	}
}

func align8(x int) int { return (x + 7) &^ 7 }

// tablesAt checks a hit of the digit tokens at offset p of the image.
func (m *imageBuf) tablesAt(p int, order binary.ByteOrder) (KallsymsTables, bool) {
	// The token index is within a few KiB above the hit.
	for q := align8(p); q < p+4096; q += 8 {
		if q+512 > len(m.buf) {
			m.extend(uint64(q + 512 + kallsymsSpanChunk))
			if q+512 > len(m.buf) {
				return KallsymsTables{}, false
			}
		}
		idx := m.buf[q : q+512]
		if order.Uint16(idx) != 0 {
			continue
		}
		digit0 := int(order.Uint16(idx[2*'0':]))
		tt := p - digit0
		if tt < 0 || int(order.Uint16(idx[2*'1':])) != digit0+2 {
			continue
		}
		if !m.tokenIndexFits(tt, q, idx, order) {
			continue
		}
		if t, ok := m.namesBelow(tt, q, order); ok {
			return t, true
		}
	}
	return KallsymsTables{}, false
}

// tokenIndexFits checks that the 256 offsets at q index the strings of a
// token table at tt that ends where the index begins.
func (m *imageBuf) tokenIndexFits(tt, q int, idx []byte, order binary.ByteOrder) bool {
	prev := -1
	for i := range 256 {
		o := int(order.Uint16(idx[2*i:]))
		if o <= prev || tt+o >= q || (i > 0 && m.buf[tt+o-1] != 0) {
			return false
		}
		prev = o
	}
	last := tt + prev
	e := bytes.IndexByte(m.buf[last:q], 0)
	return e > 0 && align8(last+e+1) == q
}

// namesBelow finds kallsyms_num_syms and kallsyms_names below the token
// table at tt (index at q), then the addresses.
func (m *imageBuf) namesBelow(tt, q int, order binary.ByteOrder) (KallsymsTables, bool) {
	lo := max(0, tt-kallsymsNamesSpan)
	for ns := (tt - 16) &^ 7; ns >= lo; ns -= 8 {
		n := int(order.Uint32(m.buf[ns:]))
		if n < 256 || n > maxKallsyms || order.Uint32(m.buf[ns+4:]) != 0 {
			continue
		}
		names := ns + 8
		markers := (n + 255) / 256
		end, ok := m.skipNames(names, n, tt)
		if !ok {
			continue
		}
		mk := align8(end)
		if mk+4*markers > tt || order.Uint32(m.buf[mk:]) != 0 {
			continue
		}
		after := align8(mk + 4*markers)
		if after != tt && align8(after+3*n) != tt {
			continue
		}
		// The tables' run-time addresses.
		at := func(off int) uint64 { return m.base + uint64(off) }
		t := KallsymsTables{NumSyms: at(ns), Names: at(names), TokenTable: at(tt), TokenIndex: at(q)}
		if m.addressesFit(&t, ns, q, n, order) {
			return t, true
		}
	}
	return KallsymsTables{}, false
}

// skipNames walks n entries of kallsyms_names from off; false when they
// run past limit.
func (m *imageBuf) skipNames(off, n, limit int) (int, bool) {
	for range n {
		if off >= limit {
			return 0, false
		}
		l := int(m.buf[off])
		off++
		if l&0x80 != 0 {
			if off >= limit {
				return 0, false
			}
			l = l&0x7f | int(m.buf[off])<<7
			off++
		}
		if l == 0 {
			return 0, false
		}
		off += l
	}
	return off, off <= limit
}

// addressesFit picks the address tables' layout whose addresses are sorted.
func (m *imageBuf) addressesFit(t *KallsymsTables, ns, q, n int, order binary.ByteOrder) bool {
	at := func(off int) uint64 { return m.base + uint64(off) }
	read := func(addr uint64, size int) ([]byte, error) {
		off := int(addr - m.base)
		if off < 0 || off+size > len(m.buf) {
			m.extend(uint64(off + size))
			if off < 0 || off+size > len(m.buf) {
				return nil, fmt.Errorf("past the image")
			}
		}
		return m.buf[off : off+size], nil
	}
	sorted := func(c KallsymsTables) bool {
		addrs, err := kallsymsAddrs(read, c, n, order)
		if err != nil {
			return false
		}
		for i := 1; i < len(addrs); i++ {
			if addrs[i] < addrs[i-1] {
				return false
			}
		}
		return addrs[n-1] >= 1<<63
	}
	var cands []KallsymsTables
	if off := align8(q + 512); off+4*n <= len(m.buf)+kallsymsOffsetSpan { // 6.4+
		c := *t
		c.Offsets, c.RelativeBase = at(off), at(align8(off+4*n))
		cands = append(cands, c)
	}
	if off := ns - 8 - align8(4*n); off >= 0 { // before 6.4
		c := *t
		c.Offsets, c.RelativeBase = at(off), at(ns-8)
		cands = append(cands, c)
	}
	if off := ns - 8*n; off >= 0 { // absolute addresses
		c := *t
		c.Addresses = at(off)
		cands = append(cands, c)
	}
	for _, c := range cands {
		if sorted(c) {
			*t = c
			return true
		}
	}
	return false
}
