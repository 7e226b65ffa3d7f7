package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func runqCommand() *Command {
	return &Command{
		Name:     "runq",
		Synopsis: "runq [-t] [-T] [-m] [-g] [-c cpu(s)]",
		Summary:  "run queue",
		Help: `Displays each CPU's runqueue (struct rq in the per-CPU runqueues): its
address, the task running on it, the RT priority array (rq.rt.active) with
the tasks queued at each priority, and the CFS red-black tree
(rq.cfs.tasks_timeline) with its queued tasks in tree order and their
priorities (task_struct.prio). The tasks of task groups are shown in place of
their group's scheduling entity.

-t shows each CPU's runqueue clock (rq.clock) and the last-run timestamp of
the task running on it. -T shows how far each CPU's runqueue clock lags the
most recent one, in seconds, the most recent first. -m shows how long the
task on each CPU had been running when the kernel stopped, as
[days hh:mm:ss.ms]. -g shows each CPU's runqueues of root_task_group: with
RT group scheduling (task_group.rt_rq) its RT runqueue first, each queued
task or child group at the priority it is queued at, then its CFS runqueue
with the task running there ([CURRENT]) and the queued tasks; the
runqueues of child task groups (TASK_GROUP with CFS_RQ or RT_RQ, the
cgroup's name, THROTTLED when throttled) are nested at their group's
place, and after a group's queued entries come its child groups that are
not queued on it (throttled) but hold tasks. -c chooses the CPUs ("1,3", "0-2", "all" or "a").`,
		Options: []Option{
			{"-t", "each CPU's runqueue clock and its current task's last-run timestamp"},
			{"-T", "how far each CPU's runqueue clock lags the most recent"},
			{"-m", "how long each CPU's current task has been running"},
			{"-g", "the RT and CFS runqueues of the task groups, root_task_group first"},
			{"-c cpus", "these CPUs only"},
		},
		Examples: []string{"gocrash> runq", "gocrash> runq -c 1", "gocrash> runq -t", "gocrash> runq -T", "gocrash> runq -m", "gocrash> runq -g"},
		Results:  []Result{&RunQueues{}, &RunQueueTimes{}, &RunQueueGroups{}},
		Run:      runRunq,
	}
}

// RunQueues is runq's listing.
type RunQueues struct {
	CPUs []RunQueueRow `json:"cpus"`
}

// RunQueueRow is one CPU's runqueue.
type RunQueueRow struct {
	CPU     int         `json:"cpu"`
	RunQ    Hex         `json:"runqueue"`
	Current QueuedRow   `json:"current"`
	RTArray Hex         `json:"rt_prio_array"`
	RT      []QueuedRow `json:"rt"`
	CFSRoot Hex         `json:"cfs_rb_root"`
	CFS     []QueuedRow `json:"cfs"`
}

// QueuedRow is a task on a runqueue.
type QueuedRow struct {
	Prio    int    `json:"prio"`
	PID     int32  `json:"pid"`
	Task    Hex    `json:"task"`
	Command string `json:"comm"`
}

// RunQueueTimes is runq -t, -T or -m.
type RunQueueTimes struct {
	Mode string         `json:"mode"` // "timestamp", "lag" or "running"
	CPUs []RunQueueTime `json:"cpus"`
}

// RunQueueTime is one CPU's clocks.
type RunQueueTime struct {
	CPU     int       `json:"cpu"`
	Clock   uint64    `json:"rq_clock"`
	LastRun uint64    `json:"last_run"`
	Lag     float64   `json:"lag_seconds"`
	Current QueuedRow `json:"current"`
}

