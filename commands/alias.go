package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

func aliasCommand() *Command {
	return &Command{
		Name:     "alias",
		Synopsis: "alias [name [command ...]]",
		Summary:  "command aliases",
		Help: `With no argument, lists the aliases. With a name, shows that alias. With a
name and a command line, makes the name stand for the command line: when a
line starts with the name, the name is replaced by its command line.
Aliases may be set in ~/.gocrashrc or ./.gocrashrc, read at start.`,
		Examples: []string{"gocrash> alias us ps -u", "gocrash> us", "gocrash> alias"},
		Results:  []Result{&AliasList{}},
		RawArgs:  true,
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			if s.Aliases == nil {
				s.Aliases = map[string]string{}
			}
			args := a.Words
			switch len(args) {
			case 0:
				var names []string
				for n := range s.Aliases {
					names = append(names, n)
				}
				sort.Strings(names)
				r := &AliasList{Aliases: []Alias{}}
				for _, n := range names {
					r.Aliases = append(r.Aliases, Alias{n, s.Aliases[n]})
				}
				return r, nil
			case 1:
				c, ok := s.Aliases[args[0]]
				if !ok {
					return nil, fmt.Errorf("alias does not exist: %s", args[0])
				}
				return &AliasList{Aliases: []Alias{{args[0], c}}, one: true}, nil
			}
			if _, ok := s.Registry.Lookup(args[0]); ok {
				return nil, fmt.Errorf("cannot alias a command name: %s", args[0])
			}
			s.Aliases[args[0]] = strings.Join(args[1:], " ")
			return nil, nil
		},
	}
}

// Alias is one alias and the command line it stands for.
type Alias struct {
	Name    string `json:"name"`
	Command string `json:"command"`
}

// AliasList is what alias shows: every alias, or the one asked for.
type AliasList struct {
	Aliases []Alias `json:"aliases"`
	one     bool    // one alias asked for: no header
}

func (r *AliasList) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if !r.one {
		tw.println("ORIGIN   ALIAS    COMMAND")
	}
	for _, a := range r.Aliases {
		tw.printf("runtime  %-8s %s\n", a.Name, a.Command)
	}
	return tw.err
}
