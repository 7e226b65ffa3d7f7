package kernel

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// Task is what gocrash reads of one task_struct.
type Task struct {
	Addr      uint64
	PID, TGID int32
	PPID      int32
	Parent    uint64 // real_parent
	Comm      string
	State     uint64 // __state (or state on kernels before 5.14)
	ExitState uint64
	Flags     uint32
	CPU       int
	MM        uint64
	TotalVM   uint64 // pages
	RSS       uint64 // pages: file + anon + shmem
	Active    bool   // running on its CPU when the kernel stopped
}

// PF_KTHREAD marks a kernel thread in task_struct.flags.
const pfKthread = 0x00200000

// Kthread reports whether the task is a kernel thread.
func (t *Task) Kthread() bool { return t.Flags&pfKthread != 0 }

// taskLayout holds the task_struct member offsets this kernel has, probed
// once. A member a kernel lacks is recorded as -1.
type taskLayout struct {
	pid, tgid, comm, state, exitState, flags, realParent, mm int64
	cpu                                                      int64 // task_struct.cpu or thread_info.cpu
	totalVM, rssStat                                         int64
	rssPercpu                                                bool // 6.2+: rss_stat is percpu_counter[]
	counterCount                                             int64
	err                                                      error
}

func (k *TaskList) taskLayout() *taskLayout {
	k.layoutOnce.Do(func() {
		l := &k.layout
		must := func(s, m string) int64 {
			o, err := k.Offset(s, m)
			if err != nil && l.err == nil {
				l.err = err
			}
			return o
		}
		may := func(s, m string) int64 {
			o, err := k.Offset(s, m)
			if err != nil {
				if !symbols.IsMissing(err) && l.err == nil {
					l.err = err
				}
				return -1
			}
			return o
		}
		l.pid = must("task_struct", "pid")
		l.tgid = must("task_struct", "tgid")
		l.comm = must("task_struct", "comm")
		if l.state = may("task_struct", "__state"); l.state < 0 {
			l.state = must("task_struct", "state")
		}
		l.exitState = must("task_struct", "exit_state")
		l.flags = must("task_struct", "flags")
		l.realParent = must("task_struct", "real_parent")
		l.mm = must("task_struct", "mm")
		if l.cpu = may("task_struct", "cpu"); l.cpu < 0 {
			l.cpu = must("task_struct", "thread_info.cpu")
		}
		l.totalVM = must("mm_struct", "total_vm")
		l.rssStat = must("mm_struct", "rss_stat")
		if c := may("percpu_counter", "count"); c >= 0 && may("mm_rss_stat", "count") < 0 {
			l.rssPercpu, l.counterCount = true, c
		}
	})
	return &k.layout
}

