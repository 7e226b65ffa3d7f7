// Package repl owns how commands reach gocrash: the interactive prompt and
// scripted batch runs (command files and standard input), splitting lines
// into words and keeping the exit status honest (0 when every command
// succeeded, 1 when any failed). Line editing, history, completion, pipes and
// redirection are to come here too.
package repl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/gocrash/gocrash/commands"
)

// Options configures a run.
type Options struct {
	Prompt string // printed before each line when non-empty
	Out    io.Writer
	Err    io.Writer
}

// Result counts what happened.
type Result struct {
	Commands, Failed int
	Quit             bool // the input asked to leave (q, quit, exit)
}

// Run reads command lines from in until EOF or quit.
func Run(ctx context.Context, s *commands.Session, in io.Reader, o Options) Result {
	var res Result
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		if o.Prompt != "" {
			fmt.Fprint(o.Out, o.Prompt)
		}
		if !sc.Scan() {
			if o.Prompt != "" {
				fmt.Fprintln(o.Out)
			}
			return res
		}
		words, err := Split(sc.Text())
		if err != nil {
			fmt.Fprintf(o.Err, "%v\n", err)
			res.Failed++
			continue
		}
		if len(words) == 0 || strings.HasPrefix(words[0], "#") {
			continue
		}
		switch words[0] {
		case "q", "quit", "exit":
			res.Quit = true
			return res
		}
		res.Commands++
		if err := RunOne(ctx, s, words, o.Out); err != nil {
			fmt.Fprintf(o.Err, "%v\n", err)
			res.Failed++
		}
	}
}

// RunOne runs one command, turning a Go panic inside it into an error that
// names the command, so the session goes on.
func RunOne(ctx context.Context, s *commands.Session, words []string, out io.Writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: internal error: %v\n%s", words[0], p, firstFrames(debug.Stack()))
		}
	}()
	return s.Registry.Run(ctx, s, words, out)
}

func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 12 {
		lines = lines[:12]
	}
	return strings.Join(lines, "\n")
}

// Split breaks a command line into words, honouring single and double
// quotes and backslash escapes.
func Split(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	esc := false
	for _, r := range line {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\' && quote != '\'':
			esc, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
