package repl

import (
	"github.com/gocrash/gocrash/symbols"

	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ergochat/readline"
)

// HistoryFile is where the prompt keeps its history:
// $XDG_STATE_HOME/gocrash/history, else ~/.local/state/gocrash/history.
func HistoryFile() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	dir = filepath.Join(dir, "gocrash")
	if os.MkdirAll(dir, 0o700) != nil {
		return ""
	}
	return filepath.Join(dir, "history")
}

// Interactive reads commands at a "gocrash> " prompt with line editing,
// persistent history and tab completion until Ctrl-D or quit. Ctrl-C at
// the prompt clears the line; during a command it stops the command.
func (sh *Shell) Interactive(ctx context.Context, stdin io.ReadCloser) error {
	rl, err := readline.NewFromConfig(&readline.Config{
		Prompt:          "gocrash> ",
		HistoryFile:     HistoryFile(),
		AutoComplete:    &completer{sh: sh},
		InterruptPrompt: "^C",
		Stdin:           stdin,
		Stdout:          sh.Out,
		Stderr:          sh.Err,
	})
	if err != nil {
		return err
	}
	defer rl.Close()
	for {
		line, err := rl.ReadLine()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case err != nil: // io.EOF: Ctrl-D
			return nil
		}
		if err := sh.RunLine(ctx, line); IsQuit(err) {
			return nil
		}
	}
}

// completer completes command names and aliases in the first word, and
// kernel symbol names after it.
type completer struct {
	sh      *Shell
	symbols []string // sorted, built on first use
}

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	text := string(line[:pos])
	start := strings.LastIndexAny(text, " \t") + 1
	word := text[start:]
	var names []string
	if strings.TrimSpace(text[:start]) == "" {
		for _, cmd := range c.sh.Session.Registry.Commands() {
			names = append(names, cmd.Name)
			names = append(names, cmd.Aliases...)
		}
		for a := range c.sh.Session.Aliases {
			names = append(names, a)
		}
		sort.Strings(names)
	} else {
		cmd := strings.Fields(text[:start])[0]
		switch {
		case strings.HasPrefix(word, "-"):
			names = c.optionNames(cmd)
		case strings.Contains(word, "."):
			// struct.member: the members of the type before the dot.
			prefix, _, _ := cutLast(word, ".")
			names = c.memberNames(prefix)
			for i := range names {
				names[i] = prefix + "." + names[i]
			}
			return complete(names, word, ""), len([]rune(word))
		case cmd == "struct" || cmd == "union" || cmd == "whatis" || cmd == "ptype":
			names = c.typeNames(cmd, word)
		case word != "":
			names = c.symbolNames()
		}
	}
	return complete(names, word, " "), len([]rune(word))
}

// complete returns the endings of the sorted names that begin with word,
// each followed by suffix.
func complete(names []string, word, suffix string) [][]rune {
	var out [][]rune
	i := sort.SearchStrings(names, word)
	for ; i < len(names) && strings.HasPrefix(names[i], word) && len(out) < 200; i++ {
		if i > 0 && names[i] == names[i-1] {
			continue
		}
		out = append(out, []rune(names[i][len(word):]+suffix))
	}
	return out
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// optionNames lists a command's declared options ("-o", "-x", ...).
func (c *completer) optionNames(cmd string) []string {
	cm, ok := c.sh.Session.Registry.Lookup(cmd)
	if !ok {
		return nil
	}
	out := cm.OptionFlags()
	sort.Strings(out)
	return out
}

func (c *completer) types() *symbols.Types {
	k := c.sh.Session.Kernel
	if k == nil || k.Vmlinux == nil {
		return nil
	}
	ts, err := k.Vmlinux.Types()
	if err != nil {
		return nil
	}
	return ts
}

// typeNames lists the struct and union names (for whatis also typedefs,
// enums, variables and functions) beginning with word.
func (c *completer) typeNames(cmd, word string) []string {
	ts := c.types()
	if ts == nil || word == "" {
		return nil
	}
	kinds := []symbols.Kind{symbols.KindStruct, symbols.KindUnion}
	switch cmd {
	case "union":
		kinds = []symbols.Kind{symbols.KindUnion}
	case "whatis", "ptype":
		kinds = append(kinds, symbols.KindTypedef, symbols.KindEnum, symbols.KindVariable, symbols.KindFunction)
	}
	return ts.Index().Names(word, kinds...)
}

// memberNames lists the members of the struct or union that path names:
// "task_struct", or "task_struct.se" for the members of a member.
func (c *completer) memberNames(path string) []string {
	ts := c.types()
	if ts == nil {
		return nil
	}
	name, sub, _ := strings.Cut(path, ".")
	t, err := ts.Lookup(name)
	if err != nil {
		return nil
	}
	if sub != "" {
		m, err := t.MemberPath(sub)
		if err != nil {
			return nil
		}
		t = m.Type
	}
	var out []string
	var walk func(t *symbols.Type, depth int)
	walk = func(t *symbols.Type, depth int) {
		t = t.Strip()
		if t == nil || depth > 8 {
			return
		}
		ms, _ := t.Members()
		for _, m := range ms {
			if m.Name == "" {
				walk(m.Type, depth+1) // anonymous: its members are the struct's
			} else {
				out = append(out, m.Name)
			}
		}
	}
	walk(t, 0)
	sort.Strings(out)
	return out
}

func (c *completer) symbolNames() []string {
	if c.symbols == nil && c.sh.Session.Kernel != nil && c.sh.Session.Kernel.Vmlinux != nil {
		syms := c.sh.Session.Kernel.Syms.Symbols()
		c.symbols = make([]string, 0, len(syms))
		for _, s := range syms {
			c.symbols = append(c.symbols, s.Name)
		}
		sort.Strings(c.symbols)
	}
	return c.symbols
}
