package commands

import (
	"context"
	"fmt"
	"io"

	"github.com/gocrash/gocrash/kernel"
)

func setCommand() *Command {
	return &Command{
		Name:     "set",
		Synopsis: "set [pid | task | -p] | set scroll [on | off] | set output [text | json]",
		Summary:  "set a process context or the output pager",
		Help: `With no argument, shows the current context: the task that commands such as
vtop -u and rd -u work on. At start it is the task that panicked. With a PID
or task_struct address, makes that task the context; -p returns to the task
that panicked.

"set scroll" shows whether output is paged; "set scroll on" sends each
command's output through the pager (the PAGER environment variable, else
"less -F -X", which exits at once when the output fits on the screen), "set
scroll off" writes it straight out. Paging is on by default at a terminal
and never happens in batch runs, nor for output that is piped or
redirected.

"set output json" prints each later command's result as one line of JSON
(docs/json.md), as 'gocrash --json' does; "set output text" returns to
crash's text. Output sent to a shell pipeline or the pager stays text.`,
		Options: []Option{{"-p", "the task that panicked"}, {"scroll on|off", "page command output (at a terminal)"},
			{"output text|json", "print results as crash's text or as JSON"}},
		Examples: []string{"gocrash> set", "gocrash> set 1", "gocrash> set -p", "gocrash> set scroll off",
			"gocrash> set scroll\nscroll: off", "gocrash> set output json"},
		Results: []Result{&TaskContext{}, Message{}},
		Run:     runSet,
	}
}

// TaskContext is what set shows: the current context's task.
type TaskContext struct {
	TaskRef
	State  kernel.TaskState `json:"state"`
	Panic  bool             `json:"panic"`  // the task that panicked
	Active bool             `json:"active"` // running on its CPU
}

func (c *TaskContext) Text(w io.Writer) error {
	state := c.State.Long()
	switch {
	case c.Panic:
		state += " (PANIC)"
	case c.Active:
		state += " (ACTIVE)"
	}
	kv := KeyValues{}
	kv.Add("PID", "%d", c.PID)
	kv.Add("COMMAND", "%q", c.Command)
	kv.Add("TASK", "%x  [THREAD_INFO: %x]", uint64(c.Task), uint64(c.Task))
	kv.Add("CPU", "%d", c.CPU)
	kv.Add("STATE", "%s", state)
	return kv.Text(w)
}

func runSet(ctx context.Context, s *Session, a *Args) (Result, error) {
	args := a.Words
	if len(args) > 0 {
		switch args[0] {
		case "scroll":
			return setScroll(s, args[1:])
		case "output":
			return setOutput(s, args[1:])
		}
	}
	switch {
	case len(args) > 1:
		return nil, &UsageError{"one PID or task address at most"}
	case a.Has("p"):
		if len(args) > 0 {
			return nil, &UsageError{"-p takes no task"}
		}
		s.context = 0
	case len(args) == 1:
		t, err := contextTask(s, args[0])
		if err != nil {
			return nil, err
		}
		s.context = t
	}
	addr, err := s.ContextTask()
	if err != nil {
		return nil, err
	}
	t, err := s.Kernel.FindTask(addr)
	if err != nil {
		return nil, err
	}
	panicTask, _ := s.Kernel.PanicTask()
	return &TaskContext{TaskRef: taskRef(t), State: t.StateName(), Panic: t.Addr == panicTask, Active: t.Active}, nil
}

// ContextTask is the current context's task_struct address: the task set
// by 'set', else the task that panicked.
func (s *Session) ContextTask() (uint64, error) {
	if s.context != 0 {
		return s.context, nil
	}
	return s.Kernel.PanicTask()
}

// contextOrPanic is the task for -u reads: the one -c names, else the
// current context.
func contextOrPanic(s *Session, arg string) (uint64, error) {
	if arg == "" {
		return s.ContextTask()
	}
	return contextTask(s, arg)
}

// setScroll shows or changes whether output goes through the pager.
func setScroll(s *Session, args []string) (Result, error) {
	switch {
	case len(args) > 1:
		return nil, &UsageError{"set scroll [on | off]"}
	case len(args) == 1 && args[0] == "on":
		s.Scroll = true
	case len(args) == 1 && args[0] == "off":
		s.Scroll = false
	case len(args) == 1:
		return nil, &UsageError{fmt.Sprintf("invalid scroll setting %q: on or off", args[0])}
	}
	switch {
	case !s.Scroll:
		return Message{"scroll: off"}, nil
	case s.Pager == "":
		return Message{"scroll: on (no pager: not at a terminal)"}, nil
	}
	return Message{fmt.Sprintf("scroll: on (%s)", s.Pager)}, nil
}

// setOutput shows or changes the output format: crash's text, or JSON.
func setOutput(s *Session, args []string) (Result, error) {
	switch {
	case len(args) > 1:
		return nil, &UsageError{"set output [text | json]"}
	case len(args) == 1 && args[0] == "text":
		s.Output = OutputText
	case len(args) == 1 && args[0] == "json":
		s.Output = OutputJSON
	case len(args) == 1:
		return nil, &UsageError{fmt.Sprintf("invalid output format %q: text or json", args[0])}
	}
	return Message{"output: " + s.Output.String()}, nil
}
