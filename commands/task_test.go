package commands

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel"
)

func TestFormatRunTime(t *testing.T) {
	const hz = 250
	for _, c := range []struct {
		start, now uint64
		want       string
	}{
		// 8 s of uptime, a task started 0.94 s after boot: crash counts
		// the start in whole seconds (0), so it has run 8 s.
		{938764435, 8 * hz, "00:00:08"},
		// started at 1.09 s: 1 s in jiffies taken from 8 s.
		{1086764435, 8*hz + 100, "00:00:07"},
		// a start after "now" (jiffies lag the clock): 0, never negative.
		{9e9, 8 * hz, "00:00:00"},
		{0, (2*86400 + 3*3600 + 4*60 + 5) * hz, "2 days, 03:04:05"},
		{0, 86400 * hz, "1 days, 00:00:00"},
	} {
		if got := FormatRunTime(c.start, c.now, hz); got != c.want {
			t.Errorf("FormatRunTime(%d, %d) = %q, want %q", c.start, c.now, got, c.want)
		}
	}
}

func TestFormatSinceRun(t *testing.T) {
	for ns, want := range map[uint64]string{
		0:                     "0 00:00:00.000",
		999999:                "0 00:00:00.000",
		1000000:               "0 00:00:00.001",
		9161234567:            "0 00:00:09.161",
		3723004000000:         "0 01:02:03.004",
		(86400*12 + 59) * 1e9: "12 00:00:59.000",
	} {
		if got := FormatSinceRun(ns); got != want {
			t.Errorf("FormatSinceRun(%d) = %q, want %q", ns, got, want)
		}
	}
	// ps -m pads the days to the width of the runqueue clock's.
	if got := padDays("3 00:00:01.000", "12 00:00:02.000"); got != " 3 00:00:01.000" {
		t.Errorf("padDays: %q", got)
	}
	if got := padDays("0 00:00:01.000", "0 00:00:02.000"); got != "0 00:00:01.000" {
		t.Errorf("padDays without extra days: %q", got)
	}
}

func TestFormatTaskArgs(t *testing.T) {
	const hdr = `PID: 99       TASK: ffff8dde02600000  CPU: 1    COMMAND: "sleep"`
	for _, c := range []struct {
		name string
		u    kernel.UserArgs
		want string
	}{
		{"kernel thread", kernel.UserArgs{}, hdr + "\nps: no user stack\n\n"},
		{"args and env", kernel.UserArgs{MM: 1, Args: []byte("sleep\x001000\x00"), Env: []byte("HOME=/\x00TERM=linux\x00")},
			hdr + "\nARG: sleep 1000 \nENV: HOME=/\n     TERM=linux\n\n"},
		// Empty strings (consecutive NULs) add nothing, as in crash.
		{"empty strings", kernel.UserArgs{MM: 1, Args: []byte("a\x00\x00b\x00"), Env: []byte("\x00X=1\x00")},
			hdr + "\nARG: a b \nENV:      X=1\n\n"},
		// No environment at all: crash ends with two blank lines' worth.
		{"no env", kernel.UserArgs{MM: 1, Args: []byte("init\x00"), Env: nil}, hdr + "\nARG: init \nENV: \n\n"},
		{"args excluded", kernel.UserArgs{MM: 1, ArgStart: 0x7ffc1000, ArgErr: &kernel.UserReadError{Addr: 0x7ffc1000, Err: fmt.Errorf("excluded")}},
			hdr + "\nps: cannot access user stack address: 7ffc1000\n\n"},
		// The environment failing leaves crash's ARG line open.
		{"env excluded", kernel.UserArgs{MM: 1, Args: []byte("sh\x00"), EnvErr: &kernel.UserReadError{Addr: 0x7ffc2000, Err: fmt.Errorf("not mapped")}},
			hdr + "\nARG: sh ps: cannot access user stack address: 7ffc2000\n\n"},
	} {
		if got := FormatTaskArgs(hdr, c.u); got != c.want {
			t.Errorf("%s:\n%q\nwant\n%q", c.name, got, c.want)
		}
	}
}

