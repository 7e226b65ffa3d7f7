package commands_test

import (
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// waitqLines are waitq command lines for a run's known waiters: the
// guest's renamed task and fdholder are shells waiting for their child
// (sleep), so each waits on its own signal_struct.wait_chldexit; and
// log_wait, by symbol. It returns the lines and, for each, the PID of the
// task that must be its only waiter (-1: any).
func waitqLines(t *testing.T, s *commands.Session) ([]string, []int32) {
	t.Helper()
	k := s.Kernel
	tasks, err := k.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	off, err := k.Offset("task_struct", "signal")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var pids []int32
	for _, tk := range tasks {
		if tk.Comm != "renamed-task" && tk.Comm != "fdholder" {
			continue
		}
		sig, err := k.ReadU64(tk.Addr + uint64(off))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("waitq signal_struct.wait_chldexit %x", sig))
		pids = append(pids, tk.PID)
	}
	if len(lines) != 2 {
		t.Fatalf("the guest's renamed-task and fdholder: %d found", len(lines))
	}
	return append(lines, "waitq log_wait"), append(pids, -1)
}

// TestCorpusWaitqAgainstTruth runs waitq on every run on the wait queues
// of waitqLines: each shell waiting for its child is the one task on its
// wait_chldexit, in the JSON and the text.
func TestCorpusWaitqAgainstTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		lines, pids := waitqLines(t, s)
		for i, ln := range lines {
			var got struct {
				Tasks []struct {
					PID  int32        `json:"pid"`
					Task commands.Hex `json:"task"`
				} `json:"tasks"`
			}
			jsonData(t, s, ln, &got)
			text := run(t, s, ln)
			if pids[i] < 0 {
				continue
			}
			if len(got.Tasks) != 1 || got.Tasks[0].PID != pids[i] {
				t.Errorf("%s: %+v, want PID %d alone:\n%s", ln, got.Tasks, pids[i], text)
				continue
			}
			if want := fmt.Sprintf("PID: %-7d  TASK: %016x", pids[i], uint64(got.Tasks[0].Task)); len(text) < len(want) || text[:len(want)] != want {
				t.Errorf("%s: text %q", ln, text)
			}
		}
	})
}
