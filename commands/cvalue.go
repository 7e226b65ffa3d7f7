package commands

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// printMax is gdb's "print elements" as crash sets it: the most array
// elements (or string characters) printed before "...".
const printMax = 256

// valuePrinter writes C values as gdb's "print" does with crash's settings
// (pretty printing, no element limit, no repeat compression): members one
// a line as "name = value", nested structs in braces indented two spaces a
// level, char arrays as strings, pointers in hex with <symbol+offset> when
// they point into the kernel image.
type valuePrinter struct {
	order binary.ByteOrder
	// read fills p from kernel virtual address addr.
	read func(p []byte, addr uint64) error
	// symbol names an address as gdb would ("init_task+168"), or "".
	symbol func(addr uint64) string
	// hex is gdb's /x format: every scalar in hexadecimal, char arrays
	// as arrays, pointers without symbols or strings (p/x). radix16 is
	// gdb's output-radix 16 (struct -x): integers in hexadecimal, all else
	// as usual.
	hex, radix16 bool
	b            strings.Builder
}

func (vp *valuePrinter) indent(n int) {
	for range n {
		vp.b.WriteString("  ")
	}
}

// value writes the value of type t held in data (located at addr), for a
// value printed at nesting level recurse.
func (vp *valuePrinter) value(t *symbols.Type, data []byte, addr uint64, recurse int) {
	s := t.Strip()
	if s == nil {
		vp.b.WriteString("void")
		return
	}
	switch s.Kind {
	case symbols.TypeStruct, symbols.TypeUnion:
		vp.composite(s, data, addr, recurse)
	case symbols.TypeArray:
		vp.array(s, data, addr, recurse)
	case symbols.TypePointer:
		vp.pointer(s, data, false)
	case symbols.TypeEnum:
		vp.enum(s, data)
	case symbols.TypeBase:
		vp.base(s, data)
	case symbols.TypeFunc:
		vp.b.WriteString("{")
		vp.b.WriteString(symbols.TypeName(t))
		fmt.Fprintf(&vp.b, "} %#x", addr)
		if sym := vp.symbol(addr); sym != "" {
			fmt.Fprintf(&vp.b, " <%s>", sym)
		}
	default:
		vp.b.WriteString("<unknown type>")
	}
}

func (vp *valuePrinter) uint(data []byte) uint64 {
	switch len(data) {
	case 1:
		return uint64(data[0])
	case 2:
		return uint64(vp.order.Uint16(data))
	case 4:
		return uint64(vp.order.Uint32(data))
	case 8:
		return vp.order.Uint64(data)
	}
	var v uint64
	for i := len(data) - 1; i >= 0 && len(data) <= 8; i-- {
		if vp.order == binary.LittleEndian {
			v = v<<8 | uint64(data[i])
		} else {
			v = v<<8 | uint64(data[len(data)-1-i])
		}
	}
	return v
}

func signExtendBits(v uint64, bits int) int64 {
	if bits <= 0 || bits >= 64 {
		return int64(v)
	}
	shift := 64 - bits
	return int64(v<<shift) >> shift
}

func isSigned(t *symbols.Type) bool {
	s := t.Strip()
	if s == nil {
		return false
	}
	switch s.Kind {
	case symbols.TypeBase:
		return s.Encoding == symbols.EncSigned || s.Encoding == symbols.EncSignedChar
	case symbols.TypeEnum:
		return isSigned(s.Target)
	}
	return false
}

func isCharLike(t *symbols.Type) bool {
	s := t.Strip()
	return s != nil && s.Kind == symbols.TypeBase && s.Size == 1 &&
		(s.Encoding == symbols.EncSignedChar || s.Encoding == symbols.EncUnsignedChar)
}

func (vp *valuePrinter) base(t *symbols.Type, data []byte) {
	v := vp.uint(data)
	switch t.Encoding {
	case symbols.EncBoolean:
		switch {
		case vp.hex:
			fmt.Fprintf(&vp.b, "%#x", v)
		case v == 0:
			vp.b.WriteString("false")
		case v == 1:
			vp.b.WriteString("true")
		default:
			fmt.Fprintf(&vp.b, "%d", v)
		}
	case symbols.EncFloat:
		switch len(data) {
		case 4:
			vp.b.WriteString(strconv.FormatFloat(float64(math.Float32frombits(uint32(v))), 'g', 9, 32))
		case 8:
			vp.b.WriteString(strconv.FormatFloat(math.Float64frombits(v), 'g', 17, 64))
		default:
			vp.b.WriteString("<unsupported float>")
		}
	case symbols.EncSignedChar, symbols.EncUnsignedChar:
		if vp.hex {
			fmt.Fprintf(&vp.b, "%#x", v)
			return
		}
		if vp.radix16 {
			fmt.Fprintf(&vp.b, "%#x ", v)
		} else if t.Encoding == symbols.EncSignedChar {
			fmt.Fprintf(&vp.b, "%d ", signExtendBits(v, 8))
		} else {
			fmt.Fprintf(&vp.b, "%d ", v)
		}
		vp.b.WriteByte('\'')
		writeEscaped(&vp.b, byte(v), '\'')
		vp.b.WriteByte('\'')
	default:
		vp.integer(v, len(data)*8, t.Encoding == symbols.EncSigned)
	}
}

