package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// KmemPageMemberRow is one struct page of kmem -m: its address and each
// member's value: one word for a scalar (a bit-field's bits, a signed
// value sign-extended), a struct's words (8 bytes each, or 4 or 2 for a
// smaller struct).
type KmemPageMemberRow struct {
	Page   Hex     `json:"page"`
	Values [][]Hex `json:"values"`
}

// KmemPageMember is a struct page member kmem -m shows: its name, kind
// ("pointer", "signed", "unsigned", "bool", "struct") and size in bytes.
type KmemPageMember struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Size int64  `json:"size"`
}

// KmemPageMembers is kmem -m member[,member] [address ...].
type KmemPageMembers struct {
	Members []KmemPageMember    `json:"members"`
	Pages   []KmemPageMemberRow `json:"pages"`
}

// pageMember is a struct page member as kmem -m reads it.
type pageMember struct {
	name            string
	off, size       int64
	bitOff, bitSize int64
	kind            symbols.TypeKind
	enc             uint8
}

func kmemPageMembers(ctx context.Context, s *Session, list string, words []string) (Result, error) {
	k := s.Kernel
	if strings.HasSuffix(list, ",") || strings.HasSuffix(list, ".") {
		return nil, fmt.Errorf("invalid format: %s", list)
	}
	names := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' })
	if len(names) == 0 {
		return nil, fmt.Errorf("invalid page struct member list format: %s", list)
	}
	if k.Vmlinux == nil {
		return nil, fmt.Errorf("kmem -m needs the vmlinux's types")
	}
	ts, err := k.Vmlinux.Types()
	if err != nil {
		return nil, err
	}
	pt, err := ts.Lookup("struct page")
	if err != nil {
		return nil, err
	}
	var ms []pageMember
	for _, n := range names {
		m, err := pt.MemberPath(n)
		if err != nil {
			return nil, fmt.Errorf("invalid page struct member: %s", n)
		}
		t := m.Type.Strip()
		if t == nil {
			return nil, fmt.Errorf("unsupported page member reference: page.%s", n)
		}
		pm := pageMember{name: n, off: m.Offset, size: t.Sizeof(), bitOff: m.BitOffset, bitSize: m.BitSize, kind: t.Kind, enc: t.Encoding}
		if pm.bitSize != 0 {
			pm.bitOff -= 8 * m.Offset
		}
		ms = append(ms, pm)
	}
	r := &KmemPageMembers{Pages: []KmemPageMemberRow{}}
	for _, m := range ms {
		r.Members = append(r.Members, KmemPageMember{m.name, m.kindName(), m.size})
	}
	psize, err := k.Size("page")
	if err != nil {
		return r, err
	}
	bo := k.ByteOrder()
	add := func(addr uint64, buf []byte) error {
		row := KmemPageMemberRow{Page: Hex(addr)}
		for _, m := range ms {
			v, err := m.read(buf, bo)
			if err != nil {
				return err
			}
			row.Values = append(row.Values, v)
		}
		r.Pages = append(r.Pages, row)
		return nil
	}
	if len(words) == 0 {
		// Every struct page of the memory map, as crash walks it.
		spans, err := k.MemMapSpans()
		if err != nil {
			return r, err
		}
		const chunk = 512
		buf := make([]byte, chunk*psize)
		for _, sp := range spans {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			for i := uint64(0); i < sp.Pages; i += chunk {
				n := min(chunk, sp.Pages-i)
				base := sp.Page + i*uint64(psize)
				if err := k.ReadVirt(buf[:n*uint64(psize)], base); err != nil {
					continue // an unreadable part of the map shows nothing
				}
				for j := uint64(0); j < n; j++ {
					if err := add(base+j*uint64(psize), buf[j*uint64(psize):(j+1)*uint64(psize)]); err != nil {
						return r, err
					}
				}
			}
		}
		return r, nil
	}
	pages, err := kmemAddrPages(s, words)
	for _, p := range pages {
		buf := make([]byte, psize)
		if err := k.ReadVirt(buf, p.Addr); err != nil {
			return r, readError(p.Addr, "KVADDR", err)
		}
		if err := add(p.Addr, buf); err != nil {
			return r, err
		}
	}
	return r, err
}

