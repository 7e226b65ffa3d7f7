package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

func whatisCommand() *Command {
	return &Command{
		Name:     "whatis",
		Aliases:  []string{"ptype"},
		Synopsis: "whatis [-o] [struct|union|enum] name | typedef | symbol | enumerator | [-r size|low-high] [-m member]",
		Summary:  "search symbol table for data or type information",
		Help: `Prints the definition of a struct, union or enum, a typedef, or the
declaration of a kernel variable or function (as a prototype). Structs and
unions are followed by their size; -o shows member offsets. An enum constant
prints its enum and value. A name in the symbol table is that variable or
function, as in crash, even when a type has the same name ("whatis
mem_section"); "whatis struct mem_section" shows the type.

-r and -m search the types instead, alone or together: -r for the structs
and unions of a size or a range of sizes (low-high), -m for those with a
member whose type names member ("list_head" finds struct list_head
members and pointers to one; any part of the type's name matches),
looking into embedded structs and unions too. The types found are listed
by size, then name, as "SIZE  TYPE" lines (a typedef of an anonymous
struct by the typedef's name). gdb's list, which crash prints, also holds
base types such as __int128; gocrash's holds structs and unions only.`,
		Options: []Option{
			{"-o", "show member offsets of a struct or union"},
			{"-r size", "search for structs and unions of this size, or of a range of sizes low-high"},
			{"-m member", "search for structs and unions with a member of a type whose name contains member"},
		},
		Examples: []string{"gocrash> whatis task_struct", "gocrash> whatis -r 4090-4100", "gocrash> whatis -m list_lru_node", "gocrash> whatis -r 24 -m list_head", "gocrash> whatis jiffies", "gocrash> whatis schedule", "gocrash> whatis enum pid_type", "gocrash> whatis PIDTYPE_PID"},
		Results:  []Result{&WhatisResult{}, &WhatisSearchResult{}},
		Run:      runWhatis,
	}
}

// WhatisResult is what whatis finds a name to be: a struct, union or enum
// definition, a typedef, a base type, an enum constant, or a variable's or
// function's declaration.
type WhatisResult struct {
	Name string `json:"name"`
	// What is "struct", "union", "enum", "typedef", "base", "enumerator",
	// "variable" or "function".
	What string `json:"what"`
	// Declaration is a variable's or function's C declaration.
	Declaration string `json:"declaration,omitempty"`
	// Type is a typedef's type (a chain of typedefs followed to its end),
	// an enumerator's enum, a variable's or function's type.
	Type string `json:"type,omitempty"`
	// Size is a type's size in bytes (absent when it has none).
	Size *int64 `json:"size,omitempty"`
	// Value is an enumerator's value.
	Value *int64 `json:"value,omitempty"`
	// Enumerators are an enum's constants.
	Enumerators []EnumConstant `json:"enumerators,omitempty"`
	// Definition is a struct's or union's layout.
	Definition *TypeLayout `json:"definition,omitempty"`
}

// EnumConstant is one constant of an enum.
type EnumConstant struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