func runRunq(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	k := s.Kernel
	spec, _ := a.Value("c")
	cpus, err := sessionCPUs(s, spec)
	if err != nil {
		return nil, err
	}
	// A queued task that cannot be read costs its PID and command, named
	// in one line; a CPU whose queue cannot be walked whole, the rest of
	// that queue.
	var missing linesError
	seen := map[uint64]bool{}
	taskRow := func(prio int, addr uint64) QueuedRow {
		r := QueuedRow{Prio: prio, Task: Hex(addr)}
		t, err := k.ReadTask(addr)
		if err == nil {
			r.PID, r.Command = t.PID, t.Comm
		} else if addr != 0 && !seen[addr] {
			seen[addr] = true
			missing = append(missing, err) // "task ADDR: REASON"
		}
		return r
	}
	active, err := k.ActiveTasks()
	if err != nil {
		return nil, err
	}
	if mode := a.Last("t", "T", "m"); mode != "" {
		res := &RunQueueTimes{Mode: map[string]string{"t": "timestamp", "T": "lag", "m": "running"}[mode]}
		if mode == "T" {
			// -T compares every CPU.
			cpus, _ = sessionCPUs(s, "")
		}
		for _, c := range cpus {
			clock, err := k.RQClock(c)
			if err != nil {
				return res, err
			}
			rt := RunQueueTime{CPU: c, Clock: clock}
			if c < len(active) {
				rt.Current = taskRow(0, active[c])
				if rt.LastRun, err = k.LastRun(active[c]); err != nil {
					return res, err
				}
			}
			res.CPUs = append(res.CPUs, rt)
		}
		if mode == "T" {
			sort.SliceStable(res.CPUs, func(i, j int) bool { return res.CPUs[i].Clock > res.CPUs[j].Clock })
			for i := range res.CPUs {
				res.CPUs[i].Lag = (float64(res.CPUs[0].Clock) - float64(res.CPUs[i].Clock)) / 1e9
			}
		}
		return res, missingErr(missing)
	}
	sch := k.Scheduler()
	if a.Has("g") {
		return runqGroups(ctx, s, cpus, active, taskRow, &missing)
	}
	res := &RunQueues{}
	for _, c := range cpus {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rq, err := sch.RunQueue(c)
		row := RunQueueRow{CPU: c, RunQ: Hex(rq.Addr), Current: taskRow(0, rq.Curr), RTArray: Hex(rq.RTArray), CFSRoot: Hex(rq.CFSRoot), RT: []QueuedRow{}, CFS: []QueuedRow{}}
		for _, q := range rq.RT {
			row.RT = append(row.RT, taskRow(q.Prio, q.Task))
		}
		for _, q := range rq.CFS {
			row.CFS = append(row.CFS, taskRow(q.Prio, q.Task))
		}
		res.CPUs = append(res.CPUs, row)
		cpuMissing(&missing, c, err)
	}
	return res, missingErr(missing)
}

// cpuMissing adds to missing what cpu's walk could not read: each object
// it left out, or the error that stopped it, after "cpu N: ".
func cpuMissing(missing *linesError, cpu int, err error) {
	if err == nil {
		return
	}
	var u kernel.UnreadableObjectsError
	if !errors.As(err, &u) {
		u = kernel.UnreadableObjectsError{err}
	}
	for _, e := range u {
		*missing = append(*missing, fmt.Errorf("cpu %d: %w", cpu, e))
	}
}

// runqGroups is runq -g: each CPU's RT runqueue of root_task_group (with
// RT group scheduling) and its CFS runqueue, each with its child groups'
// nested at their place. A group or task that cannot be read costs that
// one (named in missing); the rest is shown.
func runqGroups(ctx context.Context, s *Session, cpus []int, active []uint64, taskRow func(int, uint64) QueuedRow, missing *linesError) (Result, error) {
	sch := s.Kernel.Scheduler()
	tg, err := sch.RootTaskGroup()
	if err != nil {
		return nil, err
	}
	rt := sch.HasRTGroups()
	res := &RunQueueGroups{}
	var conv func(g *kernel.GroupRunQueue) *GroupRow
	conv = func(g *kernel.GroupRunQueue) *GroupRow {
		r := &GroupRow{TaskGroup: Hex(g.TaskGroup), Name: g.Name, CFSRq: Hex(g.CFSRq), RTRq: Hex(g.RTRq), Prio: g.Prio, Throttled: g.Throttled, Entries: []GroupEntryRow{}}
		for _, e := range g.Entries {
			if e.Group != nil {
				r.Entries = append(r.Entries, GroupEntryRow{Group: conv(e.Group)})
				continue
			}
			r.Entries = append(r.Entries, GroupEntryRow{Task: taskRow(e.Prio, e.Task), Current: e.Current})
		}
		return r
	}
	for _, c := range cpus {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var cur uint64
		if c < len(active) {
			cur = active[c]
		}
		row := RunQueueGroupRow{CPU: c, Current: taskRow(0, cur), RootTaskGroup: Hex(tg)}
		if rt {
			g, err := sch.GroupRT(c)
			if g != nil {
				row.RT = conv(g)
			}
			cpuMissing(missing, c, err)
		}
		g, err := sch.GroupCFS(c, cur)
		if g != nil {
			row.CFS = conv(g)
		}
		cpuMissing(missing, c, err)
		res.CPUs = append(res.CPUs, row)
	}
	return res, missingErr(*missing)
}

