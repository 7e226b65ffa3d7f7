package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func foreachCommand() *Command {
	return &Command{
		Name:     "foreach",
		Synopsis: "foreach [pid | task | name | 'regex' | state | user | kernel | gleader | active] ... bt [bt options]",
		Summary:  "display command data for multiple tasks",
		Help: `Runs a command for every task, or for the tasks the selectors choose: a PID, a
task_struct address, a command name, a 'regex' matched against command names,
a state (RU, IN, UN, ST, TR, ZO, DE, PA, WA, ID, NE), user (user tasks), kernel
(kernel threads), gleader (thread group leaders) or active (the task running on
each CPU). Several selectors choose the tasks any of them chooses, within the
user/kernel/gleader/active restrictions. The tasks are taken in PID order. The
command is bt, with any of bt's options.`,
		Options: []Option{
			{"pid | task", "the task with this PID or task_struct address"},
			{"name | 'regex'", "tasks whose command is name, or matches the regular expression"},
			{"state", "tasks in this state (RU, IN, UN, ST, TR, ZO, DE, PA, WA, ID, NE)"},
			{"user", "user tasks only"},
			{"kernel", "kernel threads only"},
			{"gleader", "thread group leaders only"},
			{"active", "the task running on each CPU only"},
		},
		Examples: []string{"gocrash> foreach bt", "gocrash> foreach UN bt", "gocrash> foreach user bt -s", "gocrash> foreach 'kworker.*' bt"},
		Run:      runForeach,
	}
}

// foreachCommands are the commands foreach can run, by name.
func foreachCommands() map[string]func(ctx context.Context, s *Session, tasks []kernel.Task, args []string, out io.Writer) error {
	return map[string]func(ctx context.Context, s *Session, tasks []kernel.Task, args []string, out io.Writer) error{
		"bt": func(ctx context.Context, s *Session, tasks []kernel.Task, args []string, out io.Writer) error {
			o, err := parseBTOptions(args)
			if err != nil {
				return err
			}
			if len(o.args) > 0 || o.all || len(o.cpus) > 0 || o.panic {
				return &UsageError{"foreach bt takes bt's display options only; choose tasks before bt"}
			}
			return btTasks(ctx, s, tasks, o, out)
		},
	}
}

// taskStates are the state names foreach accepts.
func taskStates() map[string]bool {
	return map[string]bool{"RU": true, "IN": true, "UN": true, "ST": true, "TR": true, "ZO": true, "DE": true,
		"PA": true, "WA": true, "ID": true, "NE": true}
}

func runForeach(ctx context.Context, s *Session, args []string, out io.Writer) error {
	cmds := foreachCommands()
	ci := -1
	for i, a := range args {
		if _, ok := cmds[a]; ok {
			ci = i
			break
		}
	}
	if ci < 0 {
		return &UsageError{"no command given (foreach runs: bt)"}
	}
	var user, kthread, leaders, active bool
	var states, filters []string
	for _, a := range args[:ci] {
		switch {
		case a == "user":
			user = true
		case a == "kernel":
			kthread = true
		case a == "gleader":
			leaders = true
		case a == "active":
			active = true
		case taskStates()[strings.ToUpper(a)] && a == strings.ToUpper(a):
			states = append(states, a)
		default:
			filters = append(filters, a)
		}
	}
	tasks, err := s.Kernel.Tasks()
	if err != nil {
		return err
	}
	var chosen []kernel.Task
	for _, t := range tasks {
		if user && t.Kthread() || kthread && !t.Kthread() || leaders && t.PID != t.TGID || active && !t.Active {
			continue
		}
		if len(states) > 0 && !contains(states, t.StateName()) {
			continue
		}
		ok, err := matches(t, filters)
		if err != nil {
			return err
		}
		if ok {
			chosen = append(chosen, t)
		}
	}
	if len(chosen) == 0 {
		return fmt.Errorf("no task matches %s", strings.Join(args[:ci], " "))
	}
	return cmds[args[ci]](ctx, s, chosen, args[ci+1:], out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
