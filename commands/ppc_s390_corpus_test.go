package commands_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// forEachPPCS390 runs f on the ppc64le and s390x runs of the corpus, and
// fails when there are none.
func forEachPPCS390(t *testing.T, f func(t *testing.T, r *corpus.Run)) {
	seen := map[string]bool{}
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "ppc64le" && r.Arch != "s390x" {
			return
		}
		seen[r.Arch] = true
		f(t, r)
	})
	for _, a := range []string{"ppc64le", "s390x"} {
		if !seen[a] {
			t.Errorf("no %s run in the corpus", a)
		}
	}
}

var psLineRE = regexp.MustCompile(`^[> ] +(\d+) +(\d+) +\d+ +[0-9a-f]{16} +([A-Z]{2}) +[0-9.]+ +(\d+) +(\d+) +(.*)$`)

// TestCorpusPPCS390PS: ps lists every task the guest's own ps showed,
// with its parent, its VSZ and its name (kernel threads in brackets).
func TestCorpusPPCS390PS(t *testing.T) {
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		s := openSession(t, r, r.Files[0])
		type row struct{ ppid, vsz, comm string }
		rows := map[string]row{}
		for _, ln := range strings.Split(run(t, s, "ps"), "\n")[1:] {
			if m := psLineRE.FindStringSubmatch(ln); m != nil {
				rows[m[1]] = row{m[2], m[4], m[6]}
			}
		}
		compared := 0
		for _, p := range truth.PS {
			pid := strconv.Itoa(p.PID)
			got, ok := rows[pid]
			if !ok {
				if !strings.HasPrefix(p.Stat, "Z") && p.Comm != "ps" {
					t.Errorf("pid %d %s: not in ps", p.PID, p.Comm)
				}
				continue
			}
			compared++
			comm := strings.Trim(got.comm, "[]")
			if got.ppid != strconv.Itoa(p.PPID) || !strings.HasPrefix(p.Comm, strings.Trim(comm, "[]")) && !strings.HasPrefix(strings.Trim(p.Comm, "[]"), comm) {
				t.Errorf("pid %d: ps %+v, guest %+v", p.PID, got, p)
			}
			// busybox prints VSZ in KiB ("3200", or "3.1m" and the like for
			// larger ones); kernel threads have none.
			if v, err := strconv.Atoi(p.VSZ); err == nil && v != 0 && got.vsz != p.VSZ {
				t.Errorf("pid %d %s: VSZ %s, guest %s", p.PID, p.Comm, got.vsz, p.VSZ)
			}
		}
		if compared < len(truth.PS)/2 {
			t.Errorf("only %d of the guest's %d tasks compared", compared, len(truth.PS))
		}
		t.Logf("%s: %d tasks equal the guest's ps", r.Name, compared)
	})
}

// TestCorpusPPCS390Log: log holds every line the guest's console printed
// through printk, stamp and text.
func TestCorpusPPCS390Log(t *testing.T) {
	forEachPPCS390(t, logHoldsConsole)
}

