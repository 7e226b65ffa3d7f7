package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"
)

func repeatCommand() *Command {
	return &Command{
		Name:     "repeat",
		Synopsis: "repeat [-seconds] command",
		Summary:  "repeat a command",
		Help: `Runs a command again and again, printing each run's output, until Ctrl-C
stops it (or the command fails), with -seconds between runs. It is meant for
a live kernel; on a dump every run prints the same. Its output has no end,
so repeat has no JSON form.`,
		Options:  []Option{{"-seconds", "wait this many seconds between runs (it must come before the command)"}},
		Examples: []string{"gocrash> repeat -1 p jiffies"},
		RawArgs:  true,
		Results:  []Result{&RepeatResult{}},
		Run:      runRepeat,
	}
}

// RepeatResult runs its command each time it is printed, until the
// context is done.
type RepeatResult struct {
	Command  []string `json:"command"`
	Interval float64  `json:"interval_seconds"`

	ctx context.Context
	s   *Session
}

var repeatDelayRE = regexp.MustCompile(`^-([0-9]+)$`)

func runRepeat(ctx context.Context, s *Session, a *Args) (Result, error) {
	words := a.Words
	r := &RepeatResult{ctx: ctx, s: s}
	if len(words) > 0 {
		if m := repeatDelayRE.FindStringSubmatch(words[0]); m != nil {
			n, _ := strconv.Atoi(m[1])
			r.Interval = float64(n)
			words = words[1:]
		}
	}
	if len(words) == 0 {
		return nil, &UsageError{"a command to repeat is required"}
	}
	if s.Output == OutputJSON {
		return nil, fmt.Errorf("its output never ends, so it has no JSON form")
	}
	if _, ok := s.Registry.Lookup(words[0]); !ok && !s.Registry.TakesExpression(words[0]) && !s.isDataType(words[0]) {
		return nil, fmt.Errorf("%s: command not found", words[0])
	}
	r.Command = words
	return r, nil
}

// Text runs the command until the context is done, writing each run's
// output; a failing run ends it with its error.
func (r *RepeatResult) Text(w io.Writer) error {
	for {
		if err := r.ctx.Err(); err != nil {
			return nil
		}
		if err := r.s.Registry.Run(r.ctx, r.s, append([]string(nil), r.Command...), w); err != nil {
			if errors.Is(err, context.Canceled) || r.ctx.Err() != nil {
				return nil
			}
			return err
		}
		if r.Interval > 0 {
			t := time.NewTimer(time.Duration(r.Interval * float64(time.Second)))
			select {
			case <-r.ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
	}
}
