package commands_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// The large corpus run (testdata/corpus/build-large.sh; corpus.LargeRun):
// an 8 GiB, 4-CPU x86_64 6.1 guest with thousands of tasks, the swarm
// helper's processes and threads (named swarmNNNN and swarmNNNN.K), each
// holding files open and several mappings, all asleep in pause().

var swarmRE = regexp.MustCompile(`^swarm\d{4}(\.\d+)?$`)

// largePS parses ps on the large run: each task's PID, PPID, state, VSZ and
// name, by PID (the idle tasks, PID 0, are left out).
func largePS(t *testing.T, out string) map[int][]string {
	t.Helper()
	rows := map[int][]string{}
	for _, ln := range strings.Split(out, "\n")[1:] {
		m := psLineRE.FindStringSubmatch(ln)
		if m == nil {
			if ln != "" {
				t.Errorf("ps line %q not in crash's shape", ln)
			}
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); pid != 0 {
			rows[pid] = []string{m[2], m[3], m[4], m[6]}
		}
	}
	return rows
}

// TestCorpusLargePS: ps lists every task of the guest's own ps -T (all of
// them, thousands), each with its parent, its name, its VSZ, and the
// swarm's tasks asleep (IN); and nothing the guest did not list but kernel
// threads started since.
func TestCorpusLargePS(t *testing.T) {
	r := corpus.LargeRun(t)
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.PS) < 5000 || r.Tasks < 5000 {
		t.Fatalf("the guest's ps has %d tasks, its swarm %d: want at least 5000", len(truth.PS), r.Tasks)
	}
	s := openSession(t, r, r.Files[0])
	rows := largePS(t, run(t, s, "ps"))
	guest := map[int]bool{}
	compared, swarm := 0, 0
	for _, p := range truth.PS {
		guest[p.PID] = true
		got, ok := rows[p.PID]
		if !ok {
			// ps itself has exited since.
			if p.Comm != "ps" {
				t.Errorf("pid %d %s: not in ps", p.PID, p.Comm)
			}
			continue
		}
		compared++
		comm := strings.Trim(got[3], "[]")
		if got[0] != strconv.Itoa(p.PPID) || !strings.HasPrefix(strings.Trim(p.Comm, "[]"), comm) {
			t.Errorf("pid %d: ps %v, guest %+v", p.PID, got, p)
		}
		if v, err := strconv.Atoi(p.VSZ); err == nil && v != 0 && got[2] != p.VSZ {
			t.Errorf("pid %d %s: VSZ %s, guest %s", p.PID, p.Comm, got[2], p.VSZ)
		}
		if swarmRE.MatchString(p.Comm) {
			swarm++
			if got[1] != "IN" || p.Stat[0] != 'S' {
				t.Errorf("pid %d %s: state %s, guest %s, want IN and S", p.PID, p.Comm, got[1], p.Stat)
			}
		}
	}
	for pid, got := range rows {
		if !guest[pid] && !strings.HasPrefix(got[3], "[") {
			t.Errorf("pid %d %v: in ps, not in the guest's ps", pid, got)
		}
	}
	if swarm != r.Tasks {
		t.Errorf("%d swarm tasks compared, the swarm made %d", swarm, r.Tasks)
	}
	if compared != len(truth.PS)-1 {
		t.Errorf("%d of the guest's %d tasks compared", compared, len(truth.PS))
	}
	t.Logf("%d tasks equal the guest's ps (%d of the swarm); ps lists %d", compared, swarm, len(rows))
}

// TestCorpusLargeForeachBT: foreach bt over every task completes with a
// trace in crash's shapes for each task, no errors, and every swarm task's
// trace through pause(2) from its system call entry.
func TestCorpusLargeForeachBT(t *testing.T) {
	r := corpus.LargeRun(t)
	s := openSession(t, r, r.Files[0])
	tasks, err := s.Kernel.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, s, "foreach bt")
	if got := checkShapes(t, r.Arch, out); got != len(tasks) || got < r.Tasks {
		t.Errorf("foreach bt printed %d traces for %d tasks", got, len(tasks))
	}
	swarm := 0
	for _, b := range strings.Split(out, "\n\n") {
		m := regexp.MustCompile(`COMMAND: "(.*)"`).FindStringSubmatch(b)
		if m == nil || !swarmRE.MatchString(m[1]) {
			continue
		}
		swarm++
		if !strings.Contains(b, "_sys_pause at ") || !strings.Contains(b, " entry_SYSCALL_64") {
			t.Errorf("a swarm task's trace is not in pause(2):\n%s", b)
		}
	}
	if swarm != r.Tasks {
		t.Errorf("%d swarm traces, the swarm made %d tasks", swarm, r.Tasks)
	}
	t.Logf("%d traces, %d of the swarm", len(tasks), swarm)
}

// TestCorpusLargeKmem: kmem -i, -f, -z, -v and kmem -s against the guest's
// meminfo, buddyinfo, zoneinfo, vmallocinfo and slabinfo, with the
// tolerances of the other runs.
func TestCorpusLargeKmem(t *testing.T) {
	r := corpus.LargeRun(t)
	t.Run("info", func(t *testing.T) { kmemTruth(t, r) })
	t.Run("slab", func(t *testing.T) { kmemSlabTruth(t, r) })
}

// TestCorpusLargeLog: log holds every console line of the crashed kernel.
func TestCorpusLargeLog(t *testing.T) {
	logHoldsConsole(t, corpus.LargeRun(t))
}

