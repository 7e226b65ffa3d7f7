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

// CValue is a C value read from the dump: a scalar, or a struct, union or
// array of values, as gdb's print shows it. Its text (Text and writeText)
// is gdb's, with crash's settings (pretty printing, no repeat compression):
// members one a line as "name = value", nested structs in braces indented
// two spaces a level, char arrays as strings, pointers in hex with
// <symbol+offset> when they point into the kernel image.
type CValue struct {
	// Name is a member's name ("" for an anonymous struct or union, and
	// for a value that is not a member).
	Name string `json:"name,omitempty"`
	Type string `json:"type"` // the C type, as a cast names it
	// Offset is a member's byte offset in the struct or union holding it
	// (for an anonymous one, in that one), an element's in its array.
	Offset int64 `json:"offset"`
	// BitSize is non-zero for a bit-field; BitOffset is then its first
	// bit counted from the start of the struct holding it.
	BitOffset int64 `json:"bit_offset,omitempty"`
	BitSize   int64 `json:"bit_size,omitempty"`
	// Value is a scalar's value: a number when JSON holds it exactly
	// (integers up to 2^53, characters, floats), else Hex; Hex for a
	// pointer, a function's address and where a flexible array starts;
	// true or false for a bool; the characters up to the first NUL for a
	// char array.
	Value any `json:"value,omitempty"`
	// Enumerator is an enum value's constant, when one has that value.
	Enumerator string `json:"enumerator,omitempty"`
	// Symbol is where a pointer points, as "symbol" or "symbol+offset",
	// when that is inside the kernel image.
	Symbol string `json:"symbol,omitempty"`
	// String is the NUL-terminated string a char pointer points at.
	String *string `json:"string,omitempty"`
	// Members are a struct's or union's members, Elements an array's
	// (Truncated: more than gdb prints, 256).
	Members   []CValue `json:"members,omitempty"`
	Elements  []CValue `json:"elements,omitempty"`
	Truncated bool     `json:"truncated,omitempty"`
	// Error says why the value, or the string a pointer points at, could
	// not be read.
	Error string `json:"error,omitempty"`

	kind cvKind
	text string // a scalar as gdb prints it
}

// cvKind is how a CValue is printed.
type cvKind uint8

const (
	cvScalar    cvKind = iota // text
	cvComposite               // members in braces, one a line
	cvArray                   // elements in braces, on one line
)

// writeText writes v as gdb does for a value printed at nesting level
// recurse.
func (v *CValue) writeText(b *strings.Builder, recurse int) {
	switch v.kind {
	case cvComposite:
		b.WriteString("{\n")
		for i := range v.Members {
			writeIndent(b, recurse+1)
			v.Members[i].writeMember(b, recurse+1)
			if i < len(v.Members)-1 {
				b.WriteString(",\n")
			} else {
				b.WriteString("\n")
			}
		}
		writeIndent(b, recurse)
		b.WriteByte('}')
	case cvArray:
		b.WriteByte('{')
		for i := range v.Elements {
			if i > 0 {
				b.WriteString(", ")
			}
			v.Elements[i].writeText(b, recurse+1)
		}
		if v.Truncated {
			b.WriteString("...")
		}
		b.WriteByte('}')
	default:
		b.WriteString(v.text)
	}
}

// writeMember writes "name = value", or only the value of an anonymous
// member.
func (v *CValue) writeMember(b *strings.Builder, recurse int) {
	if v.Name != "" {
		b.WriteString(v.Name)
		b.WriteString(" = ")
	}
	v.writeText(b, recurse)
}

func writeIndent(b *strings.Builder, n int) {
	for range n {
		b.WriteString("  ")
	}
}

// jsonInt is an integer as CValue.Value holds it: a number when JSON
// carries it exactly, else its bits as Hex.
func jsonInt(v uint64, bits int, signed bool) any {
	const exact = 1 << 53
	if bits > 0 && bits < 64 {
		v &= 1<<bits - 1
	}
	if signed {
		if x := signExtendBits(v, bits); x >= -exact && x <= exact {
			return x
		}
		return Hex(v)
	}
	if v <= exact {
		return v
	}
	return Hex(v)
}

// valuePrinter reads C values from kernel memory into CValues, with the
// text gdb's print gives each scalar.
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
	// format is another of gdb's print formats (p/d, p/u, p/o, p/t, p/c,
	// p/a): every scalar printed that way, char arrays as arrays, pointers
	// as numbers.
	format byte
	names  map[*symbols.Type]string
}

