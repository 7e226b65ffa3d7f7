package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
)

// sloppyResult writes its lines and ignores every write error, as a
// command's Text might.
type sloppyResult struct{}

func (sloppyResult) Text(w io.Writer) error {
	for range 3 {
		fmt.Fprintln(w, "a line")
	}
	return nil
}

type fullWriter struct{ writes int }

func (f *fullWriter) Write(p []byte) (int, error) {
	f.writes++
	return 0, errors.New("no space left on device")
}

// TestWriteErrorFailsTheCommand: a write error fails the command (text
// and JSON), whatever its Text does with the error, and only once.
func TestWriteErrorFailsTheCommand(t *testing.T) {
	reg := commands.NewRegistry()
	for _, c := range reg.Commands() {
		// Every command's result goes through the same path: give each
		// a result that drops its write errors.
		c.Run = func(context.Context, *commands.Session, *commands.Args) (commands.Result, error) {
			return sloppyResult{}, nil
		}
		c.RawArgs = true
	}
	s := &commands.Session{Registry: reg}
	for _, format := range []commands.Output{commands.OutputText, commands.OutputJSON} {
		for _, c := range reg.Commands() {
			s.Output = format
			var errs strings.Builder
			full := &fullWriter{}
			sh := &Shell{Session: s, Out: full, Err: &errs}
			sh.RunLine(context.Background(), c.Name)
			if sh.Failed != 1 || !strings.Contains(errs.String(), c.Name+": write error: no space left on device") {
				t.Errorf("%s (%v) to a full disk: %d failed, stderr %q", c.Name, format, sh.Failed, errs.String())
			}
			if full.writes != 1 {
				t.Errorf("%s (%v): %d writes after the first failed", c.Name, format, full.writes-1)
			}
		}
	}
}

type nilResult struct{ x int }

func (r *nilResult) Text(w io.Writer) error { _, err := fmt.Fprintln(w, r.x); return err }

// TestTypedNilResult: a command returning (*T)(nil) with its error prints
// the error, not a Go panic in the renderer.
func TestTypedNilResult(t *testing.T) {
	reg := commands.NewRegistry()
	c, _ := reg.Lookup("help")
	c.Run = func(context.Context, *commands.Session, *commands.Args) (commands.Result, error) {
		var r *nilResult
		return r, errors.New("nothing")
	}
	var out, errs strings.Builder
	sh := &Shell{Session: &commands.Session{Registry: reg}, Out: &out, Err: &errs}
	sh.RunLine(context.Background(), "help")
	if sh.Failed != 1 || errs.String() != "help: nothing\n" || out.Len() != 0 {
		t.Errorf("%d failed, stdout %q, stderr %q", sh.Failed, out.String(), errs.String())
	}
}
