package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/gocrash/gocrash/kernel"
)

func psCommand() *Command {
	return &Command{
		Name:     "ps",
		Synopsis: "ps [-k|-u] [pid | task | command] ...",
		Summary:  "display process status information",
		Help: `Lists every task of the crashed kernel, the per-CPU idle tasks included,
sorted by PID: its PID, parent's PID, the CPU it last ran on, the address of its
task_struct, its state (RU running, IN interruptible, UN uninterruptible, ST
stopped, TR traced, ZO zombie, DE dead, PA parked, WA waking, ID idle, NE new),
its share of memory, virtual size and resident size in KiB, and its command.
The task running on each CPU when the kernel stopped is marked with ">".
Kernel threads are shown as [comm].`,
		Options: []Option{
			{"-k", "kernel threads only"},
			{"-u", "user tasks only"},
			{"pid", "only the task with this PID"},
			{"task", "only the task whose task_struct is at this hexadecimal address"},
			{"command", "only tasks with this command name"},
		},
		Examples: []string{"gocrash> ps", "gocrash> ps -u", "gocrash> ps 1", "gocrash> ps sleep"},
		Run:      runPS,
	}
}

func runPS(ctx context.Context, s *Session, args []string, out io.Writer) error {
	var kernelOnly, userOnly bool
	var filters []string
	for _, a := range args {
		switch a {
		case "-k":
			kernelOnly = true
		case "-u":
			userOnly = true
		default:
			if len(a) > 1 && a[0] == '-' {
				return &UsageError{"invalid option: " + a}
			}
			filters = append(filters, a)
		}
	}
	k := s.Kernel
	tasks, err := k.Tasks()
	if err != nil {
		return err
	}
	mem, _ := k.MemorySize()
	ps := k.Arch.PageSize()
	fmt.Fprintln(out, "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM")
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return err
		}
		kt := t.Kthread()
		if kernelOnly && !kt || userOnly && kt || !matches(t, filters) {
			continue
		}
		mark := "  "
		if t.Active {
			mark = "> "
		}
		pct := 0.0
		if mem > 0 {
			pct = float64(t.RSS*ps) * 100 / float64(mem)
		}
		comm := t.Comm
		if kt {
			comm = "[" + comm + "]"
		}
		fmt.Fprintf(out, "%s%7d %7d %3d  %016x  %2s  %4.1f %8d %8d  %s\n", mark, t.PID, t.PPID, t.CPU, t.Addr,
			t.StateName(), pct, t.TotalVM*ps/1024, t.RSS*ps/1024, comm)
	}
	return nil
}

func matches(t kernel.Task, filters []string) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if pid, err := strconv.ParseInt(f, 10, 32); err == nil && int32(pid) == t.PID {
			return true
		}
		if a, err := strconv.ParseUint(f, 16, 64); err == nil && a == t.Addr && len(f) > 8 {
			return true
		}
		if f == t.Comm {
			return true
		}
	}
	return false
}
