package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocrash/gocrash/kernel"
)

func psCommand() *Command {
	return &Command{
		Name:     "ps",
		Synopsis: "ps [-k|-u|-G] [-p|-c|-t|-[l|m][-C cpus]|-a|-S|-A] [pid | task | command | 'regex'] ...",
		Summary:  "display process status information",
		Help: `Lists every task of the crashed kernel, the per-CPU idle tasks included,
sorted by PID: its PID, parent's PID, the CPU it last ran on, the address of its
task_struct, its state (RU running, IN interruptible, UN uninterruptible, ST
stopped, TR traced, ZO zombie, DE dead, PA parked, WA waking, ID idle, NE new),
its share of memory, virtual size and resident size in KiB, and its command.
The task running on each CPU when the kernel stopped is marked with ">".
Kernel threads are shown as [comm]. Tasks may be chosen by PID, task_struct
address, command name, or a regular expression in single quotes.

-t shows, under each task's header line, how long the task has existed (RUN
TIME, from its start_time to the kernel's jiffies), its START TIME (task_struct
start_time, nanoseconds of the monotonic clock since boot) and its user and
system CPU time (UTIME, STIME, in nanoseconds); all tasks are sorted by start
time.

-l lists the tasks by when they last ran, the most recent first: each line is
the task's last-run timestamp (sched_info.last_arrival, the nanoseconds of its
CPU's runqueue clock when it was last put on a CPU; se.exec_start on kernels
built without scheduler statistics), its state and its header line. -m shows,
in the same order, how long before its CPU's runqueue clock stopped the task
last ran, as [days hours:minutes:seconds.milliseconds]. With -C, -l and -m
show a block of lines for each CPU named ("1,3", "0-2", "all" or "a"), each
headed "CPU: N".

-a shows each user task's command line (ARG:) and environment (ENV:, one string
a line), read from its user stack (mm_struct arg_start..arg_end and
env_start..env_end) through the task's page tables. Kernel threads and exited
tasks have no user stack; makedumpfile's user-data filter (dump level bit 8, as
in -d 31) leaves user pages out, and the address that cannot be read is named.

-a, -t, -c, -p, -l, -m, -S and -A are mutually exclusive.`,
		Options: []Option{
			{"-k", "kernel threads only"},
			{"-u", "user tasks only"},
			{"-G", "thread group leaders only"},
			{"-A", "the tasks that were running on a CPU only"},
			{"-p", "each chosen task's parentage, from the idle task down"},
			{"-c", "each chosen task's children"},
			{"-S", "a count of tasks in each state"},
			{"-t", "each task's run time, start time, and user and system CPU time"},
			{"-l", "each task's last-run timestamp, the most recently run first"},
			{"-m", "as -l, with the time since each task last ran as days hh:mm:ss.ms"},
			{"-C cpus", "with -l or -m: the tasks of each of these CPUs (\"1,3\", \"0-2\", \"all\" or \"a\") in a block of their own"},
			{"-a", "each user task's command-line arguments and environment"},
			{"pid", "the task with this PID"},
			{"task", "the task whose task_struct is at this hexadecimal address"},
			{"command", "tasks with this command name"},
			{"'regex'", "tasks whose command matches the regular expression"},
		},
		Examples: []string{"gocrash> ps", "gocrash> ps -u", "gocrash> ps 1", "gocrash> ps sleep", "gocrash> ps 'kworker.*'", "gocrash> ps -p 104", "gocrash> ps -c 1", "gocrash> ps -S",
			"gocrash> ps -t 1\nPID: 1        TASK: ffff8dde011f8000  CPU: 1    COMMAND: \"init\"\n    RUN TIME: 00:00:08\n  START TIME: 938764435\n       UTIME: 48000000\n       STIME: 1180000000\n",
			"gocrash> ps -l\n[9155877317] [RU]  PID: 1        TASK: ffff8dde011f8000  CPU: 1    COMMAND: \"init\"\n[9136244078] [RU]  PID: 100      TASK: ffff8dde02603000  CPU: 0    COMMAND: \"sh\"\n...",
			"gocrash> ps -m sleep",
			"gocrash> ps -m -C 0",
			"gocrash> ps -a 1\nPID: 1        TASK: ffff8dde011f8000  CPU: 1    COMMAND: \"init\"\nARG: /bin/busybox sh /init \nENV: HOME=/\n     TERM=linux\n     gocrash=kdump\n"},
		Run: runPS,
	}
}

type psOptions struct {
	kernelOnly, userOnly, leaders, active, parents, children, summary bool
	times, lastRun, msecs, args                                       bool
	exclusive                                                         string // the mutually exclusive options given
	cpuSpec                                                           string // -C's CPU list
	filters                                                           []string
}

