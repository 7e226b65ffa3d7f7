package repl

import (
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
	} else if word != "" && !strings.HasPrefix(word, "-") {
		names = c.symbolNames()
	}
	var out [][]rune
	i := sort.SearchStrings(names, word)
	for ; i < len(names) && strings.HasPrefix(names[i], word) && len(out) < 200; i++ {
		if i > 0 && names[i] == names[i-1] {
			continue
		}
		out = append(out, []rune(names[i][len(word):]+" "))
	}
	return out, len([]rune(word))
}

func (c *completer) symbolNames() []string {
	if c.symbols == nil && c.sh.Session.Kernel != nil && c.sh.Session.Kernel.Vmlinux != nil {
		syms := c.sh.Session.Kernel.Vmlinux.Symbols()
		c.symbols = make([]string, 0, len(syms))
		for _, s := range syms {
			c.symbols = append(c.symbols, s.Name)
		}
		sort.Strings(c.symbols)
	}
	return c.symbols
}
