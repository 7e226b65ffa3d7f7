package commands_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

var (
	taskHeaderRE = regexp.MustCompile(`^PID: (\d+) +TASK: ([0-9a-f]{16})  CPU: \d+ +COMMAND: ".*"$`)
	lastRunRE    = regexp.MustCompile(`^\[( *)(\d+)\] \[(RU|IN|UN|ST|TR|ZO|DE|PA|WA|ID|NE)\]  (PID: .*)$`)
	sinceRunRE   = regexp.MustCompile(`^\[(\d+) (\d\d):(\d\d):(\d\d)\.(\d{3})\] \[(RU|IN|UN|ST|TR|ZO|DE|PA|WA|ID|NE)\]  (PID: .*)$`)
	runTimeRE    = regexp.MustCompile(`^    RUN TIME: (?:(\d+) days, )?(\d\d):(\d\d):(\d\d)$`)
)

// crashRuns are the runs gocrash's answers are compared with crash's on:
// the x86_64 kdump runs (Debian's crash 8.0.2 reads no other dumps).
func crashRuns(t *testing.T) []*corpus.Run {
	t.Helper()
	var out []*corpus.Run
	for _, r := range corpus.Runs(t) {
		if r.Method == "kdump" && r.Arch == "x86_64" {
			out = append(out, r)
		}
	}
	return out
}

// crashAnswers runs commands in crash 8.0.2 on a dump and returns each
// command's output.
func crashAnswers(t *testing.T, r *corpus.Run, f corpus.File, cmds []string) []string {
	t.Helper()
	crashBin, err := exec.LookPath("crash")
	if err != nil {
		t.Fatal("crash is not installed: make corpus installs it")
	}
	var in strings.Builder
	for _, c := range cmds {
		in.WriteString(c + "\n!echo @@@@\n")
	}
	cmd := exec.Command(crashBin, "-s", r.Vmlinux, f.Path)
	cmd.Stdin = strings.NewReader(in.String())
	out, _ := cmd.Output() // crash's exit status says only whether some command failed
	text := string(out)
	for strings.HasPrefix(text, "WARNING") || strings.HasPrefix(text, "\n") {
		_, text, _ = strings.Cut(text, "\n")
	}
	want := strings.Split(text, "@@@@\n")
	if len(want) < len(cmds) {
		t.Fatalf("crash answered %d of %d commands:\n%s", len(want), len(cmds), out)
	}
	return want[:len(cmds)]
}

// taskBlocks splits output made of task blocks (each starting with a task
// header line) by the task_struct address of the header.
func taskBlocks(out string) (order []string, blocks map[string]string) {
	blocks = map[string]string{}
	cur := ""
	for _, ln := range strings.SplitAfter(out, "\n") {
		if m := taskHeaderRE.FindStringSubmatch(strings.TrimSuffix(ln, "\n")); m != nil {
			cur = m[2]
			order = append(order, cur)
		}
		if cur != "" {
			blocks[cur] += ln
		}
	}
	return order, blocks
}

// lineTask is the task_struct address in a ps -l / -m line.
func lineTask(ln string) string {
	i := strings.Index(ln, "TASK: ")
	if i < 0 || len(ln) < i+22 {
		return ""
	}
	return ln[i+6 : i+22]
}