// pageCost is what one command costs in pages decoded out of the dump
// file (memory.Dump.PagesDecoded: the page cache's hits not counted) as
// the first command of a new session, the session's own first reads (the
// panic task, the task list) included.
type pageCost struct {
	pages      uint64
	tasks      int
	gib        float64 // the machine's memory, GiB
	perTask    float64
	perGiB     float64
	sessionRun string
}

func commandPages(t *testing.T, r *corpus.Run, line string) pageCost {
	t.Helper()
	var f corpus.File
	for _, x := range r.Files {
		if x.Format == "kdump" && len(x.Parts) == 0 {
			f = x
		}
	}
	if f.Path == "" {
		t.Fatalf("%s: no kdump-compressed file", r.Name)
	}
	s := openSession(t, r, f)
	before := s.Kernel.Dump.PagesDecoded()
	run(t, s, line)
	after := s.Kernel.Dump.PagesDecoded()
	tasks, err := s.Kernel.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Kernel.MemInfo()
	if err != nil {
		t.Fatal(err)
	}
	c := pageCost{pages: after - before, tasks: len(tasks), gib: float64(m.TotalRAM*s.Kernel.Arch.PageSize()) / (1 << 30), sessionRun: r.Name}
	c.perTask = float64(c.pages) / float64(c.tasks)
	c.perGiB = float64(c.pages) / c.gib
	return c
}

// TestCorpusLargeLinear: the commands that walk every task (ps, foreach
// bt) decode the same pages per task on the large run as on the 1 GB
// 6.1 kdump of the same kernel, and kmem -i (which walks the memory map
// for SHARED) the same pages per GiB of memory: the per-object cost is
// flat, however many objects the walk outgrows the page cache by. Pages
// decoded, not time: the count does not depend on the machine's load.
func TestCorpusLargeLinear(t *testing.T) {
	large, small := largeAndSmall(t)
	for _, c := range []struct {
		line    string
		perTask bool
	}{{"ps", true}, {"foreach bt", true}, {"kmem -i", false}} {
		t.Run(strings.ReplaceAll(c.line, " ", "_"), func(t *testing.T) {
			a, b := commandPages(t, small, c.line), commandPages(t, large, c.line)
			ua, ub, unit := a.perGiB, b.perGiB, "GiB"
			if c.perTask {
				ua, ub, unit = a.perTask, b.perTask, "task"
			}
			t.Logf("%s: %d pages for %d tasks, %.2f GiB (%.2f per %s) on %s; %d pages for %d tasks, %.2f GiB (%.2f per %s) on %s; ratio %.2f",
				c.line, a.pages, a.tasks, a.gib, ua, unit, a.sessionRun, b.pages, b.tasks, b.gib, ub, unit, b.sessionRun, ub/ua)
			if b.tasks < 50*a.tasks/10 && c.perTask || b.gib < 4*a.gib {
				t.Fatalf("the large run is not larger: %d tasks, %.2f GiB vs %d, %.2f", b.tasks, b.gib, a.tasks, a.gib)
			}
			// Linear: the large run's cost per object within a tenth of
			// the small run's (which has the larger share of pages read
			// once for the whole walk). A walk that outgrows the page
			// cache and reads its objects twice (ps, foreach bt over a
			// 1,024-page cache: 1.3x) fails here.
			if ub > 1.1*ua {
				t.Errorf("%s: %.2f pages per %s on the large run, %.2f on the 1 GB run: more than linear", c.line, ub, unit, ua)
			}
		})
	}
}

// largeAndSmall returns the large run and the 1 GB sysrq kdump run of the
// same kernel.
func largeAndSmall(t *testing.T) (large, small *corpus.Run) {
	t.Helper()
	large = corpus.LargeRun(t)
	for _, r := range corpus.Runs(t) {
		if r.Name == strings.TrimSuffix(large.Name, "-large") {
			small = r
		}
	}
	if small == nil {
		t.Fatalf("no 1 GB kdump run of %s", large.Vmlinux)
	}
	return large, small
}

// TestCorpusLargeOneTask: a command about one task (bt of the panic task)
// reads that task, not the task list, and sys counts the tasks from the
// PID idr (struct pids, dozens to a page), not from each task_struct: on
// the large run bt decodes about what it does on the 1 GB run (27 pages
// and 23; it was 7,900 with the task list), and sys an eighth of a page
// more per task (the task list walk: 1.5).
func TestCorpusLargeOneTask(t *testing.T) {
	large, small := largeAndSmall(t)
	a, b := commandPages(t, small, "bt"), commandPages(t, large, "bt")
	t.Logf("bt: %d pages on %s (%d tasks), %d on %s (%d tasks)", a.pages, a.sessionRun, a.tasks, b.pages, b.sessionRun, b.tasks)
	if b.pages > 2*a.pages+64 {
		t.Errorf("bt: %d pages on the large run, %d on the 1 GB run: it grows with the tasks", b.pages, a.pages)
	}
	// sys's own reads (the log's panic message, the counters) are the
	// same on both runs: what the large run adds is its tasks' share.
	a, b = commandPages(t, small, "sys"), commandPages(t, large, "sys")
	if b.tasks <= a.tasks {
		t.Fatalf("the large run has %d tasks, the 1 GB run %d", b.tasks, a.tasks)
	}
	marginal := (float64(b.pages) - float64(a.pages)) / float64(b.tasks-a.tasks)
	t.Logf("sys: %d pages on %s, %d on %s: %.3f a task more", a.pages, a.sessionRun, b.pages, b.sessionRun, marginal)
	if marginal > 0.25 {
		t.Errorf("sys: %.3f pages a task more on the large run: it reads the tasks (the task list walk: 1.5)", marginal)
	}
}