// logHoldsConsole: log holds every line the run's console printed through
// printk, stamp and text.
func logHoldsConsole(t *testing.T, r *corpus.Run) {
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t, r, r.Files[0])
	// A record of several lines (ppc64's register dump) prints its
	// later lines indented under the stamp; the console stamps each.
	have, cont := map[string]bool{}, map[string]bool{}
	for _, ln := range strings.Split(run(t, s, "log"), "\n") {
		ln = strings.TrimRight(ln, " ")
		have[ln] = true
		if strings.HasPrefix(ln, strings.Repeat(" ", 15)) {
			cont[strings.TrimLeft(ln, " ")] = true
		}
	}
	missing, prev := 0, ""
	for _, c := range truth.Console {
		if c.Stamp == "" {
			continue
		}
		stamp := strings.TrimSpace(c.Stamp)
		again := stamp == prev
		prev = stamp
		if again && cont[strings.TrimSpace(c.Text)] {
			continue
		}
		if ln := strings.TrimRight(fmt.Sprintf("[%12s] %s", stamp, c.Text), " "); !have[ln] {
			if missing++; missing <= 5 {
				t.Errorf("console line not in log: %q", ln)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d console lines missing", missing, len(truth.Console))
	}
}

var btNameRE = regexp.MustCompile(`^ ?#\d+ \[[0-9a-f]{8,16}\] (\S+) at [0-9a-f]+`)

// btNames splits foreach bt's text into each PID's function names.
func btNames(text string) map[int][]string {
	out := map[int][]string{}
	pid := -1
	for _, ln := range strings.Split(text, "\n") {
		if m := btHeaderPIDRE.FindStringSubmatch(ln); m != nil {
			pid, _ = strconv.Atoi(m[1])
			continue
		}
		if m := btNameRE.FindStringSubmatch(ln); m != nil && pid >= 0 {
			out[pid] = append(out[pid], m[1])
		}
	}
	return out
}

var btHeaderPIDRE = regexp.MustCompile(`^PID: (\d+) `)

// TestCorpusPPCS390BT: the sleeping tasks' bt equal the kernel's sysrq-t
// traces (95% of them), and the panic task's bt reaches sysrq's handler
// and equals the kernel's panic trace from panic down.
func TestCorpusPPCS390BT(t *testing.T) {
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		s := openSession(t, r, r.Files[0])
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		active := map[int]bool{}
		for _, tk := range tasks {
			if tk.Active {
				active[int(tk.PID)] = true
			}
		}
		names := btNames(run(t, s, "foreach bt"))
		// A task that ran again after sysrq-t printed its trace may sleep
		// elsewhere at the crash (rcu_sched's grace-period loop), and is
		// not compared when it does: its
		// sched_info.last_arrival (sched_clock, as printk's stamps) is
		// later than the "sysrq: Show State" line.
		shown := sysrqShowStateNS(truth)
		arrival, err := s.Kernel.Offset("task_struct", "sched_info.last_arrival")
		if err != nil || shown == 0 {
			t.Fatalf("no sched_info.last_arrival (%v) or no sysrq-t stamp", err)
		}
		byPID := map[int]uint64{}
		for _, tk := range tasks {
			byPID[int(tk.PID)] = tk.Addr
		}
		compared, equal, ranSince := 0, 0, 0
		for _, kt := range truth.SysrqTraces() {
			if kt.State == "R" || len(kt.Frames) == 0 || active[kt.PID] {
				continue
			}
			got, ok := names[kt.PID]
			if !ok {
				continue // gone before the crash
			}
			same := strings.Join(got, " ") == strings.Join(kt.Names(), " ")
			if last, err := s.Kernel.ReadU64(byPID[kt.PID] + uint64(arrival)); err == nil && last > shown && !same {
				ranSince++
				t.Logf("pid %d %s ran after sysrq-t (at %d ns, sysrq-t at %d ns): now in %v", kt.PID, kt.Comm, last, shown, got)
				continue
			}
			compared++
			if same {
				equal++
			} else {
				t.Logf("pid %d %s:\n  kernel: %v\n  bt:     %v", kt.PID, kt.Comm, kt.Names(), got)
			}
		}
		if compared == 0 || equal*100 < compared*95 {
			t.Errorf("%d of %d sleeping tasks' bt equal sysrq-t's", equal, compared)
		}
		t.Logf("%s: %d of %d sleeping tasks' bt equal sysrq-t's (%d others ran after sysrq-t and sleep elsewhere)", r.Name, equal, compared, ranSince)

		pt, ok := truth.PanicTrace()
		if !ok {
			t.Fatal("no panic trace on the console")
		}
		got := btNames(run(t, s, "bt"))[pt.PID]
		from := func(n []string) string {
			for i, f := range n {
				if f == "panic" {
					return strings.Join(n[i:], " ")
				}
			}
			return ""
		}
		joined := " " + strings.Join(got, " ") + " "
		if !strings.Contains(joined, " sysrq_handle_crash ") && !strings.Contains(joined, " sysrq_reset_seq_param_set ") || !strings.Contains(joined, " __handle_sysrq ") {
			t.Errorf("panic task's bt does not reach sysrq's handler: %v", got)
		}
		if from(got) == "" || from(got) != from(pt.Names()) {
			t.Errorf("panic task %d from panic down:\n  kernel: %s\n  bt:     %s", pt.PID, from(pt.Names()), from(got))
		}
	})
}

// sysrqShowStateNS is the console stamp of sysrq-t's "sysrq: Show State"
// line, in nanoseconds (0 when there is none).
func sysrqShowStateNS(truth *corpus.Truth) uint64 {
	for _, c := range truth.Console {
		if strings.Contains(c.Text, "sysrq: Show State") {
			sec, frac, _ := strings.Cut(strings.TrimSpace(c.Stamp), ".")
			s, err1 := strconv.ParseUint(sec, 10, 64)
			us, err2 := strconv.ParseUint(frac, 10, 64)
			if err1 == nil && err2 == nil && len(frac) == 6 {
				return s*1e9 + us*1e3
			}
		}
	}
	return 0
}

var vtopRE = regexp.MustCompile(`(?m)^([0-9a-f]+)\s+([0-9a-f]+)\s*$`)

// vtopPhys runs vtop and returns the physical address it gives.
func vtopPhys(t *testing.T, run func(string) string, va uint64) uint64 {
	t.Helper()
	out := run(fmt.Sprintf("vtop %x", va))
	m := vtopRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("vtop %x:\n%s", va, out)
	}
	if v, _ := strconv.ParseUint(m[1], 16, 64); v != va {
		t.Fatalf("vtop %x: virtual %s", va, m[1])
	}
	p, _ := strconv.ParseUint(m[2], 16, 64)
	return p
}

