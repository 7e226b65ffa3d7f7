package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// TaskTimes is a task's start time and CPU time, as task_struct keeps
// them (every kernel from 5.x on: u64 nanoseconds).
type TaskTimes struct {
	Start uint64 // start_time: CLOCK_MONOTONIC nanoseconds at fork
	UTime uint64 // utime: nanoseconds spent in user mode
	STime uint64 // stime: nanoseconds spent in the kernel
}

// ReadTaskTimes reads task_struct.start_time, utime and stime.
func (k *TaskList) ReadTaskTimes(task uint64) (TaskTimes, error) {
	var tt TaskTimes
	for _, f := range []struct {
		member string
		dst    *uint64
	}{{"start_time", &tt.Start}, {"utime", &tt.UTime}, {"stime", &tt.STime}} {
		off, err := k.Offset("task_struct", f.member)
		if err != nil {
			return tt, err
		}
		if *f.dst, err = k.ReadU64(task + uint64(off)); err != nil {
			return tt, fmt.Errorf("task %x %s: %w", task, f.member, err)
		}
	}
	return tt, nil
}

// LastRunMember names the task_struct member that holds when a task last
// ran, the first this kernel has of: last_run and timestamp (kernels
// before 2.6.23, kept as crash probes them), sched_info.last_arrival
// (CONFIG_SCHED_INFO), and se.exec_start (when the scheduler's statistics
// are compiled out; crash has no answer then). All count nanoseconds of the
// runqueue clock, except last_run (jiffies).
func (k *TaskList) LastRunMember() (string, error) {
	for _, m := range []string{"last_run", "timestamp", "sched_info.last_arrival", "se.exec_start"} {
		if _, err := k.Offset("task_struct", m); err == nil {
			return m, nil
		} else if !symbols.IsMissing(err) {
			return "", err
		}
	}
	return "", fmt.Errorf("last-run timestamps do not exist in this kernel")
}

// LastRun reads the task's last-run timestamp (see LastRunMember).
func (k *TaskList) LastRun(task uint64) (uint64, error) {
	m, err := k.LastRunMember()
	if err != nil {
		return 0, err
	}
	off, err := k.Offset("task_struct", m)
	if err != nil {
		return 0, err
	}
	v, err := k.ReadU64(task + uint64(off))
	if err != nil {
		return 0, fmt.Errorf("task %x %s: %w", task, m, err)
	}
	return v, nil
}

// RQClock reads a CPU's runqueue clock (rq.clock, nanoseconds), the clock
// the last-run timestamps are taken from.
func (k *TaskList) RQClock(cpu int) (uint64, error) {
	rq, err := k.SymbolAddr("runqueues")
	if err != nil {
		return 0, err
	}
	off, err := k.Offset("rq", "clock")
	if err != nil {
		return 0, err
	}
	base, err := k.sys.PerCPUOffset(cpu)
	if err != nil {
		return 0, err
	}
	return k.ReadU64(rq + base + uint64(off))
}
