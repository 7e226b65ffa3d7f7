package kernel_test

import (
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// lockMachine lays out init_task and tasks a (pid 10), b (11), c (12).
func lockMachine() (*kerneltest.Machine, []uint64) {
	m := kerneltest.New()
	var ts []*kerneltest.Task
	for i, c := range []string{"a", "b", "c"} {
		ts = append(ts, &kerneltest.Task{PID: int32(10 + i), TGID: int32(10 + i), Comm: c, State: 2})
	}
	addrs := m.Tasks(&kerneltest.Task{Comm: "swapper/0", Flags: kerneltest.PFKthread}, ts)
	return m, addrs
}

func TestRWSemWaited(t *testing.T) {
	m, addrs := lockMachine()
	a, b, c := addrs[1], addrs[2], addrs[3]
	isTask := func(x uint64) bool { return x == a || x == b || x == c }
	// Held for writing by a (RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS),
	// b and c waiting.
	wsem, wstacks := m.RWSem(1|2, a, []uint64{b, c})
	// Held by two readers, the last to take it a (RWSEM_READER_OWNED |
	// RWSEM_NONSPINNABLE), c waiting to write.
	rsem, rstacks := m.RWSem(2<<8|2, a|1|2, []uint64{c})
	// No owner recorded (0), b waiting.
	nsem, nstacks := m.RWSem(2, 0, []uint64{b})
	k := m.Kernel(t)
	for _, tc := range []struct {
		name   string
		task   uint64
		stack  uint64
		want   kernel.LockWait
		errSub string
	}{
		{"writer-owned, first waiter", b, wstacks[0], kernel.LockWait{Kind: "rw_semaphore", Lock: wsem, Owner: a, Writer: true}, ""},
		{"writer-owned, second waiter", c, wstacks[1], kernel.LockWait{Kind: "rw_semaphore", Lock: wsem, Owner: a, Writer: true}, ""},
		{"reader-owned", c, rstacks[0], kernel.LockWait{Kind: "rw_semaphore", Lock: rsem, Owner: a, Flags: 3, Readers: 2, ReaderOwned: true}, ""},
		{"no owner", b, nstacks[0], kernel.LockWait{Kind: "rw_semaphore", Lock: nsem}, ""},
		{"not on this stack", c, wstacks[0], kernel.LockWait{}, "no rw_semaphore waiter"},
	} {
		got, err := kernel.RWSemWaited(k, k, tc.task, tc.stack, tc.stack+kerneltest.StackSize, isTask)
		if tc.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("%s: %+v, %v; want an error %q", tc.name, got, err, tc.errSub)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	// A waiter whose list is broken (the next node's prev does not come
	// back) is not followed.
	m.PutU64(wsem+kerneltest.RWSemWaitList+8, 0)
	k = m.Kernel(t)
	if got, err := kernel.RWSemWaited(k, k, c, wstacks[1], wstacks[1]+kerneltest.StackSize, isTask); err == nil {
		t.Errorf("a broken wait list gave %+v", got)
	}
}

func TestRTMutexWaited(t *testing.T) {
	m, addrs := lockMachine()
	a, b, c := addrs[1], addrs[2], addrs[3]
	l1 := m.RTMutex(a, []uint64{b})
	m.RTMutex(b, nil) // held, nobody waiting: no flag
	k := m.Kernel(t)
	got, ok, err := kernel.RTMutexWaited(k, k, b)
	if want := (kernel.LockWait{Kind: "rt_mutex", Lock: l1, Owner: a, Flags: 1}); !ok || err != nil || got != want {
		t.Errorf("b: %+v %v %v; want %+v", got, ok, err, want)
	}
	if got, ok, err := kernel.RTMutexWaited(k, k, c); ok || err != nil {
		t.Errorf("c waits on no rt_mutex: %+v %v %v", got, ok, err)
	}
	// A pi_blocked_on whose waiter names another task is corrupt.
	w, _ := k.ReadU64(b + kerneltest.TaskPIBlockedOn)
	m.PutU64(c+kerneltest.TaskPIBlockedOn, w)
	k = m.Kernel(t)
	if _, _, err := kernel.RTMutexWaited(k, k, c); err == nil || !strings.Contains(err.Error(), "not this task's") {
		t.Errorf("a waiter of another task: %v", err)
	}
}