// TestCorpusPPCS390Vtop: vtop of kernel text and of the linear map gives
// the addresses the kernel's fixed placement says; of a struct page in
// vmemmap, a physical address whose bytes (rd -p) are the page's (rd).
func TestCorpusPPCS390Vtop(t *testing.T) {
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		k := s.Kernel
		do := func(line string) string { return run(t, s, line) }
		sched, ok := k.Syms.Addr("schedule")
		if !ok {
			t.Fatal("no schedule")
		}
		base := uint64(0)
		if r.Arch == "ppc64le" {
			base = 0xc000000000000000
		}
		if got := vtopPhys(t, do, sched); got != sched-base {
			t.Errorf("vtop schedule %x: %x, want %x", sched, got, sched-base)
		}
		lin, err := k.Arch.PhysToVirt(0x1234560)
		if err != nil {
			t.Fatal(err)
		}
		if got := vtopPhys(t, do, lin); got != 0x1234560 {
			t.Errorf("vtop %x: %x, want 1234560", lin, got)
		}
		page, err := k.PageAddr(0x100)
		if err != nil {
			t.Fatal(err)
		}
		phys := vtopPhys(t, do, page)
		word := regexp.MustCompile(`:\s+([0-9a-f]{16})`)
		v := word.FindStringSubmatch(do(fmt.Sprintf("rd %x", page)))
		p := word.FindStringSubmatch(do(fmt.Sprintf("rd -p %x", phys)))
		if v == nil || p == nil || v[1] != p[1] {
			t.Errorf("struct page %x (vmemmap) at %x: rd %v, rd -p %v", page, phys, v, p)
		}
	})
}

// layoutShapes are the lines of crash's own bt layouts on ppc64 and s390x
// (arch.BTLayout), besides bt's common shapes: their frame lines, register
// blocks, exception-frame headers and s390x's lowcore block.
var layoutShapes = map[string][]*regexp.Regexp{
	"ppc64le": {
		regexp.MustCompile(`^( #\d|#\d\d) \[[0-9a-f]+\] \S+ at [0-9a-f]{16}( \[\S+\])?$`),
		regexp.MustCompile(`^( R\d{1,2}:  ?[0-9a-f]{16}   )+$`),
		regexp.MustCompile(`^ (NIP|CTR|CCR): [0-9a-f]{16}    (MSR: |LR:  |MQ:  )[0-9a-f]{16}    (OR3|XER|DAR): [0-9a-f]{16}$`),
		regexp.MustCompile(`^ DSISR: [0-9a-f]{16}     Syscall Result: [0-9a-f]{16}$`),
		regexp.MustCompile(`^ \[(NIP  |LR   ): \S+\]$`),
		regexp.MustCompile(`^ [A-Za-z ]+ \[[0-9a-f]+\] exception frame:$`),
	},
	"s390x": {
		regexp.MustCompile(`^( #\d|#\d\d) \[[0-9a-f]{8,16}\] \S+ at [0-9a-f]+( \[\S+\])?$`),
		regexp.MustCompile(`^ PSW:  [0-9a-f]{16} [0-9a-f]{16} \((user space|\S+\+\d+( \[\S+\])?)\)$`),
		regexp.MustCompile(`^( GPRS: |       )([0-9a-f]{16} ){4}$`),
		regexp.MustCompile(`^(Task runs in userspace| LOWCORE INFO:|  -[a-z ]+registers:)$`),
		regexp.MustCompile(`^  -(psw      |prefix   |cpu timer|clock cmp): (0x[0-9a-f]+|0+)( (0x[0-9a-f]+|0+))?$`),
		regexp.MustCompile(`^  -function : \S+ at [0-9a-f]+$`),
		regexp.MustCompile(`^     (0x[0-9a-f]+|0+)( (0x[0-9a-f]+|0+))*$`),
	},
}

// layoutShape reports whether ln is one of the lines of arch's own bt
// layout.
func layoutShape(arch, ln string) bool {
	for _, re := range layoutShapes[arch] {
		if re.MatchString(ln) {
			return true
		}
	}
	return false
}

// consoleEFrame is an exception frame's registers as the kernel printed
// them (ppc64's show_regs below "--- interrupt: ..."): REGS: its address.
type consoleEFrame struct {
	at    uint64
	regs  map[string]uint64 // R0-R31, NIP, LR, CTR, MSR, CCR, XER, TRAP
	stamp uint64            // the REGS line's console stamp, in ns
}

