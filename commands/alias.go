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
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			if s.Aliases == nil {
				s.Aliases = map[string]string{}
			}
			switch len(args) {
			case 0:
				var names []string
				for n := range s.Aliases {
					names = append(names, n)
				}
				sort.Strings(names)
				fmt.Fprintln(out, "ORIGIN   ALIAS    COMMAND")
				for _, n := range names {
					fmt.Fprintf(out, "runtime  %-8s %s\n", n, s.Aliases[n])
				}
			case 1:
				a, ok := s.Aliases[args[0]]
				if !ok {
					return fmt.Errorf("alias does not exist: %s", args[0])
				}
				fmt.Fprintf(out, "runtime  %-8s %s\n", args[0], a)
			default:
				if _, ok := s.Registry.Lookup(args[0]); ok {
					return fmt.Errorf("cannot alias a command name: %s", args[0])
				}
				s.Aliases[args[0]] = strings.Join(args[1:], " ")
			}
			return nil
		},
	}
}
