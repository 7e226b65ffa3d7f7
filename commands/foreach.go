package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
)

func foreachCommand() *Command {
	return &Command{
		Name:     "foreach",
		Synopsis: "foreach [[pid | taskp | name | 'regex' | state | [kernel | user | gleader] | active] ...] command [flag] [argument]",
		Summary:  "display command data for multiple tasks in the system",
		Help: `Runs a command for every task, or for the tasks the selectors choose: a PID, a
task_struct address, a command name (a "\" before it when it is also a
command's name), a 'regex' matched against command names, a state (one of
RU, IN, UN, ST, TR, ZO, DE, PA, WA, ID, NE, SW), user (user tasks), kernel
(kernel threads), gleader (user thread group leaders) or active (the task
running on each CPU). PIDs, addresses, names and regexes choose the tasks
any of them chooses; the state and user/kernel/gleader/active restrict
them. The tasks are taken in PID order.

The command is the first word that names a command: crash's bt, vm, task,
files, net, set, ps, sig and vtop, or any other gocrash command that acts on
the current context's task. Every word after it, flags and arguments, goes
to the command ("foreach UN bt -l", "foreach 'kworker.*' task -R state",
"foreach user vtop -u 400000"); flags before it go to the command too. The
command runs once per task with that task as the context (bt and ps list
the tasks themselves), each task's output after its "PID: ..." header and
a blank line between tasks, as crash prints them.`,
		Options: []Option{
			{"pid | taskp", "the task with this PID or task_struct address"},
			{"name | 'regex'", "tasks whose command is name, or matches the regular expression"},
			{"state", "tasks in this state (RU, IN, UN, ST, TR, ZO, DE, PA, WA, ID, NE, SW)"},
			{"user", "user tasks only"},
			{"kernel", "kernel threads only"},
			{"gleader", "user thread group leaders only"},
			{"active", "the task running on each CPU only"},
			{"command [flag] [argument]", "bt, vm, task, files, net, set, ps, sig, vtop, or another command run per task, with its flags and arguments"},
		},
		Examples: []string{"gocrash> foreach bt", "gocrash> foreach UN bt -l", "gocrash> foreach user bt -s",
			"gocrash> foreach 'kworker.*' task -R state", "gocrash> foreach bash task", "gocrash> foreach RU ps",
			"gocrash> foreach active set", "gocrash> foreach 1 2 vtop -k ffffffff81000000"},
		Results: append([]Result{&BTResult{}, &ForeachResult{}, FilesResults{}, VMResults{}}, psCommand().Results...),
		RawArgs: true,
		Run:     runForeach,
	}
}

// ForeachResult is a command's result for each task foreach chose (bt
// and ps give their own results, listing the tasks).
type ForeachResult struct {
	Command string        `json:"command"`
	Tasks   []ForeachTask `json:"tasks"`
}

