package commands

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func psCommand() *Command {
	return &Command{
		Name:     "ps",
		Synopsis: "ps [-k|-u|-G] [-A] [-p|-c|-S] [pid | task | command | 'regex'] ...",
		Summary:  "display process status information",
		Help: `Lists every task of the crashed kernel, the per-CPU idle tasks included,
sorted by PID: its PID, parent's PID, the CPU it last ran on, the address of its
task_struct, its state (RU running, IN interruptible, UN uninterruptible, ST
stopped, TR traced, ZO zombie, DE dead, PA parked, WA waking, ID idle, NE new),
its share of memory, virtual size and resident size in KiB, and its command.
The task running on each CPU when the kernel stopped is marked with ">".
Kernel threads are shown as [comm]. Tasks may be chosen by PID, task_struct
address, command name, or a regular expression in single quotes.`,
		Options: []Option{
			{"-k", "kernel threads only"},
			{"-u", "user tasks only"},
			{"-G", "thread group leaders only"},
			{"-A", "the tasks that were running on a CPU only"},
			{"-p", "each chosen task's parentage, from the idle task down"},
			{"-c", "each chosen task's children"},
			{"-S", "a count of tasks in each state"},
			{"pid", "the task with this PID"},
			{"task", "the task whose task_struct is at this hexadecimal address"},
			{"command", "tasks with this command name"},
			{"'regex'", "tasks whose command matches the regular expression"},
		},
		Examples: []string{"gocrash> ps", "gocrash> ps -u", "gocrash> ps 1", "gocrash> ps sleep", "gocrash> ps 'kworker.*'", "gocrash> ps -p 104", "gocrash> ps -c 1", "gocrash> ps -S"},
		Run:      runPS,
	}
}

type psOptions struct {
	kernelOnly, userOnly, leaders, active, parents, children, summary bool
	filters                                                           []string
}

func runPS(ctx context.Context, s *Session, args []string, out io.Writer) error {
	var o psOptions
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' {
			for _, c := range a[1:] {
				switch c {
				case 'k':
					o.kernelOnly = true
				case 'u':
					o.userOnly = true
				case 'G':
					o.leaders = true
				case 'A':
					o.active = true
				case 'p':
					o.parents = true
				case 'c':
					o.children = true
				case 'S':
					o.summary = true
				default:
					return &UsageError{"invalid option: -" + string(c)}
				}
			}
			continue
		}
		o.filters = append(o.filters, a)
	}
	k := s.Kernel
	tasks, err := k.Tasks()
	if err != nil {
		return err
	}
	var chosen []kernel.Task
	for _, t := range tasks {
		kt := t.Kthread()
		if o.kernelOnly && !kt || o.userOnly && kt || o.leaders && t.PID != t.TGID || o.active && !t.Active {
			continue
		}
		ok, err := matches(t, o.filters)
		if err != nil {
			return err
		}
		if ok {
			chosen = append(chosen, t)
		}
	}
	switch {
	case o.summary:
		return psSummary(chosen, out)
	case o.parents:
		return psParents(tasks, chosen, out)
	case o.children:
		return psChildren(tasks, chosen, out)
	}
	mem, _ := k.MemorySize()
	ps := k.Arch.PageSize()
	fmt.Fprintln(out, "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM")
	for _, t := range chosen {
		if err := ctx.Err(); err != nil {
			return err
		}
		mark := "  "
		if t.Active {
			mark = "> "
		}
		pct := 0.0
		if mem > 0 {
			pct = float64(t.RSS*ps) * 100 / float64(mem)
		}
		fmt.Fprintf(out, "%s%7d %7d %3d  %016x  %2s  %4.1f %8d %8d  %s\n", mark, t.PID, t.PPID, t.CPU, t.Addr,
			t.StateName(), pct, t.TotalVM*ps/1024, t.RSS*ps/1024, displayComm(t))
	}
	return nil
}

func displayComm(t kernel.Task) string {
	if t.Kthread() {
		return "[" + t.Comm + "]"
	}
	return t.Comm
}

// TaskHeader is the one-line task header crash prints for ps -p/-c, set,
// task and bt.
func TaskHeader(t kernel.Task) string {
	return fmt.Sprintf("PID: %-7d  TASK: %016x  CPU: %-3d  COMMAND: %q", t.PID, t.Addr, t.CPU, t.Comm)
}

func psSummary(tasks []kernel.Task, out io.Writer) error {
	counts := map[string]int{}
	for _, t := range tasks {
		counts[t.StateName()]++
	}
	var names []string
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(out, "  %s: %d\n", n, counts[n])
	}
	return nil
}

// psParents prints each task's line of ancestors, the oldest first, each
// generation indented one more space.
func psParents(all, chosen []kernel.Task, out io.Writer) error {
	byAddr := map[uint64]kernel.Task{}
	for _, t := range all {
		byAddr[t.Addr] = t
	}
	for i, t := range chosen {
		if i > 0 {
			fmt.Fprintln(out)
		}
		line := []kernel.Task{t}
		for cur := t; cur.PID != 0 && len(line) < 1000; {
			p, ok := byAddr[cur.Parent]
			if !ok || p.Addr == cur.Addr {
				break
			}
			line = append(line, p)
			cur = p
		}
		for depth := 0; depth < len(line); depth++ {
			fmt.Fprintf(out, "%s%s\n", strings.Repeat(" ", depth), TaskHeader(line[len(line)-1-depth]))
		}
	}
	return nil
}

// psChildren prints each task and, indented, the tasks whose parent it is.
func psChildren(all, chosen []kernel.Task, out io.Writer) error {
	for i, t := range chosen {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out, TaskHeader(t))
		n := 0
		for _, c := range all {
			if c.Parent == t.Addr && c.Addr != t.Addr && c.PID != 0 {
				fmt.Fprintf(out, "  %s\n", TaskHeader(c))
				n++
			}
		}
		if n == 0 {
			fmt.Fprintln(out, "  (no children)")
		}
	}
	return nil
}

// matches reports whether t is one of the tasks the arguments name: a PID,
// a task_struct address, a command, or a 'regex' on the command.
func matches(t kernel.Task, filters []string) (bool, error) {
	if len(filters) == 0 {
		return true, nil
	}
	for _, f := range filters {
		if len(f) > 2 && f[0] == '\'' && f[len(f)-1] == '\'' {
			re, err := regexp.Compile(f[1 : len(f)-1])
			if err != nil {
				return false, fmt.Errorf("invalid regular expression %s: %v", f, err)
			}
			if re.MatchString(t.Comm) {
				return true, nil
			}
			continue
		}
		if pid, err := strconv.ParseInt(f, 10, 32); err == nil && int32(pid) == t.PID {
			return true, nil
		}
		if a, err := strconv.ParseUint(strings.TrimPrefix(f, "0x"), 16, 64); err == nil && a == t.Addr && len(f) > 8 {
			return true, nil
		}
		if f == t.Comm {
			return true, nil
		}
		// The shell-like splitting of the command line removes the quotes
		// around a 'regex': a word with regular-expression characters is
		// tried as one too.
		if strings.ContainsAny(f, ".*+?[]()|^$\\") {
			if re, err := regexp.Compile("^(?:" + f + ")$"); err == nil && re.MatchString(t.Comm) {
				return true, nil
			}
		}
	}
	return false, nil
}
