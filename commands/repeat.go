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
		Synopsis: "repeat [-seconds] [-n count] command",
		Summary:  "repeat a command",
		Help: `Runs a command again and again, printing each run's output, until Ctrl-C
stops it (or the command fails), with -seconds between runs. It is meant for
a live kernel; on a dump every run prints the same. -n stops after count
runs (gocrash's; crash has no such option). Output that never ends has no
JSON form: under JSON output, -n is required, and the runs' results come
as one list.`,
		Options: []Option{
			{"-seconds", "wait this many seconds between runs (it must come before the command)"},
			{"-n count", "stop after count runs (before the command)"},
		},
		Examples: []string{"gocrash> repeat -1 p jiffies", "gocrash> repeat -n 3 -1 p jiffies"},
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
	// Count is -n's number of runs (0: until Ctrl-C).
	Count int `json:"count,omitempty"`
	// Runs are the runs' results, gathered under JSON output (-n).
	Runs []Result `json:"runs,omitempty"`

	ctx context.Context
	s   *Session
}

var repeatDelayRE = regexp.MustCompile(`^-([0-9]+)$`)

func runRepeat(ctx context.Context, s *Session, a *Args) (Result, error) {
	words := a.Words
	r := &RepeatResult{ctx: ctx, s: s}
	for len(words) > 0 {
		if m := repeatDelayRE.FindStringSubmatch(words[0]); m != nil {
			n, _ := strconv.Atoi(m[1])
			r.Interval = float64(n)
			words = words[1:]
			continue
		}
		if words[0] == "-n" && len(words) > 1 {
			n, err := strconv.Atoi(words[1])
			if err != nil || n <= 0 {
				return nil, &UsageError{"invalid count: " + words[1]}
			}
			r.Count = n
			words = words[2:]
			continue
		}
		break
	}
	if len(words) == 0 {
		return nil, &UsageError{"a command to repeat is required"}
	}
	if s.Output == OutputJSON && r.Count == 0 {
		return nil, fmt.Errorf("its output never ends, so it has no JSON form: give -n count")
	}
	if _, ok := s.Registry.Lookup(words[0]); !ok && !s.Registry.TakesExpression(words[0]) && !s.isDataType(words[0]) {
		return nil, fmt.Errorf("%s: command not found", words[0])
	}
	r.Command = words
	if s.Output == OutputJSON {
		for i := 0; i < r.Count; i++ {
			if i > 0 && !r.wait() {
				break
			}
			res, err := s.Registry.Exec(ctx, s, append([]string(nil), words...))
			if err != nil {
				return r, err
			}
			r.Runs = append(r.Runs, res)
		}
	}
	return r, nil
}

// wait sleeps the interval; false when the context ended it.
func (r *RepeatResult) wait() bool {
	if r.Interval <= 0 {
		return r.ctx.Err() == nil
	}
	t := time.NewTimer(time.Duration(r.Interval * float64(time.Second)))
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Text runs the command until the context is done, writing each run's
// output; a failing run ends it with its error.
func (r *RepeatResult) Text(w io.Writer) error {
	if r.Runs != nil {
		for _, res := range r.Runs {
			if err := res.Text(w); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; r.Count == 0 || i < r.Count; i++ {
		if err := r.ctx.Err(); err != nil {
			return nil
		}
		if i > 0 && !r.wait() {
			return nil
		}
		if err := r.s.Registry.Run(r.ctx, r.s, append([]string(nil), r.Command...), w); err != nil {
			if errors.Is(err, context.Canceled) || r.ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}
