package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// maxListLen bounds every kernel list walk, so a corrupt list in a dump
// ends in an error instead of a loop.
const maxListLen = 1 << 22

// walkList calls fn with the address of each entry of the circular list
// whose head is at head (not itself an entry).
func (k *Kernel) walkList(head uint64, fn func(node uint64) error) error {
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

// TaskAddrs returns the address of every task_struct: init_task, each
// process on init_task.tasks with each of its threads (signal->thread_head
// on newer kernels, thread_group on older), and the per-CPU idle tasks.
func (k *Kernel) TaskAddrs() ([]uint64, error) {
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
	out := []uint64{initTask}
	seen := map[uint64]bool{initTask: true}
	add := func(t uint64) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	err = k.walkList(initTask+uint64(tasksOff), func(node uint64) error {
		leader := node - uint64(tasksOff)
		add(leader)
		return threadsOf(leader, add)
	})
	if err != nil {
		return out, fmt.Errorf("task list: %w", err)
	}
	idle, err := k.IdleTasks()
	if err == nil {
		for _, t := range idle {
			add(t)
		}
	}
	return out, nil
}

// threadWalker returns a function listing a thread group's threads, by
// whichever list this kernel has.
func (k *Kernel) threadWalker() (func(leader uint64, add func(uint64)) error, error) {
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
			return k.walkList(sig+uint64(headOff), func(n uint64) error { add(n - uint64(nodeOff)); return nil })
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
		return k.walkList(leader+uint64(groupOff), func(n uint64) error { add(n - uint64(groupOff)); return nil })
	}, nil
}

// PerCPUOffset returns __per_cpu_offset[cpu].
func (k *Kernel) PerCPUOffset(cpu int) (uint64, error) {
	a, err := k.SymbolAddr("__per_cpu_offset")
	if err != nil {
		return 0, err
	}
	return k.ReadU64(a + 8*uint64(cpu))
}

// IsPerCPU reports whether a (relocated) symbol address lies in the
// per-CPU section, [__per_cpu_start, __per_cpu_end): a template whose
// instances are at address + PerCPUOffset(cpu). On x86_64 the section is
// linked at 0; on arm64 it is in the kernel image.
func (k *Kernel) IsPerCPU(addr uint64) bool {
	start, err1 := k.SymbolAddr("__per_cpu_start")
	end, err2 := k.SymbolAddr("__per_cpu_end")
	return err1 == nil && err2 == nil && addr >= start && addr < end
}

// IdleTasks returns each present CPU's idle task (runqueues.idle), in CPU
// order.
func (k *Kernel) IdleTasks() ([]uint64, error) { return k.runqueueTasks("idle") }

// runqueueTasks reads a task pointer member of each present CPU's
// runqueue (struct rq).
func (k *Kernel) runqueueTasks(member string) ([]uint64, error) {
	rq, err := k.SymbolAddr("runqueues")
	if err != nil {
		return nil, err
	}
	off, err := k.Offset("rq", member)
	if err != nil {
		return nil, err
	}
	n, _, err := k.CPUs()
	if err != nil {
		return nil, err
	}
	var out []uint64
	for cpu := 0; cpu < n; cpu++ {
		base, err := k.PerCPUOffset(cpu)
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