var (
	consoleNIPRE  = regexp.MustCompile(`^NIP:  ([0-9a-f]+) LR: ([0-9a-f]+) CTR: ([0-9a-f]+)`)
	consoleREGSRE = regexp.MustCompile(`^REGS: ([0-9a-f]+) TRAP: ([0-9a-f]+)`)
	consoleMSRRE  = regexp.MustCompile(`^MSR:  ([0-9a-f]+) <[^>]*>  CR: ([0-9a-f]+)  XER: ([0-9a-f]+)`)
	consoleGPRRE  = regexp.MustCompile(`^GPR(\d\d): ((?:[0-9a-f]{16} ?){4})`)
)

// consoleEFrames reads every register report the kernel printed on the
// console.
func consoleEFrames(truth *corpus.Truth) []consoleEFrame {
	var out []consoleEFrame
	var nip []string
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
	for _, c := range truth.Console {
		text := strings.TrimSpace(c.Text)
		if m := consoleNIPRE.FindStringSubmatch(text); m != nil {
			nip = m[1:]
			continue
		}
		if m := consoleREGSRE.FindStringSubmatch(text); m != nil && nip != nil {
			f := consoleEFrame{at: hex(m[1]), regs: map[string]uint64{"NIP": hex(nip[0]), "LR": hex(nip[1]), "CTR": hex(nip[2]), "TRAP": hex(m[2])}}
			sec, frac, _ := strings.Cut(strings.TrimSpace(c.Stamp), ".")
			s, _ := strconv.ParseUint(sec, 10, 64)
			us, _ := strconv.ParseUint(frac, 10, 64)
			f.stamp = s*1e9 + us*1e3
			out, nip = append(out, f), nil
			continue
		}
		if len(out) == 0 {
			continue
		}
		cur := out[len(out)-1].regs
		if m := consoleMSRRE.FindStringSubmatch(text); m != nil {
			cur["MSR"], cur["CCR"], cur["XER"] = hex(m[1]), hex(m[2]), hex(m[3])
		} else if m := consoleGPRRE.FindStringSubmatch(text); m != nil {
			n, _ := strconv.Atoi(m[1])
			for i, v := range strings.Fields(m[2]) {
				cur[fmt.Sprintf("R%d", n+i)] = hex(v)
			}
		}
	}
	return out
}

var (
	layoutEFrameAtRE = regexp.MustCompile(`^  (?:USER|KERNEL)-MODE EXCEPTION FRAME AT ([0-9a-f]+):$`)
	layoutTrapRE     = regexp.MustCompile(`^ .+ \[([0-9a-f]+)\] exception frame:$`)
	layoutRegRE      = regexp.MustCompile(`([A-Z][A-Z0-9]*(?: Result)?):\s+([0-9a-f]{16})`)
)

// TestCorpusPPCEFrameRegs: every exception frame whose registers the
// kernel printed (the panic's system call, sysrq-t's user tasks) is found
// by bt -e at its marker, 16 bytes below the REGS address, in crash's
// ppc64 layout, with the kernel's values: the GPRs, NIP, LR, CTR, CR,
// XER and trap; the MSR but for the facility bits (FP, VEC, VSX) the
// kernel clears in a task's saved MSR when it gives the facilities up
// after printing. A task that ran after its report was printed may have
// entered the kernel again since, and is compared only where its frame
// is unchanged.
func TestCorpusPPCEFrameRegs(t *testing.T) {
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "ppc64le" {
			return
		}
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		reports := consoleEFrames(truth)
		if len(reports) == 0 {
			t.Fatal("no register report on the console")
		}
		s := openSession(t, r, r.Files[0])
		// bt -e's frames of every task, by the address it prints.
		found := map[uint64]map[string]uint64{}
		pidOf := map[uint64]int{}
		var cur map[string]uint64
		pid := 0
		for _, ln := range strings.Split(run(t, s, "foreach bt -e"), "\n") {
			if m := btHeaderPIDRE.FindStringSubmatch(ln); m != nil {
				pid, _ = strconv.Atoi(m[1])
				cur = nil
				continue
			}
			if m := layoutEFrameAtRE.FindStringSubmatch(ln); m != nil {
				at, _ := strconv.ParseUint(m[1], 16, 64)
				cur = map[string]uint64{}
				found[at], pidOf[at] = cur, pid
				continue
			}
			if cur == nil {
				continue
			}
			if m := layoutTrapRE.FindStringSubmatch(ln); m != nil {
				cur["TRAP"], _ = strconv.ParseUint(m[1], 16, 64)
				continue
			}
			for _, m := range layoutRegRE.FindAllStringSubmatch(ln, -1) {
				cur[m[1]], _ = strconv.ParseUint(m[2], 16, 64)
			}
		}
		arrival, err := s.Kernel.Offset("task_struct", "sched_info.last_arrival")
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		lastRan := map[int]uint64{}
		for _, tk := range tasks {
			if v, err := s.Kernel.ReadU64(tk.Addr + uint64(arrival)); err == nil {
				lastRan[int(tk.PID)] = v
			}
		}
		const facilities = 0x2000 | 0x2000000 | 0x800000 // MSR_FP, MSR_VEC, MSR_VSX
		equal, moved := 0, 0
		for _, rep := range reports {
			got, ok := found[rep.at-16]
			if !ok {
				t.Errorf("no bt -e frame at %x (REGS: %x)", rep.at-16, rep.at)
				continue
			}
			var diff []string
			for name, want := range rep.regs {
				v := got[name]
				if name == "MSR" {
					v, want = v&^facilities, want&^facilities
				}
				if v != want {
					diff = append(diff, fmt.Sprintf("%s %x, kernel %x", name, got[name], rep.regs[name]))
				}
			}
			switch {
			case len(diff) == 0:
				equal++
			case lastRan[pidOf[rep.at-16]] > rep.stamp:
				moved++
				t.Logf("pid %d ran after its report: %s", pidOf[rep.at-16], strings.Join(diff, "; "))
			default:
				t.Errorf("frame at %x (pid %d): %s", rep.at, pidOf[rep.at-16], strings.Join(diff, "; "))
			}
		}
		t.Logf("%s: %d of %d register reports equal bt -e's frames (%d of tasks that ran since differ)", r.Name, equal, len(reports), moved)
		if n := len(reports) - moved; equal*100 < n*95 {
			t.Errorf("only %d of %d register reports equal", equal, n)
		}
	})
}