// TestCorpusTaskAgainstCrash runs task and ps -t/-l/-m/-a in crash 8.0.2
// and in gocrash on the kdump runs and wants crash's text: whole for the
// task command and for one task's ps -t and -a, and for the tasks crash
// finds (on 6.1 it finds only the idle and the running tasks) the same
// lines in the same order in the listings of every task.
func TestCorpusTaskAgainstCrash(t *testing.T) {
	compared := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			s.Kernel.Vmlinux.IndexCache = t.TempDir()
			pt, err := s.Kernel.PanicTask()
			if err != nil {
				t.Fatal(err)
			}
			panicTask, err := s.Kernel.FindTask(pt)
			if err != nil {
				t.Fatal(err)
			}
			exact := []string{
				"task",
				"task -R pid,comm,se.on_rq",
				"task -x -R usage,on_cpu,thread_info,sched_info",
				"task -R flags,se.load,pid_links",
				fmt.Sprintf("task -R tgid,nosuch,se.nosuch %d", panicTask.PID),
				fmt.Sprintf("task %x", panicTask.Addr),
				fmt.Sprintf("ps -t %d", panicTask.PID),
				fmt.Sprintf("ps -a %d", panicTask.PID),
				fmt.Sprintf("ps -m %d", panicTask.PID),
				"ps -a 0",
			}
			lists := []string{"ps", "ps -t", "ps -l", "ps -m", "ps -a", "ps -l -C1", "ps -m -C a"}
			want := crashAnswers(t, r, f, append(exact, lists...))
			for i, c := range exact {
				if got := run(t, s, c); got != want[i] {
					t.Errorf("%s:\n%s--- crash:\n%s", c, got, want[i])
				}
			}
			// The tasks crash found, by task_struct address.
			known := map[string]bool{}
			for _, ln := range strings.Split(want[len(exact)], "\n") {
				if f := strings.Fields(strings.TrimPrefix(ln, ">")); len(f) > 3 && len(f[3]) == 16 {
					known[f[3]] = true
				}
			}
			if !known[fmt.Sprintf("%016x", panicTask.Addr)] {
				t.Fatalf("crash's ps does not list the panic task:\n%s", want[len(exact)])
			}
			all, err := s.Kernel.Tasks()
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range lists[1:] {
				crashOut := want[len(exact)+1+i]
				got := run(t, s, c)
				if len(known) == len(all) {
					// crash found every task: the whole text.
					if got != crashOut {
						t.Errorf("%s:\n%s--- crash:\n%s", c, got, crashOut)
					}
					continue
				}
				if strings.HasPrefix(c, "ps -t") || strings.HasPrefix(c, "ps -a") {
					order, blocks := taskBlocks(got)
					crashOrder, crashBlocks := taskBlocks(crashOut)
					var mine []string
					for _, a := range order {
						if known[a] {
							mine = append(mine, a)
						}
					}
					if strings.Join(mine, " ") != strings.Join(crashOrder, " ") {
						t.Errorf("%s: order %v, crash's %v", c, mine, crashOrder)
					}
					for _, a := range crashOrder {
						if blocks[a] != crashBlocks[a] {
							t.Errorf("%s, task %s:\n%s--- crash:\n%s", c, a, blocks[a], crashBlocks[a])
						}
					}
					continue
				}
				// ps -l pads the stamps to the largest of all the tasks,
				// which crash takes from the tasks it found.
				norm := func(ln string) string {
					if m := lastRunRE.FindStringSubmatch(ln); m != nil {
						return "[" + m[2] + "] [" + m[3] + "]  " + m[4]
					}
					return ln
				}
				var mine, theirs []string
				for _, ln := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
					if known[lineTask(ln)] || ln == "" || strings.HasPrefix(ln, "CPU: ") { // -C's blocks
						mine = append(mine, norm(ln))
					}
				}
				for _, ln := range strings.Split(strings.TrimSuffix(crashOut, "\n"), "\n") {
					theirs = append(theirs, norm(ln))
				}
				if strings.Join(mine, "\n") != strings.Join(theirs, "\n") {
					t.Errorf("%s, the tasks crash found:\n%s\n--- crash:\n%s", c, strings.Join(mine, "\n"), strings.Join(theirs, "\n"))
				}
			}
			compared++
			t.Logf("crash found %d of %d tasks", len(known), len(all))
		})
	}
	if compared == 0 {
		t.Fatal("no kdump run in the corpus")
	}
}