// typeName is symbols.TypeName, once per type.
func (vp *valuePrinter) typeName(t *symbols.Type) string {
	if n, ok := vp.names[t]; ok {
		return n
	}
	if vp.names == nil {
		vp.names = map[*symbols.Type]string{}
	}
	n := symbols.TypeName(t)
	vp.names[t] = n
	return n
}

// value reads the value of type t held in data (located at addr).
func (vp *valuePrinter) value(t *symbols.Type, data []byte, addr uint64) CValue {
	v := CValue{Type: vp.typeName(t)}
	s := t.Strip()
	if s == nil {
		v.text = "void"
		return v
	}
	switch s.Kind {
	case symbols.TypeStruct, symbols.TypeUnion:
		vp.composite(&v, s, data, addr)
	case symbols.TypeArray:
		vp.array(&v, s, data, addr)
	case symbols.TypePointer:
		vp.pointer(&v, s, data, false)
	case symbols.TypeEnum:
		vp.enum(&v, s, data)
	case symbols.TypeBase:
		vp.base(&v, s, data)
	case symbols.TypeFunc:
		vp.function(&v, t, addr)
	default:
		v.text = "<unknown type>"
	}
	return v
}

// function fills v with a function at addr: "{TYPE} 0xADDR <symbol>".
func (vp *valuePrinter) function(v *CValue, t *symbols.Type, addr uint64) {
	v.Value = Hex(addr)
	v.text = fmt.Sprintf("{%s} %#x", symbols.TypeName(t), addr)
	if sym := vp.symbol(addr); sym != "" {
		v.Symbol = sym
		v.text += " <" + sym + ">"
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

// writeEscapedString writes s as gdb does inside double quotes: as
// writeEscaped, and a digit that follows an octal escape as an octal
// escape too (so that "\270" then "4" is not read as one escape).
func writeEscapedString(b *strings.Builder, s []byte) {
	octal := false
	for _, c := range s {
		if octal && c >= '0' && c <= '9' {
			fmt.Fprintf(b, `\%03o`, c)
			continue
		}
		writeEscaped(b, c, '"')
		octal = c == 033 || c != '\n' && c != '\t' && c != '\r' && c != '\a' && c != '\b' && c != '\f' && c != '\v' && (c < 0x20 || c >= 0x7f)
	}
}

func (vp *valuePrinter) base(v *CValue, t *symbols.Type, data []byte) {
	u := vp.uint(data)
	switch t.Encoding {
	case symbols.EncBoolean:
		switch {
		case vp.format != 0:
			v.Value, v.text = u, vp.formatText(u, len(data)*8)
		case vp.hex || vp.radix16: // crash's struct -x: smt_active = 0x0
			v.Value, v.text = u, fmt.Sprintf("%#x", u)
		case u == 0:
			v.Value, v.text = false, "false"
		case u == 1:
			v.Value, v.text = true, "true"
		default:
			v.Value, v.text = u, fmt.Sprintf("%d", u)
		}
	case symbols.EncFloat:
		var f float64
		switch len(data) {
		case 4:
			f = float64(math.Float32frombits(uint32(u)))
			v.text = strconv.FormatFloat(f, 'g', 9, 32)
		case 8:
			f = math.Float64frombits(u)
			v.text = strconv.FormatFloat(f, 'g', 17, 64)
		default:
			v.text = "<unsupported float>"
			v.Error = "unsupported float size"
			return
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			v.Value = v.text // JSON has no number for these
		} else {
			v.Value = f
		}
	case symbols.EncSignedChar, symbols.EncUnsignedChar:
		// In hex (p/x) and under output radix 16 (struct -x, as crash
		// 8.0.2 prints it) a char is its number alone: 0xf, not 0xf '\017'.
		signed := t.Encoding == symbols.EncSignedChar && !vp.hex && !vp.radix16
		v.Value = jsonInt(u, 8, signed)
		if vp.format != 0 {
			v.text = vp.formatText(u, 8)
			return
		}
		if vp.hex || vp.radix16 {
			v.text = fmt.Sprintf("%#x", u)
			return
		}
		var b strings.Builder
		if signed {
			fmt.Fprintf(&b, "%d ", signExtendBits(u, 8))
		} else {
			fmt.Fprintf(&b, "%d ", u)
		}
		b.WriteByte('\'')
		writeEscaped(&b, byte(u), '\'')
		b.WriteByte('\'')
		v.text = b.String()
	default:
		vp.integer(v, u, len(data)*8, t.Encoding == symbols.EncSigned)
	}
}

// integer fills v with an integer of bits bits.
func (vp *valuePrinter) integer(v *CValue, u uint64, bits int, signed bool) {
	v.Value = jsonInt(u, bits, signed && !vp.hex && !vp.radix16)
	v.text = vp.integerText(u, bits, signed)
}

func (vp *valuePrinter) integerText(u uint64, bits int, signed bool) string {
	switch {
	case vp.format != 0:
		return vp.formatText(u, bits)
	case vp.hex || vp.radix16:
		if bits < 64 {
			u &= 1<<bits - 1
		}
		return fmt.Sprintf("%#x", u)
	case signed:
		return fmt.Sprintf("%d", signExtendBits(u, bits))
	}
	return fmt.Sprintf("%d", u)
}

// formatText writes an integer of bits bits in gdb's print format
// vp.format: d signed, u unsigned, o octal, t binary, c a character, a an
// address with <symbol+offset>.
func (vp *valuePrinter) formatText(u uint64, bits int) string {
	if bits > 0 && bits < 64 {
		u &= 1<<bits - 1
	}
	switch vp.format {
	case 'd':
		return strconv.FormatInt(signExtendBits(u, bits), 10)
	case 'o':
		if u == 0 {
			return "0"
		}
		return "0" + strconv.FormatUint(u, 8)
	case 't':
		return strconv.FormatUint(u, 2)
	case 'c':
		var b strings.Builder
		fmt.Fprintf(&b, "%d '", int8(u))
		writeEscaped(&b, byte(u), '\'')
		b.WriteByte('\'')
		return b.String()
	case 'a':
		text := fmt.Sprintf("%#x", u)
		if vp.symbol != nil {
			if sym := vp.symbol(u); sym != "" {
				text += " <" + sym + ">"
			}
		}
		return text
	}
	return strconv.FormatUint(u, 10)
}

func (vp *valuePrinter) enum(v *CValue, t *symbols.Type, data []byte) {
	u := vp.uint(data)
	sv := int64(u)
	if isSigned(t) {
		sv = signExtendBits(u, len(data)*8)
	}
	v.Value = jsonInt(uint64(sv), 64, sv < 0)
	es, _ := t.Enumerators()
	for _, e := range es {
		if e.Value == sv {
			v.Enumerator = e.Name
			break
		}
	}
	switch {
	case vp.hex || vp.format != 0:
		v.text = vp.integerText(u, len(data)*8, false)
	case v.Enumerator != "":
		v.text = v.Enumerator
	default:
		v.text = fmt.Sprintf("%d", sv)
	}
}

// pointer fills v with a pointer value; top is set for a value printed on
// its own (p), which gdb prefixes with the pointer's type.
func (vp *valuePrinter) pointer(v *CValue, t *symbols.Type, data []byte, top bool) {
	u := vp.uint(data)
	v.Value = Hex(u)
	var b strings.Builder
	if vp.format != 0 {
		v.text = vp.formatText(u, 64)
		return
	}
	if top {
		fmt.Fprintf(&b, "(%s) ", symbols.TypeName(t))
	}
	fmt.Fprintf(&b, "%#x", u)
	if u != 0 {
		target := t.Target.Strip()
		isFunc := target != nil && target.Kind == symbols.TypeFunc
		if sym := vp.symbol(u); sym != "" && (!vp.hex || isFunc) {
			v.Symbol = sym
			fmt.Fprintf(&b, " <%s>", sym)
		}
		if !vp.hex && t.Target != nil && isCharLike(t.Target) {
			b.WriteByte(' ')
			vp.cString(v, &b, u)
		}
	}
	v.text = b.String()
}

// cString writes the NUL-terminated string at addr, quoted, and keeps it in
// v.String (or why it cannot be read in v.Error).
func (vp *valuePrinter) cString(v *CValue, b *strings.Builder, addr uint64) {
	var s []byte
	chunk := make([]byte, 64)
	for len(s) < 1<<16 {
		// Read up to the end of the page: the next one may be unmapped.
		n := min(uint64(len(chunk)), 4096-(addr+uint64(len(s)))%4096)
		if err := vp.read(chunk[:n], addr+uint64(len(s))); err != nil {
			if len(s) == 0 {
				v.Error = fmt.Sprintf("Cannot access memory at address %#x", addr)
				fmt.Fprintf(b, "<error: %s>", v.Error)
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
	str := string(s)
	v.String = &str
	b.WriteByte('"')
	writeEscapedString(b, s)
	b.WriteByte('"')
}

func (vp *valuePrinter) array(v *CValue, t *symbols.Type, data []byte, addr uint64) {
	if len(t.Dims) == 0 || t.Dims[0] < 0 || t.Sizeof() == 0 && t.Dims[0] == 0 {
		// A flexible array member: gdb shows where it starts.
		v.Value = Hex(addr)
		var b strings.Builder
		fmt.Fprintf(&b, "%#x", addr)
		if sym := vp.symbol(addr); sym != "" {
			v.Symbol = sym
			fmt.Fprintf(&b, " <%s>", sym)
		}
		if isCharLike(t.Target) && !vp.hex && vp.format == 0 {
			b.WriteByte(' ')
			vp.cString(v, &b, addr)
		}
		v.text = b.String()
		return
	}
	n := t.Dims[0]
	elem := t.Element()
	elemSize := elem.Sizeof()
	if len(t.Dims) == 1 && isCharLike(t.Target) && !vp.hex && vp.format == 0 {
		s := data[:min(int64(len(data)), n)]
		if i := strings.IndexByte(string(s), 0); i >= 0 {
			v.Value = string(s[:i])
		} else {
			v.Value = string(s)
		}
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
		var b strings.Builder
		b.WriteByte('"')
		writeEscapedString(&b, s[:end])
		b.WriteByte('"')
		if end < len(s) {
			b.WriteString("...")
		}
		v.text = b.String()
		return
	}
	if elemSize <= 0 {
		v.text = "{}"
		return
	}
	v.kind = cvArray
	v.Elements = make([]CValue, 0, min(n, printMax))
	for i := int64(0); i < n; i++ {
		if i == printMax {
			v.Truncated = true
			break
		}
		lo := i * elemSize
		if lo+elemSize > int64(len(data)) {
			v.Elements = append(v.Elements, CValue{Type: vp.typeName(elem), Offset: lo, Error: "unavailable", text: "<unavailable>"})
			break
		}
		e := vp.value(elem, data[lo:lo+elemSize], addr+uint64(lo))
		e.Offset = lo
		v.Elements = append(v.Elements, e)
	}
}

func (vp *valuePrinter) composite(v *CValue, t *symbols.Type, data []byte, addr uint64) {
	ms, err := t.Members()
	if err != nil {
		v.Error = err.Error()
		v.text = fmt.Sprintf("<%v>", err)
		return
	}
	if len(ms) == 0 {
		v.text = "{<No data fields>}"
		return
	}
	v.kind = cvComposite
	v.Members = make([]CValue, len(ms))
	for i, m := range ms {
		v.Members[i] = vp.member(m, data, addr)
	}
}

// member reads m of the struct held in data (located at addr).
func (vp *valuePrinter) member(m symbols.Member, data []byte, addr uint64) CValue {
	var v CValue
	size := m.Type.Sizeof()
	if size < 0 {
		size = 0
	}
	lo, hi := m.Offset, m.Offset+size
	switch {
	case m.BitSize != 0:
		v = vp.bitfield(m, data)
		v.BitOffset, v.BitSize = m.BitOffset, m.BitSize
	case lo > int64(len(data)) || hi > int64(len(data)):
		v = CValue{Type: vp.typeName(m.Type), Error: "unavailable", text: "<unavailable>"}
	default:
		v = vp.value(m.Type, data[lo:hi], addr+uint64(lo))
	}
	v.Name, v.Offset = m.Name, m.Offset
	return v
}

// bitfield reads the bit-field m of the struct held in data.
func (vp *valuePrinter) bitfield(m symbols.Member, data []byte) CValue {
	var u uint64
	for i := int64(0); i < m.BitSize; i++ {
		bit := m.BitOffset + i
		if bit/8 >= int64(len(data)) {
			break
		}
		u |= uint64(data[bit/8]>>(bit%8)&1) << i
	}
	v := CValue{Type: vp.typeName(m.Type)}
	s := m.Type.Strip()
	switch {
	case s != nil && s.Kind == symbols.TypeEnum:
		var buf [8]byte
		vp.order.PutUint64(buf[:], u)
		vp.enum(&v, s, buf[:])
	case s != nil && s.Kind == symbols.TypeBase && s.Encoding == symbols.EncBoolean:
		vp.base(&v, s, []byte{byte(u)})
	case s != nil && s.Kind == symbols.TypeBase && s.Sizeof() == 1 &&
		(s.Encoding == symbols.EncSignedChar || s.Encoding == symbols.EncUnsignedChar):
		// A char bit-field is a char to gdb: 1 '\001'.
		if s.Encoding == symbols.EncSignedChar {
			u = uint64(signExtendBits(u, int(m.BitSize)))
		}
		vp.base(&v, s, []byte{byte(u)})
	default:
		vp.integer(&v, u, int(m.BitSize), isSigned(m.Type))
	}
	return v
}