func runPS(ctx context.Context, s *Session, args []string, out io.Writer) error {
	var o psOptions
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > 1 && a[0] == '-' {
			for j := 1; j < len(a); j++ {
				switch c := a[j]; c {
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
				case 't':
					o.times = true
				case 'l':
					o.lastRun = true
				case 'm':
					o.msecs = true
				case 'a':
					o.args = true
				case 'C':
					v := a[j+1:]
					if v == "" {
						if i+1 >= len(args) {
							return &UsageError{"-C needs a CPU list"}
						}
						i++
						v = args[i]
					}
					o.cpuSpec, j = v, len(a)
					continue
				default:
					return &UsageError{"invalid option: -" + string(c)}
				}
				if strings.IndexByte("atcplmSA", a[j]) >= 0 && !strings.Contains(o.exclusive, a[j:j+1]) {
					o.exclusive += a[j : j+1]
				}
			}
			continue
		}
		o.filters = append(o.filters, a)
	}
	if len(o.exclusive) > 1 {
		return &UsageError{"-a, -t, -c, -p, -l, -m, -S and -A are all mutually exclusive"}
	}
	var cpus []int
	if o.cpuSpec != "" {
		switch {
		case !o.lastRun && !o.msecs:
			return &UsageError{"-C is only applicable with -l and -m"}
		case len(o.filters) > 0:
			return &UsageError{"-C is not applicable with specified tasks"}
		}
		n, _, err := s.Kernel.CPUs()
		if err != nil {
			return err
		}
		if o.cpuSpec == "a" || o.cpuSpec == "all" {
			for c := range n {
				cpus = append(cpus, c)
			}
		} else if cpus, err = parseCPUList(o.cpuSpec); err != nil {
			return err
		}
	}
	if o.leaders && (o.lastRun || o.msecs) {
		return &UsageError{"-G is not supported with -l or -m"}
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
	case o.times:
		return psTimes(ctx, k, chosen, len(o.filters) == 0, out)
	case o.lastRun, o.msecs:
		return psLastRun(ctx, k, tasks, chosen, o.msecs, cpus, out)
	case o.args:
		return psArgs(ctx, k, chosen, out)
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

// psTimes writes ps -t: each task's header, run time, start time and CPU
// times. Listing every task (no task arguments), the tasks are sorted by
// start time as crash sorts them.
func psTimes(ctx context.Context, k *kernel.Kernel, tasks []kernel.Task, sortByStart bool, out io.Writer) error {
	type row struct {
		t  kernel.Task
		tt kernel.TaskTimes
	}
	rows := make([]row, 0, len(tasks))
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return err
		}
		tt, err := k.ReadTaskTimes(t.Addr)
		if err != nil {
			return err
		}
		rows = append(rows, row{t, tt})
	}
	if sortByStart {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].tt.Start < rows[j].tt.Start })
	}
	hz, hzErr := k.HZ()
	var now uint64
	if hzErr == nil {
		var err error
		if now, err = k.UptimeJiffies(); err != nil {
			return err
		}
	}
	var b strings.Builder
	for _, r := range rows {
		run := "(cannot calculate: unknown HZ value)"
		if hzErr == nil {
			run = FormatRunTime(r.tt.Start, now, hz)
		}
		fmt.Fprintf(&b, "%s\n    RUN TIME: %s\n  START TIME: %d\n       UTIME: %d\n       STIME: %d\n\n",
			TaskHeader(r.t), run, r.tt.Start, r.tt.UTime, r.tt.STime)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// FormatRunTime gives how long a task started start nanoseconds after boot
// has existed, when the kernel has counted now jiffies since boot, as crash
// counts it: the start time in whole seconds, in jiffies, taken from now,
// shown as [N days, ]HH:MM:SS.
func FormatRunTime(start, now, hz uint64) string {
	started := start / 1e9 * hz
	var run uint64
	if started <= now {
		run = now - started
	}
	return FormatUptime(time.Duration(run/hz) * time.Second)
}

// FormatSinceRun writes a nanosecond count as ps -m shows it:
// "D HH:MM:SS.mmm".
func FormatSinceRun(ns uint64) string {
	ms := ns / 1e6
	return fmt.Sprintf("%d %02d:%02d:%02d.%03d", ms/86400000, ms/3600000%24, ms/60000%60, ms/1000%60, ms%1000)
}

// psLastRun writes ps -l (or -m, msecs): the chosen tasks, the most
// recently run first, each after its last-run timestamp (or the time since
// then) and its state. As in crash, the timestamps are padded to the width
// of the largest of every task's.
func psLastRun(ctx context.Context, k *kernel.Kernel, all, chosen []kernel.Task, msecs bool, cpus []int, out io.Writer) error {
	if _, err := k.LastRunMember(); err != nil {
		return err
	}
	stamps := map[uint64]uint64{}
	var largest uint64
	for _, t := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := k.LastRun(t.Addr)
		if err != nil {
			return err
		}
		stamps[t.Addr] = v
		largest = max(largest, v)
	}
	sorted := append([]kernel.Task(nil), chosen...)
	sort.SliceStable(sorted, func(i, j int) bool { return stamps[sorted[i].Addr] > stamps[sorted[j].Addr] })
	width := len(strconv.FormatUint(largest, 10))
	if cpus != nil {
		// -C: a block of lines for each CPU asked for, in CPU order.
		n, _, err := k.CPUs()
		if err != nil {
			return err
		}
		want := map[int]bool{}
		for _, c := range cpus {
			want[c] = true
		}
		var blocks []kernel.Task
		for c := range n {
			if !want[c] {
				continue
			}
			blocks = append(blocks, kernel.Task{PID: -1, CPU: c})
			for _, t := range sorted {
				if t.CPU == c {
					blocks = append(blocks, t)
				}
			}
		}
		sorted = blocks
	}
	clocks := map[int]uint64{}
	var b strings.Builder
	for i, t := range sorted {
		if t.PID < 0 { // the start of -C's block for t.CPU
			if i > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "CPU: %d\n", t.CPU)
			continue
		}
		stamp := stamps[t.Addr]
		if !msecs {
			fmt.Fprintf(&b, "[%*d] [%s]  %s\n", width, stamp, t.StateName(), TaskHeader(t))
			continue
		}
		clock, ok := clocks[t.CPU]
		if !ok {
			var err error
			if clock, err = k.RQClock(t.CPU); err != nil {
				return fmt.Errorf("cpu %d runqueue clock: %w", t.CPU, err)
			}
			clocks[t.CPU] = clock
		}
		var since uint64
		if int64(clock-stamp) > 0 {
			since = clock - stamp
		}
		fmt.Fprintf(&b, "[%s] [%s]  %s\n", padDays(FormatSinceRun(since), FormatSinceRun(clock)), t.StateName(), TaskHeader(t))
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// padDays right-aligns the days of s to those of ref (the runqueue clock's
// own), as crash lines up ps -m's columns.
func padDays(s, ref string) string {
	d, _, _ := strings.Cut(s, " ")
	rd, _, _ := strings.Cut(ref, " ")
	if len(rd) > len(d) {
		return strings.Repeat(" ", len(rd)-len(d)) + s
	}
	return s
}

// psArgs writes ps -a: each task's header, then its command line and
// environment from its user stack, or crash's message saying why not.
func psArgs(ctx context.Context, k *kernel.Kernel, tasks []kernel.Task, out io.Writer) error {
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return err
		}
		u, err := k.TaskArgs(t.Addr)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(out, FormatTaskArgs(TaskHeader(t), u)); err != nil {
			return err
		}
	}
	return nil
}

