package commands

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// Helpers shared by the type commands (struct, union, whatis, p): the
// session's C types, gdb's way of naming an address, and crash's "-o"
// layout of a declaration.

// types returns the vmlinux's C types (building or loading the DWARF index
// on first use), then those of the modules whose debuginfo is loaded, then
// (without a vmlinux) the modules' BTF.
func (s *Session) types() (*symbols.Types, error) {
	if s.Kernel == nil || s.Kernel.Vmlinux == nil {
		return nil, fmt.Errorf("no vmlinux: type information is not available")
	}
	base, err := s.Kernel.Vmlinux.Types()
	if err != nil {
		return nil, err
	}
	return symbols.Layered(base, append(s.moduleTypes(), s.moduleBTFTypes(base)...)...), nil
}

// byteOrder is the kernel memory's (which may differ from the order of the
// dump's own headers: arch.KernelByteOrder).
func (s *Session) byteOrder() binary.ByteOrder {
	if s.Kernel != nil && s.Kernel.Memory != nil {
		return s.Kernel.ByteOrder()
	}
	return binary.LittleEndian
}

// gdbSymbol names addr as gdb's print does for a pointer: "sym" or
// "sym+off" (decimal) when addr is inside the kernel image and a symbol
// covers it, else "". Like gdb it walks back over zero-sized symbols to one
// with a size, uses a zero-sized one only when nothing sized covers the
// address, and then only for text (a zero-sized data label is not shown).
func (s *Session) gdbSymbol(addr uint64) string {
	if s.Kernel == nil || s.Kernel.Vmlinux == nil {
		return ""
	}
	v := s.Kernel.Syms
	lo, ok1 := v.Addr("_text")
	hi, ok2 := v.Addr("_end")
	if !ok1 || !ok2 || addr < lo || addr >= hi {
		// A module's address: crash names it by the module's symbol table.
		if ms, off, ok := s.Kernel.ModuleSymbolAt(addr); ok {
			if off == 0 {
				return ms.Name
			}
			return fmt.Sprintf("%s+%d", ms.Name, off)
		}
		return ""
	}
	syms := v.Symbols()
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > addr }) - 1
	bestZero := -1
	for ; i >= 0; i-- {
		sy := &syms[i]
		if sy.Type == 'a' || sy.Type == 'A' || sy.Addr < lo {
			if sy.Addr < lo {
				i = -1
				break
			}
			continue
		}
		if sy.Size == 0 {
			if bestZero == -1 {
				bestZero = i
			}
			continue
		}
		break
	}
	if bestZero != -1 && (i < 0 || syms[i].Size == 0) {
		i = bestZero
	}
	if i >= 0 && syms[i].Size != 0 && addr >= syms[i].Addr+syms[i].Size {
		if bestZero == -1 {
			return ""
		}
		i = bestZero
	}
	if i < 0 {
		return ""
	}
	sy := syms[i]
	if sy.Size == 0 && sy.Type != 't' && sy.Type != 'T' && sy.Type != 'W' {
		return ""
	}
	if addr == sy.Addr {
		return sy.Name
	}
	return fmt.Sprintf("%s+%d", sy.Name, addr-sy.Addr)
}

// newValuePrinter returns a printer reading kernel memory.
// hex selects gdb's /x format, radix16 its output radix 16 (see
// valuePrinter).
func (s *Session) newValuePrinter(hex, radix16 bool) *valuePrinter {
	return &valuePrinter{
		order:   s.byteOrder(),
		read:    s.Kernel.ReadVirt,
		symbol:  s.gdbSymbol,
		hex:     hex,
		radix16: radix16,
	}
}

