// Package repl owns how commands reach gocrash: the interactive prompt
// (line editing, history, tab completion) and scripted runs (command files,
// standard input), command lines with pipes ("ps | grep sleep"),
// redirection ("log > file"), shell escapes ("!date") and command files
// ("< cmds"), aliases, and an honest exit status: the number of commands
// that failed.
package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/gocrash/gocrash/commands"
)

// Shell runs command lines against a session.
type Shell struct {
	Session *commands.Session
	Out     io.Writer
	Err     io.Writer
	// Commands and Failed count what ran.
	Commands, Failed int
	// Colour shows error messages in red (a terminal, NO_COLOR unset).
	Colour bool
	depth  int    // nesting of "< file"
	where  string // "FILE:LINE" of the command file line running, else ""
}

// ColourWanted reports whether output to a terminal may use colour: not
// when NO_COLOR is set (https://no-color.org) or TERM is "dumb".
func ColourWanted(isTerminal bool) bool {
	return isTerminal && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// DefaultPager is the pager command for 'set scroll on': $PAGER, else
// "less -F -X" (which exits at once when the output fits the screen),
// else "more"; empty when there is none.
func DefaultPager() string {
	if p := strings.TrimSpace(os.Getenv("PAGER")); p != "" {
		return p
	}
	if _, err := exec.LookPath("less"); err == nil {
		return "less -F -X"
	}
	if _, err := exec.LookPath("more"); err == nil {
		return "more"
	}
	return ""
}

// errQuit is returned by RunLine for q, quit and exit.
var errQuit = errors.New("quit")

// IsQuit reports whether err asks to leave the session.
func IsQuit(err error) bool { return errors.Is(err, errQuit) }

// RunReader runs every line of in; it returns errQuit when a line asked to
// leave.
func (sh *Shell) RunReader(ctx context.Context, in io.Reader) error {
	return sh.runReader(ctx, in, "")
}

// runReader runs every line of in; name is the command file's (its
// errors are then prefixed "NAME:LINE: "), "" for standard input.
func (sh *Shell) runReader(ctx context.Context, in io.Reader, name string) error {
	saved := sh.where
	defer func() { sh.where = saved }()
	r := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		line, long, err := readLine(r, maxLineLen)
		if name != "" {
			sh.where = fmt.Sprintf("%s:%d", name, n)
		}
		if long {
			// One failed command, and the session goes on.
			sh.fail(fmt.Errorf("line %d: longer than %d bytes: not run", n, maxLineLen))
		} else if line != "" || err == nil {
			if rerr := sh.RunLine(ctx, line); IsQuit(rerr) {
				return rerr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// maxLineLen bounds a command line read from a file or standard input.
const maxLineLen = 1 << 20

// readLine reads one line (without its newline) of at most max bytes; a
// longer one is read to its end and dropped (long). err is io.EOF at the
// end of the input, after the last line.
func readLine(r *bufio.Reader, max int) (line string, long bool, err error) {
	var b []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(b)+len(chunk) > max+1 {
			long = true
			b = b[:0]
		} else if !long {
			b = append(b, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if long {
			return "", true, err
		}
		return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), false, err
	}
}

// RunFile runs the command lines of a file.
func (sh *Shell) RunFile(ctx context.Context, path string) error {
	if sh.depth > 8 {
		return fmt.Errorf("%s: command files nested too deep", path)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		// A FIFO would wait for a writer, a device never end.
		return fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sh.depth++
	defer func() { sh.depth-- }()
	return sh.runReader(ctx, f, path)
}

// RunLine runs one command line. Errors are printed as "CMD: message" and
// counted; only quitting is returned.
func (sh *Shell) RunLine(ctx context.Context, raw string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.HasPrefix(raw, "#") {
		return nil
	}
	raw = sh.expandAlias(raw)
	// Ctrl-C stops what this line runs, not the session.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	go func() {
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
		}
	}()
	var l Line
	var err error
	if w := strings.Fields(raw); len(w) > 0 && sh.Session != nil && sh.Session.Registry != nil && sh.Session.Registry.TakesExpression(w[0]) {
		l, err = ParseExpressionLine(raw)
	} else {
		l, err = ParseLine(raw)
	}
	if err != nil {
		return sh.fail(err)
	}
	switch {
	case l.Shell != "":
		return sh.count(sh.shell(ctx, l.Shell, nil))
	case l.Input != "":
		err := sh.RunFile(ctx, l.Input)
		if IsQuit(err) {
			return err
		}
		if err != nil {
			return sh.fail(err)
		}
		return nil
	case len(l.Words) == 0:
		return sh.fail(fmt.Errorf("no command before %q", raw))
	}
	switch l.Words[0] {
	case "q", "quit", "exit":
		return errQuit
	}
	err = sh.runCommand(ctx, raw, l)
	var shown *shownError
	if errors.As(err, &shown) {
		// Already written as the command's JSON envelope: counted, not
		// printed again.
		sh.Commands++
		sh.Failed++
		return nil
	}
	return sh.count(err)
}

// shownError is a command's error that the JSON renderer has written to
// the command's output.
type shownError struct{ err error }

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

func (sh *Shell) count(err error) error {
	if err != nil {
		return sh.fail(err)
	}
	sh.Commands++
	return nil
}

func (sh *Shell) fail(err error) error {
	sh.Commands++
	sh.Failed++
	if sh.where != "" {
		// A command file's line: say which ("~/.gocrashrc:3: ...").
		err = fmt.Errorf("%s: %w", sh.where, err)
	}
	if sh.Colour {
		fmt.Fprintf(sh.Err, "\033[31m%v\033[0m\n", err)
	} else {
		fmt.Fprintln(sh.Err, err)
	}
	return nil
}

// expandAlias replaces a leading alias with its text.
func (sh *Shell) expandAlias(raw string) string {
	first, rest, _ := strings.Cut(raw, " ")
	if a, ok := sh.Session.Aliases[first]; ok {
		return strings.TrimSpace(a + " " + rest)
	}
	return raw
}

// runCommand runs a gocrash command with its output sent where the line
// says: as the session's output format to the terminal or a file, as text
// to a shell pipeline or the pager.
func (sh *Shell) runCommand(ctx context.Context, raw string, l Line) error {
	switch {
	case l.Redirect != "":
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if l.Append {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(l.Redirect, flags, 0o644)
		if err != nil {
			return fmt.Errorf("%s: %v", l.Words[0], err)
		}
		err = RunOne(ctx, sh.Session, raw, l.Words, f, sh.Session.Output)
		if e := f.Close(); err == nil && e != nil {
			err = fmt.Errorf("%s: %v", l.Words[0], e)
		}
		return err
	case l.Pipe != "":
		return sh.pipe(ctx, l.Words, l.Pipe)
	case sh.Session.Scroll && sh.Session.Pager != "" && sh.Session.Output == commands.OutputText:
		return sh.pipe(ctx, l.Words, sh.Session.Pager)
	}
	return RunOne(ctx, sh.Session, raw, l.Words, sh.Out, sh.Session.Output)
}

// pipe runs a gocrash command with its output read by a shell command
// line (a pipeline, or the pager).
func (sh *Shell) pipe(ctx context.Context, words []string, cmdline string) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- sh.shell(ctx, cmdline, pr) }()
	err := RunOne(ctx, sh.Session, "", words, pw, commands.OutputText)
	pw.Close()
	shellErr := <-done
	pr.Close()
	if err != nil && (errors.Is(err, io.ErrClosedPipe) || errors.Is(err, syscall.EPIPE)) {
		err = nil // the pipeline stopped reading (head, grep -m, q in the pager)
	}
	if err == nil {
		err = shellErr
	}
	return err
}

// shell runs a command line with /bin/sh, its input from in (nil: none).
func (sh *Shell) shell(ctx context.Context, cmdline string, in io.Reader) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", cmdline)
	if in != nil {
		cmd.Stdin = in
	}
	cmd.Stdout, cmd.Stderr = sh.Out, sh.Err
	err := cmd.Run()
	if in != nil {
		io.Copy(io.Discard, in) // let the writer finish if the shell quit early
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && in != nil && ctx.Err() == nil && ee.ExitCode() >= 0 {
		return nil // grep finding nothing is not gocrash's failure
	}
	// Ctrl-C reaches the shell too (one process group): it may die of
	// SIGINT before the context is cancelled.
	interrupted := ctx.Err() != nil
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
			interrupted = true
		}
	}
	if interrupted {
		return fmt.Errorf("!%s: interrupted", cmdline)
	}
	if err != nil {
		return fmt.Errorf("!%s: %v", cmdline, err)
	}
	return nil
}

