package commands_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

var (
	sdCPURE  = regexp.MustCompile(`^cpu#(\d+)`)
	sdTaskRE = regexp.MustCompile(`^ ?[>]?([A-Z])\s+(.+?)\s+(\d+)\s+-?\d+\.\d+\s`)
)

// TestCorpusRunqAgainstTruth checks runq on every run against the guest's
// sched_debug and ps, read seconds before the crash: runq has a block for
// each CPU of sched_debug; each CPU's CURRENT is the task gocrash finds
// running there; every queued task is a task sched_debug listed, and in
// gocrash's ps it is runnable (RU); and the guest's busy loop (state R in
// its ps, other than ps itself) is running or queued on some CPU.
func TestCorpusRunqAgainstTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		lines := truthSection(t, r, "sched_debug")
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		s := openSession(t, r, r.Files[0])
		var got struct {
			CPUs []struct {
				CPU     int `json:"cpu"`
				Current struct {
					PID int32 `json:"pid"`
				} `json:"current"`
				RT  []struct{ PID int32 } `json:"rt"`
				CFS []struct{ PID int32 } `json:"cfs"`
			} `json:"cpus"`
		}
		jsonData(t, s, "runq", &got)
		text := run(t, s, "runq")
		cpus := map[int]bool{}
		known := map[int32]bool{}
		for _, ln := range lines {
			if m := sdCPURE.FindStringSubmatch(ln); m != nil {
				n, _ := strconv.Atoi(m[1])
				cpus[n] = true
			} else if m := sdTaskRE.FindStringSubmatch(ln); m != nil {
				pid, _ := strconv.Atoi(m[3])
				known[int32(pid)] = true
			}
		}
		if len(cpus) != len(got.CPUs) || len(known) == 0 {
			t.Fatalf("runq shows %d CPUs, sched_debug %d with %d tasks", len(got.CPUs), len(cpus), len(known))
		}
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		state := map[int32]string{}
		for _, tk := range tasks {
			if tk.PID != 0 {
				state[tk.PID] = string(tk.StateName())
			}
		}
		active, err := s.Kernel.ActiveTasks()
		if err != nil {
			t.Fatal(err)
		}
		onCPU := map[int32]bool{}
		for _, c := range got.CPUs {
			cur, err := s.Kernel.ReadTask(active[c.CPU])
			if err != nil {
				t.Fatal(err)
			}
			if c.Current.PID != cur.PID {
				t.Errorf("CPU %d: CURRENT PID %d, the active task is %d", c.CPU, c.Current.PID, cur.PID)
			}
			onCPU[c.Current.PID] = true
			for _, q := range append(c.RT, c.CFS...) {
				onCPU[q.PID] = true
				if !known[q.PID] {
					t.Errorf("CPU %d: queued PID %d is not in sched_debug", c.CPU, q.PID)
				}
				if state[q.PID] != "RU" {
					t.Errorf("CPU %d: queued PID %d is %s, not RU", c.CPU, q.PID, state[q.PID])
				}
				if !strings.Contains(text, "PID: "+strconv.Itoa(int(q.PID))+" ") {
					t.Errorf("CPU %d: PID %d is not in the text", c.CPU, q.PID)
				}
			}
		}
		busy := 0
		for _, p := range truth.PS {
			// A task the guest's ps saw running and that still runs at
			// the crash (kernel threads such as rcu_sched run briefly and
			// sleep again before the crash: s390x's ps caught one).
			if strings.HasPrefix(p.Stat, "R") && p.Comm != "ps" && state[int32(p.PID)] == "RU" {
				busy++
				if !onCPU[int32(p.PID)] {
					t.Errorf("the guest's running task %d (%s) is neither current nor queued:\n%s", p.PID, p.Comm, text)
				}
			}
		}
		if busy == 0 {
			t.Error("the guest's ps shows no running task besides ps")
		}
	})
}
