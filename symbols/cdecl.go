package symbols

import (
	"fmt"
	"strings"
)

// C declarations as gdb's ptype writes them (and crash shows them):
// "struct list_head *next", "void (*func)(struct callback_head *)",
// "char * const p", "int (*table)[4]"; anonymous struct and union member
// types are written out in place, indented four spaces a level.

// TypeName is the name of t as a C cast would write it.
func TypeName(t *Type) string { return Declaration(t, "", 0) }

// Declaration declares name (which may be "") as type t. indent is the
// indentation of the line the declaration starts on, used when an
// anonymous struct or union is written out over several lines.
func Declaration(t *Type, name string, indent int) string {
	return declarator(t, name, indent, 0)
}

func declarator(t *Type, inner string, indent, depth int) string {
	if depth > 64 {
		return "?" + inner
	}
	if t == nil {
		return joinDecl("void", inner)
	}
	switch t.Kind {
	case TypePointer:
		inner = "*" + inner
		if tt := t.Target.stripQualifiers(); tt != nil && (tt.Kind == TypeArray || tt.Kind == TypeFunc) {
			inner = "(" + inner + ")"
		}
		return declarator(t.Target, inner, indent, depth+1)
	case TypeConst, TypeVolatile, TypeRestrict, TypeAtomic:
		if tt := t.Target.stripQualifiers(); tt != nil && tt.Kind == TypeArray {
			// GCC qualifies both an array and its elements; gdb shows
			// the qualifier once, on the elements.
			return declarator(t.Target, inner, indent, depth+1)
		}
		q := qualifierName(t.Kind)
		if tt := t.Target.stripQualifiers(); tt != nil && tt.Kind == TypePointer {
			// A qualified pointer: the qualifier follows the '*'.
			if inner != "" {
				inner = " " + q + " " + inner
			} else {
				inner = " " + q
			}
			return declarator(t.Target, inner, indent, depth+1)
		}
		return q + " " + declarator(t.Target, inner, indent, depth+1)
	case TypeArray:
		var b strings.Builder
		b.WriteString(inner)
		for _, n := range t.Dims {
			if n < 0 {
				b.WriteString("[]")
			} else {
				fmt.Fprintf(&b, "[%d]", n)
			}
		}
		return declarator(t.Target, b.String(), indent, depth+1)
	case TypeFunc:
		return declarator(t.Target, inner+paramList(t), indent, depth+1)
	}
	return joinDecl(baseName(t, indent), inner)
}

func (t *Type) stripQualifiers() *Type {
	for i := 0; t != nil && i < 64; i++ {
		switch t.Kind {
		case TypeConst, TypeVolatile, TypeRestrict, TypeAtomic:
			t = t.Target
		default:
			return t
		}
	}
	return t
}

func qualifierName(k TypeKind) string {
	switch k {
	case TypeConst:
		return "const"
	case TypeVolatile:
		return "volatile"
	case TypeRestrict:
		return "restrict"
	}
	return "_Atomic"
}

// joinDecl puts a base type and a declarator together: "int x",
// "struct page *p", "char * const p".
func joinDecl(base, inner string) string {
	switch {
	case inner == "":
		return base
	case inner[0] == ' ':
		return base + inner
	}
	return base + " " + inner
}

func paramList(t *Type) string {
	if len(t.Params) == 0 {
		switch {
		case t.Variadic:
			return "(...)"
		case t.Prototyped:
			return "(void)"
		}
		return "()"
	}
	parts := make([]string, 0, len(t.Params)+1)
	for _, p := range t.Params {
		parts = append(parts, TypeName(p))
	}
	if t.Variadic {
		parts = append(parts, "...")
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// baseName names a type that has no declarator: a base type, typedef,
// void, or a struct, union or enum (written out when anonymous).
func baseName(t *Type, indent int) string {
	switch t.Kind {
	case TypeVoid:
		if t.Name != "" {
			return t.Name
		}
		return "void"
	case TypeStruct, TypeUnion:
		kw := "struct"
		if t.Kind == TypeUnion {
			kw = "union"
		}
		if t.Name != "" {
			return kw + " " + t.Name
		}
		var b strings.Builder
		writeBody(&b, t, indent)
		return b.String()
	case TypeEnum:
		if t.Name != "" {
			return "enum " + t.Name
		}
		return "enum " + enumBody(t)
	case TypeBase:
		if n, ok := gdbBaseNames[t.Name]; ok {
			return n
		}
	}
	return t.Name
}

// gdbBaseNames are the spellings gdb gives GCC's base type names.
var gdbBaseNames = map[string]string{
	"long unsigned int":      "unsigned long",
	"long int":               "long",
	"short unsigned int":     "unsigned short",
	"short int":              "short",
	"long long unsigned int": "unsigned long long",
	"long long int":          "long long",
}

// enumBody is gdb's one-line enum body: "{A, B, C = 7}", values shown
// where they do not follow on from the one before.
func enumBody(t *Type) string {
	es, err := t.Enumerators()
	if err != nil {
		return "{...}"
	}
	var b strings.Builder
	b.WriteByte('{')
	var next int64
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Name)
		if e.Value != next {
			fmt.Fprintf(&b, " = %d", e.Value)
		}
		next = e.Value + 1
	}
	b.WriteByte('}')
	return b.String()
}

// Definition writes a struct or union (or, for other types, the type's
// name) as ptype does: "struct list_head {\n    struct list_head *next;
// ...\n}".
func Definition(t *Type) string {
	if t.Kind != TypeStruct && t.Kind != TypeUnion {
		if t.Kind == TypeEnum {
			return baseName(t, 0) + " " + enumBody(t)
		}
		return TypeName(t)
	}
	var b strings.Builder
	writeBody(&b, t, 0)
	return b.String()
}

// writeBody writes "struct NAME {", the members one a line at indent+4,
// and "}" at indent (no newline after it).
func writeBody(b *strings.Builder, t *Type, indent int) {
	if t.Kind == TypeUnion {
		b.WriteString("union ")
	} else {
		b.WriteString("struct ")
	}
	if t.Name != "" {
		b.WriteString(t.Name)
		b.WriteByte(' ')
	}
	b.WriteString("{\n")
	ms, err := t.Members()
	if err != nil {
		fmt.Fprintf(b, "%s    <%v>\n", strings.Repeat(" ", indent), err)
	}
	if t.Decl && len(ms) == 0 {
		fmt.Fprintf(b, "%s    <incomplete type>\n", strings.Repeat(" ", indent))
	} else if len(ms) == 0 && err == nil {
		fmt.Fprintf(b, "%s    <no data fields>\n", strings.Repeat(" ", indent))
	}
	pad := strings.Repeat(" ", indent+4)
	for _, m := range ms {
		b.WriteString(pad)
		b.WriteString(Declaration(m.Type, m.Name, indent+4))
		if m.BitSize != 0 {
			fmt.Fprintf(b, " : %d", m.BitSize)
		}
		b.WriteString(";\n")
	}
	b.WriteString(strings.Repeat(" ", indent))
	b.WriteByte('}')
}
