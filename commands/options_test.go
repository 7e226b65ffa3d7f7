package commands

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel"
)

func TestParseArgs(t *testing.T) {
	opts := []Option{{"-a", ""}, {"-s", ""}, {"-x", ""}, {"-d", ""}, {"-c cpu", ""}, {"-8", ""}, {"-16", ""}, {"/x, -h", ""}, {"pid", ""}}
	for _, c := range []struct {
		words   []string
		has     string // options given, in order of a.seen
		c       []string
		words2  []string
		last    string // of x, d
		errText string
	}{
		{words: []string{"-sx", "1"}, has: "sx", words2: []string{"1"}, last: "x"},
		{words: []string{"1", "-s", "-d", "-x", "-d"}, has: "sdxd", words2: []string{"1"}, last: "d"},
		{words: []string{"-c0", "-c", "2-3"}, has: "cc", c: []string{"0", "2-3"}},
		{words: []string{"-ac1"}, has: "ac", c: []string{"1"}},
		{words: []string{"-16", "addr"}, has: "16", words2: []string{"addr"}},
		{words: []string{"-8", "addr"}, has: "8", words2: []string{"addr"}},
		{words: []string{"-1", "-h"}, has: "h", words2: []string{"-1"}},
		{words: []string{"--", "-a"}, words2: []string{"-a"}},
		{words: []string{"-", "x"}, words2: []string{"-", "x"}},
		{words: []string{"-q"}, errText: "invalid option: -q"},
		{words: []string{"-sq"}, errText: "invalid option: -q"},
		{words: []string{"-c"}, errText: "-c needs a value"},
	} {
		a, err := ParseArgs(opts, c.words)
		if c.errText != "" {
			var ue *UsageError
			if err == nil || !errors.As(err, &ue) || err.Error() != c.errText {
				t.Errorf("%q: error %v, want usage error %q", c.words, err, c.errText)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.words, err)
			continue
		}
		seen := strings.Join(a.seen, "")
		if seen != c.has || !reflect.DeepEqual(a.Values("c"), c.c) || !reflect.DeepEqual(a.Words, c.words2) || a.Last("x", "d") != c.last {
			t.Errorf("%q: seen %q c %q words %q last %q", c.words, seen, a.Values("c"), a.Words, a.Last("x", "d"))
		}
	}
	a, _ := ParseArgs(opts, []string{"-a", "-s"})
	if err := a.Exclusive("a", "s"); err == nil || err.Error() != "-a and -s are mutually exclusive" {
		t.Errorf("Exclusive: %v", err)
	}
	if got := (&Command{Options: opts}).OptionFlags(); !reflect.DeepEqual(got, []string{"-a", "-s", "-x", "-d", "-c", "-8", "-16", "-h"}) {
		t.Errorf("OptionFlags %q", got)
	}
}

func TestSelectTasks(t *testing.T) {
	tasks := []kernel.Task{
		{PID: 0, TGID: 0, Addr: 0xffff000000001000, Comm: "swapper/0"},
		{PID: 0, TGID: 0, Addr: 0xffff000000002000, Comm: "swapper/1", CPU: 1},
		{PID: 1, TGID: 1, Addr: 0xffff000000003000, Comm: "init"},
		{PID: 7, TGID: 7, Addr: 0xffff000000004000, Comm: "kworker/0:1"},
		{PID: 8, TGID: 1, Addr: 0xffff000000005000, Comm: "init"},
		{PID: 9, TGID: 9, Addr: 0xffff000000006000, Comm: "sleep"},
	}
	pids := func(ts []kernel.Task) (out []int32) {
		for _, t := range ts {
			out = append(out, t.PID)
		}
		return out
	}
	for _, c := range []struct {
		words []string
		want  []int32
	}{
		{nil, []int32{0, 0, 1, 7, 8, 9}},
		{[]string{"0"}, []int32{0, 0}},
		{[]string{"9", "1"}, []int32{1, 9}},
		{[]string{"ffff000000004000"}, []int32{7}},
		{[]string{"0xffff000000006000"}, []int32{9}},
		{[]string{"init"}, []int32{1, 8}},
		{[]string{"'kw.*'"}, []int32{7}},
		{[]string{"kworker.*"}, []int32{7}},
		{[]string{"swapper/1"}, []int32{0}},
		{[]string{"nothing"}, nil},
	} {
		got, err := selectTasks(tasks, c.words)
		if err != nil || !reflect.DeepEqual(pids(got), c.want) {
			t.Errorf("%q: %v %v, want %v", c.words, pids(got), err, c.want)
		}
	}
	if _, err := selectTasks(tasks, []string{"'('"}); err == nil {
		t.Error("a bad 'regex' is an error")
	}
	for w, want := range map[string]uint64{"0": 0xffff000000001000, "8": 0xffff000000005000, "ffff000000006000": 0xffff000000006000} {
		if got, err := oneTask(tasks, w); err != nil || got.Addr != want {
			t.Errorf("oneTask(%s) = %x %v, want %x", w, got.Addr, err, want)
		}
	}
	if _, err := oneTask(tasks, "init"); err == nil || err.Error() != "invalid task or pid value: init" {
		t.Errorf("oneTask(init): %v", err)
	}
}

// TestEveryCommandDeclares: each command declares its result types (the
// JSON schema is generated from them) and options the parser reads.
func TestEveryCommandDeclares(t *testing.T) {
	for _, c := range NewRegistry().Commands() {
		if len(c.Results) == 0 {
			t.Errorf("%s declares no result types", c.Name)
		}
		if c.Run == nil || c.Summary == "" || c.Synopsis == "" {
			t.Errorf("%s: no Run, summary or synopsis", c.Name)
		}
	}
	var b strings.Builder
	NewRegistry().WriteJSONSchema(&b)
	if strings.Contains(b.String(), undocumentedJSON) {
		t.Errorf("docs/json.md has a type writing its own JSON without a jsonShape:\n%s", b.String())
	}
}
