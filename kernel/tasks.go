package kernel

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// maxListLen bounds every kernel list walk, so a corrupt list in a dump
// ends in an error instead of a loop.
const maxListLen = 1 << 22

// walkList calls fn with the address of each entry of the circular list
// whose head is at head (not itself an entry), read through k.
func walkList(k Reader, head uint64, fn func(node uint64) error) error {
	return walkListFrom(k, head, 0, fn)
}

// TaskList reads the kernel's tasks: the task list, the runqueues' current
// and idle tasks, task_struct's members and times, over a Reader, a Layout
// and Symbols, and the System's CPUs and per-CPU offsets.
type TaskList struct {
	Reader
	Layout
	Symbols
	sys  *System
	live bool // a running system: tasks exit while they are read

	layoutOnce sync.Once
	layout     taskLayout
}

// NewTaskList reads tasks through r, l and s, and sys's CPUs; live says
// the dump is a running system.
func NewTaskList(r Reader, l Layout, s Symbols, sys *System, live bool) *TaskList {
	return &TaskList{Reader: r, Layout: l, Symbols: s, sys: sys, live: live}
}

// TaskAddrs returns the address of every task_struct: init_task, each
// process on init_task.tasks with each of its threads (signal->thread_head
// on newer kernels, thread_group on older), and the per-CPU idle tasks.
//
// A damaged dump (pages filtered out by a makedumpfile that misjudges the
// kernel's page types, a file cut short) breaks those lists where an
// unreadable task_struct holds the next pointer. The walk then goes on by
// the other links the kernel keeps: the task list backwards from
// init_task (its prev pointers), and the PID namespace's idr (each struct
// pid's first task), as crash gathers tasks; the address of a task whose
// own list node could not be read is kept, so that reading it (Tasks)
// reports it. The error then says what could not be walked; the addresses
// are what was found. A dump whose lists are whole is walked as before.
func (k *TaskList) TaskAddrs() ([]uint64, error) {
	return k.walkTasks(nil)
}

// walkTasks is TaskAddrs calling visit (if not nil) with each task_struct's
// address as the walk meets it, once each: a caller that reads the task
// then finds its pages still in the dump's page cache, where a second pass
// over thousands of tasks would decode them again.
func (k *TaskList) walkTasks(visit func(uint64)) ([]uint64, error) {
	initTask, err := k.SymbolAddr("init_task")
	if err != nil {
		return nil, err
	}
	tasksOff, err := k.Offset("task_struct", "tasks")
	if err != nil {
		return nil, err
	}
	threadsOf, err := k.threadWalker()
	if err != nil {
		return nil, err
	}
	var out []uint64
	seen := map[uint64]bool{}
	add := func(t uint64) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
			if visit != nil {
				visit(t)
			}
		}
	}
	add(initTask)
	var broken []error
	walkThreads := func(leader uint64) {
		if err := threadsOf(leader, add); err != nil {
			broken = append(broken, fmt.Errorf("threads of task %x: %w", leader, err))
		}
	}
	head := initTask + uint64(tasksOff)
	err = walkListFrom(k, head, 0, func(node uint64) error {
		leader := node - uint64(tasksOff)
		add(leader)
		walkThreads(leader)
		return nil
	})
	if err != nil {
		broken = append(broken, fmt.Errorf("task list: %w", err))
		// Backwards from init_task, to the first node already found or
		// the next one that cannot be read.
		walkListFrom(k, head, 8, func(node uint64) error {
			leader := node - uint64(tasksOff)
			if seen[leader] {
				return errStopWalk
			}
			add(leader)
			walkThreads(leader)
			return nil
		})
	}
	if len(broken) > 0 {
		// Every task with a PID, wherever the lists broke...
		pids, _ := k.pidTasks()
		for _, t := range pids {
			add(t)
		}
		// ...and each process's neighbours on the task list, both ways,
		// so that a stretch between two unreadable tasks is found from
		// any of its processes (a PID whose struct pid was lost too).
		for i := 0; i < len(out); i++ {
			for _, n := range k.listNeighbours(out[i], uint64(tasksOff)) {
				if !seen[n] {
					add(n)
					walkThreads(n)
				}
			}
		}
	}
	idle, err := k.IdleTasks()
	if err == nil {
		for _, t := range idle {
			add(t)
		}
	}
	if len(broken) > 0 {
		return out, &BrokenWalkError{What: "task list", Errs: broken}
	}
	return out, nil
}

