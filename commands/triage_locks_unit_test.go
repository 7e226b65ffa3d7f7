package commands

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// lockChainMachine: tasks a, b, c (pids 10-12) in D state, a blocked on
// an rt_mutex b holds, b on one c holds, and, when cycle, c on one a
// holds.
func lockChainMachine(t *testing.T, cycle bool) (*Session, []uint64) {
	m := kerneltest.New()
	var ts []*kerneltest.Task
	for i, c := range []string{"a", "b", "c"} {
		ts = append(ts, &kerneltest.Task{PID: int32(10 + i), TGID: int32(10 + i), Comm: c, State: 2})
	}
	addrs := m.Tasks(&kerneltest.Task{Comm: "swapper/0", Flags: kerneltest.PFKthread}, ts)
	a, b, c := addrs[1], addrs[2], addrs[3]
	m.RTMutex(b, []uint64{a})
	m.RTMutex(c, []uint64{b})
	if cycle {
		m.RTMutex(a, []uint64{c})
	}
	m.CPUs([]kerneltest.CPU{{Curr: addrs[0], Idle: addrs[0]}}, 0)
	return &Session{Kernel: m.Kernel(t), Registry: NewRegistry()}, addrs
}

func chainPIDs(l *TriageLock) []int32 {
	var out []int32
	for _, r := range l.Chain {
		out = append(out, r.PID)
	}
	return out
}

func TestTriageLockChain(t *testing.T) {
	for _, cycle := range []bool{false, true} {
		s, addrs := lockChainMachine(t, cycle)
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		byAddr := map[uint64]kernel.Task{}
		for _, tk := range tasks {
			byAddr[tk.Addr] = tk
		}
		l := lockWait(s, byAddr[addrs[1]], &BTTrace{}, byAddr)
		if l == nil || l.Kind != "rt_mutex" || l.Owner == nil || l.Owner.PID != 11 || l.Flags != 1 || l.Error != "" {
			t.Fatalf("cycle %v: lock %+v", cycle, l)
		}
		want := "[11 12]"
		if cycle {
			want = "[11 12 10]"
		}
		if got := fmt.Sprint(chainPIDs(l)); got != want || l.Deadlock != cycle {
			t.Errorf("cycle %v: chain %s deadlock %v; want %s", cycle, got, l.Deadlock, want)
		}
		// The report's text names the lock, its owner, the chain and the
		// deadlock.
		r := &TriageResult{Blocked: TriageBlocked{Clock: "test", Tasks: []TriageBlockedTask{{TaskRef: taskRef(byAddr[addrs[1]]), WaitError: "x", Lock: l}}}}
		var buf bytes.Buffer
		r.Text(&buf)
		text := buf.String()
		for _, w := range []string{"  RT_MUTEX: ", " OWNER: PID: 11 ", "  OWNER CHAIN: 11 -> 12"} {
			if !strings.Contains(text, w) {
				t.Errorf("cycle %v: no %q in\n%s", cycle, w, text)
			}
		}
		if got := strings.Contains(text, "DEADLOCK"); got != cycle {
			t.Errorf("cycle %v: DEADLOCK shown %v:\n%s", cycle, got, text)
		}
	}
}

func TestTriageReaderOwnedNote(t *testing.T) {
	isTask := func(a uint64) bool { return a == 0x1000 }
	l := lockOf(kernel.LockWait{Kind: "rw_semaphore", Lock: 0x9000, Owner: 0x1000, Flags: 1, Readers: 3, ReaderOwned: true}, isTask)
	if l.owner != 0x1000 || !strings.Contains(l.Note, "held by 3 reader(s)") || !strings.Contains(l.Note, "may have released it") {
		t.Errorf("reader-owned: %+v", l)
	}
	l = lockOf(kernel.LockWait{Kind: "rw_semaphore", Lock: 0x9000}, isTask)
	if l.owner != 0 || l.Error != "the lock records no owner" {
		t.Errorf("no owner: %+v", l)
	}
	l = lockOf(kernel.LockWait{Kind: "rt_mutex", Lock: 0x9000, Owner: 0x2000}, isTask)
	if l.owner != 0 || !strings.Contains(l.Error, "not in the task list") {
		t.Errorf("a stray owner: %+v", l)
	}
}
