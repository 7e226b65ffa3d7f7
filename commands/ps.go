package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocrash/gocrash/kernel"
)

func psCommand() *Command {
	return &Command{
		Name:     "ps",
		Synopsis: "ps [-k|-u|-G|-y policy] [-s] [-p|-c|-t|-[l|m][-C cpus]|-a|-g|-r|-S|-A] [pid | task | command | 'regex'] ...",
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

-s shows each task's saved kernel stack pointer (KSTACKP: thread.sp on x86_64,
thread.cpu_context.sp on arm64) instead of its task_struct address; "--" for a
task that was running on a CPU, whose saved value is stale.

-y keeps only the tasks whose scheduling policy (task_struct.policy) is one of
those given, by number or case-insensitive name, separated by commas: 0 NORMAL,
1 FIFO, 2 RR, 3 BATCH, 4 ISO, 5 IDLE, 6 DEADLINE.

-g shows each thread group: the leader's header line, then each other thread
of the group indented (or "(no threads)"). A thread named by PID or address
shows its group. -r shows each task's resource limits (signal->rlim): the
current (soft) and maximum (hard) value of each RLIMIT_, "(unlimited)" for
RLIM_INFINITY.

-a, -t, -c, -p, -l, -m, -g, -r, -S and -A are mutually exclusive.`,
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
			{"-s", "show each task's saved kernel stack pointer (KSTACKP) instead of its task_struct"},
			{"-y policy", "only tasks with these scheduling policies (0-6 or NORMAL, FIFO, RR, BATCH, ISO, IDLE, DEADLINE; comma-separated)"},
			{"-g", "each thread group: the leader, then its other threads"},
			{"-r", "each task's resource limits"},
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
			"gocrash> ps -s -u", "gocrash> ps -y FIFO,RR", "gocrash> ps -g 1\nPID: 1        TASK: ffff9de2c11d1680  CPU: 1    COMMAND: \"init\"\n  (no threads)\n",
			"gocrash> ps -r 1\nPID: 1        TASK: ffff9de2c11d1680  CPU: 1    COMMAND: \"init\"\n      RLIMIT     CURRENT       MAXIMUM  \n         CPU   (unlimited)   (unlimited)\n...",
			"gocrash> ps -a 1\nPID: 1        TASK: ffff8dde011f8000  CPU: 1    COMMAND: \"init\"\nARG: /bin/busybox sh /init \nENV: HOME=/\n     TERM=linux\n     gocrash=kdump\n"},
		Results: []Result{&PSResult{}, &PSTimes{}, &PSLastRun{}, &PSArgs{}, &PSStates{}, &PSTree{}, &PSGroups{}, &PSRlimits{}},
		Run:     runPS,
	}
}

func runPS(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.Exclusive("a", "t", "c", "p", "l", "m", "S", "A", "g", "r"); err != nil {
		return nil, &UsageError{"-a, -t, -c, -p, -l, -m, -g, -r, -S and -A are all mutually exclusive"}
	}
	var policies uint64
	if spec, ok := a.Value("y"); ok {
		var err error
		if policies, err = parseSchedPolicies(spec); err != nil {
			return nil, err
		}
	}
	lastRun, msecs := a.Has("l"), a.Has("m")
	var cpus []int
	if spec, ok := a.Value("C"); ok {
		switch {
		case !lastRun && !msecs:
			return nil, &UsageError{"-C is only applicable with -l and -m"}
		case len(a.Words) > 0:
			return nil, &UsageError{"-C is not applicable with specified tasks"}
		}
		n, _, err := s.Kernel.CPUs()
		if err != nil {
			return nil, err
		}
		if spec == "a" || spec == "all" {
			for c := range n {
				cpus = append(cpus, c)
			}
		} else if cpus, err = parseCPUList(spec); err != nil {
			return nil, err
		}
	}
	leaders := a.Has("G")
	if leaders && (lastRun || msecs) {
		return nil, &UsageError{"-G is not supported with -l or -m"}
	}
	k := s.Kernel
	tasks, missing, err := readTasks(k)
	if err != nil {
		return nil, err
	}
	res, err := psOf(ctx, k, a, tasks, policies, cpus)
	return withMissing(res, err, missing)
}

// psOf gathers ps's answer (as a, policies and cpus ask) from tasks.
func psOf(ctx context.Context, k *kernel.Kernel, a *Args, tasks []kernel.Task, policies uint64, cpus []int) (Result, error) {
	lastRun, msecs, leaders := a.Has("l"), a.Has("m"), a.Has("G")
	named, err := selectTasks(tasks, a.Words)
	if err != nil {
		return nil, err
	}
	var chosen []kernel.Task
	for _, t := range named {
		kt := t.Kthread()
		if a.Has("k") && !kt || a.Has("u") && kt || leaders && t.PID != t.TGID || a.Has("A") && !t.Active {
			continue
		}
		if policies != 0 {
			p, err := k.TaskPolicy(t.Addr)
			if err != nil {
				return nil, err
			}
			if p >= 64 || policies&(1<<p) == 0 {
				continue
			}
		}
		chosen = append(chosen, t)
	}
	switch {
	case a.Has("t"):
		return psTimes(ctx, k, chosen, len(a.Words) == 0)
	case lastRun, msecs:
		return psLastRun(ctx, k, tasks, chosen, msecs, cpus)
	case a.Has("a"):
		return psArgs(ctx, k, chosen)
	case a.Has("S"):
		return psSummary(chosen), nil
	case a.Has("g"):
		return psGroups(tasks, chosen, len(a.Words) > 0), nil
	case a.Has("r"):
		return psRlimits(ctx, k, chosen)
	case a.Has("p"):
		return psParents(tasks, chosen)
	case a.Has("c"):
		return psChildren(tasks, chosen), nil
	}
	mem, _ := k.MemorySize()
	ps := k.Arch.PageSize()
	res := &PSResult{Tasks: make([]PSRow, 0, len(chosen)), KStack: a.Has("s")}
	for _, t := range chosen {
		pct := 0.0
		if mem > 0 {
			pct = float64(t.RSS*ps) * 100 / float64(mem)
		}
		res.Tasks = append(res.Tasks, PSRow{TaskRef: taskRef(t), PPID: t.PPID, State: t.StateName(),
			MemPercent: math.Round(pct*10) / 10, VSZ: t.TotalVM * ps / 1024, RSS: t.RSS * ps / 1024,
			Active: t.Active, KernelThread: t.Kthread(), memPct: pct})
		if res.KStack && !t.Active {
			sp, err := k.TaskKernelSP(t.Addr)
			if err != nil {
				return res, err
			}
			res.Tasks[len(res.Tasks)-1].KStackP = new(Hex(sp))
		}
	}
	return res, nil
}

// TaskRef names a task as crash's task header line does.
type TaskRef struct {
	PID     int32  `json:"pid"`
	Task    Hex    `json:"task"`
	CPU     int    `json:"cpu"`
	Command string `json:"comm"`
}

func taskRef(t kernel.Task) TaskRef {
	return TaskRef{PID: t.PID, Task: Hex(t.Addr), CPU: t.CPU, Command: t.Comm}
}

// Header is crash's one-line task header: PID, TASK, CPU, COMMAND.
func (r TaskRef) Header() string {
	return fmt.Sprintf("PID: %-7d  TASK: %016x  CPU: %-3d  COMMAND: %q", r.PID, uint64(r.Task), r.CPU, r.Command)
}

// PSRow is one task of ps's table.
type PSRow struct {
	TaskRef
	PPID         int32            `json:"ppid"`
	State        kernel.TaskState `json:"state"`
	MemPercent   float64          `json:"mem_percent"` // of physical memory, to a tenth
	VSZ          uint64           `json:"vsz"`         // KiB
	RSS          uint64           `json:"rss"`         // KiB
	Active       bool             `json:"active"`      // running on its CPU at the crash
	KernelThread bool             `json:"kernel_thread"`
	// KStackP is the saved kernel stack pointer (-s; absent for a task
	// running on a CPU).
	KStackP *Hex `json:"kstackp,omitempty"`

	memPct float64 // unrounded, printed as crash rounds it
}

// PSResult is ps's table.
type PSResult struct {
	Tasks  []PSRow `json:"tasks"`
	KStack bool    `json:"-"` // -s: the KSTACKP column instead of TASK
}

func (r *PSResult) Text(w io.Writer) error {
	var b strings.Builder
	if r.KStack {
		b.WriteString("      PID    PPID  CPU      KSTACKP      ST  %MEM      VSZ      RSS  COMM\n")
	} else {
		b.WriteString("      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n")
	}
	for _, t := range r.Tasks {
		mark := "  "
		if t.Active {
			mark = "> "
		}
		comm := t.Command
		if t.KernelThread {
			comm = "[" + comm + "]"
		}
		col := fmt.Sprintf("%016x", uint64(t.Task))
		if r.KStack {
			col = center(16, "--", true)
			if t.KStackP != nil {
				col = center(16, fmt.Sprintf("%x", uint64(*t.KStackP)), true)
			}
		}
		fmt.Fprintf(&b, "%s%7d %7d %3d  %s  %2s  %4.1f %8d %8d  %s\n", mark, t.PID, t.PPID, t.CPU, col,
			t.State, t.memPct, t.VSZ, t.RSS, comm)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// TaskHeader is the one-line task header crash prints for ps -p/-c, set,
// task and bt.
func TaskHeader(t kernel.Task) string { return taskRef(t).Header() }

// PSStates is ps -S: how many of the chosen tasks are in each state.
type PSStates struct {
	States map[kernel.TaskState]int `json:"states"`
}

func psSummary(tasks []kernel.Task) *PSStates {
	r := &PSStates{States: map[kernel.TaskState]int{}}
	for _, t := range tasks {
		r.States[t.StateName()]++
	}
	return r
}

func (r *PSStates) Text(w io.Writer) error {
	var names []string
	for n := range r.States {
		names = append(names, string(n))
	}
	sort.Strings(names)
	tw := &textWriter{w: w}
	for _, n := range names {
		tw.printf("  %s: %d\n", n, r.States[kernel.TaskState(n)])
	}
	return tw.err
}

// PSTree is ps -p (each task's ancestors, the oldest first) or ps -c (each
// task's children).
type PSTree struct {
	Children bool        `json:"-"` // -c: each entry is a task and its children
	Entries  []PSLineage `json:"entries"`
}

// PSLineage is one chosen task with its ancestors (-p, from the idle task
// down to the task) or its children (-c).
type PSLineage struct {
	Task      TaskRef   `json:"task"`
	Ancestors []TaskRef `json:"ancestors,omitempty"` // the oldest first
	Children  []TaskRef `json:"children,omitempty"`
}

func (r *PSTree) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, e := range r.Entries {
		if i > 0 {
			tw.println("")
		}
		if !r.Children {
			line := append(append([]TaskRef(nil), e.Ancestors...), e.Task)
			for depth, t := range line {
				tw.printf("%s%s\n", strings.Repeat(" ", depth), t.Header())
			}
			continue
		}
		tw.println(e.Task.Header())
		for _, c := range e.Children {
			tw.printf("  %s\n", c.Header())
		}
		if len(e.Children) == 0 {
			tw.println("  (no children)")
		}
	}
	return tw.err
}

// psParents gives each task's line of ancestors.
// A parent pointer that leads back to a task already on the chain (a
// corrupt dump) ends that task's lineage, and is reported: one line per
// task.
func psParents(all, chosen []kernel.Task) (*PSTree, error) {
	byAddr := map[uint64]kernel.Task{}
	for _, t := range all {
		byAddr[t.Addr] = t
	}
	r := &PSTree{}
	var loops linesError
	for _, t := range chosen {
		e := PSLineage{Task: taskRef(t)}
		onChain := map[uint64]bool{t.Addr: true}
		for cur := t; cur.PID != 0; {
			p, ok := byAddr[cur.Parent]
			if !ok || p.Addr == cur.Addr {
				break
			}
			if onChain[p.Addr] {
				loops = append(loops, fmt.Errorf("PID %d (task %x): parent pointer loop: task %x's parent %x is its own descendant", t.PID, t.Addr, cur.Addr, p.Addr))
				break
			}
			onChain[p.Addr] = true
			e.Ancestors = append([]TaskRef{taskRef(p)}, e.Ancestors...)
			cur = p
		}
		r.Entries = append(r.Entries, e)
	}
	if len(loops) > 0 {
		return r, loops
	}
	return r, nil
}

// psChildren gives each task and the tasks whose parent it is.
func psChildren(all, chosen []kernel.Task) *PSTree {
	r := &PSTree{Children: true}
	for _, t := range chosen {
		e := PSLineage{Task: taskRef(t)}
		for _, c := range all {
			if c.Parent == t.Addr && c.Addr != t.Addr && c.PID != 0 {
				e.Children = append(e.Children, taskRef(c))
			}
		}
		r.Entries = append(r.Entries, e)
	}
	return r
}

// PSTimes is ps -t: each task's run time, start time and CPU times.
type PSTimes struct {
	Tasks []PSTimesRow `json:"tasks"`
}

// PSTimesRow is one task of ps -t. RunTime is empty when the kernel's HZ
// is unknown.
type PSTimesRow struct {
	Task    TaskRef `json:"task"`
	RunTime string  `json:"run_time,omitempty"` // [N days, ]HH:MM:SS
	Start   uint64  `json:"start_time"`         // ns since boot
	UTime   uint64  `json:"utime"`              // ns
	STime   uint64  `json:"stime"`              // ns
}

func (r *PSTimes) Text(w io.Writer) error {
	var b strings.Builder
	for _, t := range r.Tasks {
		run := t.RunTime
		if run == "" {
			run = "(cannot calculate: unknown HZ value)"
		}
		fmt.Fprintf(&b, "%s\n    RUN TIME: %s\n  START TIME: %d\n       UTIME: %d\n       STIME: %d\n\n",
			t.Task.Header(), run, t.Start, t.UTime, t.STime)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// psTimes gathers ps -t. Listing every task (no task arguments), the tasks
// are sorted by start time as crash sorts them.
func psTimes(ctx context.Context, k *kernel.Kernel, tasks []kernel.Task, sortByStart bool) (*PSTimes, error) {
	hz, hzErr := k.HZ()
	var now uint64
	if hzErr == nil {
		var err error
		if now, err = k.UptimeJiffies(); err != nil {
			return nil, err
		}
	}
	r := &PSTimes{Tasks: make([]PSTimesRow, 0, len(tasks))}
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tt, err := k.ReadTaskTimes(t.Addr)
		if err != nil {
			return nil, err
		}
		row := PSTimesRow{Task: taskRef(t), Start: tt.Start, UTime: tt.UTime, STime: tt.STime}
		if hzErr == nil {
			row.RunTime = FormatRunTime(tt.Start, now, hz)
		}
		r.Tasks = append(r.Tasks, row)
	}
	if sortByStart {
		sort.SliceStable(r.Tasks, func(i, j int) bool { return r.Tasks[i].Start < r.Tasks[j].Start })
	}
	return r, nil
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

// PSLastRun is ps -l (each task's last-run timestamp, the most recently
// run first) or ps -m (the time since then); with -C, in blocks by CPU.
type PSLastRun struct {
	Since bool        `json:"-"` // -m
	Tasks []PSLastRow `json:"tasks,omitempty"`
	CPUs  []PSLastCPU `json:"cpus,omitempty"` // -C
	width int         // the largest timestamp's digits, as crash pads them
}

// PSLastCPU is one CPU's block of ps -l/-m -C.
type PSLastCPU struct {
	CPU   int         `json:"cpu"`
	Tasks []PSLastRow `json:"tasks"`
}

// PSLastRow is one task of ps -l or -m.
type PSLastRow struct {
	Task    TaskRef          `json:"task"`
	State   kernel.TaskState `json:"state"`
	LastRun uint64           `json:"last_run"`           // ns of its CPU's runqueue clock
	SinceNs *uint64          `json:"since_ns,omitempty"` // -m: before the runqueue clock stopped
	clock   uint64           // -m: the CPU's runqueue clock
}

func (r *PSLastRun) Text(w io.Writer) error {
	var b strings.Builder
	row := func(t PSLastRow) {
		if !r.Since {
			fmt.Fprintf(&b, "[%*d] [%s]  %s\n", r.width, t.LastRun, t.State, t.Task.Header())
			return
		}
		fmt.Fprintf(&b, "[%s] [%s]  %s\n", padDays(FormatSinceRun(*t.SinceNs), FormatSinceRun(t.clock)), t.State, t.Task.Header())
	}
	for _, t := range r.Tasks {
		row(t)
	}
	for i, c := range r.CPUs {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "CPU: %d\n", c.CPU)
		for _, t := range c.Tasks {
			row(t)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// psLastRun gathers ps -l or -m: the chosen tasks, the most recently run
// first. As in crash, the timestamps are padded to the width of the
// largest of every task's.
func psLastRun(ctx context.Context, k *kernel.Kernel, all, chosen []kernel.Task, msecs bool, cpus []int) (*PSLastRun, error) {
	if _, err := k.LastRunMember(); err != nil {
		return nil, err
	}
	stamps := map[uint64]uint64{}
	var largest uint64
	for _, t := range all {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := k.LastRun(t.Addr)
		if err != nil {
			return nil, err
		}
		stamps[t.Addr] = v
		largest = max(largest, v)
	}
	sorted := append([]kernel.Task(nil), chosen...)
	sort.SliceStable(sorted, func(i, j int) bool { return stamps[sorted[i].Addr] > stamps[sorted[j].Addr] })
	r := &PSLastRun{Since: msecs, width: len(strconv.FormatUint(largest, 10))}
	clocks := map[int]uint64{}
	rowOf := func(t kernel.Task) (PSLastRow, error) {
		row := PSLastRow{Task: taskRef(t), State: t.StateName(), LastRun: stamps[t.Addr]}
		if !msecs {
			return row, nil
		}
		clock, ok := clocks[t.CPU]
		if !ok {
			var err error
			if clock, err = k.RQClock(t.CPU); err != nil {
				return row, fmt.Errorf("cpu %d runqueue clock: %w", t.CPU, err)
			}
			clocks[t.CPU] = clock
		}
		var since uint64
		if int64(clock-row.LastRun) > 0 {
			since = clock - row.LastRun
		}
		row.SinceNs, row.clock = &since, clock
		return row, nil
	}
	if cpus == nil {
		for _, t := range sorted {
			row, err := rowOf(t)
			if err != nil {
				return r, err
			}
			r.Tasks = append(r.Tasks, row)
		}
		return r, nil
	}
	// -C: a block of lines for each CPU asked for, in CPU order.
	n, _, err := k.CPUs()
	if err != nil {
		return nil, err
	}
	want := map[int]bool{}
	for _, c := range cpus {
		want[c] = true
	}
	for c := range n {
		if !want[c] {
			continue
		}
		block := PSLastCPU{CPU: c, Tasks: []PSLastRow{}}
		for _, t := range sorted {
			if t.CPU == c {
				row, err := rowOf(t)
				if err != nil {
					return r, err
				}
				block.Tasks = append(block.Tasks, row)
			}
		}
		r.CPUs = append(r.CPUs, block)
	}
	return r, nil
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

// PSArgs is ps -a: each user task's command line and environment.
type PSArgs struct {
	Tasks []PSArgsRow `json:"tasks"`
}

// PSArgsRow is one task of ps -a. Args and Env are the strings of its
// user stack; Error says why they could not be read.
type PSArgsRow struct {
	Task  TaskRef  `json:"task"`
	Args  []string `json:"args,omitempty"`
	Env   []string `json:"env,omitempty"`
	Error string   `json:"error,omitempty"`
	u     kernel.UserArgs
}

func (r *PSArgs) Text(w io.Writer) error {
	var b strings.Builder
	for _, t := range r.Tasks {
		b.WriteString(FormatTaskArgs(t.Task.Header(), t.u))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// psArgs gathers ps -a from each task's user stack.
func psArgs(ctx context.Context, k *kernel.Kernel, tasks []kernel.Task) (*PSArgs, error) {
	r := &PSArgs{Tasks: make([]PSArgsRow, 0, len(tasks))}
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		u, err := k.TaskArgs(t.Addr)
		if err != nil {
			return r, err
		}
		row := PSArgsRow{Task: taskRef(t), Args: cStrings(u.Args), Env: cStrings(u.Env), u: u}
		switch {
		case u.MM == 0:
			row.Error = "no user stack"
		case u.ArgErr != nil:
			row.Error = u.ArgErr.Error()
		case u.EnvErr != nil:
			row.Error = u.EnvErr.Error()
		}
		r.Tasks = append(r.Tasks, row)
	}
	return r, nil
}

// cStrings splits NUL-separated strings, leaving out empty ones.
func cStrings(b []byte) []string {
	var out []string
	for _, s := range strings.Split(string(b), "\x00") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
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