// FormatTaskArgs lays out one task of ps -a as crash does: "ARG: " and the
// arguments, each followed by a space, then "ENV: " and one environment
// string a line, indented under the first, then a blank line.
func FormatTaskArgs(header string, u kernel.UserArgs) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	if u.MM == 0 {
		b.WriteString("ps: no user stack\n\n")
		return b.String()
	}
	if u.ArgErr != nil {
		b.WriteString(userReadMessage(u.ArgErr))
		return b.String()
	}
	b.WriteString("ARG: ")
	n := 0
	for _, c := range u.Args {
		if c == 0 {
			if n > 0 {
				b.WriteByte(' ')
			}
			n = 0
			continue
		}
		b.WriteByte(c)
		n++
	}
	if u.EnvErr != nil {
		// crash leaves the arguments' line open here.
		b.WriteString(userReadMessage(u.EnvErr))
		return b.String()
	}
	b.WriteString("\nENV: ")
	n, chars := 0, 0
	for i, c := range u.Env {
		if c == 0 {
			if n > 0 {
				b.WriteByte('\n')
			}
			n = 0
			continue
		}
		if n == 0 && i > 0 {
			b.WriteString("     ")
		}
		b.WriteByte(c)
		n++
		chars++
	}
	b.WriteByte('\n')
	if chars == 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

// userReadMessage is crash's message for a user stack that cannot be read.
func userReadMessage(err error) string {
	var re *kernel.UserReadError
	if errors.As(err, &re) {
		return fmt.Sprintf("ps: cannot access user stack address: %x\n\n", re.Addr)
	}
	return fmt.Sprintf("ps: %v\n\n", err)
}