// TestCorpusTaskMembers runs task on every dump: the whole task_struct
// printed holds the task model's PID, command and CPU, and -R's members
// equal struct's.
func TestCorpusTaskMembers(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		s.Kernel.Vmlinux.IndexCache = t.TempDir()
		pt, err := s.Kernel.PanicTask()
		if err != nil {
			t.Fatal(err)
		}
		tk, err := s.Kernel.FindTask(pt)
		if err != nil {
			t.Fatal(err)
		}
		out := run(t, s, "task")
		lines := strings.Split(out, "\n")
		if lines[0] != commands.TaskHeader(tk) || lines[1] != "struct task_struct {" {
			t.Fatalf("task starts %q", lines[:2])
		}
		for _, want := range []string{fmt.Sprintf("\n  pid = %d,\n", tk.PID), fmt.Sprintf("\n  comm = \"%s\\000", tk.Comm)} {
			if !strings.Contains(out, want) {
				t.Errorf("task: no %q", want)
			}
		}
		if !strings.HasSuffix(out, "}\n\n") {
			t.Errorf("task does not end with the struct and a blank line: %q", out[max(0, len(out)-40):])
		}
		got := run(t, s, fmt.Sprintf("task -R pid,se.on_rq,comm %d", tk.PID))
		want := commands.TaskHeader(tk) + "\n" + run(t, s, fmt.Sprintf("struct task_struct.pid,se.on_rq,comm %x", tk.Addr)) + "\n"
		if got != want {
			t.Errorf("task -R:\n%s--- struct:\n%s", got, want)
		}
		// By command: every task of that name, each once.
		n := 0
		tasks, _ := s.Kernel.Tasks()
		for _, x := range tasks {
			if x.Comm == "sleep" {
				n++
			}
		}
		if got := strings.Count(run(t, s, "task -R pid sleep"), "COMMAND: \"sleep\""); got != n || n == 0 {
			t.Errorf("task sleep: %d tasks, want %d", got, n)
		}
	})
}

// guestArgs is what the guest's init (testdata/corpus/init.sh) ran, by the
// command each task has: the arguments crash's ps -a must show.
var guestArgs = map[string][]string{
	"init":         {"/bin/busybox sh /init "},
	"sleep":        {"sleep 1000 ", "sleep 1001 ", "sleep 9999 "},
	"cat":          {"cat /tmp/fifo "},
	"renamed-task": {"sh -c echo -n renamed-task > /proc/self/comm; while :; do sleep 1000; done "},
	"sh":           {"sh -c while :; do :; done "},
}

// TestCorpusPSArgs runs ps -a on every dump file: where user pages were
// kept, the known tasks show the arguments the guest started them with and
// its environment; where makedumpfile left them out, crash's message names
// the first address of the arguments (or, in its ELF files, they read as
// zeros); kernel threads and the zombie have no user stack.
func TestCorpusPSArgs(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		s := openSession(t, r, f)
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		_, blocks := taskBlocks(run(t, s, "ps -a"))
		zombies := map[int32]bool{}
		for _, p := range truth.PS {
			if strings.HasPrefix(p.Stat, "Z") {
				zombies[int32(p.PID)] = true
			}
		}
		seen := map[string]int{}
		filtered := strings.Contains(f.How, "-d 31")
		for _, tk := range tasks {
			b := blocks[fmt.Sprintf("%016x", tk.Addr)]
			lines := strings.Split(b, "\n")
			if len(lines) < 3 {
				t.Fatalf("pid %d: ps -a block %q", tk.PID, b)
			}
			if tk.MM == 0 {
				if lines[1] != "ps: no user stack" || lines[2] != "" {
					t.Errorf("pid %d (%s, no mm): %q", tk.PID, tk.Comm, b)
				}
				if zombies[tk.PID] {
					seen["zombie"]++
				}
				continue
			}
			u, err := s.Kernel.TaskArgs(tk.Addr)
			if err != nil {
				t.Fatal(err)
			}
			wants, known := guestArgs[tk.Comm]
			switch {
			case strings.HasPrefix(lines[1], "ps: cannot access user stack address: "):
				// Only a filtered dump may leave the pages out, and the
				// address named is the first of the arguments.
				if !filtered {
					t.Errorf("pid %d: %q in a dump with every page", tk.PID, lines[1])
				}
				if want := fmt.Sprintf("ps: cannot access user stack address: %x", u.ArgStart); lines[1] != want {
					t.Errorf("pid %d: %q, want %q", tk.PID, lines[1], want)
				}
				seen["excluded"]++
			case filtered && f.Format == "elf" && lines[1] == "ARG: " && lines[2] == "ENV: ":
				// makedumpfile -E writes left-out pages as zeros.
				seen["excluded"]++
			case !strings.HasPrefix(lines[1], "ARG: "):
				t.Errorf("pid %d: %q", tk.PID, b)
			case known:
				ok := false
				for _, w := range wants {
					ok = ok || lines[1] == "ARG: "+w
				}
				if !ok {
					t.Errorf("pid %d (%s): %q, want one of %q", tk.PID, tk.Comm, lines[1], wants)
				}
				// The kernel gives init HOME=/ and TERM=linux; the
				// shell passes them on.
				if !strings.HasPrefix(lines[2], "ENV: ") || !strings.Contains(b, "HOME=/\n") || !strings.Contains(b, "TERM=linux\n") {
					t.Errorf("pid %d: environment %q", tk.PID, b)
				}
				seen[strings.TrimSuffix(lines[1], " ")]++
			}
		}
		if filtered {
			// makedumpfile -E keeps short runs of left-out pages (under
			// 256) as they were: an ELF file may still hold them.
			if seen["excluded"] == 0 && f.Format != "elf" {
				t.Error("a filtered dump showed no task's pages left out")
			}
			return
		}
		for comm, wants := range guestArgs {
			for _, w := range wants {
				if seen["ARG: "+strings.TrimSuffix(w, " ")] == 0 {
					t.Errorf("no %s task shows ARG: %s", comm, w)
				}
			}
		}
		if len(zombies) > 0 && seen["zombie"] == 0 {
			t.Error("the zombie does not say no user stack")
		}
	})
}

