package symbols

import (
	"encoding/binary"
	"fmt"
)

// The kernel's own symbol table, kallsyms, as it lies in the kernel's
// memory (scripts/kallsyms.c writes it, kernel/kallsyms.c reads it):
//
//	kallsyms_num_syms       u32: the number of symbols
//	kallsyms_names          per symbol, a length (one byte; two when the
//	                        first has bit 7 set, 6.1+: low 7 bits, then the
//	                        rest) and that many token numbers
//	kallsyms_token_table    256 NUL-terminated strings, the tokens
//	kallsyms_token_index    256 u16: where each token starts in the table
//	kallsyms_offsets        per symbol an s32, from kallsyms_relative_base
//	                        (with absolute per-CPU symbols, x86_64: a
//	                        non-negative one is the address itself, a
//	                        negative one counts down from base-1)
//	kallsyms_addresses      per symbol a u64 (kernels without relative
//	                        offsets), in place of the two above
//
// A symbol's expanded name starts with its type letter, as /proc/kallsyms
// prints it. The table is sorted by address.

// KallsymsTables are the run-time addresses of the kallsyms tables; zero
// for a table the kernel does not have.
type KallsymsTables struct {
	NumSyms, Names, TokenTable, TokenIndex uint64
	Offsets, RelativeBase, Addresses       uint64
}

// MemReader reads n bytes of kernel memory at a run-time virtual address.
type MemReader func(addr uint64, n int) ([]byte, error)

// maxKallsyms bounds the symbol count read from a dump (a kernel has a few
// hundred thousand).
const maxKallsyms = 4 << 20

// ReadKallsyms decodes the kallsyms tables: each symbol at its run-time
// address, with no size.
func ReadKallsyms(read MemReader, t KallsymsTables, order binary.ByteOrder) ([]Symbol, error) {
	if t.NumSyms == 0 || t.Names == 0 || t.TokenTable == 0 || t.TokenIndex == 0 || (t.Offsets == 0 || t.RelativeBase == 0) && t.Addresses == 0 {
		return nil, fmt.Errorf("kallsyms: the tables' addresses are incomplete")
	}
	b, err := read(t.NumSyms, 4)
	if err != nil {
		return nil, fmt.Errorf("kallsyms_num_syms: %v", err)
	}
	n := int(order.Uint32(b))
	if n == 0 || n > maxKallsyms {
		return nil, fmt.Errorf("kallsyms_num_syms is %d", n)
	}
	tokIdx, err := read(t.TokenIndex, 2*256)
	if err != nil {
		return nil, fmt.Errorf("kallsyms_token_index: %v", err)
	}
	var tokens [256]string
	tableLen := 0
	for i := range 256 {
		tableLen = max(tableLen, int(order.Uint16(tokIdx[2*i:])))
	}
	table, err := read(t.TokenTable, tableLen+256)
	if err != nil {
		// The table may end at the edge of what is readable.
		if table, err = read(t.TokenTable, tableLen+1); err != nil {
			return nil, fmt.Errorf("kallsyms_token_table: %v", err)
		}
	}
	for i := range 256 {
		p := int(order.Uint16(tokIdx[2*i:]))
		e := p
		for e < len(table) && table[e] != 0 {
			e++
		}
		if e >= len(table) {
			return nil, fmt.Errorf("kallsyms_token_table: token %d runs past the table", i)
		}
		tokens[i] = string(table[p:e])
	}
	addrs, err := kallsymsAddrs(read, t, n, order)
	if err != nil {
		return nil, err
	}
	names := &chunkReader{read: read, addr: t.Names}
	syms := make([]Symbol, 0, n)
	var name []byte
	for i := range n {
		l, err := names.byte()
		if err != nil {
			return nil, fmt.Errorf("kallsyms_names, symbol %d: %v", i, err)
		}
		size := int(l)
		if l&0x80 != 0 {
			hi, err := names.byte()
			if err != nil {
				return nil, fmt.Errorf("kallsyms_names, symbol %d: %v", i, err)
			}
			size = int(l&0x7f) | int(hi)<<7
		}
		name = name[:0]
		for range size {
			c, err := names.byte()
			if err != nil {
				return nil, fmt.Errorf("kallsyms_names, symbol %d: %v", i, err)
			}
			name = append(name, tokens[c]...)
		}
		if len(name) < 2 {
			return nil, fmt.Errorf("kallsyms_names, symbol %d: empty name (the tables are not where they were looked for)", i)
		}
		syms = append(syms, Symbol{Name: string(name[1:]), Type: name[0], Addr: addrs[i]})
	}
	return syms, nil
}

// kallsymsAddrs reads the symbols' addresses.
func kallsymsAddrs(read MemReader, t KallsymsTables, n int, order binary.ByteOrder) ([]uint64, error) {
	addrs := make([]uint64, n)
	if t.Offsets == 0 {
		b, err := read(t.Addresses, 8*n)
		if err != nil {
			return nil, fmt.Errorf("kallsyms_addresses: %v", err)
		}
		for i := range addrs {
			addrs[i] = order.Uint64(b[8*i:])
		}
		return addrs, nil
	}
	bb, err := read(t.RelativeBase, 8)
	if err != nil {
		return nil, fmt.Errorf("kallsyms_relative_base: %v", err)
	}
	base := order.Uint64(bb)
	b, err := read(t.Offsets, 4*n)
	if err != nil {
		return nil, fmt.Errorf("kallsyms_offsets: %v", err)
	}
	// With absolute per-CPU symbols (CONFIG_KALLSYMS_ABSOLUTE_PERCPU)
	// every symbol of the image has a negative offset; without, none has
	// (an image is far smaller than 2 GiB).
	absolute := false
	for i := range n {
		if int32(order.Uint32(b[4*i:])) < 0 {
			absolute = true
			break
		}
	}
	for i := range addrs {
		off := int32(order.Uint32(b[4*i:]))
		switch {
		case !absolute:
			addrs[i] = base + uint64(uint32(off))
		case off >= 0:
			addrs[i] = uint64(off)
		default:
			addrs[i] = base - 1 - uint64(int64(off))
		}
	}
	return addrs, nil
}

// chunkReader reads a table of unknown length a chunk at a time.
type chunkReader struct {
	read MemReader
	addr uint64 // of buf[0]
	buf  []byte
	pos  int
}

const kallsymsChunk = 64 << 10

func (c *chunkReader) byte() (byte, error) {
	if c.pos >= len(c.buf) {
		c.addr += uint64(len(c.buf))
		b, err := c.read(c.addr, kallsymsChunk)
		if err != nil {
			// The last chunk may cross into an unreadable page.
			if b, err = c.read(c.addr, 4096-int(c.addr%4096)); err != nil {
				return 0, err
			}
		}
		c.buf, c.pos = b, 0
	}
	v := c.buf[c.pos]
	c.pos++
	return v, nil
}
