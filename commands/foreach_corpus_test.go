package commands_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// foreachSelectors are the task selectors foreach takes, each alone.
var foreachSelectors = []string{"user", "kernel", "gleader", "active", "RU", "IN", "UN", "ST", "ZO", "ID",
	"'kworker.*'", "sleep", "1", "user IN", "kernel ID"}

// TestCorpusForeachAgainstCrash: on the 5.10 kdump run foreach's text
// equals crash 8.0.2's for every selector (with task -R), and for task -R,
// set, vtop and bt run per task; the JSON of a per-task command has one
// entry per header of its text.
func TestCorpusForeachAgainstCrash(t *testing.T) {
	r := kdumpRun(t, "5.10")
	f := r.Files[0]
	s := openSession(t, r, f)
	var cmds []string
	// The selectors with task -R (ps's RSS column is ps's to match).
	for _, sel := range foreachSelectors {
		cmds = append(cmds, "foreach "+sel+" task -R pid")
	}
	init := symAddr(t, s, "init_task")
	cmds = append(cmds,
		fmt.Sprintf("foreach 1 %x 2 task -R comm", init),
		"foreach RU task -R pid,comm,se.on_rq",
		"foreach 'kworker.*' task -R state",
		"foreach -R prio user task",
		"foreach active set",
		fmt.Sprintf("foreach 1 vtop %x", init),
		"foreach ST bt",
		"foreach UN ps",
	)
	// Not compared: "foreach user set" (set's STATE line of a task not
	// running is set's own to match: crash names every state bit and
	// ends the line with a space), foreach vtop of several tasks (crash
	// prints vtop's PAGE header for the first task only) and the active
	// tasks' bt (bt's own).
	n := compareWithCrash(t, r, f, s, nil, cmds)
	t.Logf("%s: %d foreach commands equal crash 8.0.2's", r.Name, n)

	// Flags after the command go to it: foreach ST bt -l is bt -l of
	// each stopped task (bt -l's line numbers are bt's to match crash's).
	var each strings.Builder
	for _, pid := range psPIDs(t, run(t, s, "foreach ST ps")) {
		each.WriteString(run(t, s, fmt.Sprintf("bt -l %d", pid)))
	}
	if got := run(t, s, "foreach ST bt -l"); got != each.String() || !strings.Contains(got, ".c: ") {
		t.Errorf("foreach ST bt -l:\n%s\nbt -l of each:\n%s", got, each.String())
	}

	line := "foreach user task -R pid"
	var res struct {
		Command string `json:"command"`
		Tasks   []struct {
			PID    int            `json:"pid"`
			Result map[string]any `json:"result"`
		} `json:"tasks"`
	}
	jsonData(t, s, line, &res)
	text := run(t, s, line)
	if res.Command != "task" || len(res.Tasks) == 0 || len(res.Tasks) != strings.Count(text, "PID: ") {
		t.Fatalf("%s: JSON %d tasks, text:\n%s", line, len(res.Tasks), text)
	}
	for _, tk := range res.Tasks {
		if !strings.Contains(text, fmt.Sprintf("PID: %-7d", tk.PID)) || tk.Result == nil {
			t.Errorf("%s: JSON task %d not in the text", line, tk.PID)
		}
	}
}

// psPIDs reads the PIDs of a ps listing.
func psPIDs(t *testing.T, out string) []int {
	t.Helper()
	var pids []int
	for _, ln := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:] {
		f := strings.Fields(strings.TrimPrefix(ln, ">"))
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("ps line %q", ln)
		}
		pids = append(pids, pid)
	}
	return pids
}

