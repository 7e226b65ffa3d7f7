package commands

import (
	"errors"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// Damaged dumps: an unreadable object costs that object, not the command.
// A command that lists tasks reads what it can (readTasks), gathers its
// result from that, and returns the objects it could not read beside it
// (withMissing); the renderer prints the result, then one line per
// missing object ("ps: cannot read task_struct ADDR: REASON"), and the
// command counts as failed.

// readTasks returns the tasks a dump lets be read and, apart, the error
// naming those it does not (nil when none is missing); err is any other
// failure, which stops the command.
func readTasks(k *kernel.Kernel) (tasks []kernel.Task, missing, err error) {
	tasks, err = k.Tasks()
	var u *kernel.UnreadableTasksError
	if errors.As(err, &u) {
		return tasks, u, nil
	}
	return tasks, nil, err
}

// linesError is several errors, one line each, each to be printed after
// the command's name as its own message.
type linesError []error

func (e linesError) Error() string { return strings.Join(e.Lines(), "\n") }

// Lines is every error's lines.
func (e linesError) Lines() []string {
	var out []string
	for _, err := range e {
		out = append(out, errorLines(err)...)
	}
	return out
}

func (e linesError) Unwrap() []error { return e }

// errorLines is an error's text split into the messages it holds.
func errorLines(err error) []string {
	if l, ok := err.(interface{ Lines() []string }); ok {
		return l.Lines()
	}
	return []string{err.Error()}
}

// withMissing returns a command's result with the objects it could not
// read (missing) reported after its own error, if any. A usage error is
// returned alone: nothing was gathered.
func withMissing(res Result, err, missing error) (Result, error) {
	var usage *UsageError
	switch {
	case missing == nil || errors.As(err, &usage):
		return res, err
	case err == nil:
		return res, linesError{missing}
	}
	return res, linesError{missing, err}
}

// prefixLines puts the command's name before each message of a
// several-line error ("CMD: message" per object), and before the whole
// of any other.
func prefixLines(name string, err error) error {
	if _, ok := err.(interface{ Lines() []string }); !ok {
		return nil
	}
	lines := errorLines(err)
	for i, l := range lines {
		lines[i] = name + ": " + l
	}
	return &prefixedError{text: strings.Join(lines, "\n"), err: err}
}

type prefixedError struct {
	text string
	err  error
}

func (e *prefixedError) Error() string { return e.text }
func (e *prefixedError) Unwrap() error { return e.err }

// lookupTasks returns the tasks a dump lets be read, for a command that
// looks tasks up rather than lists them: a task that cannot be read is
// then one that is not found.
func lookupTasks(k *kernel.Kernel) ([]kernel.Task, error) {
	tasks, _, err := readTasks(k)
	return tasks, err
}

// partialErr adds err to missing and says so when it names objects a
// kernel walk could not read and left out (the rest having been read),
// rather than a failure that stops the command.
func partialErr(err error, missing *linesError) bool {
	var u kernel.UnreadableObjectsError
	if !errors.As(err, &u) {
		return false
	}
	*missing = append(*missing, err)
	return true
}
