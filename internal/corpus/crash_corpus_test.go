package corpus

import (
	"regexp"
	"strings"
	"testing"
)

// TestCorpusRunsSplit: Runs gives the sysrq runs only, CrashRuns the test
// module's: for each kernel (architecture and release) that has crash-kind
// runs, one run per kind, each of them, named for its method (kdump on
// x86_64; arm64's are QEMU dumps: a kdump does not work under TCG there);
// every crash run keeps the module it loaded.
func TestCorpusRunsSplit(t *testing.T) {
	for _, r := range Runs(t) {
		if r.Crash != "sysrq" {
			t.Errorf("Runs gave %s (crash %q)", r.Name, r.Crash)
		}
	}
	kinds := map[string]map[string]bool{} // arch/release: the kinds
	for _, r := range CrashRuns(t) {
		kernel := r.Arch + "/" + r.Release
		if kinds[kernel] == nil {
			kinds[kernel] = map[string]bool{}
		}
		if kinds[kernel][r.Crash] {
			t.Errorf("%s: two runs of kind %s", kernel, r.Crash)
		}
		kinds[kernel][r.Crash] = true
		method := map[string]string{"x86_64": "kdump", "arm64": "qemu"}[r.Arch]
		if r.Method != method || !strings.HasSuffix(r.Name, "-"+method+"-"+r.Crash) ||
			len(r.Modules) != 1 || !strings.HasSuffix(r.Modules[0], "/gocrash_test.ko") {
			t.Errorf("%s: method %q, crash %q, modules %q", r.Name, r.Method, r.Crash, r.Modules)
		}
	}
	for kernel, have := range kinds {
		for _, k := range []string{"oops", "oops-timer", "bug", "warn", "softlockup", "hungtask"} {
			if !have[k] {
				t.Errorf("%s: no %s run", kernel, k)
			}
		}
	}
	t.Logf("crash kinds on %d kernels", len(kinds))
}