// TestCorpusS390XLowcore: each CPU's registers are its own: the note
// group bt -a prints for a CPU has the prefix of the kernel's
// lowcore_ptr[cpu], and that lowcore's current_task is the task bt
// prints there.
func TestCorpusS390XLowcore(t *testing.T) {
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "s390x" {
			return
		}
		s := openSession(t, r, r.Files[0])
		k := s.Kernel
		lp, ok := k.Syms.Addr("lowcore_ptr")
		if !ok {
			t.Fatal("no lowcore_ptr")
		}
		cur, err := k.Offset("lowcore", "current_task")
		if err != nil {
			t.Fatal(err)
		}
		prefixRE := regexp.MustCompile(`(?m)^  -prefix   : 0x([0-9a-f]{8})$`)
		out := run(t, s, "bt -a")
		traces := strings.Split(out, "\nPID: ")
		if len(traces) != r.CPUs {
			t.Fatalf("bt -a: %d traces for %d CPUs", len(traces), r.CPUs)
		}
		for _, tr := range traces {
			var pid, cpu int
			var task uint64
			if _, err := fmt.Sscanf(strings.TrimPrefix(tr, "PID: "), "%d TASK: %x CPU: %d", &pid, &task, &cpu); err != nil {
				t.Fatalf("bt -a header: %v\n%s", err, tr)
			}
			m := prefixRE.FindStringSubmatch(tr)
			if m == nil {
				t.Errorf("CPU %d: no lowcore block:\n%s", cpu, tr)
				continue
			}
			lc, err := k.ReadU64(lp + 8*uint64(cpu))
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := strconv.ParseUint(m[1], 16, 64); p != lc {
				t.Errorf("CPU %d: prefix %x, lowcore_ptr %x", cpu, p, lc)
			}
			if ct, err := k.ReadU64(lc + uint64(cur)); err != nil || ct != task {
				t.Errorf("CPU %d: lowcore's current_task %x (%v), bt's task %x", cpu, ct, err, task)
			}
		}
	})
}

var ptePhysRE = regexp.MustCompile(`(?m)^\s*([0-9a-f]+)\s+([0-9a-f]+)\s+\(([^)]*)\)$`)