func (r *WhatisResult) Text(w io.Writer) error {
	var b strings.Builder
	switch r.What {
	case "struct", "union":
		return r.Definition.Text(w)
	case "enum":
		// crash lists the constants one a line.
		fmt.Fprintf(&b, "enum %s {\n", r.Name)
		for _, e := range r.Enumerators {
			fmt.Fprintf(&b, "  %s = %d\n", e.Name, e.Value)
		}
		b.WriteString("};\n")
	case "typedef":
		// "typedef TYPE NAME;" with TYPE as a cast names it
		// ("typedef long (*)(const struct pt_regs *) sys_call_ptr_t;").
		fmt.Fprintf(&b, "typedef %s %s;\n", r.Type, r.Name)
	case "enumerator":
		fmt.Fprintf(&b, "%s = %d\n", r.Type, *r.Value)
	case "variable", "function":
		fmt.Fprintf(&b, "%s;\n", r.Declaration)
	}
	if r.Size != nil && (r.What == "typedef" || r.What == "base") {
		// A base type: crash shows only its size.
		fmt.Fprintf(&b, "SIZE: %d\n", *r.Size)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WhatisSearchResult is what whatis -r and -m found: types by size, then
// name.
type WhatisSearchResult struct {
	Types []WhatisSearchType `json:"types"`
}

// WhatisSearchType is one type found.
type WhatisSearchType struct {
	Size int64  `json:"size"`
	Name string `json:"name"` // without "struct " or "union "; a typedef's name for an anonymous one
}

func (r *WhatisSearchResult) Text(w io.Writer) error {
	var b strings.Builder
	b.WriteString("SIZE  TYPE\n")
	for _, t := range r.Types {
		fmt.Fprintf(&b, "%4d  %s\n", t.Size, t.Name)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// whatisSearch gathers whatis -r and -m: every named struct and union (and
// typedef of an anonymous one) whose size is in range and which has a
// member whose type's name contains member.
func whatisSearch(ctx context.Context, ts *symbols.Types, a *Args) (Result, error) {
	lo, hi := int64(0), int64(1)<<62
	if r, ok := a.Value("r"); ok {
		l, h, isRange := strings.Cut(r, "-")
		var err1, err2 error
		lo, err1 = strconv.ParseInt(l, 10, 64)
		hi, err2 = lo, nil
		if isRange {
			hi, err2 = strconv.ParseInt(h, 10, 64)
		}
		if err1 != nil || err2 != nil || lo > hi || lo < 0 {
			return nil, &UsageError{"invalid size or range: " + r}
		}
	}
	member, byMember := a.Value("m")
	ix := ts.Index()
	if ix == nil {
		return nil, fmt.Errorf("the type index is not available")
	}
	r := &WhatisSearchResult{Types: []WhatisSearchType{}}
	seen := map[string]bool{}
	consider := func(name string, t *symbols.Type) {
		st := t.Strip()
		if st == nil || st.Decl || (st.Kind != symbols.TypeStruct && st.Kind != symbols.TypeUnion) || seen[name] {
			return
		}
		size := st.Sizeof()
		if size < lo || size > hi {
			return
		}
		if byMember && !hasMemberType(st, member, 0) {
			return
		}
		seen[name] = true
		r.Types = append(r.Types, WhatisSearchType{Size: size, Name: name})
	}
	for _, kw := range []string{"struct", "union"} {
		kind := symbols.KindStruct
		if kw == "union" {
			kind = symbols.KindUnion
		}
		for _, name := range ix.Names("", kind) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if t, err := ts.Lookup(kw + " " + name); err == nil {
				consider(name, t)
			}
		}
	}
	for _, name := range ix.Names("", symbols.KindTypedef) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t, err := ts.Lookup(name)
		if err != nil || t.Kind != symbols.TypeTypedef {
			continue
		}
		if st := t.Strip(); st != nil && st.Name == "" {
			consider(name, t)
		}
	}
	sort.Slice(r.Types, func(i, j int) bool {
		if r.Types[i].Size != r.Types[j].Size {
			return r.Types[i].Size < r.Types[j].Size
		}
		return r.Types[i].Name < r.Types[j].Name
	})
	return r, nil
}

// hasMemberType says whether a member of t, or of a struct or union
// embedded in it, has a type whose name contains name.
func hasMemberType(t *symbols.Type, name string, depth int) bool {
	if depth > 16 {
		return false
	}
	ms, err := t.Members()
	if err != nil {
		return false
	}
	for _, m := range ms {
		if isFuncPointer(m.Type) {
			continue // crash does not look into a function pointer's parameters
		}
		if strings.Contains(symbols.TypeName(m.Type), name) {
			return true
		}
		inner := m.Type.Strip()
		for inner != nil && inner.Kind == symbols.TypeArray {
			inner = inner.Target.Strip() // an array of structs is searched as one
		}
		if inner != nil && (inner.Kind == symbols.TypeStruct || inner.Kind == symbols.TypeUnion) {
			if hasMemberType(inner, name, depth+1) {
				return true
			}
		}
	}
	return false
}

// isFuncPointer says whether t is a pointer (or array of pointers) to a
// function.
func isFuncPointer(t *symbols.Type) bool {
	for i := 0; i < 16; i++ {
		st := t.Strip()
		if st == nil {
			return false
		}
		switch st.Kind {
		case symbols.TypeFunc:
			return true
		case symbols.TypePointer, symbols.TypeArray:
			t = st.Target
		default:
			return false
		}
	}
	return false
}

func runWhatis(ctx context.Context, s *Session, a *Args) (Result, error) {
	if a.Has("r") || a.Has("m") {
		if err := a.NoWords(); err != nil {
			return nil, err
		}
		ts, err := s.types()
		if err != nil {
			return nil, err
		}
		return whatisSearch(ctx, ts, a)
	}
	offsets, words := a.Has("o"), a.Words
	if len(words) == 0 {
		return nil, &UsageError{"a type or symbol name is required"}
	}
	ts, err := s.types()
	if err != nil {
		return nil, err
	}
	name := strings.Join(words, " ")
	kw := ""
	if len(words) == 2 && (words[0] == "struct" || words[0] == "union" || words[0] == "enum") {
		kw, name = words[0], words[1]
	}
	if len(words) > 2 || len(words) == 2 && kw == "" {
		// A base type spelled in several words ("unsigned long").
		if t, err := ts.Lookup(name); err == nil {
			return whatisType(t, name, offsets)
		}
		return nil, fmt.Errorf("cannot resolve: %s", name)
	}
	if kw != "" {
		t, err := ts.Lookup(kw + " " + name)
		if err != nil {
			if symbols.IsMissing(err) {
				return nil, fmt.Errorf("cannot resolve: %s %s", kw, name)
			}
			return nil, err
		}
		return whatisType(t, name, offsets)
	}
	// crash's order: a name in the symbol table is the variable or
	// function (when the debug info describes it); only another name is
	// looked up as a type, then as an enum constant. (Without BTF, proving
	// that no type has a variable's name would take the whole DWARF
	// scan.)
	if _, ok := s.Kernel.Syms.Lookup(name); ok {
		if r, err := whatisObject(s, ts, name); err == nil || !symbols.IsMissing(err) {
			return r, err
		}
	}
	if t, err := ts.Lookup(name); err == nil {
		return whatisType(t, name, offsets)
	} else if !symbols.IsMissing(err) {
		return nil, err
	}
	if v, t, err := ts.Enumerator(name); err == nil {
		return &WhatisResult{Name: name, What: "enumerator", Type: symbols.TypeName(t), Value: &v}, nil
	}
	if r, err := whatisObject(s, ts, name); err == nil || !symbols.IsMissing(err) {
		return r, err
	}
	return nil, fmt.Errorf("cannot resolve: %s", name)
}

// whatisObject gathers the declaration of the variable or function name.
func whatisObject(s *Session, ts *symbols.Types, name string) (Result, error) {
	t, kind, err := s.objectType(ts, name)
	if err != nil {
		return nil, err
	}
	what := "variable"
	if kind == symbols.KindFunction {
		what = "function"
	}
	return &WhatisResult{Name: name, What: what, Type: symbols.TypeName(t), Declaration: symbols.Declaration(t, name, 0)}, nil
}

// whatisType gathers a type as crash's whatis shows it.
func whatisType(t *symbols.Type, name string, offsets bool) (Result, error) {
	r := &WhatisResult{Name: name}
	if sz := t.Sizeof(); sz >= 0 {
		r.Size = &sz
	}
	switch t.Kind {
	case symbols.TypeStruct, symbols.TypeUnion:
		r.Definition = typeLayout(t, nil, offsets, 0)
		r.What, r.Name = r.Definition.Kind, t.Name
	case symbols.TypeEnum:
		r.What, r.Name = "enum", t.Name
		es, err := t.Enumerators()
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			r.Enumerators = append(r.Enumerators, EnumConstant{e.Name, e.Value})
		}
	case symbols.TypeTypedef:
		// crash resolves a chain of typedefs to the type at its end.
		target := t.Target
		for i := 0; target != nil && target.Kind == symbols.TypeTypedef && i < 64; i++ {
			target = target.Target
		}
		r.What, r.Name, r.Type = "typedef", t.Name, symbols.TypeName(target)
	default:
		r.What = "base"
	}
	return r, nil
}
