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
// member's value as crash prints it.
type KmemPageMemberRow struct {
	Page   Hex      `json:"page"`
	Values []string `json:"values"`
}

// KmemPageMembers is kmem -m member[,member] address ...
type KmemPageMembers struct {
	Members []string            `json:"members"`
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
	r := &KmemPageMembers{Members: names, Pages: []KmemPageMemberRow{}}
	psize, err := k.Size("page")
	if err != nil {
		return r, err
	}
	bo := k.ByteOrder()
	add := func(addr uint64, buf []byte) error {
		row := KmemPageMemberRow{Page: Hex(addr)}
		for _, m := range ms {
			v, err := m.format(buf, bo)
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

// format prints the member's value as crash's show_page_member_data: each
// value followed by two spaces (but an int-sized struct's).
func (m pageMember) format(page []byte, bo binary.ByteOrder) (string, error) {
	if m.off < 0 || m.off+m.size > int64(len(page)) || m.size <= 0 {
		return "", fmt.Errorf("unsupported page member reference: page.%s", m.name)
	}
	b := page[m.off : m.off+m.size]
	raw := func() uint64 {
		switch m.size {
		case 1:
			return uint64(b[0])
		case 2:
			return uint64(bo.Uint16(b))
		case 4:
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	counter := strings.HasPrefix(m.name, "_count") || strings.HasPrefix(m.name, "_mapcount")
	switch m.kind {
	case symbols.TypePointer:
		return fmt.Sprintf("%016x  ", bo.Uint64(b)), nil
	case symbols.TypeBase:
		if m.enc == symbols.EncBoolean {
			if b[0] <= 1 {
				return map[bool]string{true: "true  ", false: "false  "}[b[0] == 1], nil
			}
			return fmt.Sprintf("%x  ", b[0]), nil
		}
		if m.size != 1 && m.size != 2 && m.size != 4 && m.size != 8 {
			break
		}
		v := raw()
		if m.bitSize != 0 {
			v = (v >> uint64(m.bitOff)) & (1<<uint64(m.bitSize) - 1)
		}
		// crash prints flags in hex, the rest in its output radix (10).
		dec := m.name != "flags"
		unsigned := m.enc == symbols.EncUnsigned || m.enc == symbols.EncUnsignedChar || m.enc == symbols.EncBoolean
		w := 2 * int(m.size)
		switch {
		case dec && unsigned:
			return fmt.Sprintf("%d  ", v), nil
		case dec:
			shift := 64 - 8*uint64(m.size)
			return fmt.Sprintf("%d  ", int64(v<<shift)>>shift), nil
		case !unsigned && m.size == 8:
			return fmt.Sprintf("%016x", v), nil // crash prints no spaces after a signed long in hex
		}
		return fmt.Sprintf("%0*x  ", w, v), nil
	case symbols.TypeStruct:
		switch {
		case counter:
			return fmt.Sprintf("%d  ", int32(bo.Uint32(b))), nil
		case m.size%8 == 0:
			var parts []string
			for i := int64(0); i < m.size; i += 8 {
				parts = append(parts, fmt.Sprintf("%016x", bo.Uint64(b[i:])))
			}
			return strings.Join(parts, ",") + "  ", nil
		case m.size%4 == 0:
			var parts []string
			for i := int64(0); i < m.size; i += 4 {
				parts = append(parts, fmt.Sprintf("%08x", bo.Uint32(b[i:])))
			}
			return strings.Join(parts, ","), nil
		case m.size == 2:
			return fmt.Sprintf("%04x  ", bo.Uint16(b)), nil
		}
	}
	return "", fmt.Errorf("unsupported page member reference: page.%s", m.name)
}

func (r *KmemPageMembers) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	hdr := center(16, "PAGE", false)
	for _, m := range r.Members {
		hdr += "  " + m
	}
	tw.println(hdr)
	for _, p := range r.Pages {
		tw.printf("%x  %s\n", uint64(p.Page), strings.Join(p.Values, ""))
	}
	return tw.err
}