// ReadTask decodes the task_struct at addr.
func (k *TaskList) ReadTask(addr uint64) (Task, error) {
	l := k.taskLayout()
	if l.err != nil {
		return Task{}, l.err
	}
	t := Task{Addr: addr}
	var err error
	read32 := func(off int64) uint32 {
		v, e := k.ReadU32(addr + uint64(off))
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	read64 := func(a uint64) uint64 {
		v, e := k.ReadU64(a)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	t.PID = int32(read32(l.pid))
	t.TGID = int32(read32(l.tgid))
	t.State = uint64(read32(l.state))
	t.ExitState = uint64(read32(l.exitState))
	t.Flags = read32(l.flags)
	t.CPU = int(read32(l.cpu))
	t.Parent = read64(addr + uint64(l.realParent))
	t.MM = read64(addr + uint64(l.mm))
	if err != nil {
		return t, fmt.Errorf("task %x: %w", addr, err)
	}
	if t.Comm, err = k.ReadCString(addr+uint64(l.comm), 16); err != nil {
		return t, fmt.Errorf("task %x: %w", addr, err)
	}
	// Idle tasks (PID 0) have the task that forked them at boot as
	// real_parent; like crash, report no parent for them.
	if t.Parent != 0 && t.Parent != addr && t.PID != 0 {
		if p, e := k.ReadU32(t.Parent + uint64(l.pid)); e == nil {
			t.PPID = int32(p)
		}
	}
	if t.MM != 0 {
		t.TotalVM = read64(t.MM + uint64(l.totalVM))
		// MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES. Before
		// 6.2 each task also caches up to 64 page events (SPLIT_RSS_COUNTING)
		// that /proc does not count; neither does this, so RSS equals the
		// kernel's own answer (checked against the guests' ps).
		for _, i := range []uint64{0, 1, 3} {
			var v uint64
			if l.rssPercpu {
				v = read64(t.MM + uint64(l.rssStat) + i*k.percpuCounterSize() + uint64(l.counterCount))
			} else {
				v = read64(t.MM + uint64(l.rssStat) + i*8)
			}
			if int64(v) > 0 {
				t.RSS += v
			}
		}
		if err != nil {
			return t, fmt.Errorf("task %x mm %x: %w", addr, t.MM, err)
		}
	}
	return t, nil
}

func (k *TaskList) percpuCounterSize() uint64 {
	s, _ := k.Size("percpu_counter")
	return uint64(s)
}

// TaskAt reads the one task at addr, marked active when a CPU was
// running it: what a command about the current or panic task needs,
// without the walk of every task that Tasks makes (thousands of pages on
// a large machine). addr must be a task the kernel itself points at (a
// runqueue's current task, one the task list gave): nothing here checks
// that the memory is a task_struct.
func (k *TaskList) TaskAt(addr uint64) (Task, error) {
	t, err := k.ReadTask(addr)
	if err != nil {
		return t, err
	}
	if cur, err := k.ActiveTasks(); err == nil {
		for _, a := range cur {
			t.Active = t.Active || a == addr
		}
	}
	return t, nil
}

// Tasks reads every task (see TaskAddrs), marks the ones running on a CPU,
// and sorts them by PID, then CPU for the idle tasks. On a damaged dump the
// tasks that could be read come back with an *UnreadableTasksError naming
// each task_struct that could not, and why (and what of the lists could
// not be walked).
func (k *TaskList) Tasks() ([]Task, error) {
	active := map[uint64]bool{}
	if cur, err := k.ActiveTasks(); err == nil {
		for _, a := range cur {
			active[a] = true
		}
	}
	tasks := []Task{}
	var bad []UnreadableTask
	// Each task is read as the walk meets it (walkTasks).
	_, err := k.walkTasks(func(a uint64) {
		t, err := k.ReadTask(a)
		if err != nil {
			if !k.live { // on a running system: a task that exited meanwhile
				bad = append(bad, UnreadableTask{Addr: a, Err: err})
			}
			return
		}
		t.Active = active[a]
		tasks = append(tasks, t)
	})
	var broken *BrokenWalkError
	if err != nil && !errors.As(err, &broken) {
		return nil, err
	}
	sort.SliceStable(tasks, func(i, j int) bool {
		if tasks[i].PID != tasks[j].PID {
			return tasks[i].PID < tasks[j].PID
		}
		return tasks[i].CPU < tasks[j].CPU
	})
	if len(bad) > 0 || broken != nil {
		return tasks, &UnreadableTasksError{Tasks: bad, Walk: broken}
	}
	return tasks, nil
}

// UnreadableTask is a task_struct a damaged dump does not hold (whole).
type UnreadableTask struct {
	Addr uint64
	Err  error
}

// UnreadableTasksError reports the tasks Tasks found but could not read,
// and what of the task lists could not be walked (nil: all of it, by
// another way). Its text is one line per task: "task ADDR: REASON".
type UnreadableTasksError struct {
	Tasks []UnreadableTask
	Walk  *BrokenWalkError
}

func (e *UnreadableTasksError) Error() string {
	var lines []string
	for _, t := range e.Tasks {
		lines = append(lines, fmt.Sprintf("cannot read task_struct %x: %v", t.Addr, unwrapTask(t.Err, t.Addr)))
	}
	if len(lines) == 0 && e.Walk != nil {
		lines = append(lines, e.Walk.Error())
	}
	return strings.Join(lines, "\n")
}

// Lines is the error's text, one object a line.
func (e *UnreadableTasksError) Lines() []string { return strings.Split(e.Error(), "\n") }

// unwrapTask drops ReadTask's "task ADDR: " prefix, which the line names.
func unwrapTask(err error, addr uint64) string {
	return strings.TrimPrefix(err.Error(), fmt.Sprintf("task %x: ", addr))
}

// ActiveTasks returns, per present CPU, the task it was running
// (runqueues.curr).
func (k *TaskList) ActiveTasks() ([]uint64, error) { return k.runqueueTasks("curr") }

// TaskState is a task's state by crash's two-letter name.
type TaskState string

// The states crash names, in the kernel's task_state_array order, then
// the ones crash adds.
const (
	StateRunning         TaskState = "RU" // TASK_RUNNING
	StateInterruptible   TaskState = "IN" // TASK_INTERRUPTIBLE
	StateUninterruptible TaskState = "UN" // TASK_UNINTERRUPTIBLE
	StateStopped         TaskState = "ST" // __TASK_STOPPED
	StateTraced          TaskState = "TR" // __TASK_TRACED
	StateZombie          TaskState = "ZO" // EXIT_ZOMBIE
	StateDead            TaskState = "DE" // EXIT_DEAD, TASK_DEAD
	StateParked          TaskState = "PA" // TASK_PARKED
	StateWaking          TaskState = "WA" // TASK_WAKING
	StateIdle            TaskState = "ID" // TASK_IDLE: uninterruptible, not counted in the load
	StateNew             TaskState = "NE" // TASK_NEW
	StateUnknown         TaskState = "??"
)

// Long is the state's TASK_* name as the kernel defines it ("" for ??).
func (s TaskState) Long() string {
	switch s {
	case StateRunning:
		return "TASK_RUNNING"
	case StateInterruptible:
		return "TASK_INTERRUPTIBLE"
	case StateUninterruptible:
		return "TASK_UNINTERRUPTIBLE"
	case StateStopped:
		return "TASK_STOPPED"
	case StateTraced:
		return "TASK_TRACED"
	case StateZombie:
		return "EXIT_ZOMBIE"
	case StateDead:
		return "EXIT_DEAD"
	case StateParked:
		return "TASK_PARKED"
	case StateWaking:
		return "TASK_WAKING"
	case StateIdle:
		return "TASK_IDLE"
	case StateNew:
		return "TASK_NEW"
	}
	return ""
}

// ParseTaskState reads a two-letter state name ("UN"); case matters, as
// in crash's foreach.
func ParseTaskState(name string) (TaskState, bool) {
	s := TaskState(name)
	return s, s.Long() != ""
}

// StateName gives crash's two-letter task state: exit states first, then
// the lowest set bit of the state word, named by the kernel's own
// task_state_array order (R S D T t X Z P I).
func (t *Task) StateName() TaskState {
	switch {
	case t.ExitState&0x20 != 0:
		return StateZombie
	case t.ExitState&0x10 != 0:
		return StateDead
	}
	s := t.State
	switch {
	case s == 0:
		return StateRunning
	case s&0x402 == 0x402: // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
		return StateIdle
	case s&0x1 != 0:
		return StateInterruptible
	case s&0x2 != 0:
		return StateUninterruptible
	case s&0x4 != 0:
		return StateStopped
	case s&0x8 != 0:
		return StateTraced
	case s&0x40 != 0:
		return StateParked
	case s&0x80 != 0:
		return StateDead
	case s&0x200 != 0:
		return StateWaking
	case s&0x800 != 0:
		return StateNew
	}
	return StateUnknown
}
