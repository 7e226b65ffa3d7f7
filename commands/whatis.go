package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

func whatisCommand() *Command {
	return &Command{
		Name:     "whatis",
		Aliases:  []string{"ptype"},
		Synopsis: "whatis [-o] [struct|union|enum] name | typedef | symbol | enumerator",
		Summary:  "search symbol table for data or type information",
		Help: `Prints the definition of a struct, union or enum, a typedef, or the
declaration of a kernel variable or function (as a prototype). Structs and
unions are followed by their size; -o shows member offsets. An enum constant
prints its enum and value.`,
		Options:  []Option{{"-o", "show member offsets of a struct or union"}},
		Examples: []string{"gocrash> whatis task_struct", "gocrash> whatis jiffies", "gocrash> whatis schedule", "gocrash> whatis enum pid_type", "gocrash> whatis PIDTYPE_PID"},
		Results:  []Result{&WhatisResult{}},
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

func runWhatis(ctx context.Context, s *Session, a *Args) (Result, error) {
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
	if t, err := ts.Lookup(name); err == nil {
		return whatisType(t, name, offsets)
	} else if !symbols.IsMissing(err) {
		return nil, err
	}
	if v, t, err := ts.Enumerator(name); err == nil {
		return &WhatisResult{Name: name, What: "enumerator", Type: symbols.TypeName(t), Value: &v}, nil
	}
	if t, kind, err := s.objectType(ts, name); err == nil {
		what := "variable"
		if kind == symbols.KindFunction {
			what = "function"
		}
		return &WhatisResult{Name: name, What: what, Type: symbols.TypeName(t), Declaration: symbols.Declaration(t, name, 0)}, nil
	} else if !symbols.IsMissing(err) {
		return nil, err
	}
	return nil, fmt.Errorf("cannot resolve: %s", name)
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
