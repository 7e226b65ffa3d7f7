package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// What list and tree share: the offsets they take as a number or as
// struct.member, and the -s/-S display of each entry.

// offsetArg reads an offset given as a number or as struct.member (or
// union.member); ok is false for neither.
func offsetArg(s *Session, arg string) (int64, bool) {
	if n, err := strconv.ParseInt(arg, 0, 64); err == nil {
		return n, true
	}
	if n, err := strconv.ParseInt(arg, 16, 64); err == nil && strings.HasPrefix(arg, "0x") {
		return n, true
	}
	name, path, ok := strings.Cut(arg, ".")
	if !ok || path == "" {
		return 0, false
	}
	ts, err := s.types()
	if err != nil {
		return 0, false
	}
	t, err := lookupDataType(ts, name)
	if err != nil {
		return 0, false
	}
	m, err := t.MemberPath(path)
	if err != nil {
		return 0, false
	}
	return m.Offset, true
}

// lookupDataType finds a struct, else a union, by name.
func lookupDataType(ts *symbols.Types, name string) (*symbols.Type, error) {
	t, err := ts.Lookup("struct " + name)
	if err == nil {
		return t, nil
	}
	if u, uerr := ts.Lookup("union " + name); uerr == nil {
		return u, nil
	}
	return nil, err
}

// entryDisplay is how each entry of a list or tree is shown with -s or -S:
// per argument, a struct (or union) whole or some of its members.
type entryDisplay struct {
	specs []displaySpec
	hex   bool // -x; -d and the default print decimal
	fast  bool // -S: members of up to 8 bytes read directly
}

type displaySpec struct {
	t       *symbols.Type
	members []string // nil: the whole struct
}

// newEntryDisplay parses the -s (or, with fast, -S) arguments.
func newEntryDisplay(s *Session, args []string, hex, fast bool) (*entryDisplay, error) {
	if len(args) == 0 {
		return nil, nil
	}
	ts, err := s.types()
	if err != nil {
		return nil, err
	}
	d := &entryDisplay{hex: hex, fast: fast}
	for _, arg := range args {
		name, list, _ := strings.Cut(arg, ".")
		t, err := lookupDataType(ts, name)
		if err != nil {
			if symbols.IsMissing(err) {
				return nil, fmt.Errorf("invalid data structure reference: %s", name)
			}
			return nil, err
		}
		sp := displaySpec{t: t}
		if list != "" {
			sp.members = strings.Split(list, ",")
			for _, m := range sp.members {
				if _, err := t.MemberPath(m); err != nil {
					if fast {
						return nil, fmt.Errorf("Can't get offset of '%s.%s'", name, m)
					}
					return nil, fmt.Errorf("invalid data structure reference: %s.%s", name, m)
				}
			}
		}
		if t.Sizeof() <= 0 {
			return nil, fmt.Errorf("%s has no size (incomplete type)", name)
		}
		d.specs = append(d.specs, sp)
	}
	return d, nil
}

// EntryData is what -s or -S shows of one list or tree entry: one value
// per struct given, or per member named (crash prints each member as its
// own "struct NAME.member ADDR"); -S's members of up to 8 bytes come as
// Fields.
type EntryData struct {
	Values []*StructValue `json:"values,omitempty"`
	Fields []FastField    `json:"fields,omitempty"`

	order []int // the display order: >=0 a Values index, <0 -(Fields index)-1
}

// FastField is a member -S read directly: its value as an unsigned
// number of its size, the string it holds or points to, and the text
// symbol it points to.
type FastField struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Value Hex    `json:"value"` // for up to 8 bytes
	// NoValue: a char array of more than 8 bytes, shown as its string only.
	NoValue bool    `json:"no_value,omitempty"`
	Pointer bool    `json:"pointer,omitempty"`
	String  *string `json:"string,omitempty"`
	Symbol  string  `json:"symbol,omitempty"`

	hex bool
}