// BrokenWalkError reports a kernel list that could not be walked whole:
// what was found is returned beside it.
type BrokenWalkError struct {
	What string
	Errs []error
}

func (e *BrokenWalkError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// errStopWalk ends a list walk early without an error.
var errStopWalk = errors.New("stop")

// walkListFrom calls fn with each entry of the circular list whose head is
// at head, following the pointer at offset next of each node (0: next, 8:
// prev). A node that cannot be read ends the walk with its error, after fn
// has seen it: its address is known, its next pointer is not.
func walkListFrom(k Reader, head, next uint64, fn func(node uint64) error) error {
	seen := map[uint64]bool{}
	node, err := k.ReadU64(head + next)
	if err != nil {
		return err
	}
	for node != head {
		if node == 0 || seen[node] || len(seen) > maxListLen {
			return fmt.Errorf("corrupt list at %x", head)
		}
		seen[node] = true
		if err := fn(node); err != nil {
			if err == errStopWalk {
				return nil
			}
			return err
		}
		if node, err = k.ReadU64(node + next); err != nil {
			return err
		}
	}
	return nil
}

// listNeighbours returns the tasks before and after the process at task
// on the task list (task_struct.tasks at off), each only where its own
// link points back at task (a thread's copy of its parent's links, or a
// stale pointer, does not), or cannot be read: that one is reported by
// whoever reads it.
func (k *TaskList) listNeighbours(task, off uint64) []uint64 {
	l := k.taskLayout()
	if l.err != nil {
		return nil
	}
	pid, err1 := k.ReadU32(task + uint64(l.pid))
	tgid, err2 := k.ReadU32(task + uint64(l.tgid))
	if err1 != nil || err2 != nil || pid != tgid {
		return nil // only processes are on the task list
	}
	node := task + off
	var out []uint64
	for _, dir := range []uint64{0, 8} { // next, then prev
		n, err := k.ReadU64(node + dir)
		if err != nil || n == 0 || n == node {
			continue
		}
		back, err := k.ReadU64(n + 8 - dir)
		if err == nil && back != node {
			continue
		}
		out = append(out, n-off)
	}
	return out
}

// pidTasks returns the task of each PID of the initial PID namespace
// (init_pid_ns.idr: struct pid pointers; pid->tasks[PIDTYPE_PID].first is
// the task's pid_links[0]), as far as the tree can be read; whole is false
// when some of it could not be (or the kernel keeps no such idr, or its
// layout lacks a member: then there are none).
func (k *TaskList) pidTasks() (tasks []uint64, whole bool) {
	ns, err := k.SymbolAddr("init_pid_ns")
	if err != nil {
		return nil, false
	}
	d := objDeps{Reader: k.Reader, Layout: k.Layout, Symbols: k.Symbols, sys: k.sys}
	o := d.obj()
	idr := ns + o.off("pid_namespace", "idr") + o.off("idr", "idr_rt")
	tasksOff := o.off("pid", "tasks")
	linksOff := o.off("task_struct", "pid_links")
	if o.err != nil {
		return nil, false
	}
	ents, err := d.walkXArray(idr)
	whole = err == nil && len(ents) > 0
	for _, e := range ents {
		first, err := k.ReadU64(e.Value + tasksOff)
		if err != nil {
			whole = false
			continue
		}
		if first != 0 {
			tasks = append(tasks, first-linksOff)
		}
	}
	return tasks, whole
}

// CountTasks is how many tasks TaskAddrs finds, counted without reading
// a task_struct: each struct pid of the initial PID namespace's idr whose
// PIDTYPE_PID list has a task (every thread, in every namespace, has a
// PID there), plus each CPU's idle task (PID 0, never in the idr). The
// kernel attaches a task's PID and links it on the task list, and unhashes
// both, under tasklist_lock, so the two agree; a struct pid is a hundred
// bytes from a slab, where the list walk reads a page or two of each task.
// A kernel without the idr, or one that cannot be read whole (a damaged
// dump), is counted by TaskAddrs, whose walk has ways around the damage.
func (k *TaskList) CountTasks() (int, error) {
	if pids, whole := k.pidTasks(); whole {
		if idle, err := k.IdleTasks(); err == nil {
			seen := map[uint64]bool{}
			for _, t := range idle {
				seen[t] = true
			}
			return len(pids) + len(seen), nil
		}
	}
	tasks, err := k.TaskAddrs()
	return len(tasks), err
}

// threadWalker returns a function listing a thread group's threads, by
// whichever list this kernel has.
func (k *TaskList) threadWalker() (func(leader uint64, add func(uint64)) error, error) {
	headOff, err := k.Offset("signal_struct", "thread_head")
	if err != nil && !symbols.IsMissing(err) {
		return nil, err
	}
	if err == nil {
		sigOff, err := k.Offset("task_struct", "signal")
		if err != nil {
			return nil, err
		}
		nodeOff, err := k.Offset("task_struct", "thread_node")
		if err != nil {
			return nil, err
		}
		return func(leader uint64, add func(uint64)) error {
			sig, err := k.ReadU64(leader + uint64(sigOff))
			if err != nil || sig == 0 {
				return err
			}
			return walkList(k, sig+uint64(headOff), func(n uint64) error { add(n - uint64(nodeOff)); return nil })
		}, nil
	}
	groupOff, err := k.Offset("task_struct", "thread_group")
	if err != nil && !symbols.IsMissing(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("neither signal_struct.thread_head nor task_struct.thread_group exists")
	}
	return func(leader uint64, add func(uint64)) error {
		return walkList(k, leader+uint64(groupOff), func(n uint64) error { add(n - uint64(groupOff)); return nil })
	}, nil
}

// IdleTasks returns each present CPU's idle task (runqueues.idle), in CPU
// order.
func (k *TaskList) IdleTasks() ([]uint64, error) { return k.runqueueTasks("idle") }

// runqueueTasks reads a task pointer member of each present CPU's
// runqueue (struct rq).
func (k *TaskList) runqueueTasks(member string) ([]uint64, error) {
	rq, err := k.SymbolAddr("runqueues")
	if err != nil {
		return nil, err
	}
	off, err := k.Offset("rq", member)
	if err != nil {
		return nil, err
	}
	n, _, err := k.sys.CPUs()
	if err != nil {
		return nil, err
	}
	var out []uint64
	for cpu := 0; cpu < n; cpu++ {
		base, err := k.sys.PerCPUOffset(cpu)
		if err != nil {
			return out, err
		}
		t, err := k.ReadU64(rq + base + uint64(off))
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// PanicTask returns the task that was running on the CPU that panicked
// (panic_cpu), else the first task running on any CPU that is not an idle
// task.
func (k *TaskList) PanicTask() (uint64, error) {
	active, err := k.ActiveTasks()
	if err != nil {
		return 0, err
	}
	if a, err := k.SymbolAddr("panic_cpu"); err == nil {
		if cpu, err := k.ReadU32(a); err == nil && int(cpu) < len(active) {
			return active[cpu], nil
		}
	}
	for _, t := range active {
		if tk, err := k.ReadTask(t); err == nil && tk.PID != 0 {
			return t, nil
		}
	}
	return 0, fmt.Errorf("no task was running when the kernel stopped")
}

// FindTask finds a task by PID (the thread group leader's, or a thread's
// own) or by task_struct address.
func (k *TaskList) FindTask(pidOrAddr uint64) (Task, error) {
	tasks, err := k.Tasks()
	var u *UnreadableTasksError
	if err != nil && !errors.As(err, &u) {
		return Task{}, err
	}
	for _, t := range tasks {
		if t.Addr == pidOrAddr {
			return t, nil
		}
	}
	for _, t := range tasks {
		if uint64(t.PID) == pidOrAddr && (t.PID == t.TGID || t.PID == 0) {
			return t, nil
		}
	}
	return Task{}, fmt.Errorf("no task with PID or address %x", pidOrAddr)
}