func (vp *valuePrinter) integer(v uint64, bits int, signed bool) {
	switch {
	case vp.hex || vp.radix16:
		if bits < 64 {
			v &= 1<<bits - 1
		}
		fmt.Fprintf(&vp.b, "%#x", v)
	case signed:
		fmt.Fprintf(&vp.b, "%d", signExtendBits(v, bits))
	default:
		fmt.Fprintf(&vp.b, "%d", v)
	}
}

// writeEscaped writes c as gdb does inside quotes q.
func writeEscaped(b *strings.Builder, c byte, q byte) {
	switch c {
	case '\n':
		b.WriteString(`\n`)
	case '\t':
		b.WriteString(`\t`)
	case '\r':
		b.WriteString(`\r`)
	case '\a':
		b.WriteString(`\a`)
	case '\b':
		b.WriteString(`\b`)
	case '\f':
		b.WriteString(`\f`)
	case '\v':
		b.WriteString(`\v`)
	case 033:
		b.WriteString(`\033`)
	case '\\':
		b.WriteString(`\\`)
	default:
		if c == q {
			b.WriteByte('\\')
			b.WriteByte(c)
		} else if c < 0x20 || c >= 0x7f {
			fmt.Fprintf(b, `\%03o`, c)
		} else {
			b.WriteByte(c)
		}
	}
}

func (vp *valuePrinter) enum(t *symbols.Type, data []byte) {
	v := vp.uint(data)
	sv := int64(v)
	if isSigned(t) {
		sv = signExtendBits(v, len(data)*8)
	}
	if vp.hex {
		vp.integer(v, len(data)*8, false)
		return
	}
	es, _ := t.Enumerators()
	for _, e := range es {
		if e.Value == sv {
			vp.b.WriteString(e.Name)
			return
		}
	}
	fmt.Fprintf(&vp.b, "%d", sv)
}

// pointer writes a pointer value; top is set for a value printed on its
// own (p), which gdb prefixes with the pointer's type.
func (vp *valuePrinter) pointer(t *symbols.Type, data []byte, top bool) {
	v := vp.uint(data)
	if top {
		fmt.Fprintf(&vp.b, "(%s) ", symbols.TypeName(t))
	}
	fmt.Fprintf(&vp.b, "%#x", v)
	if v == 0 {
		return
	}
	target := t.Target.Strip()
	isFunc := target != nil && target.Kind == symbols.TypeFunc
	if sym := vp.symbol(v); sym != "" && !vp.hex || sym != "" && isFunc {
		fmt.Fprintf(&vp.b, " <%s>", sym)
	}
	if !vp.hex && t.Target != nil && isCharLike(t.Target) {
		vp.b.WriteByte(' ')
		vp.cString(v)
	}
}

// cString writes the NUL-terminated string at addr, quoted.
func (vp *valuePrinter) cString(addr uint64) {
	var s []byte
	chunk := make([]byte, 64)
	for len(s) < 1<<16 {
		// Read up to the end of the page: the next one may be unmapped.
		n := min(uint64(len(chunk)), 4096-(addr+uint64(len(s)))%4096)
		if err := vp.read(chunk[:n], addr+uint64(len(s))); err != nil {
			if len(s) == 0 {
				fmt.Fprintf(&vp.b, "<error: Cannot access memory at address %#x>", addr)
				return
			}
			break
		}
		if i := strings.IndexByte(string(chunk[:n]), 0); i >= 0 {
			s = append(s, chunk[:i]...)
			break
		}
		s = append(s, chunk[:n]...)
	}
	vp.b.WriteByte('"')
	for _, c := range s {
		writeEscaped(&vp.b, c, '"')
	}
	vp.b.WriteByte('"')
}

