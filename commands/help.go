package commands

import (
	"context"
	"fmt"
	"io"
	"strings"
)

func helpCommand() *Command {
	return &Command{
		Name:     "help",
		Synopsis: "help [command]",
		Summary:  "get help",
		Help:     `With no argument, lists the commands. With a command name, prints its synopsis, description, options and examples.`,
		Examples: []string{"gocrash> help", "gocrash> help sys"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			r := s.Registry
			if len(args) == 0 {
				for _, c := range r.Commands() {
					fmt.Fprintf(out, "%-12s %s\n", c.Name, c.Summary)
				}
				return nil
			}
			for _, name := range args {
				c, ok := r.Lookup(name)
				if !ok {
					return fmt.Errorf("%s: command not found", name)
				}
				WriteHelp(out, c)
			}
			return nil
		},
	}
}

// WriteHelp prints one command's help as crash lays it out: NAME, SYNOPSIS,
// DESCRIPTION (with options), EXAMPLES.
func WriteHelp(w io.Writer, c *Command) {
	fmt.Fprintf(w, "\nNAME\n  %s - %s\n\nSYNOPSIS\n  %s\n\nDESCRIPTION\n", c.Name, c.Summary, c.Synopsis)
	for _, line := range strings.Split(strings.TrimSpace(c.Help), "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
	if len(c.Options) > 0 {
		fmt.Fprintln(w)
		for _, o := range c.Options {
			fmt.Fprintf(w, "  %8s  %s\n", o.Flag, o.Text)
		}
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "\n  Aliases: %s\n", strings.Join(c.Aliases, ", "))
	}
	if len(c.Examples) > 0 {
		fmt.Fprintf(w, "\nEXAMPLES\n")
		for _, e := range c.Examples {
			fmt.Fprintf(w, "    %s\n", e)
		}
	}
	fmt.Fprintln(w)
}