// TestCorpusPPCS390PTE: the entry each walk ends at (kernel text, a task
// stack, a user page of init's), given to pte, decodes to the page the
// walk reached, present, with its flags; and vtop prints that entry's
// block as pte does (ppc64), or its page (s390x).
func TestCorpusPPCS390PTE(t *testing.T) {
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		k := s.Kernel
		tasks, err := k.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		var init kernel.Task
		for _, tk := range tasks {
			if tk.PID == 1 {
				init = tk
			}
		}
		sched, _ := k.Syms.Addr("schedule")
		lo, _, err := k.TaskStack(init)
		if err != nil {
			t.Fatal(err)
		}
		vma, ok, err := k.FindVMA(init.Addr, 0x1000000)
		if !ok || err != nil {
			// init's first mapping (busybox's text: ppc64le at 0x10000000).
			vma, ok, err = k.FindVMA(init.Addr, 0x10000000)
		}
		if !ok || err != nil {
			t.Fatalf("no VMA of init's text: %v", err)
		}
		type walk struct {
			what string
			cmd  string
			tr   arch.Translation
		}
		var walks []walk
		for _, a := range []uint64{sched, lo + 0x100} {
			tr, err := k.Arch.KernelWalk(a)
			if err != nil {
				t.Fatalf("%x: %v", a, err)
			}
			walks = append(walks, walk{fmt.Sprintf("kernel %x", a), fmt.Sprintf("vtop %x", a), tr})
		}
		if tr, err := k.UserWalk(init.Addr, vma.Start); err == nil {
			walks = append(walks, walk{fmt.Sprintf("user %x", vma.Start), fmt.Sprintf("vtop -u -c 1 %x", vma.Start), tr})
		} else {
			t.Errorf("init's %x: %v", vma.Start, err)
		}
		for _, w := range walks {
			last := w.tr.Levels[len(w.tr.Levels)-1]
			if r.Arch == "s390x" && last.Name != "PTE" {
				continue // a large frame's segment entry is no PTE
			}
			out := run(t, s, fmt.Sprintf("pte %x", last.Entry))
			m := ptePhysRE.FindStringSubmatch(out)
			if m == nil {
				t.Errorf("%s: pte %x:\n%s", w.what, last.Entry, out)
				continue
			}
			page := w.tr.Phys &^ (w.tr.PageSize - 1)
			if p, _ := strconv.ParseUint(m[2], 16, 64); p != page {
				t.Errorf("%s: pte %x gives %x, the walk %x", w.what, last.Entry, p, page)
			}
			flags := "|" + m[3] + "|"
			if r.Arch == "ppc64le" && !strings.Contains(flags, "|PRESENT|") || r.Arch == "s390x" && strings.Contains(m[3], "INVALID") {
				t.Errorf("%s: pte %x: flags (%s)", w.what, last.Entry, m[3])
			}
			vt := run(t, s, w.cmd)
			switch r.Arch {
			case "ppc64le":
				if !strings.Contains(vt, strings.TrimPrefix(out, "\n")) {
					t.Errorf("%s: vtop's PTE block is not pte's:\n%s\n--- pte:\n%s", w.what, vt, out)
				}
			case "s390x":
				if !strings.Contains(vt, fmt.Sprintf("  PTE: %016x => %016x", last.EntryAddr, last.Entry)) && !strings.HasPrefix(w.what, "kernel") {
					t.Errorf("%s: vtop shows no PTE line for %x:\n%s", w.what, last.Entry, vt)
				}
			}
		}
	})
}

var (
	structOLineRE = regexp.MustCompile(`^\s*\[(\d+)\]\s+(.*);$`)
	paholeLineRE  = regexp.MustCompile(`^(\t+)(.*?)\s*;\s*/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*/`)
	memberNameRE  = regexp.MustCompile(`(\w+)(?:\[\d*\])*(?:\s*:\s*\d+)?\s*$`)
	paholeSizeRE  = regexp.MustCompile(`/\* size: (\d+),`)
	attributeRE   = regexp.MustCompile(`\s*__attribute__\(\(.*?\)\)+`)
)

// structMember is a member line of a struct listing: its name, offset,
// and, from pahole, its size, whether it is a bit-field, and its depth
// (1: the struct's own members).
type structMember struct {
	name             string
	off, size, depth int
	bitfield         bool
}

// memberName is the member a declaration declares ("" for none: the end
// of an unnamed union or struct, or a function pointer, named apart).
func memberName(decl string) string {
	decl = strings.TrimSpace(attributeRE.ReplaceAllString(decl, ""))
	if decl == "}" || strings.Contains(decl, "(*") {
		return ""
	}
	if n := memberNameRE.FindStringSubmatch(decl); n != nil {
		return n[1]
	}
	return ""
}

// listedMembers reads the members of a struct listing's lines: re's
// match gives a line's offset and declaration (and, from pahole, the
// rest of structMember).
func listedMembers(lines []string, re *regexp.Regexp, member func(m []string) (structMember, string)) []structMember {
	var out []structMember
	for _, ln := range lines {
		if m := re.FindStringSubmatch(ln); m != nil {
			sm, decl := member(m)
			if sm.name = memberName(decl); sm.name != "" {
				out = append(out, sm)
			}
		}
	}
	return out
}

// structOMembers reads struct -o's member lines, the ends of named
// inline structs ("[960] } lru_gen;") included.
func structOMembers(lines []string) []structMember {
	return listedMembers(lines, structOLineRE, func(m []string) (structMember, string) {
		off, _ := strconv.Atoi(m[1])
		return structMember{off: off, bitfield: strings.Contains(m[2], " : ")}, m[2]
	})
}