func (vp *valuePrinter) array(t *symbols.Type, data []byte, addr uint64, recurse int) {
	if len(t.Dims) == 0 || t.Dims[0] < 0 || t.Sizeof() == 0 && t.Dims[0] == 0 {
		// A flexible array member: gdb shows where it starts.
		fmt.Fprintf(&vp.b, "%#x", addr)
		if sym := vp.symbol(addr); sym != "" {
			fmt.Fprintf(&vp.b, " <%s>", sym)
		}
		if isCharLike(t.Target) && !vp.hex {
			vp.b.WriteByte(' ')
			vp.cString(addr)
		}
		return
	}
	n := t.Dims[0]
	elem := t.Element()
	elemSize := elem.Sizeof()
	if len(t.Dims) == 1 && isCharLike(t.Target) && !vp.hex {
		s := data[:min(int64(len(data)), n)]
		// gdb drops one trailing NUL (the terminator).
		if len(s) > 0 && s[len(s)-1] == 0 {
			s = s[:len(s)-1]
		}
		// gdb stops after print_max (crash: 256) characters, counting
		// a run of one character at once: the run that reaches the
		// limit is printed whole, then "..." after the quote.
		end := 0
		for end < len(s) && end < printMax {
			run := 1
			for end+run < len(s) && s[end+run] == s[end] {
				run++
			}
			end += run
		}
		vp.b.WriteByte('"')
		for _, c := range s[:end] {
			writeEscaped(&vp.b, c, '"')
		}
		vp.b.WriteByte('"')
		if end < len(s) {
			vp.b.WriteString("...")
		}
		return
	}
	if elemSize <= 0 {
		vp.b.WriteString("{}")
		return
	}
	vp.b.WriteByte('{')
	for i := int64(0); i < n; i++ {
		if i == printMax {
			vp.b.WriteString("...")
			break
		}
		if i > 0 {
			vp.b.WriteString(", ")
		}
		lo := i * elemSize
		if lo+elemSize > int64(len(data)) {
			vp.b.WriteString("<unavailable>")
			break
		}
		vp.value(elem, data[lo:lo+elemSize], addr+uint64(lo), recurse+1)
	}
	vp.b.WriteByte('}')
}

func (vp *valuePrinter) composite(t *symbols.Type, data []byte, addr uint64, recurse int) {
	ms, err := t.Members()
	if err != nil {
		fmt.Fprintf(&vp.b, "<%v>", err)
		return
	}
	if len(ms) == 0 {
		vp.b.WriteString("{<No data fields>}")
		return
	}
	vp.b.WriteString("{\n")
	for i, m := range ms {
		vp.indent(recurse + 1)
		vp.member(m, data, addr, recurse+1)
		if i < len(ms)-1 {
			vp.b.WriteString(",\n")
		} else {
			vp.b.WriteString("\n")
		}
	}
	vp.indent(recurse)
	vp.b.WriteByte('}')
}

// member writes "name = value" (or just the value of an anonymous
// member) for m of the struct held in data.
func (vp *valuePrinter) member(m symbols.Member, data []byte, addr uint64, recurse int) {
	if m.Name != "" {
		vp.b.WriteString(m.Name)
		vp.b.WriteString(" = ")
	}
	if m.BitSize != 0 {
		vp.bitfield(m, data)
		return
	}
	size := m.Type.Sizeof()
	if size < 0 {
		size = 0
	}
	lo, hi := m.Offset, m.Offset+size
	if lo > int64(len(data)) || hi > int64(len(data)) {
		vp.b.WriteString("<unavailable>")
		return
	}
	vp.value(m.Type, data[lo:hi], addr+uint64(lo), recurse)
}

func (vp *valuePrinter) bitfield(m symbols.Member, data []byte) {
	var v uint64
	for i := int64(0); i < m.BitSize; i++ {
		bit := m.BitOffset + i
		if bit/8 >= int64(len(data)) {
			break
		}
		v |= uint64(data[bit/8]>>(bit%8)&1) << i
	}
	s := m.Type.Strip()
	switch {
	case s != nil && s.Kind == symbols.TypeEnum:
		var buf [8]byte
		vp.order.PutUint64(buf[:], v)
		if vp.order == binary.LittleEndian {
			vp.enum(s, buf[:])
		} else {
			vp.enum(s, buf[:])
		}
	case s != nil && s.Kind == symbols.TypeBase && s.Encoding == symbols.EncBoolean:
		vp.base(s, []byte{byte(v)})
	default:
		vp.integer(v, int(m.BitSize), isSigned(m.Type))
	}
}
