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
		Results:  []Result{&CommandList{}, Results[*CommandHelp]{}, KeyValues{}},
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			r := s.Registry
			if a.Has("D") {
				if err := a.NoWords(); err != nil {
					return nil, err
				}
				return dumpHeaders(s)
			}
			if len(a.Words) == 0 {
				l := &CommandList{}
				for _, c := range r.Commands() {
					l.Commands = append(l.Commands, CommandSummary{c.Name, c.Summary})
				}
				return l, nil
			}
			var hs Results[*CommandHelp]
			for _, name := range a.Words {
				c, ok := r.Lookup(name)
				if !ok {
					return hs, fmt.Errorf("%s: command not found", name)
				}
				hs = append(hs, helpOf(c))
			}
			return hs, nil
		},
	}
}

// CommandSummary is one line of help's command list.
type CommandSummary struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// CommandList is help with no argument.
type CommandList struct {
	Commands []CommandSummary `json:"commands"`
}

func (l *CommandList) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, c := range l.Commands {
		tw.printf("%-12s %s\n", c.Name, c.Summary)
	}
	return tw.err
}

// CommandHelp is one command's documentation.
type CommandHelp struct {
	Name     string   `json:"name"`
	Summary  string   `json:"summary"`
	Synopsis string   `json:"synopsis"`
	Help     string   `json:"help"`
	Options  []Option `json:"options,omitempty"`
	Aliases  []string `json:"aliases,omitempty"`
	Examples []string `json:"examples,omitempty"`
	c        *Command
}

func helpOf(c *Command) *CommandHelp {
	return &CommandHelp{c.Name, c.Summary, c.Synopsis, strings.TrimSpace(c.Help), c.Options, c.Aliases, c.Examples, c}
}

func (h *CommandHelp) Text(w io.Writer) error {
	WriteHelp(w, h.c)
	return nil
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

// dumpHeaders gives what the dump's headers say (help -D).
func dumpHeaders(s *Session) (KeyValues, error) {
	if s.Kernel == nil {
		return nil, fmt.Errorf("no dump file is open")
	}
	d := s.Kernel.Dump
	kv := KeyValues{{"file", strings.Join(s.DumpPaths, " ")}, {"format", d.Format.String()}}
	kv = append(kv, d.Describe()...)
	if d.VMCoreInfo != nil {
		kv.Add("VMCOREINFO", "%d bytes, %d entries", len(d.VMCoreInfo.Raw), len(d.VMCoreInfo.Keys))
	}
	for i, n := range d.Notes {
		kv.Add(fmt.Sprintf("note %d", i), "%s type %d, %d bytes", n.Name, n.Type, len(n.Desc))
	}
	return kv, nil
}