// TestMemberLines picks members out of a printed struct as crash's task -R
// does: the member's line, and the block it opens up to its closing line.
func TestMemberLines(t *testing.T) {
	printed := strings.Split(strings.TrimSuffix(`struct task_struct {
  thread_info = {
    flags = 0,
    cpu = 1
  },
  __state = 0,
  usage = {
    refs = {
      counter = 1
    }
  },
  pid_links = {{
      next = 0x0,
      pprev = 0x0
    }, {
      next = 0x0,
      pprev = 0x0
    }},
  cpus_mask = {
    bits = {3, 0}
  },
  perf_event_ctxp = {0x0, 0x0},
  comm = "init\000",
  flags = 4194560,
  {
    randomized = 7,
    inner = {
      a = 1
    },
  },
  last = 9
}

struct thread_info {
  flags = 0,
  cpu = 1
}`, "\n"), "\n")
	for _, c := range []struct{ member, want string }{
		{"__state", "  __state = 0,\n"},
		{"usage", "  usage = {\n    refs = {\n      counter = 1\n    }\n  },\n"},
		{"pid_links", "  pid_links = {{\n      next = 0x0,\n      pprev = 0x0\n    }, {\n      next = 0x0,\n      pprev = 0x0\n    }},\n"},
		{"cpus_mask", "  cpus_mask = {\n    bits = {3, 0}\n  },\n"},
		// A one-line array: that line only (crash runs on to the next
		// "},", printing the members after it).
		{"perf_event_ctxp", "  perf_event_ctxp = {0x0, 0x0},\n"},
		// In task_struct and in thread_info: both lines, as crash.
		{"flags", "  flags = 4194560,\n  flags = 0,\n"},
		{"thread_info", "  thread_info = {\n    flags = 0,\n    cpu = 1\n  },\n"},
		// Members of a randomized layout's unnamed block.
		{"randomized", "    randomized = 7,\n"},
		{"inner", "    inner = {\n      a = 1\n    },\n"},
		{"last", "  last = 9\n"},
		{"refs", ""}, // not a top-level member
	} {
		if got := memberLines(printed, c.member); got != c.want {
			t.Errorf("%s:\n%q\nwant\n%q", c.member, got, c.want)
		}
	}
}

func TestTaskArgumentWords(t *testing.T) {
	tasks := []kernel.Task{{Addr: 0xffffffffbac1aa40, PID: 0, CPU: 0}, {Addr: 0xffff8dde01256000, PID: 0, CPU: 1},
		{Addr: 0xffff8dde011f8000, PID: 1, Comm: "init"}, {Addr: 0xffff8dde02600000, PID: 99, Comm: "sleep"}}
	// task reads a task argument by the selector's byNumber (a PID, every
	// task with it, else a task_struct address), then byName.
	tasksNamedBy := func(tasks []kernel.Task, w string) ([]kernel.Task, bool) {
		a, _ := parseTaskArg(w)
		got := a.byNumber(tasks)
		return got, len(got) > 0
	}
	tasksByComm := func(tasks []kernel.Task, w string) []kernel.Task {
		a, _ := parseTaskArg(w)
		return a.byName(tasks)
	}
	if got, ok := tasksNamedBy(tasks, "0"); !ok || len(got) != 2 {
		t.Errorf("task 0: %v, want both idle tasks", got)
	}
	if got, ok := tasksNamedBy(tasks, "ffff8dde02600000"); !ok || len(got) != 1 || got[0].PID != 99 {
		t.Errorf("task address: %v", got)
	}
	if got, ok := tasksNamedBy(tasks, "0xffff8dde011f8000"); !ok || got[0].PID != 1 {
		t.Errorf("task 0x address: %v", got)
	}
	if _, ok := tasksNamedBy(tasks, "12345"); ok {
		t.Error("an unknown PID chose a task")
	}
	if got := tasksByComm(tasks, "sleep"); len(got) != 1 || got[0].PID != 99 {
		t.Errorf("by command: %v", got)
	}
	for w, want := range map[string]bool{"123": true, "ffff8dde": true, "0x1f": true, "comm": false, "se.on_rq": false, "0x": false} {
		if isNumberWord(w) != want {
			t.Errorf("isNumberWord(%q) = %v", w, !want)
		}
	}
}
