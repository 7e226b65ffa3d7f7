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
		Run:      runWhatis,
	}
}

func runWhatis(ctx context.Context, s *Session, args []string, out io.Writer) error {
	offsets := false
	var words []string
	for _, a := range args {
		switch {
		case a == "-o":
			offsets = true
		case strings.HasPrefix(a, "-") && len(a) > 1:
			return &UsageError{"invalid option: " + a}
		default:
			words = append(words, a)
		}
	}
	if len(words) == 0 {
		return &UsageError{"a type or symbol name is required"}
	}
	ts, err := s.types()
	if err != nil {
		return err
	}
	name := strings.Join(words, " ")
	kw := ""
	if len(words) == 2 && (words[0] == "struct" || words[0] == "union" || words[0] == "enum") {
		kw, name = words[0], words[1]
	}
	if len(words) > 2 || len(words) == 2 && kw == "" {
		// A base type spelled in several words ("unsigned long").
		if t, err := ts.Lookup(name); err == nil {
			return printWhatisType(out, t, name, offsets)
		}
		return fmt.Errorf("cannot resolve: %s", name)
	}
	if kw != "" {
		t, err := ts.Lookup(kw + " " + name)
		if err != nil {
			if symbols.IsMissing(err) {
				return fmt.Errorf("cannot resolve: %s %s", kw, name)
			}
			return err
		}
		return printWhatisType(out, t, name, offsets)
	}
	if t, err := ts.Lookup(name); err == nil {
		return printWhatisType(out, t, name, offsets)
	} else if !symbols.IsMissing(err) {
		return err
	}
	if v, t, err := ts.Enumerator(name); err == nil {
		_, err := fmt.Fprintf(out, "%s = %d\n", symbols.TypeName(t), v)
		return err
	}
	if t, _, err := s.objectType(ts, name); err == nil {
		_, err := fmt.Fprintf(out, "%s;\n", symbols.Declaration(t, name, 0))
		return err
	} else if !symbols.IsMissing(err) {
		return err
	}
	return fmt.Errorf("cannot resolve: %s", name)
}

// printWhatisType prints a type as crash's whatis does.
func printWhatisType(out io.Writer, t *symbols.Type, name string, offsets bool) error {
	var b strings.Builder
	switch t.Kind {
	case symbols.TypeStruct, symbols.TypeUnion:
		return printDefinition(out, t, nil, offsets, 0)
	case symbols.TypeEnum:
		// crash lists the constants one a line.
		fmt.Fprintf(&b, "enum %s {\n", t.Name)
		es, err := t.Enumerators()
		if err != nil {
			return err
		}
		for _, e := range es {
			fmt.Fprintf(&b, "  %s = %d\n", e.Name, e.Value)
		}
		b.WriteString("};\n")
	case symbols.TypeTypedef:
		// crash resolves a chain of typedefs to the type at its end.
		target := t.Target
		for i := 0; target != nil && target.Kind == symbols.TypeTypedef && i < 64; i++ {
			target = target.Target
		}
		// and writes "typedef TYPE NAME;" with TYPE as a cast names it
		// ("typedef long (*)(const struct pt_regs *) sys_call_ptr_t;").
		fmt.Fprintf(&b, "typedef %s %s;\n", symbols.TypeName(target), t.Name)
		if sz := t.Sizeof(); sz >= 0 {
			fmt.Fprintf(&b, "SIZE: %d\n", sz)
		}
	default:
		// A base type: crash shows only its size.
		if sz := t.Sizeof(); sz >= 0 {
			fmt.Fprintf(&b, "SIZE: %d\n", sz)
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}
