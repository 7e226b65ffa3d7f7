package repl

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
)

func TestSplit(t *testing.T) {
	cases := map[string][]string{
		"":                       nil,
		"sys":                    {"sys"},
		"  struct  task_struct ": {"struct", "task_struct"},
		`ps 'a b' "c d" e\ f`:    {"ps", "a b", "c d", "e f"},
		`echo "it's"`:            {"echo", "it's"},
	}
	for in, want := range cases {
		got, err := Split(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Split(`ps "open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestBatchStatusAndPanic(t *testing.T) {
	reg := commands.NewRegistry()
	s := &commands.Session{Registry: reg}
	var out, errs bytes.Buffer
	// 'help' works without a kernel; 'nosuch' fails; 'sys' with a nil kernel
	// panics inside the command and must come back as an error.
	res := Run(context.Background(), s, strings.NewReader("help\nnosuch\nsys\n# comment\nhelp sys\nquit\nhelp\n"), Options{Out: &out, Err: &errs})
	if res.Commands != 4 || res.Failed != 2 || !res.Quit {
		t.Errorf("result %+v, errors:\n%s", res, errs.String())
	}
	if !strings.Contains(errs.String(), "nosuch: command not found") {
		t.Errorf("missing not-found message: %q", errs.String())
	}
	if !strings.Contains(errs.String(), "sys: internal error:") {
		t.Errorf("panic not reported as internal error: %q", errs.String())
	}
	if !strings.Contains(out.String(), "SYNOPSIS") {
		t.Errorf("help sys output: %q", out.String())
	}
	_ = io.Discard
}