// offsetLines lays a definition out as crash's "-o" does: each member line
// prefixed with "[offset]" (or, with base set, the member's address), the
// offset found by the member's name, as crash finds it, through anonymous
// members; lines naming no member of t are indented to match. With only
// set, just the lines declaring those members are kept.
func offsetLines(t *symbols.Type, def string, base uint64, only map[string]bool) []string {
	size := strconv.FormatInt(t.Sizeof(), 10)
	width := len(size) + 4
	lines := strings.Split(def, "\n")
	var out []string
	for _, line := range lines {
		if line == "" || (line[0] != ' ' && line[0] != '\t') {
			if only == nil || strings.HasSuffix(line, "{") || line == "}" {
				out = append(out, line)
			}
			continue
		}
		target := memberOfLine(line)
		off := int64(-1)
		if target != "" {
			if m, err := t.MemberPath(target); err == nil && !strings.Contains(target, ".") {
				off = m.Offset
			}
		}
		if only != nil {
			if off < 0 || !only[target] {
				continue
			}
		}
		if off < 0 {
			out = append(out, strings.Repeat(" ", len(size)+1)+line)
			continue
		}
		var tag string
		if base != 0 {
			tag = fmt.Sprintf("  [%x]", base+uint64(off))
		} else {
			tag = fmt.Sprintf("  [%d]", off)
		}
		rest := line
		if len(rest) >= 3 {
			rest = rest[3:]
		}
		out = append(out, fmt.Sprintf("%*s%s", width, tag, rest))
	}
	return out
}

// memberOfLine finds the member a declaration line declares, as crash
// does: the word before " : " of a bit-field, the name in "(*name)" of a
// function pointer, else the last word when it ends the declaration.
func memberOfLine(line string) string {
	f := strings.Fields(line)
	var target string
	switch {
	case strings.Contains(line, ":"):
		for i := 1; i < len(f); i++ {
			if f[i] == ":" {
				target = f[i-1]
				break
			}
		}
	case strings.Contains(line, "(*"):
		for _, w := range f {
			for _, p := range []string{"(*", "*(*", "**(*"} {
				if strings.HasPrefix(w, p) {
					if j := strings.Index(w[len(p):], ")"); j >= 0 {
						return w[len(p) : len(p)+j]
					}
				}
			}
		}
		return ""
	case len(f) > 0:
		if last := f[len(f)-1]; strings.Contains(last, ";") {
			target = last
		}
	}
	target = strings.Map(func(r rune) rune {
		if strings.ContainsRune("*[];()", r) {
			return ' '
		}
		return r
	}, target)
	target = strings.TrimSpace(target)
	if i := strings.IndexByte(target, ' '); i >= 0 {
		target = target[:i]
	}
	return target
}

// isDataType says whether word (up to a '.') names a struct or union, for
// crash's shorthand "task_struct ADDR". It does not build the DWARF index
// when it is not there yet for an obvious non-name.
func (s *Session) isDataType(word string) bool {
	name, _, _ := strings.Cut(word, ".")
	if name == "" || strings.ContainsAny(name, "/!|<>-") {
		return false
	}
	ts, err := s.types()
	if err != nil {
		return false
	}
	return ts.Defines(name, symbols.KindStruct, symbols.KindUnion)
}

func (s *Session) isUnion(word string) bool {
	name, _, _ := strings.Cut(word, ".")
	ts, err := s.types()
	if err != nil {
		return false
	}
	return !ts.Defines(name, symbols.KindStruct)
}

// objectType is the type of a kernel variable or function. A variable
// declared as an array of unknown size ("extern const char linux_banner[]")
// gets the size its ELF symbol has, as gdb shows it.
func (s *Session) objectType(ts *symbols.Types, name string) (*symbols.Type, symbols.Kind, error) {
	t, kind, err := ts.ObjectType(name)
	if err != nil || kind != symbols.KindVariable {
		return t, kind, err
	}
	st := t
	var quals []symbols.TypeKind
	for st != nil && (st.Kind == symbols.TypeConst || st.Kind == symbols.TypeVolatile) {
		quals = append(quals, st.Kind)
		st = st.Target
	}
	if st == nil || st.Kind != symbols.TypeArray || len(st.Dims) == 0 || st.Dims[0] >= 0 {
		return t, kind, nil
	}
	sym, ok := s.Kernel.Syms.Lookup(name)
	esz := st.Element().Sizeof()
	if !ok || sym.Size == 0 || esz <= 0 {
		return t, kind, nil
	}
	return st.WithBound(int64(sym.Size) / esz), kind, nil
}