// RunQueueGroups is runq -g.
type RunQueueGroups struct {
	CPUs []RunQueueGroupRow `json:"cpus"`
}

// RunQueueGroupRow is one CPU's task group runqueues.
type RunQueueGroupRow struct {
	CPU           int       `json:"cpu"`
	Current       QueuedRow `json:"current"`
	RootTaskGroup Hex       `json:"root_task_group"`
	RT            *GroupRow `json:"rt_rq,omitempty"` // with RT group scheduling
	CFS           *GroupRow `json:"cfs_rq"`
}

// GroupRow is a task group's CFS or RT runqueue on one CPU.
type GroupRow struct {
	TaskGroup Hex             `json:"task_group"`
	Name      string          `json:"name,omitempty"`   // its cgroup directory's name
	CFSRq     Hex             `json:"cfs_rq,omitempty"` // a CFS runqueue
	RTRq      Hex             `json:"rt_rq,omitempty"`  // an RT runqueue
	Prio      int             `json:"prio"`             // an RT child group: the priority its entity is queued at
	Throttled bool            `json:"throttled,omitempty"`
	Entries   []GroupEntryRow `json:"entries"`
}

// GroupEntryRow is a task (Group nil) or a child group's runqueue.
type GroupEntryRow struct {
	Task    QueuedRow `json:"task"`
	Current bool      `json:"current,omitempty"`
	Group   *GroupRow `json:"group,omitempty"`
}

func (r *RunQueueGroups) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, c := range r.CPUs {
		if i > 0 {
			tw.printf("\n")
		}
		tw.printf("CPU %d\n  CURRENT: %s\n", c.CPU, c.Current.text())
		if c.RT != nil {
			tw.printf("  ROOT_TASK_GROUP: %x  RT_RQ: %x\n", uint64(c.RootTaskGroup), uint64(c.RT.RTRq))
			rtGroupText(tw, c.RT, 0)
		}
		if c.CFS != nil {
			tw.printf("  ROOT_TASK_GROUP: %x  CFS_RQ: %x\n", uint64(c.RootTaskGroup), uint64(c.CFS.CFSRq))
			cfsGroupText(tw, c.CFS, 0)
		}
	}
	return tw.err
}

// groupTail is what follows a child group's header: its name and whether
// it is throttled.
func groupTail(g *GroupRow) string {
	t := ""
	if g.Name != "" {
		t += " <" + g.Name + ">"
	}
	if g.Throttled {
		t += " (THROTTLED)"
	}
	return t
}

// cfsGroupText is a CFS group's entries as crash indents them: three
// more columns for each level, the child group's header before its own.
func cfsGroupText(tw *textWriter, g *GroupRow, depth int) {
	ind := strings.Repeat(" ", 5+3*depth)
	for _, e := range g.Entries {
		if e.Group != nil {
			tw.printf("%sTASK_GROUP: %x  CFS_RQ: %x %s\n", strings.Repeat(" ", 2+3*(depth+1)), uint64(e.Group.TaskGroup), uint64(e.Group.CFSRq), groupTail(e.Group))
			cfsGroupText(tw, e.Group, depth+1)
			continue
		}
		cur := ""
		if e.Current {
			cur = " [CURRENT]"
		}
		tw.printf("%s[%3d] %s%s\n", ind, e.Task.Prio, e.Task.text(), cur)
	}
	if len(g.Entries) == 0 {
		tw.printf("%s[no tasks queued]\n", ind)
	}
}

