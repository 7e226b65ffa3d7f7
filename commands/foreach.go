package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func foreachCommand() *Command {
	return &Command{
		Name:     "foreach",
		Synopsis: "foreach [pid | task | name | 'regex' | state | user | kernel | gleader | active] ... bt|files|vm [options]",
		Summary:  "display command data for multiple tasks",
		Help: `Runs a command for every task, or for the tasks the selectors choose: a PID, a
task_struct address, a command name, a 'regex' matched against command names,
a state (RU, IN, UN, ST, TR, ZO, DE, PA, WA, ID, NE), user (user tasks), kernel
(kernel threads), gleader (thread group leaders) or active (the task running on
each CPU). Several selectors choose the tasks any of them chooses, within the
user/kernel/gleader/active restrictions. The tasks are taken in PID order. The
command is bt, files or vm, with their options.`,
		Options: []Option{
			{"pid | task", "the task with this PID or task_struct address"},
			{"name | 'regex'", "tasks whose command is name, or matches the regular expression"},
			{"state", "tasks in this state (RU, IN, UN, ST, TR, ZO, DE, PA, WA, ID, NE)"},
			{"user", "user tasks only"},
			{"kernel", "kernel threads only"},
			{"gleader", "thread group leaders only"},
			{"active", "the task running on each CPU only"},
		},
		Examples: []string{"gocrash> foreach files -R /dev/null", "gocrash> foreach vm -R /bin/busybox", "gocrash> foreach bt", "gocrash> foreach UN bt", "gocrash> foreach user bt -s", "gocrash> foreach 'kworker.*' bt"},
		Results:  []Result{&BTResult{}, FilesResults{}, VMResults{}},
		RawArgs:  true,
		Run:      runForeach,
	}
}

// foreachCommands are the commands foreach can run, by name: each gathers
// its result for the chosen tasks from its own parsed options.
func foreachCommands() map[string]func(ctx context.Context, s *Session, tasks []kernel.Task, a *Args) (Result, error) {
	return map[string]func(ctx context.Context, s *Session, tasks []kernel.Task, a *Args) (Result, error){
		"bt": func(ctx context.Context, s *Session, tasks []kernel.Task, a *Args) (Result, error) {
			o, err := btOptionsOf(a)
			if err != nil {
				return nil, err
			}
			if len(o.args) > 0 || o.all || len(o.cpus) > 0 || o.panic {
				return nil, &UsageError{"foreach bt takes bt's display options only; choose tasks before bt"}
			}
			return btTasks(ctx, s, tasks, o)
		},
		"files": foreachFiles,
		"vm":    foreachVM,
	}
}

func runForeach(ctx context.Context, s *Session, fa *Args) (Result, error) {
	args := fa.Words
	cmds := foreachCommands()
	ci := -1
	for i, a := range args {
		if _, ok := cmds[a]; ok {
			ci = i
			break
		}
	}
	if ci < 0 {
		return nil, &UsageError{"no command given (foreach runs: bt, files, vm)"}
	}
	var user, kthread, leaders, active bool
	var states []kernel.TaskState
	var filters []string
	for _, a := range args[:ci] {
		switch a {
		case "user":
			user = true
		case "kernel":
			kthread = true
		case "gleader":
			leaders = true
		case "active":
			active = true
		default:
			if st, ok := kernel.ParseTaskState(a); ok {
				states = append(states, st)
			} else {
				filters = append(filters, a)
			}
		}
	}
	sub, _ := s.Registry.Lookup(args[ci])
	subArgs, err := ParseArgs(sub.Options, args[ci+1:])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", args[ci], err)
	}
	tasks, err := s.Kernel.Tasks()
	if err != nil {
		return nil, err
	}
	named, err := selectTasks(tasks, filters)
	if err != nil {
		return nil, err
	}
	var chosen []kernel.Task
	for _, t := range named {
		if user && t.Kthread() || kthread && !t.Kthread() || leaders && t.PID != t.TGID || active && !t.Active {
			continue
		}
		if len(states) > 0 && !slices.Contains(states, t.StateName()) {
			continue
		}
		chosen = append(chosen, t)
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("no task matches %s", strings.Join(args[:ci], " "))
	}
	return cmds[args[ci]](ctx, s, chosen, subArgs)
}