// TestCorpusCrashReports: on every crash run, the console's first report
// is the kind's, with the faulting function of the module where the kernel
// names one, and the module's frames in the Call Trace. The x86_64 wording
// and stacks, and arm64's where they differ: its Oops title, its die()
// line, and a Call trace without <IRQ>/<TASK> markers (6.1's arm64
// dump_backtrace prints none, so every frame's Stack is ""). On a QEMU run
// (no kdump kernel loaded) an Oops or BUG goes on to panic(): one report
// more.
func TestCorpusCrashReports(t *testing.T) {
	type want struct {
		title, rip, frame, stack string
		reports                  int
	}
	wants := map[string]want{
		"oops":       {`^BUG: kernel NULL pointer dereference, address: 0000000000000000$`, "gocrash_oops_inner", "gocrash_oops_outer", "TASK", 1},
		"oops-timer": {`^BUG: kernel NULL pointer dereference, address: 0000000000000008$`, "gocrash_timer_inner", "gocrash_timer_fn", "IRQ", 1},
		"bug":        {`^kernel BUG at testdata/corpus/module/gocrash_test.c:\d+!$`, "gocrash_bug_inner", "gocrash_bug_outer", "TASK", 1},
		"warn":       {`^WARNING: CPU: \d+ PID: \d+ at testdata/corpus/module/gocrash_test.c:\d+ gocrash_warn_inner\+0x[0-9a-f]+/0x[0-9a-f]+ \[gocrash_test\]$`, "gocrash_warn_inner", "gocrash_warn_outer", "TASK", 2},
		"softlockup": {`^watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s! \[gocrash_spin:\d+\]$`, "gocrash_spin_inner", "gocrash_spin_fn", "TASK", 2},
		"hungtask":   {`^INFO: task gocrash_hung:\d+ blocked for more than 1 seconds\.$`, "", "gocrash_hung_inner", "TASK", 2},
	}
	// The die() lines: 6.12 prefixes x86_64's with "Oops: " (its
	// __die_header); arm64's carry the ESR.
	oopsLines := map[string]string{
		"x86_64/oops":       `^Oops: 0002 \[#1\] PREEMPT SMP NOPTI$`,
		"x86_64/oops-timer": `^Oops: 0002 \[#1\] PREEMPT SMP NOPTI$`,
		"x86_64/bug":        `^invalid opcode: 0000 \[#1\] PREEMPT SMP NOPTI$`,
		"arm64/oops":        `^Internal error: Oops: [0-9a-f]{16} \[#1\] SMP$`,
		"arm64/oops-timer":  `^Internal error: Oops: [0-9a-f]{16} \[#1\] SMP$`,
		"arm64/bug":         `^Internal error: Oops - BUG: [0-9a-f]{16} \[#1\] SMP$`,
	}
	ForEachCrashRun(t, func(t *testing.T, r *Run) {
		w, ok := wants[r.Crash]
		if !ok {
			t.Fatalf("unknown crash kind %q", r.Crash)
		}
		if r.Arch == "arm64" {
			switch r.Crash {
			case "oops":
				w.title = `^Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000$`
			case "oops-timer":
				w.title = `^Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008$`
			}
			w.stack = ""
		}
		if r.Method == "qemu" && w.reports == 1 {
			w.reports++ // "Kernel panic - not syncing: Oops: Fatal exception"
		}
		oopsLine := oopsLines[r.Arch+"/"+r.Crash]
		if oopsLine != "" && strings.HasPrefix(r.Release, "6.12.") {
			oopsLine = "^Oops: " + oopsLine[1:]
		}
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		rep, ok := truth.Report()
		if !ok {
			t.Fatal("no crash report on the console")
		}
		if len(truth.Reports) != w.reports {
			t.Errorf("%d reports, want %d", len(truth.Reports), w.reports)
		}
		if oopsLine == "" && rep.Oops != "" || oopsLine != "" && !regexp.MustCompile(oopsLine).MatchString(rep.Oops) {
			t.Errorf("oops line %q, want %s", rep.Oops, oopsLine)
		}
		if !regexp.MustCompile(w.title).MatchString(rep.Title) {
			t.Errorf("title %q, want %s", rep.Title, w.title)
		}
		if w.rip != "" && (rep.Regs == nil || rep.Regs.RIP.Func != w.rip || rep.Regs.RIP.Module != "gocrash_test") {
			t.Errorf("registers %+v, want RIP in %s [gocrash_test]", rep.Regs, w.rip)
		}
		if w.rip != "" && !strings.HasPrefix(rep.ModulesLinkedIn, "gocrash_test(OE) ") {
			t.Errorf("modules linked in %q", rep.ModulesLinkedIn)
		}
		found := false
		for _, f := range rep.Reliable() {
			if f.Func == w.frame && f.Module == "gocrash_test" && f.Stack == w.stack {
				found = true
			}
		}
		// arm64's trace goes from pc to the frame records: the faulting
		// leaf's caller, whose record the leaf never pushed, is only the
		// report's lr (gocrash_bug_outer; gocrash_oops_middle).
		if r.Arch == "arm64" && rep.Regs != nil && rep.Regs.LR.Func == w.frame && rep.Regs.LR.Module == "gocrash_test" {
			found = true
		}
		if !found {
			t.Errorf("no %s [gocrash_test] frame on the %s stack: %+v", w.frame, w.stack, rep.Trace)
		}
		// What the dump's panic task is: the report's task, or for a
		// panic after the report (hung task), the panic's; where the
		// panic names no task (arm64's after an Oops), the Oops's.
		last, ok := truth.PanicReport()
		if !ok || last.PID < 0 {
			t.Errorf("no report names the panic's task: %+v", truth.Reports)
		} else if last != &truth.Reports[len(truth.Reports)-1] && !(r.Arch == "arm64" && strings.HasPrefix(truth.Panic, "Kernel panic - not syncing: Oops")) {
			t.Errorf("the last report names no task: %+v", truth.Reports[len(truth.Reports)-1])
		}
	})
}
