package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// struct and union's -r, -f and -p.

// rawDump reads what -r shows: the struct's memory (or the one member's)
// as rd prints it, in 64-bit words, or in the member's own size when it
// is of 1, 2 or 4 bytes.
func rawDump(ctx context.Context, s *Session, t *symbols.Type, members []string, addr uint64, a *Args) (*RDResult, error) {
	if a.Has("f") {
		return nil, fmt.Errorf("-r of a dumpfile offset is not supported")
	}
	size := t.Sizeof()
	if len(members) == 1 {
		m, err := t.MemberPath(members[0])
		if err != nil {
			return nil, fmt.Errorf("invalid data structure reference: %s.%s", t.Name, members[0])
		}
		addr += uint64(m.Offset)
		size = m.Type.Sizeof()
	}
	if size <= 0 {
		return nil, fmt.Errorf("%s has no size", t.Name)
	}
	unit := "-64"
	switch size {
	case 1:
		unit = "-8"
	case 2:
		unit = "-16"
	case 4:
		unit = "-32"
	}
	words := []string{unit, fmt.Sprintf("%x", addr), fmt.Sprint((size + 7) / 8)}
	if a.Has("u") {
		words = append([]string{"-u"}, words...)
	}
	rd := rdCommand()
	ra, err := ParseArgs(rd.Options, words)
	if err != nil {
		return nil, err
	}
	res, err := rd.Run(ctx, s, ra)
	r, _ := res.(*RDResult)
	return r, err
}

// dumpFileReader reads the dump file at offsets, for -f.
func dumpFileReader(s *Session) (func([]byte, uint64) error, error) {
	if len(s.DumpPaths) != 1 {
		return nil, fmt.Errorf("-f option requires a dumpfile of one file")
	}
	path := s.DumpPaths[0]
	return func(p []byte, off uint64) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.ReadAt(p, int64(off)); err != nil {
			return fmt.Errorf("dumpfile offset %x: %w", off, err)
		}
		return nil
	}, nil
}

// PointerTarget is what -p shows of one pointer member: its declaration
// and value, and what is at the address it holds.
type PointerTarget struct {
	Member string `json:"member"`
	Decl   string `json:"decl"` // "struct thread_info *thread_info"
	Target Hex    `json:"target"`
	// Kind is "function", "string" (char *), "void", "pointer" (to a
	// pointer), "null", "inaccessible", "nodebug" (an incomplete type)
	// or "data".
	Kind   string  `json:"kind"`
	Symbol string  `json:"symbol,omitempty"` // the symbol at the target
	String *string `json:"string,omitempty"` // char *: the string
	Word   *Hex    `json:"word,omitempty"`   // pointer to pointer: the pointer there
	Value  *CValue `json:"value,omitempty"`  // data: what is there
	// TypeName is the target's type, for "nodebug".
	TypeName string `json:"type_name,omitempty"`
}