// gather reads what d shows of the entry at addr. What could be read
// comes back with the first error.
func (d *entryDisplay) gather(s *Session, addr uint64) (*EntryData, error) {
	if d == nil {
		return nil, nil
	}
	out := &EntryData{}
	for _, sp := range d.specs {
		if sp.members == nil {
			v, err := gatherStructValue(s, sp.t, addr, nil, d.hex)
			if err != nil {
				return out, err
			}
			out.order = append(out.order, len(out.Values))
			out.Values = append(out.Values, v)
			continue
		}
		for _, m := range sp.members {
			if d.fast {
				if f, ok, err := fastField(s, sp.t, m, addr, d.hex); ok {
					if err != nil {
						return out, err
					}
					out.order = append(out.order, -len(out.Fields)-1)
					out.Fields = append(out.Fields, f)
					continue
				}
			}
			v, err := gatherStructValue(s, sp.t, addr, []string{m}, d.hex)
			if err != nil {
				return out, err
			}
			out.order = append(out.order, len(out.Values))
			out.Values = append(out.Values, v)
		}
	}
	return out, nil
}

// fastField reads member m of t at addr as -S does, when it is 1 to 8
// bytes; ok is false for a larger member (shown as -s shows it).
func fastField(s *Session, t *symbols.Type, m string, addr uint64, hex bool) (FastField, bool, error) {
	mem, err := t.MemberPath(m)
	if err != nil {
		return FastField{}, false, nil
	}
	mt := mem.Type.Strip()
	size := mem.Type.Sizeof()
	str := isStringType(mt)
	if mem.BitSize != 0 || mt == nil || size <= 0 || size > 8 && !str {
		return FastField{}, false, nil
	}
	f := FastField{Name: m, Size: size, hex: hex, Pointer: mt.Kind == symbols.TypePointer}
	at := addr + uint64(mem.Offset)
	buf := make([]byte, max(size, 8))
	if err := s.Kernel.ReadVirt(buf[:size], at); err != nil {
		return f, true, fmt.Errorf("cannot access member: %s at %x", m, at)
	}
	if size <= 8 {
		f.Value = Hex(s.byteOrder().Uint64(buf))
	} else {
		f.NoValue = true
	}
	if str {
		if f.Pointer {
			str, _ := s.Kernel.ReadCString(uint64(f.Value), 1500)
			f.String = &str
		} else {
			str := cstring(buf[:size])
			f.String = &str
		}
	} else {
		f.Symbol = textSymbol(s, uint64(f.Value))
	}
	return f, true, nil
}

// isStringType: a char array or a pointer to char, as crash's is_string.
func isStringType(t *symbols.Type) bool {
	if t == nil || (t.Kind != symbols.TypePointer && t.Kind != symbols.TypeArray) || t.Target == nil {
		return false
	}
	return isCharLike(t.Target.Strip())
}

func cstring(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// Text writes the entry's data as crash does.
func (e *EntryData) Text(w io.Writer) error {
	if e == nil {
		return nil
	}
	for _, i := range e.order {
		if i >= 0 {
			if err := e.Values[i].Text(w); err != nil {
				return err
			}
			continue
		}
		if err := e.Fields[-i-1].text(w); err != nil {
			return err
		}
	}
	return nil
}

func (f *FastField) text(w io.Writer) error {
	var b strings.Builder
	switch {
	case f.NoValue:
	case f.hex || f.Pointer:
		fmt.Fprintf(&b, "  %s = 0x%x", f.Name, uint64(f.Value))
	default:
		fmt.Fprintf(&b, "  %s = %d", f.Name, uint64(f.Value))
	}
	switch {
	case f.String != nil && f.Pointer:
		fmt.Fprintf(&b, "  \"%s\"", *f.String)
	case f.String != nil:
		fmt.Fprintf(&b, "  %s = \"%s\"", f.Name, *f.String)
	case f.Symbol != "":
		fmt.Fprintf(&b, " <%s>", f.Symbol)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// textSymbol names the kernel or module text symbol holding v, as crash
// names a -S member's value that points into text; "" for none.
func textSymbol(s *Session, v uint64) string {
	if !s.isKernelAddr(v) || s.Kernel.Syms == nil {
		return ""
	}
	if sym, off, ok := s.Kernel.Syms.Nearest(v); ok && (sym.Type == 't' || sym.Type == 'T') && (off < sym.Size || sym.Size == 0 && off == 0) {
		return sym.Name
	}
	if ms, _, ok := s.Kernel.ModuleSymbolAt(v); ok && ms.Text {
		return ms.Name
	}
	return ""
}
