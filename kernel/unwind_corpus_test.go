package kernel_test

import (
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// traceNames names a trace's frames as the kernel prints them.
func traceNames(k *kernel.Kernel, tr *kernel.Trace) []string {
	var out []string
	for _, f := range tr.Frames {
		name, _, ok := k.Symbolize(f.LookupPC())
		if !ok {
			name = "?"
		}
		out = append(out, name)
	}
	return out
}

// TestCorpusBacktraces compares bt with the traces the guest's kernel
// printed itself: for every task sysrq-t showed asleep, the function names
// frame for frame (at least 95% of them must agree on every dump), and for
// the task that panicked, the frames from panic down, exactly.
func TestCorpusBacktraces(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		checkBacktraces(t, r, openKernel(t, r, r.Files[0]))
	})
}

// checkBacktraces is TestCorpusBacktraces's check of one kernel: it
// returns the share of sleeping tasks' traces equal to the kernel's.
func checkBacktraces(t *testing.T, r *corpus.Run, k *kernel.Kernel) float64 {
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := k.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	byPID := map[int]kernel.Task{}
	for _, tk := range tasks {
		if tk.PID != 0 {
			byPID[int(tk.PID)] = tk
		}
	}
	compared, equal := 0, 0
	for _, kt := range truth.SysrqTraces() {
		if kt.State == "R" || len(kt.Frames) == 0 {
			continue // running when sysrq-t ran: its saved context was stale
		}
		tk, ok := byPID[kt.PID]
		if !ok || tk.Active {
			continue // gone, or running when the dump was taken
		}
		compared++
		tr, err := k.Backtrace(tk)
		if err != nil {
			t.Errorf("pid %d %s: %v", kt.PID, kt.Comm, err)
			continue
		}
		got, want := strings.Join(traceNames(k, tr), " "), strings.Join(kt.Names(), " ")
		if got == want {
			equal++
			continue
		}
		t.Logf("pid %d %s (%s):\n  kernel: %s\n  bt:     %s (%v)", kt.PID, kt.Comm, kt.State, want, got, tr.Err)
	}
	if compared == 0 {
		t.Fatal("no sleeping task of sysrq-t found in the dump")
	}
	pct := 100 * float64(equal) / float64(compared)
	t.Logf("%s: %d of %d sleeping tasks' traces equal the kernel's (%.1f%%)", r.Name, equal, compared, pct)
	if pct < 95 {
		t.Errorf("only %.1f%% of traces equal the kernel's, want 95%%", pct)
	}

	pt, ok := truth.PanicTrace()
	if !ok {
		t.Fatal("the console has no panic backtrace")
	}
	addr, err := k.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	tk, err := k.FindTask(addr)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := k.Backtrace(tk)
	if err != nil {
		t.Fatalf("panic task: %v", err)
	}
	got := fromPanic(traceNames(k, tr))
	want := fromPanic(pt.Names())
	if len(want) == 0 {
		t.Errorf("the kernel's panic trace has no panic frame: %v", pt.Names())
	} else if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("panic task %d: frames from panic down\n  kernel: %s\n  bt:     %s (%v)", tk.PID, strings.Join(want, " "), strings.Join(got, " "), tr.Err)
	} else {
		t.Logf("panic task %d: %d frames from panic down equal the kernel's", tk.PID, len(want))
	}
	return pct
}

// fromPanic drops the frames above panic (the dump machinery differs).
func fromPanic(names []string) []string {
	for i, n := range names {
		if n == "panic" {
			return names[i:]
		}
	}
	return nil
}