// rtGroupText is an RT group's entries as crash indents them: six more
// columns for each level, a child group's header after the priority it is
// queued at.
func rtGroupText(tw *textWriter, g *GroupRow, depth int) {
	ind := strings.Repeat(" ", 5+6*depth)
	for _, e := range g.Entries {
		if e.Group != nil {
			tw.printf("%s[%3d] TASK_GROUP: %x  RT_RQ: %x%s\n", ind, e.Group.Prio, uint64(e.Group.TaskGroup), uint64(e.Group.RTRq), groupTail(e.Group))
			rtGroupText(tw, e.Group, depth+1)
			continue
		}
		tw.printf("%s[%3d] %s\n", ind, e.Task.Prio, e.Task.text())
	}
	if len(g.Entries) == 0 {
		tw.printf("%s[no tasks queued]\n", ind)
	}
}

func (q QueuedRow) text() string {
	return fmt.Sprintf("PID: %-5d  TASK: %x  COMMAND: %q", q.PID, uint64(q.Task), q.Command)
}

func (r *RunQueues) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, c := range r.CPUs {
		if i > 0 {
			tw.printf("\n")
		}
		tw.printf("CPU %d RUNQUEUE: %x\n", c.CPU, uint64(c.RunQ))
		tw.printf("  CURRENT: %s\n", c.Current.text())
		tw.printf("  RT PRIO_ARRAY: %x\n", uint64(c.RTArray))
		for _, q := range c.RT {
			tw.printf("     [%3d] %s\n", q.Prio, q.text())
		}
		if len(c.RT) == 0 {
			tw.printf("     [no tasks queued]\n")
		}
		tw.printf("  CFS RB_ROOT: %x\n", uint64(c.CFSRoot))
		for _, q := range c.CFS {
			tw.printf("     [%3d] %s\n", q.Prio, q.text())
		}
		if len(c.CFS) == 0 {
			tw.printf("     [no tasks queued]\n")
		}
	}
	return tw.err
}

// log10 is the number of decimal digits of x.
func log10(x int) int {
	n := 1
	for ; x > 9; x /= 10 {
		n++
	}
	return n
}

func (r *RunQueueTimes) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	switch r.Mode {
	case "lag":
		for _, c := range r.CPUs {
			tw.printf("%sCPU %d: %.2f secs\n", strings.Repeat(" ", 2+log10(len(r.CPUs))-log10(c.CPU)), c.CPU, c.Lag)
		}
	case "timestamp":
		for _, c := range r.CPUs {
			pre := ""
			if c.CPU < 10 {
				pre = " "
			}
			ts := strconv.FormatUint(c.Clock, 10)
			tw.printf("%sCPU %d: %s\n", pre, c.CPU, ts)
			indent := 7
			switch {
			case c.CPU < 10:
				indent = 8
			case c.CPU >= 100:
				indent = 9
			}
			tw.printf("%s%0*d  %s\n", strings.Repeat(" ", indent), len(ts), c.LastRun, c.Current.text())
		}
	default:
		maxIndent := log10(len(r.CPUs))
		maxDays := 0
		for i, c := range r.CPUs {
			if i == 0 {
				maxDays = len(strings.Fields(FormatSinceRun(c.Clock))[0])
			}
			delta := uint64(0)
			if c.Clock > c.LastRun {
				delta = c.Clock - c.LastRun
			}
			buf := FormatSinceRun(delta)
			days := len(strings.Fields(buf)[0])
			indent := maxIndent - (log10(c.CPU) - 1)
			tw.printf("%sCPU %d: [%s%s]  %s\n", strings.Repeat(" ", max(indent, 0)), c.CPU, strings.Repeat(" ", max(maxDays-days, 0)), buf, c.Current.text())
		}
	}
	return tw.err
}
