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
		Synopsis: "set [pid | task | -p] | set scroll [on | off]",
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
redirected.`,
		Options: []Option{{"-p", "the task that panicked"}, {"scroll on|off", "page command output (at a terminal)"}},
		Examples: []string{"gocrash> set", "gocrash> set 1", "gocrash> set -p", "gocrash> set scroll off",
			"gocrash> set scroll\nscroll: off"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			if len(args) > 0 && args[0] == "scroll" {
				return setScroll(s, args[1:], out)
			}
			switch {
			case len(args) > 1:
				return &UsageError{"one PID or task address at most"}
			case len(args) == 1 && args[0] == "-p":
				s.context = 0
			case len(args) == 1:
				t, err := contextTask(s, args[0])
				if err != nil {
					return err
				}
				s.context = t
			}
			addr, err := s.ContextTask()
			if err != nil {
				return err
			}
			t, err := s.Kernel.FindTask(addr)
			if err != nil {
				return err
			}
			panicTask, _ := s.Kernel.PanicTask()
			state := longState(t)
			switch {
			case t.Addr == panicTask:
				state += " (PANIC)"
			case t.Active:
				state += " (ACTIVE)"
			}
			kv := KeyValues{}
			kv.Add("PID", "%d", t.PID)
			kv.Add("COMMAND", "%q", t.Comm)
			kv.Add("TASK", "%x  [THREAD_INFO: %x]", t.Addr, t.Addr)
			kv.Add("CPU", "%d", t.CPU)
			kv.Add("STATE", "%s", state)
			return kv.Render(out)
		},
	}
}

// ContextTask is the current context's task_struct address: the task set
// by 'set', else the task that panicked.
func (s *Session) ContextTask() (uint64, error) {
	if s.context != 0 {
		return s.context, nil
	}
	return s.Kernel.PanicTask()
}

// longState names a task's state as the kernel's TASK_* constants do.
func longState(t kernel.Task) string {
	return map[string]string{
		"RU": "TASK_RUNNING", "IN": "TASK_INTERRUPTIBLE", "UN": "TASK_UNINTERRUPTIBLE",
		"ST": "TASK_STOPPED", "TR": "TASK_TRACED", "ZO": "EXIT_ZOMBIE", "DE": "EXIT_DEAD",
		"PA": "TASK_PARKED", "WA": "TASK_WAKING", "ID": "TASK_IDLE", "NE": "TASK_NEW",
	}[t.StateName()]
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
func setScroll(s *Session, args []string, out io.Writer) error {
	switch {
	case len(args) > 1:
		return &UsageError{"set scroll [on | off]"}
	case len(args) == 1 && args[0] == "on":
		s.Scroll = true
	case len(args) == 1 && args[0] == "off":
		s.Scroll = false
	case len(args) == 1:
		return &UsageError{fmt.Sprintf("invalid scroll setting %q: on or off", args[0])}
	}
	switch {
	case !s.Scroll:
		fmt.Fprintln(out, "scroll: off")
	case s.Pager == "":
		fmt.Fprintln(out, "scroll: on (no pager: not at a terminal)")
	default:
		fmt.Fprintf(out, "scroll: on (%s)\n", s.Pager)
	}
	return nil
}