// TestCorpusPSTimes checks ps -t, -l and -m on every dump: crash's line
// shapes, one entry per task, the orders crash gives, and what the guest
// did: every task started before the dump and after the kernel booted, the
// guest's tasks after init, the busy loop used CPU time, the task that
// panicked ran after every sleeping task of its CPU.
func TestCorpusPSTimes(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		k := s.Kernel
		tasks, err := k.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		byAddr := map[string]kernel.Task{}
		for _, tk := range tasks {
			byAddr[fmt.Sprintf("%016x", tk.Addr)] = tk
		}
		hz, err := k.HZ()
		if err != nil {
			t.Fatal(err)
		}
		now, err := k.UptimeJiffies()
		if err != nil {
			t.Fatal(err)
		}
		upNs := (now + hz) * 1e9 / hz // a tick of slack: jiffies lag the clock
		if r.Arch == "ppc64le" || r.Arch == "s390x" {
			// Under QEMU TCG these guests' jiffies fall seconds behind
			// their clock (lost ticks): the bound is the clock's, the
			// guest's last console stamp, and a second of slack.
			upNs = consoleEndNs(t, r) + 1e9
		}

		// ps -t: five lines and a blank line a task, by start time.
		order, blocks := taskBlocks(run(t, s, "ps -t"))
		if len(order) != len(tasks) {
			t.Errorf("ps -t: %d tasks, want %d", len(order), len(tasks))
		}
		var last uint64
		start := map[string]uint64{}
		utime := map[string]uint64{}
		for _, a := range order {
			lines := strings.Split(blocks[a], "\n")
			if len(lines) != 7 || lines[5] != "" || !runTimeRE.MatchString(lines[1]) ||
				!strings.HasPrefix(lines[2], "  START TIME: ") || !strings.HasPrefix(lines[3], "       UTIME: ") ||
				!strings.HasPrefix(lines[4], "       STIME: ") {
				t.Errorf("ps -t block: %q", blocks[a])
				continue
			}
			st, err1 := strconv.ParseUint(strings.TrimPrefix(lines[2], "  START TIME: "), 10, 64)
			ut, err2 := strconv.ParseUint(strings.TrimPrefix(lines[3], "       UTIME: "), 10, 64)
			if err1 != nil || err2 != nil {
				t.Errorf("ps -t numbers: %q", blocks[a])
				continue
			}
			if st < last {
				t.Errorf("ps -t: task %s starts at %d, before the one above it (%d)", a, st, last)
			}
			if st > upNs {
				t.Errorf("ps -t: task %s starts at %d ns, after the dump (%d ns of uptime)", a, st, upNs)
			}
			m := runTimeRE.FindStringSubmatch(lines[1])
			days, _ := strconv.ParseUint("0"+m[1], 10, 64)
			h, _ := strconv.ParseUint(m[2], 10, 64)
			mi, _ := strconv.ParseUint(m[3], 10, 64)
			sec, _ := strconv.ParseUint(m[4], 10, 64)
			if run := ((days*24+h)*60+mi)*60 + sec; run*hz > now || run*hz+hz*(st/1e9+1) < now {
				t.Errorf("ps -t: task %s ran %d s, started at %d ns, %d jiffies of uptime at %d Hz", a, run, st, now, hz)
			}
			last = st
			start[a], utime[a] = st, ut
		}
		initAddr := ""
		for _, tk := range tasks {
			if tk.PID == 1 {
				initAddr = fmt.Sprintf("%016x", tk.Addr)
			}
		}
		busy := false
		for a, tk := range byAddr {
			if _, guest := guestArgs[tk.Comm]; guest && tk.PID > 1 && start[a] < start[initAddr] {
				t.Errorf("ps -t: %s (pid %d) starts before init", tk.Comm, tk.PID)
			}
			// The guest's busy loop spun for seconds before the crash.
			if u, err := k.TaskArgs(tk.Addr); err == nil && u.ArgErr == nil && strings.HasPrefix(string(u.Args), "sh\x00-c\x00while :; do :; done") {
				busy = true
				if utime[a] < 5e8 {
					t.Errorf("ps -t: the busy loop (pid %d) has %d ns of user time", tk.PID, utime[a])
				}
			}
		}
		if !busy && !r.Files[0].Filtered {
			t.Error("no busy-loop task found by its arguments")
		}

		// ps -l: one line a task, the newest first, padded alike.
		lOut := strings.Split(strings.TrimSuffix(run(t, s, "ps -l"), "\n"), "\n")
		if len(lOut) != len(tasks) {
			t.Errorf("ps -l: %d lines, want %d", len(lOut), len(tasks))
		}
		stamps := map[string]uint64{}
		var prev uint64 = 1<<64 - 1
		width := -1
		var lOrder []string
		for _, ln := range lOut {
			m := lastRunRE.FindStringSubmatch(ln)
			if m == nil || !taskHeaderRE.MatchString(m[4]) {
				t.Errorf("ps -l line: %q", ln)
				continue
			}
			if w := len(m[1]) + len(m[2]); width < 0 {
				width = w
			} else if w != width {
				t.Errorf("ps -l: %q is not padded to %d", ln, width)
			}
			v, _ := strconv.ParseUint(m[2], 10, 64)
			if v > prev {
				t.Errorf("ps -l: %q is newer than the line above", ln)
			}
			prev = v
			a := lineTask(ln)
			stamps[a] = v
			lOrder = append(lOrder, a)
			if tk := byAddr[a]; m[3] != string(tk.StateName()) {
				t.Errorf("ps -l: %q, state %s", ln, tk.StateName())
			}
		}
		pt, err := k.PanicTask()
		if err != nil {
			t.Fatal(err)
		}
		pa := fmt.Sprintf("%016x", pt)
		panicked := byAddr[pa]
		for a, tk := range byAddr {
			// A task asleep last ran on its CPU before the task running
			// there now was put on it.
			if tk.CPU == panicked.CPU && tk.StateName() != "RU" && stamps[a] >= stamps[pa] {
				t.Errorf("ps -l: %s (pid %d, %s) ran on cpu %d at %d, after the panic task (%d)", tk.Comm, tk.PID, tk.StateName(), tk.CPU, stamps[a], stamps[pa])
			}
		}

		// ps -m: the same order, each the time from its last run to its
		// CPU's runqueue clock.
		mOut := strings.Split(strings.TrimSuffix(run(t, s, "ps -m"), "\n"), "\n")
		if len(mOut) != len(lOrder) {
			t.Fatalf("ps -m: %d lines, ps -l %d", len(mOut), len(lOrder))
		}
		for i, ln := range mOut {
			m := sinceRunRE.FindStringSubmatch(ln)
			if m == nil || !taskHeaderRE.MatchString(m[7]) {
				t.Errorf("ps -m line: %q", ln)
				continue
			}
			a := lineTask(ln)
			if a != lOrder[i] {
				t.Errorf("ps -m line %d is task %s, ps -l's is %s", i, a, lOrder[i])
			}
			clock, err := k.RQClock(byAddr[a].CPU)
			if err != nil {
				t.Fatal(err)
			}
			var since uint64
			if clock > stamps[a] {
				since = (clock - stamps[a]) / 1e6
			}
			var f [5]uint64
			for j := range f {
				f[j], _ = strconv.ParseUint(m[j+1], 10, 64)
			}
			if got := (((f[0]*24+f[1])*60+f[2])*60+f[3])*1000 + f[4]; got != since {
				t.Errorf("ps -m: %q: %d ms, clock %d - stamp %d", ln, got, clock, stamps[a])
			}
			// At most the uptime; but a task stamped 0 (an idle task
			// that never arrived) shows the whole runqueue clock, which
			// includes the time before the kernel's timekeeping began
			// (sched_clock: arm64's counter runs from the machine's
			// start).
			if stamps[a] != 0 && since*1e6 > upNs {
				t.Errorf("ps -m: %q is longer than the uptime", ln)
			}
		}

		// -C: a block for each CPU, each task in its CPU's block.
		ncpu, _, err := k.CPUs()
		if err != nil {
			t.Fatal(err)
		}
		blockCPU, seen := -1, 0
		for _, ln := range strings.Split(strings.TrimSuffix(run(t, s, "ps -m -C all"), "\n"), "\n") {
			switch {
			case ln == "":
			case strings.HasPrefix(ln, "CPU: "):
				c, err := strconv.Atoi(strings.TrimPrefix(ln, "CPU: "))
				if err != nil || c != blockCPU+1 {
					t.Errorf("ps -m -C all: %q after cpu %d", ln, blockCPU)
				}
				blockCPU = c
			case sinceRunRE.MatchString(ln):
				seen++
				if tk := byAddr[lineTask(ln)]; tk.CPU != blockCPU {
					t.Errorf("ps -m -C all: %q in cpu %d's block", ln, blockCPU)
				}
			default:
				t.Errorf("ps -m -C all: line %q", ln)
			}
		}
		if blockCPU != ncpu-1 || seen != len(tasks) {
			t.Errorf("ps -m -C all: %d cpu blocks, %d tasks; want %d and %d", blockCPU+1, seen, ncpu, len(tasks))
		}

		// Task arguments choose tasks, in the listing's order.
		var sleepers []string
		for _, tk := range tasks {
			if tk.Comm == "sleep" {
				sleepers = append(sleepers, fmt.Sprintf("%016x", tk.Addr))
			}
		}
		sort.SliceStable(sleepers, func(i, j int) bool { return stamps[sleepers[i]] > stamps[sleepers[j]] })
		var got []string
		for _, ln := range strings.Split(strings.TrimSuffix(run(t, s, "ps -l sleep"), "\n"), "\n") {
			got = append(got, lineTask(ln))
		}
		if len(sleepers) == 0 || strings.Join(got, " ") != strings.Join(sleepers, " ") {
			t.Errorf("ps -l sleep: %v, want %v", got, sleepers)
		}
	})
}

// consoleEndNs is the time of the guest's last stamped console line.
func consoleEndNs(t *testing.T, r *corpus.Run) uint64 {
	t.Helper()
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	var end float64
	for _, c := range truth.Console {
		if v, err := strconv.ParseFloat(strings.TrimSpace(c.Stamp), 64); err == nil && v > end {
			end = v
		}
	}
	if end == 0 {
		t.Fatal("no stamped console line")
	}
	return uint64(end * 1e9)
}
