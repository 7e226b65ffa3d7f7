package commands

import (
	"context"
	"strings"
	"testing"
	"time"
)

// cancelAfter is a writer that cancels a context after n writes.
type cancelAfter struct {
	b      strings.Builder
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.b.Write(p)
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return len(p), nil
}

// TestRepeat runs a command until the context ends, with and without a
// delay, and refuses what it cannot repeat.
func TestRepeat(t *testing.T) {
	s := &Session{Registry: NewRegistry()}
	for _, line := range []string{"repeat ascii 41", "repeat -0 ascii 41"} {
		ctx, cancel := context.WithCancel(context.Background())
		w := &cancelAfter{n: 3, cancel: cancel}
		if err := s.Registry.Run(ctx, s, strings.Fields(line), w); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := strings.Repeat("0000000000000041: A<NUL><NUL><NUL><NUL><NUL><NUL><NUL>\n", 3)
		if w.b.String() != want {
			t.Errorf("%s: %q, want %q", line, w.b.String(), want)
		}
		cancel()
	}
	// A delay: Ctrl-C (the context) ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var b strings.Builder
	start := time.Now()
	if err := s.Registry.Run(ctx, s, strings.Fields("repeat -60 ascii 4142"), &b); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("repeat -60: %q after %v", b.String(), time.Since(start))
	}
	for _, c := range []struct{ line, want string }{
		{"repeat", "a command to repeat is required"},
		{"repeat -5", "a command to repeat is required"},
		{"repeat nosuchcommand", "nosuchcommand: command not found"},
		{"repeat ascii zz", "ascii: invalid input"},
	} {
		err := s.Registry.Run(context.Background(), s, strings.Fields(c.line), &b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.line, err, c.want)
		}
	}
	b.Reset()
	if err := s.Registry.Run(context.Background(), s, strings.Fields("repeat -n 2 ascii 41"), &b); err != nil || b.String() != strings.Repeat("0000000000000041: A<NUL><NUL><NUL><NUL><NUL><NUL><NUL>\n", 2) {
		t.Errorf("repeat -n 2: %q, %v", b.String(), err)
	}
	s.Output = OutputJSON
	if err := s.Registry.Run(context.Background(), s, strings.Fields("repeat ascii 41"), &b); err == nil {
		t.Error("repeat under JSON output without -n: no error")
	}
	res, err := s.Registry.Exec(context.Background(), s, strings.Fields("repeat -n 3 ascii 41"))
	if err != nil {
		t.Fatal(err)
	}
	var j strings.Builder
	if err := WriteJSON(&j, "repeat -n 3 ascii 41", res, nil); err != nil || strings.Count(j.String(), `"text":"A\u003cNUL\u003e`) != 3 && strings.Count(j.String(), `"text":"A<NUL>`) != 3 {
		t.Errorf("repeat -n 3 JSON: %s %v", j.String(), err)
	}
}
