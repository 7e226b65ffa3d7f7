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
		Synopsis: "help [command] | help -D",
		Summary:  "get help",
		Help: `With no argument, lists the commands. With a command name, prints its
synopsis, description, options and examples. With -D, prints the dump file's
headers: its format, version, compression, dump level, page statistics or
PT_LOAD segments, and its ELF notes.`,
		Options:  []Option{{"-D", "print the dump file's headers"}},
		Examples: []string{"gocrash> help", "gocrash> help sys", "gocrash> help -D"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			r := s.Registry
			if len(args) == 1 && args[0] == "-D" {
				return dumpHeaders(s, out)
			}
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

// dumpHeaders prints what the dump's headers say (help -D).
func dumpHeaders(s *Session, out io.Writer) error {
	if s.Kernel == nil {
		return fmt.Errorf("no dump file is open")
	}
	d := s.Kernel.Dump
	kv := KeyValues{{"file", strings.Join(s.DumpPaths, " ")}, {"format", d.Format.String()}}
	kv = append(kv, d.Header...)
	if d.VMCoreInfo != nil {
		kv.Add("VMCOREINFO", "%d bytes, %d entries", len(d.VMCoreInfo.Raw), len(d.VMCoreInfo.Keys))
	}
	for i, n := range d.Notes {
		kv.Add(fmt.Sprintf("note %d", i), "%s type %d, %d bytes", n.Name, n.Type, len(n.Desc))
	}
	return kv.Render(out)
}
