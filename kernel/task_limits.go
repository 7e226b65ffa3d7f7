package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// Rlimit is one resource limit (struct rlimit): the soft (Cur) and hard
// (Max) values; RlimInfinity means unlimited.
type Rlimit struct {
	Cur, Max uint64
}

// RlimInfinity is RLIM_INFINITY.
const RlimInfinity = ^uint64(0)

// rlimNLimits is RLIM_NLIMITS, unchanged since 2.6.25 (RLIMIT_RTTIME).
const rlimNLimits = 16

// TaskRlimits reads task->signal->rlim[], the task's resource limits by
// RLIMIT_ number (task_struct.rlim on kernels before 2.6.10).
func (k *TaskList) TaskRlimits(task uint64) ([]Rlimit, error) {
	base := uint64(0)
	off, err := k.Offset("signal_struct", "rlim")
	if err == nil {
		sig, serr := k.Offset("task_struct", "signal")
		if serr != nil {
			return nil, serr
		}
		s, rerr := k.ReadU64(task + uint64(sig))
		if rerr != nil {
			return nil, fmt.Errorf("task %x: %w", task, rerr)
		}
		if s == 0 {
			return nil, fmt.Errorf("task %x has no signal_struct", task)
		}
		base = s + uint64(off)
	} else if symbols.IsMissing(err) {
		if off, err = k.Offset("task_struct", "rlim"); err != nil {
			return nil, fmt.Errorf("cannot determine rlimit array location: %w", err)
		}
		base = task + uint64(off)
	} else {
		return nil, err
	}
	size, err := k.Size("rlimit")
	if err != nil {
		return nil, err
	}
	out := make([]Rlimit, rlimNLimits)
	for i := range out {
		a := base + uint64(i)*uint64(size)
		if out[i].Cur, err = k.ReadU64(a); err != nil {
			return nil, fmt.Errorf("rlimit %d: %w", i, err)
		}
		if out[i].Max, err = k.ReadU64(a + 8); err != nil {
			return nil, fmt.Errorf("rlimit %d: %w", i, err)
		}
	}
	return out, nil
}

// TaskPolicy reads task_struct.policy, the task's scheduling policy
// (SCHED_NORMAL 0, FIFO 1, RR 2, BATCH 3, ISO 4, IDLE 5, DEADLINE 6).
func (k *TaskList) TaskPolicy(task uint64) (uint32, error) {
	off, err := k.Offset("task_struct", "policy")
	if err != nil {
		return 0, err
	}
	return k.ReadU32(task + uint64(off))
}

// TaskKernelSP reads the kernel stack pointer a task saved when it was
// switched out: task_struct.thread.sp (x86_64), else
// thread.cpu_context.sp (arm64). For a task running on a CPU it is stale.
func (k *TaskList) TaskKernelSP(task uint64) (uint64, error) {
	off, err := k.Offset("task_struct", "thread.sp")
	if symbols.IsMissing(err) {
		off, err = k.Offset("task_struct", "thread.cpu_context.sp")
	}
	if err != nil {
		return 0, err
	}
	return k.ReadU64(task + uint64(off))
}
