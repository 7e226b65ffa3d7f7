package kernel

import (
	"fmt"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// maxListLen bounds every kernel list walk, so a corrupt list in a dump
// ends in an error instead of a loop.
const maxListLen = 1 << 22

// walkList calls fn with the address of each entry of the circular list
// whose head is at head (not itself an entry), read through k.
func walkList(k Reader, head uint64, fn func(node uint64) error) error {
	seen := map[uint64]bool{}
	node, err := k.ReadU64(head)
	if err != nil {
		return err
	}
	for node != head {
		if node == 0 || seen[node] || len(seen) > maxListLen {
			return fmt.Errorf("corrupt list at %x", head)
		}
		seen[node] = true
		if err := fn(node); err != nil {
			return err
		}
		if node, err = k.ReadU64(node); err != nil {
			return err
		}
	}
	return nil
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
func (k *TaskList) TaskAddrs() ([]uint64, error) {
	var out []uint64
	err := k.walkTasks(func(t uint64) error { out = append(out, t); return nil })
	return out, err
}

// walkTasks calls visit with the address of each task_struct, once each,
// in TaskAddrs's order, as the walk meets it: a caller that reads the task
// then finds its pages still in the dump's page cache, where a second pass
// over thousands of tasks would decode them again. An error from visit ends
// the walk and is returned as it is; a walk that fails part way says
// "task list: ..." and visits no idle task.
func (k *TaskList) walkTasks(visit func(uint64) error) error {
	initTask, err := k.SymbolAddr("init_task")
	if err != nil {
		return err
	}
	tasksOff, err := k.Offset("task_struct", "tasks")
	if err != nil {
		return err
	}
	threadsOf, err := k.threadWalker()
	if err != nil {
		return err
	}
	seen := map[uint64]bool{}
	var visitErr error
	add := func(t uint64) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		if visitErr = visit(t); visitErr != nil {
			return visitErr
		}
		return nil
	}
	if err := add(initTask); err != nil {
		return err
	}
	err = walkList(k, initTask+uint64(tasksOff), func(node uint64) error {
		leader := node - uint64(tasksOff)
		if err := add(leader); err != nil {
			return err
		}
		return threadsOf(leader, add)
	})
	if visitErr != nil {
		return visitErr
	}
	if err != nil {
		return fmt.Errorf("task list: %w", err)
	}
	idle, err := k.IdleTasks()
	if err == nil {
		for _, t := range idle {
			if err := add(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// threadWalker returns a function listing a thread group's threads, by
// whichever list this kernel has.
func (k *TaskList) threadWalker() (func(leader uint64, add func(uint64) error) error, error) {
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
		return func(leader uint64, add func(uint64) error) error {
			sig, err := k.ReadU64(leader + uint64(sigOff))
			if err != nil || sig == 0 {
				return err
			}
			return walkList(k, sig+uint64(headOff), func(n uint64) error { return add(n - uint64(nodeOff)) })
		}, nil
	}
	groupOff, err := k.Offset("task_struct", "thread_group")
	if err != nil && !symbols.IsMissing(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("neither signal_struct.thread_head nor task_struct.thread_group exists")
	}
	return func(leader uint64, add func(uint64) error) error {
		return walkList(k, leader+uint64(groupOff), func(n uint64) error { return add(n - uint64(groupOff)) })
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
	if err != nil {
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