// TestCorpusForeachTruth: on every run, foreach's selectors choose what
// the guest's own ps says: the stopped and zombie test tasks are ST and
// ZO, the kernel threads (no memory in ps) are kernel and never
// user, the sleep task is chosen by its name and the kworkers by a regex;
// every selector chooses the tasks of gocrash's own ps that it should
// (each restriction of "foreach ps" by the task's state, kind or name).
func TestCorpusForeachTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		all := psPIDs(t, run(t, s, "foreach ps"))
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		byPID := map[int][]commandsTask{}
		for _, tk := range tasks {
			byPID[int(tk.PID)] = append(byPID[int(tk.PID)], commandsTask{kthread: tk.Kthread(), state: string(tk.StateName()), comm: tk.Comm, leader: tk.PID == tk.TGID, active: tk.Active})
		}
		if len(all) != len(tasks) {
			t.Fatalf("foreach ps: %d tasks of %d", len(all), len(tasks))
		}
		sel := map[string][]int{}
		for _, w := range foreachSelectors {
			sel[w] = psPIDs(t, run(t, s, "foreach "+w+" ps"))
		}
		// Each selector's tasks are those of ps it keeps.
		keep := map[string]func(commandsTask, int) bool{
			"user":        func(c commandsTask, _ int) bool { return !c.kthread },
			"kernel":      func(c commandsTask, _ int) bool { return c.kthread },
			"gleader":     func(c commandsTask, _ int) bool { return !c.kthread && c.leader },
			"active":      func(c commandsTask, _ int) bool { return c.active },
			"'kworker.*'": func(c commandsTask, _ int) bool { return strings.HasPrefix(c.comm, "kworker") },
			"sleep":       func(c commandsTask, _ int) bool { return c.comm == "sleep" },
			"1":           func(_ commandsTask, pid int) bool { return pid == 1 },
			"user IN":     func(c commandsTask, _ int) bool { return !c.kthread && c.state == "IN" },
			"kernel ID":   func(c commandsTask, _ int) bool { return c.kthread && c.state == "ID" },
		}
		for _, st := range []string{"RU", "IN", "UN", "ST", "ZO", "ID"} {
			keep[st] = func(c commandsTask, _ int) bool { return c.state == st }
		}
		for _, w := range foreachSelectors {
			var want []int
			for _, pid := range all {
				for _, c := range byPID[pid] {
					if keep[w](c, pid) {
						want = append(want, pid)
						break
					}
				}
			}
			want = slices.Compact(want)
			if got := slices.Compact(slices.Clone(sel[w])); !slices.Equal(got, want) {
				t.Errorf("foreach %s ps: PIDs %v, want %v", w, got, want)
			}
		}
		// Against the guest's ps.
		found := 0
		for _, p := range truth.PS {
			if _, alive := byPID[p.PID]; !alive {
				continue // exited before the crash (the guest's ps itself)
			}
			found++
			// busybox ps: a kernel thread has no memory (VSZ 0), nor
			// has a zombie.
			kthread := p.VSZ == "0" && !strings.HasPrefix(p.Stat, "Z")
			if kthread != slices.Contains(sel["kernel"], p.PID) || kthread == slices.Contains(sel["user"], p.PID) {
				t.Errorf("guest ps %d %s: kernel %v, user %v", p.PID, p.Comm, slices.Contains(sel["kernel"], p.PID), slices.Contains(sel["user"], p.PID))
			}
			if strings.HasPrefix(p.Stat, "T") && !slices.Contains(sel["ST"], p.PID) {
				t.Errorf("guest ps %d %s %s: not in foreach ST", p.PID, p.Comm, p.Stat)
			}
			if strings.HasPrefix(p.Stat, "Z") && !slices.Contains(sel["ZO"], p.PID) {
				t.Errorf("guest ps %d %s %s: not in foreach ZO", p.PID, p.Comm, p.Stat)
			}
			if p.Comm == "sleep" && !slices.Contains(sel["sleep"], p.PID) {
				t.Errorf("guest ps %d sleep: not in foreach sleep", p.PID)
			}
			if strings.HasPrefix(p.Comm, "kworker") && !slices.Contains(sel["'kworker.*'"], p.PID) {
				t.Errorf("guest ps %d %s: not in foreach 'kworker.*'", p.PID, p.Comm)
			}
		}
		if found < len(truth.PS)/2 || len(sel["ST"]) == 0 || len(sel["ZO"]) == 0 || len(sel["sleep"]) == 0 {
			t.Errorf("%d of %d guest tasks found; ST %v ZO %v sleep %v", found, len(truth.PS), sel["ST"], sel["ZO"], sel["sleep"])
		}
	})
}

type commandsTask struct {
	kthread, leader, active bool
	state, comm             string
}