// paholeMembers reads pahole's member lines.
func paholeMembers(lines []string) []structMember {
	return listedMembers(lines, paholeLineRE, func(m []string) (structMember, string) {
		off, _ := strconv.Atoi(m[3])
		size, _ := strconv.Atoi(m[5])
		return structMember{off: off, size: size, depth: len(m[1]), bitfield: m[4] != ""}, m[2]
	})
}

// TestCorpusPPCS390StructO: struct -o lists the members of kernel structs
// at the offsets pahole reads from the same vmlinux's DWARF, and their
// size.
func TestCorpusPPCS390StructO(t *testing.T) {
	if _, err := exec.LookPath("pahole"); err != nil {
		t.Fatal("pahole (Debian's dwarves) is not installed")
	}
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		checked := 0
		for _, name := range []string{"task_struct", "mm_struct", "pt_regs", "module", "page", "list_head", "file", "thread_struct"} {
			out, err := exec.Command("pahole", "-F", "dwarf", "-C", name, r.Vmlinux).Output()
			if err != nil {
				t.Fatalf("pahole -C %s: %v", name, err)
			}
			ours := strings.Split(run(t, s, "struct -o "+name), "\n")
			theirs := strings.Split(string(out), "\n")
			got, want := structOMembers(ours), paholeMembers(theirs)
			// Each member struct -o lists is pahole's (a bit-field at the
			// byte holding it, pahole at its storage unit), and each of the
			// struct's own members is listed.
			byName := map[string][]structMember{}
			for _, m := range want {
				byName[m.name] = append(byName[m.name], m)
			}
			listed := map[string]bool{}
			for _, g := range got {
				ok := slices.ContainsFunc(byName[g.name], func(w structMember) bool {
					return g.off == w.off || g.bitfield && w.bitfield && g.off >= w.off && g.off < w.off+w.size
				})
				if !ok {
					t.Errorf("struct %s: %s at %d, pahole %+v", name, g.name, g.off, byName[g.name])
				}
				listed[g.name] = true
			}
			for _, w := range want {
				if w.depth == 1 && !listed[w.name] {
					t.Errorf("struct %s: %s (pahole: at %d) not listed", name, w.name, w.off)
				}
			}
			if len(got) < 2 {
				t.Errorf("struct %s: %d members", name, len(got))
			}
			sz := paholeSizeRE.FindStringSubmatch(string(out))
			if sz == nil || !slices.Contains(ours, "SIZE: "+sz[1]) {
				t.Errorf("struct %s: size %v, struct -o's %q", name, sz, ours[len(ours)-2:])
			}
			checked += len(got)
		}
		t.Logf("%s: %d members equal pahole's", r.Name, checked)
	})
}

var symLineRE = regexp.MustCompile(`^([0-9a-f]{16}) \(([A-Za-z?])\) (\S+)`)

// TestCorpusPPCS390Sym: sym names kernel text and data at the vmlinux's
// addresses, both ways, with an offset inside a symbol.
func TestCorpusPPCS390Sym(t *testing.T) {
	forEachPPCS390(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		for name, typ := range map[string]string{"schedule": "T", "panic": "T", "init_task": "D", "jiffies": "D"} {
			a, ok := s.Kernel.Syms.Addr(name)
			if !ok {
				t.Fatalf("no %s", name)
			}
			m := symLineRE.FindStringSubmatch(run(t, s, "sym "+name))
			if m == nil || m[1] != fmt.Sprintf("%016x", a) || m[2] != typ || m[3] != name {
				t.Errorf("sym %s: %v, want %016x (%s)", name, m, a, typ)
			}
			if typ != "T" {
				continue
			}
			m = symLineRE.FindStringSubmatch(run(t, s, fmt.Sprintf("sym %x", a+4)))
			if m == nil || m[3] != name+"+4" {
				t.Errorf("sym %x: %v, want %s+4", a+4, m, name)
			}
		}
	})
}

var (
	layoutFrameRE = regexp.MustCompile(`^ ?#(\d+) \[([0-9a-f]+)\] (\S+) at ([0-9a-f]+)(?: \[(\S+)\])?$`)
	layoutPairRE  = regexp.MustCompile(`([A-Z][A-Z0-9]*(?: Result)?):\s+([0-9a-f]{16})`)
	layoutPSWRE   = regexp.MustCompile(`^ PSW:  ([0-9a-f]{16}) ([0-9a-f]{16}) `)
	layoutGPRSRE  = regexp.MustCompile(`^(?: GPRS: |       )((?:[0-9a-f]{16} ){4})$`)
)

// layoutRegNames maps crash's ppc64 labels to the JSON's register names
// where they differ.
var layoutRegNames = map[string]string{"OR3": "orig_gpr3", "LR": "link", "MQ": "softe", "Syscall Result": "result"}