// ForeachTask is the command's result for one task, or its error.
type ForeachTask struct {
	TaskRef
	Result Result `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

func (r *ForeachResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	prev := ""
	shown := 0
	for _, t := range r.Tasks {
		if o, ok := t.Result.(interface{ Omitted() bool }); ok && o.Omitted() && t.Error == "" {
			continue // nothing for this task (net -R without the reference)
		}
		i := shown
		shown++
		var b strings.Builder
		if t.Result != nil {
			if err := t.Result.Text(&b); err != nil {
				return err
			}
		}
		out := b.String()
		// A command that prints the task's header itself (task, vm,
		// files, sig...) is not given a second one. Past the first task,
		// a blank line comes before each task's block, unless the last
		// block ended with one (task's does).
		own := strings.HasPrefix(out, t.Header()+"\n")
		if i > 0 && (!own || !strings.HasSuffix(prev, "\n\n")) {
			tw.println("")
		}
		if !own {
			tw.println(t.Header())
		}
		tw.printf("%s", out)
		prev = out
		if t.Error != "" {
			tw.println(t.Error)
		}
	}
	return tw.err
}

// foreachSelection is what the words before the command choose.
type foreachSelection struct {
	user, kthread, leaders, active bool
	state                          kernel.TaskState
	filters                        []string
}

func (f *foreachSelection) keeps(t kernel.Task) bool {
	switch {
	case f.user && t.Kthread(), f.kthread && !t.Kthread(), f.leaders && t.PID != t.TGID, f.active && !t.Active:
		return false
	case f.state != "" && t.StateName() != f.state:
		return false
	}
	return true
}

func runForeach(ctx context.Context, s *Session, fa *Args) (Result, error) {
	args := fa.Words
	var sel foreachSelection
	var flags []string
	ci := -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		if _, ok := s.Registry.Lookup(a); ok && a != "foreach" {
			ci = i
			break
		}
		switch {
		case (a == "-R" || a == "-y") && i+1 < len(args):
			// crash's foreach flags that take a value (a reference or
			// member list, a scheduling policy).
			flags = append(flags, a, args[i+1])
			i++
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
		case a == "user" || a == "gleader":
			if sel.kthread {
				return nil, fmt.Errorf("%s and kernel are mutually exclusive!", a)
			}
			sel.user = true
			sel.leaders = sel.leaders || a == "gleader"
		case a == "kernel":
			if sel.user {
				return nil, fmt.Errorf("user and kernel are mutually exclusive!")
			}
			sel.kthread = true
		case a == "active":
			sel.active = true
		default:
			name := strings.TrimPrefix(a, `\`)
			if st, ok := kernel.ParseTaskState(name); ok && name == strings.ToUpper(name) {
				if sel.state != "" {
					return nil, fmt.Errorf("only one task state allowed")
				}
				sel.state = st
				continue
			}
			sel.filters = append(sel.filters, name)
		}
	}
	if ci < 0 {
		return nil, fmt.Errorf("no keywords specified")
	}
	name := args[ci]
	sub, _ := s.Registry.Lookup(name)
	subWords := append(slices.Clone(flags), args[ci+1:]...)
	tasks, missing, err := readTasks(s.Kernel)
	if err != nil {
		return nil, err
	}
	named, err := selectTasks(tasks, sel.filters)
	if err != nil {
		return nil, err
	}
	if len(sel.filters) > 0 {
		// Each word must choose a task: crash's "unknown argument".
		for _, w := range sel.filters {
			if got, _ := selectTasks(tasks, []string{w}); len(got) == 0 {
				return nil, fmt.Errorf("unknown argument: %q", w)
			}
		}
	}
	var chosen []kernel.Task
	for _, t := range named {
		if sel.keeps(t) {
			chosen = append(chosen, t)
		}
	}
	var subArgs *Args
	if sub.RawArgs {
		subArgs = &Args{Words: subWords}
	} else if subArgs, err = ParseArgs(sub.Options, subWords); err != nil {
		return nil, fmt.Errorf("%s: %w", sub.Name, err)
	}
	if len(chosen) == 0 && sub.Name != "bt" {
		// No task chosen: nothing printed, as crash prints nothing.
		return &ForeachResult{Command: sub.Name, Tasks: []ForeachTask{}}, nil
	}
	switch sub.Name {
	case "bt":
		o, err := btOptionsOf(subArgs)
		if err != nil {
			return nil, err
		}
		if len(o.args) > 0 || o.all || len(o.cpus) > 0 || o.panic {
			return nil, &UsageError{"foreach bt takes bt's display options only; choose tasks before bt"}
		}
		res, err := btTasks(ctx, s, chosen, o)
		if res == nil {
			return withMissing(nil, err, missing)
		}
		return withMissing(res, err, missing)
	case "ps":
		// One listing of the chosen tasks, under one header.
		words := slices.Clone(subWords)
		for _, t := range chosen {
			words = append(words, fmt.Sprintf("0x%x", t.Addr))
		}
		psArgs, err := ParseArgs(sub.Options, words)
		if err != nil {
			return nil, fmt.Errorf("ps: %w", err)
		}
		return sub.Run(ctx, s, psArgs)
	case "files":
		// One result over the tasks: -R leaves out the tasks without
		// the reference, as crash's foreach files -R does.
		res, err := foreachFiles(ctx, s, chosen, subArgs)
		return withMissing(res, err, missing)
	case "vm":
		res, err := foreachVM(ctx, s, chosen, subArgs)
		return withMissing(res, err, missing)
	}
	saved := s.context
	defer func() { s.context = saved }()
	res := &ForeachResult{Command: sub.Name, Tasks: make([]ForeachTask, 0, len(chosen))}
	var objs linesError
	for _, t := range chosen {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		s.context = t.Addr
		r, err := sub.Run(ctx, s, subArgs)
		ft := ForeachTask{TaskRef: taskRef(t), Result: r}
		if err != nil {
			if ctx.Err() != nil {
				res.Tasks = append(res.Tasks, ft)
				return res, err
			}
			if sub.Name == "net" && lostObjects(err) {
				// What the dump lacks costs those objects: the task's
				// result shows the rest, and the command fails with one
				// line for each ("PID N: net: OBJECT ADDR: REASON").
				for _, l := range errorLines(err) {
					objs = append(objs, fmt.Errorf("PID %d: %s: %s", t.PID, sub.Name, l))
				}
			} else {
				ft.Error = sub.Name + ": " + err.Error()
			}
		}
		res.Tasks = append(res.Tasks, ft)
	}
	if len(objs) > 0 {
		return withMissing(res, objs, missing)
	}
	return withMissing(res, nil, missing)
}

// lostObjects says whether err is a failure to read what the dump lacks
// (a page excluded, outside the dump, cut off or corrupt, or the objects
// a kernel walk left out), rather than a refusal of the task.
func lostObjects(err error) bool {
	var (
		u  kernel.UnreadableObjectsError
		ex *memory.ExcludedError
		nd *memory.NotInDumpError
		tr *memory.TruncatedError
		cp *memory.CorruptPageError
	)
	return errors.As(err, &u) || errors.As(err, &ex) || errors.As(err, &nd) || errors.As(err, &tr) || errors.As(err, &cp)
}