// dereferencePointers gathers -p's targets of t's pointer members at addr
// (of every member, or of those named).
func dereferencePointers(s *Session, t *symbols.Type, addr uint64, hex bool, read func([]byte, uint64) error, only []string) []PointerTarget {
	ms, _ := t.Members()
	out := []PointerTarget{}
	order := s.byteOrder()
	for _, m := range ms {
		if m.Name == "" || only != nil && !containsString(only, m.Name) {
			continue
		}
		pt := m.Type.Strip()
		if pt == nil || pt.Kind != symbols.TypePointer || m.BitSize != 0 {
			continue
		}
		buf := make([]byte, 8)
		if err := read(buf, addr+uint64(m.Offset)); err != nil {
			continue
		}
		p := PointerTarget{Member: m.Name, Decl: symbols.Declaration(m.Type, m.Name, 0), Target: Hex(order.Uint64(buf))}
		target := uint64(p.Target)
		p.Symbol = exactSymbol(s, target)
		tgt := pt.Target
		var ts *symbols.Type
		if tgt != nil {
			ts = tgt.Strip()
		}
		var one [1]byte
		accessible := target != 0 && s.Kernel.ReadVirt(one[:], target) == nil
		switch {
		case ts != nil && ts.Kind == symbols.TypeFunc:
			p.Kind = "function"
		case ts != nil && isCharLike(ts):
			p.Kind = "string"
			if accessible {
				str, err := s.Kernel.ReadCString(target, 1499)
				if err == nil {
					p.String = &str
				}
			}
		case ts == nil || ts.Kind == symbols.TypeVoid:
			p.Kind = "void"
		}
		// A pointer to a kernel variable shows the variable, as its own
		// type has it ("p init_task").
		if sym := p.Symbol; sym != "" && p.Kind != "function" && p.Kind != "string" && dataSymbol(s, target) {
			if v, ok := symbolValue(s, sym, target, hex); ok {
				p.Kind, p.Value = "data", v
				out = append(out, p)
				continue
			}
		}
		if p.Kind == "void" {
			p.Symbol = ""
			if sym := exactSymbol(s, target); sym != "" {
				p.Symbol = sym
			}
		}
		if p.Kind == "" {
			switch {
			case !accessible:
				p.Kind = "inaccessible"
				if target == 0 {
					p.Kind = "null"
				}
			case ts.Kind == symbols.TypePointer:
				p.Kind = "pointer"
				w, err := s.Kernel.ReadU64(target)
				if err == nil {
					h := Hex(w)
					p.Word = &h
				}
			case ts.Sizeof() <= 0:
				p.Kind, p.TypeName = "nodebug", symbols.TypeName(tgt)
			default:
				p.Kind = "data"
				data := make([]byte, ts.Sizeof())
				if err := s.Kernel.ReadVirt(data, target); err != nil {
					p.Kind = "inaccessible"
					break
				}
				v := s.newValuePrinter(false, hex).value(tgt, data, target)
				p.Value = &v
			}
		}
		if p.Kind == "data" {
			p.Symbol = "" // not a variable's address: no <symbol>
		}
		out = append(out, p)
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// exactSymbol is the kernel or module symbol at exactly v, or "".
func exactSymbol(s *Session, v uint64) string {
	if !s.isKernelAddr(v) || s.Kernel.Syms == nil {
		return ""
	}
	if sym, off, ok := s.Kernel.Syms.Nearest(v); ok && off == 0 {
		return sym.Name
	}
	if ms, off, ok := s.Kernel.ModuleSymbolAt(v); ok && off == 0 {
		return ms.Name
	}
	return ""
}

// dataSymbol: v is the address of a kernel data symbol (crash prints the
// target of a pointer there as that symbol).
func dataSymbol(s *Session, v uint64) bool {
	if !s.isKernelAddr(v) || s.Kernel.Syms == nil {
		return false
	}
	sym, off, ok := s.Kernel.Syms.Nearest(v)
	return ok && off == 0 && strings.ContainsRune("dDbBrR", rune(sym.Type))
}

// text writes one member as -p shows it.
func (p *PointerTarget) text(b *strings.Builder) {
	fmt.Fprintf(b, "  %s = 0x%x\n  -> ", p.Decl, uint64(p.Target))
	sym := ""
	if p.Symbol != "" {
		sym = "<" + p.Symbol + "> "
	}
	switch p.Kind {
	case "function":
		switch {
		case p.Symbol != "":
			fmt.Fprintf(b, "<%s>\n", p.Symbol)
		case p.Target != 0:
			b.WriteString("(unknown)\n")
		default:
			b.WriteString("NULL\n")
		}
	case "string":
		b.WriteString(sym)
		switch {
		case p.Target == 0:
			b.WriteString("NULL\n")
		case p.String == nil:
			b.WriteString("(not accessible)\n")
		default:
			fmt.Fprintf(b, "\"%s\"\n", *p.String)
		}
	case "void":
		switch {
		case p.Symbol != "":
			fmt.Fprintf(b, "<%s>\n", p.Symbol)
		case p.Target == 0:
			b.WriteString("NULL\n")
		default:
			b.WriteString("(unknown target type)\n")
		}
	case "null":
		b.WriteString("NULL\n")
	case "inaccessible":
		b.WriteString("(not accessible)\n")
	case "pointer":
		b.WriteString(sym)
		if p.Word != nil {
			fmt.Fprintf(b, "%x", uint64(*p.Word))
		}
		b.WriteString("\n")
	case "nodebug":
		fmt.Fprintf(b, "(%s: no debuginfo data)\n", p.TypeName)
	default:
		b.WriteString(sym)
		// crash reads gdb's "$N = value" back in pieces of at most
		// 1499 bytes (its line buffer), each after the first indented.
		var vb strings.Builder
		vb.WriteString("$1 = ")
		if p.Value != nil {
			p.Value.writeText(&vb, 0)
		}
		vb.WriteByte('\n')
		first := true
		for _, ln := range strings.SplitAfter(vb.String(), "\n") {
			for len(ln) > 0 {
				n := min(len(ln), 1499)
				piece := ln[:n]
				ln = ln[n:]
				if first {
					_, piece, _ = strings.Cut(piece, "= ")
					first = false
				} else {
					b.WriteString("     ")
				}
				b.WriteString(piece)
			}
		}
	}
}

// writeDereferenced writes sv as crash's -p does: each line of a pointer
// member replaced by its declaration, value and target.
func writeDereferenced(w io.Writer, sv *StructValue, ptrs []PointerTarget) error {
	var plain strings.Builder
	if err := sv.Text(&plain); err != nil {
		return err
	}
	by := map[string]*PointerTarget{}
	for i := range ptrs {
		by[ptrs[i].Member] = &ptrs[i]
	}
	var b strings.Builder
	for _, ln := range strings.SplitAfter(plain.String(), "\n") {
		if ln == "" {
			continue
		}
		if strings.HasPrefix(ln, "  ") && !strings.HasPrefix(ln, "   ") && !strings.ContainsAny(ln, "{}") {
			name, _, _ := strings.Cut(ln[2:], " =")
			if p := by[name]; p != nil {
				p.text(&b)
				continue
			}
		}
		b.WriteString(ln)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// symbolValue reads the kernel variable sym at addr as its own type has
// it, when that is a struct, union, array, integer or pointer (what crash
// prints a pointer's target as).
func symbolValue(s *Session, sym string, addr uint64, hex bool) (*CValue, bool) {
	ts, err := s.types()
	if err != nil {
		return nil, false
	}
	t, kind, err := s.objectType(ts, sym)
	if err != nil || kind != symbols.KindVariable || t == nil {
		return nil, false
	}
	st := t.Strip()
	if st == nil || st.Sizeof() <= 0 {
		return nil, false
	}
	switch st.Kind {
	case symbols.TypeStruct, symbols.TypeUnion, symbols.TypeArray, symbols.TypePointer, symbols.TypeBase:
	default:
		return nil, false
	}
	data := make([]byte, st.Sizeof())
	if err := s.Kernel.ReadVirt(data, addr); err != nil {
		return nil, false
	}
	v := s.newValuePrinter(false, hex).value(t, data, addr)
	return &v, true
}