// RunOne runs one command and writes its result to out in the format
// given: crash's text, or one line of JSON for the command line as typed
// (line), which then carries the error too (returned as a shownError). A
// Go panic inside the command becomes an error that names the command, so
// the session goes on.
func RunOne(ctx context.Context, s *commands.Session, line string, words []string, out io.Writer, format commands.Output) (err error) {
	var res commands.Result
	func() {
		defer func() {
			if p := recover(); p != nil {
				res, err = nil, fmt.Errorf("%s: internal error: %v\n%s", words[0], p, firstFrames(debug.Stack()))
			}
		}()
		res, err = s.Registry.Exec(ctx, s, words)
	}()
	if v := reflect.ValueOf(res); res != nil && v.Kind() == reflect.Pointer && v.IsNil() {
		res = nil // a command's (*T)(nil), err: nothing was gathered
	}
	// Every write of the result goes through ew, so that a write error
	// (a full disk, a closed standard output) fails the command whatever
	// its Text does with the errors it gets.
	ew := &errWriter{w: out}
	if format == commands.OutputJSON {
		if werr := commands.WriteJSON(ew, line, res, err); werr != nil || ew.err != nil {
			return writeError(words[0], ew.err, werr)
		}
		if err != nil {
			return &shownError{err}
		}
		return nil
	}
	if res != nil {
		werr := res.Text(ew)
		if ew.err != nil || werr != nil {
			if err == nil {
				return writeError(words[0], ew.err, werr)
			}
			return fmt.Errorf("%w\n%w", err, writeError(words[0], ew.err, werr))
		}
	}
	return err
}

// errWriter passes writes to w and keeps the first error: every later
// write fails with it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = err
	}
	return n, err
}

// writeError is a command's failure to write its output: the writer's own
// error first, else the one the renderer returned. A pipeline that stopped
// reading keeps its EPIPE, which pipe() forgives.
func writeError(name string, werr, rerr error) error {
	if werr == nil {
		werr = rerr
	}
	if errors.Is(werr, io.ErrClosedPipe) || errors.Is(werr, syscall.EPIPE) {
		return werr
	}
	return fmt.Errorf("%s: write error: %w", name, werr)
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