// kindName classifies the member as its value is printed; "" for a type
// kmem -m cannot print (crash's "unsupported page member reference").
func (m pageMember) kindName() string {
	switch m.kind {
	case symbols.TypePointer:
		return "pointer"
	case symbols.TypeStruct:
		if m.size%4 == 0 || m.size == 2 {
			return "struct"
		}
	case symbols.TypeBase:
		switch {
		case m.enc == symbols.EncBoolean:
			return "bool"
		case m.size != 1 && m.size != 2 && m.size != 4 && m.size != 8:
		case m.enc == symbols.EncUnsigned || m.enc == symbols.EncUnsignedChar:
			return "unsigned"
		default:
			return "signed"
		}
	}
	return ""
}

// read takes the member's value out of a struct page.
func (m pageMember) read(page []byte, bo binary.ByteOrder) ([]Hex, error) {
	kind := m.kindName()
	if kind == "" || m.off < 0 || m.off+m.size > int64(len(page)) || m.size <= 0 {
		return nil, fmt.Errorf("unsupported page member reference: page.%s", m.name)
	}
	b := page[m.off : m.off+m.size]
	word := func(b []byte, n int64) uint64 {
		switch n {
		case 1:
			return uint64(b[0])
		case 2:
			return uint64(bo.Uint16(b))
		case 4:
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	switch kind {
	case "pointer":
		return []Hex{Hex(bo.Uint64(b))}, nil
	case "struct":
		step := int64(8)
		if m.size%8 != 0 {
			step = 4
			if m.size%4 != 0 {
				step = 2
			}
		}
		var out []Hex
		for i := int64(0); i < m.size; i += step {
			out = append(out, Hex(word(b[i:], step)))
		}
		return out, nil
	}
	v := word(b, m.size)
	if m.bitSize != 0 {
		v = (v >> uint64(m.bitOff)) & (1<<uint64(m.bitSize) - 1)
	} else if kind == "signed" {
		shift := 64 - 8*uint64(m.size)
		v = uint64(int64(v<<shift) >> shift)
	}
	return []Hex{Hex(v)}, nil
}

// format prints a member's value as crash's show_page_member_data: each
// value followed by two spaces (but an int-sized struct's and a signed
// long's in hex); flags in hex, _count and _mapcount and the other
// integers in decimal (crash's output radix), pointers and structs in hex.
func (m KmemPageMember) format(v []Hex) string {
	if len(v) == 0 {
		return ""
	}
	x := uint64(v[0])
	counter := strings.HasPrefix(m.Name, "_count") || strings.HasPrefix(m.Name, "_mapcount")
	switch m.Kind {
	case "pointer":
		return fmt.Sprintf("%016x  ", x)
	case "bool":
		switch x {
		case 0:
			return "false  "
		case 1:
			return "true  "
		}
		return fmt.Sprintf("%x  ", x)
	case "unsigned", "signed":
		switch {
		case m.Name != "flags" && m.Kind == "unsigned":
			return fmt.Sprintf("%d  ", x)
		case m.Name != "flags":
			return fmt.Sprintf("%d  ", int64(x))
		case m.Kind == "signed" && m.Size == 8:
			return fmt.Sprintf("%016x", x)
		}
		if m.Size < 8 {
			x &= 1<<(8*uint64(m.Size)) - 1
		}
		return fmt.Sprintf("%0*x  ", 2*int(m.Size), x)
	case "struct":
		if counter {
			return fmt.Sprintf("%d  ", int32(uint32(x)))
		}
		var parts []string
		w := 2 * int(m.Size) / len(v)
		for _, p := range v {
			parts = append(parts, fmt.Sprintf("%0*x", w, uint64(p)))
		}
		switch w {
		case 16:
			return strings.Join(parts, ",") + "  "
		case 4:
			return parts[0] + "  "
		}
		return strings.Join(parts, ",")
	}
	return ""
}

func (r *KmemPageMembers) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	hdr := center(16, "PAGE", false)
	for _, m := range r.Members {
		hdr += "  " + m.Name
	}
	tw.println(hdr)
	var b strings.Builder
	for _, p := range r.Pages {
		b.Reset()
		for i, v := range p.Values {
			if i < len(r.Members) {
				b.WriteString(r.Members[i].format(v))
			}
		}
		tw.printf("%x  %s\n", uint64(p.Page), b.String())
	}
	return tw.err
}