// layoutTrace is what bt's text shows of one task in crash's ppc64 or
// s390x layout: its frames, and the register blocks below them.
type layoutTrace struct {
	header []string
	frames [][]string
	blocks []map[string]uint64
}

func parseLayoutText(text string) []*layoutTrace {
	var out []*layoutTrace
	var cur *layoutTrace
	var block map[string]uint64
	gpr := 0
	for _, ln := range strings.Split(text, "\n") {
		if m := btTaskRE.FindStringSubmatch(ln); m != nil {
			cur, block = &layoutTrace{header: m[1:]}, nil
			out = append(out, cur)
			continue
		}
		if cur == nil {
			continue
		}
		if m := layoutFrameRE.FindStringSubmatch(ln); m != nil {
			cur.frames, block = append(cur.frames, m[1:]), nil
			continue
		}
		if len(cur.frames) == 0 {
			continue // the CPU's block above the frames
		}
		newBlock := func() {
			if block == nil {
				block = map[string]uint64{}
				cur.blocks = append(cur.blocks, block)
			}
		}
		hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
		switch m := layoutPSWRE.FindStringSubmatch(ln); {
		case m != nil:
			block = nil
			newBlock()
			block["psw_mask"], block["psw_addr"], gpr = hex(m[1]), hex(m[2]), 0
		case layoutGPRSRE.MatchString(ln) && block != nil:
			for _, v := range strings.Fields(ln[7:]) {
				block[fmt.Sprintf("r%d", gpr)] = hex(v)
				gpr++
			}
		case strings.HasSuffix(ln, "exception frame:"):
			block = nil
			newBlock()
		default:
			for _, p := range layoutPairRE.FindAllStringSubmatch(ln, -1) {
				newBlock()
				name := strings.ToLower(p[1])
				if a, ok := layoutRegNames[p[1]]; ok {
					name = a
				}
				block[name] = hex(p[2])
			}
		}
	}
	return out
}

// checkBTLayoutJSON: bt's JSON holds what its text shows in crash's ppc64
// or s390x layout: the tasks, the frames the text lists (those it leaves
// out are marked hidden), their stack addresses, PCs and functions, and
// the registers of each exception frame's block.
func checkBTLayoutJSON(t *testing.T, line, text string, env map[string]any) {
	t.Helper()
	want := parseLayoutText(text)
	traces := env["data"].(map[string]any)["traces"].([]any)
	if len(want) != len(traces) || len(want) == 0 {
		t.Fatalf("%s: %d traces in the text, %d in the JSON", line, len(want), len(traces))
	}
	for i, w := range want {
		j := traces[i].(map[string]any)
		if fmt.Sprint(j["pid"]) != w.header[0] {
			t.Errorf("%s: trace %d: JSON pid %v, text %v", line, i, j["pid"], w.header)
			continue
		}
		frames, _ := j["frames"].([]any)
		var shown []map[string]any
		var blocks []map[string]any
		for _, f := range frames {
			jf := f.(map[string]any)
			if jf["hidden"] != true {
				shown = append(shown, jf)
			}
			if e, ok := jf["exception"].(map[string]any); ok {
				blocks = append(blocks, e["registers"].(map[string]any))
			}
		}
		if len(shown) != len(w.frames) {
			t.Errorf("%s: pid %s: %d frames shown in the JSON, %d in the text", line, w.header[0], len(shown), len(w.frames))
			continue
		}
		for k, jf := range shown {
			tf := w.frames[k]
			sp, _ := strconv.ParseUint(tf[1], 16, 64)
			pc, _ := strconv.ParseUint(tf[3], 16, 64)
			mod, _ := jf["module"].(string)
			fn, _ := jf["function"].(string)
			if hexField(t, "sp", jf["sp"]) != sp || hexField(t, "pc", jf["pc"]) != pc || mod != tf[4] || fn != "" && !strings.HasPrefix(tf[2], fn) {
				t.Errorf("%s: pid %s frame %d: JSON %v, text %v", line, w.header[0], k, jf, tf)
			}
		}
		if len(blocks) != len(w.blocks) {
			t.Errorf("%s: pid %s: %d register blocks in the JSON, %d in the text", line, w.header[0], len(blocks), len(w.blocks))
			continue
		}
		for k, tb := range w.blocks {
			matched := 0
			for name, v := range tb {
				jv, ok := blocks[k][name]
				if !ok {
					t.Errorf("%s: pid %s block %d: no %s in the JSON", line, w.header[0], k, name)
					continue
				}
				if hexField(t, name, jv) != v {
					t.Errorf("%s: pid %s block %d: %s %v in the JSON, %x in the text", line, w.header[0], k, name, jv, v)
				}
				matched++
			}
			if matched < 18 {
				t.Errorf("%s: pid %s block %d: only %d registers of the text in the JSON", line, w.header[0], k, matched)
			}
		}
	}
}
