package corpus

import (
	"regexp"
	"strings"
	"testing"
)

// TestCorpusRunsSplit: Runs gives the sysrq runs only, CrashRuns the test
// module's, one per kind; every crash run keeps the module it loaded.
func TestCorpusRunsSplit(t *testing.T) {
	for _, r := range Runs(t) {
		if r.Crash != "sysrq" {
			t.Errorf("Runs gave %s (crash %q)", r.Name, r.Crash)
		}
	}
	kinds := map[string]bool{}
	for _, r := range CrashRuns(t) {
		if kinds[r.Crash] {
			t.Errorf("two runs of kind %s", r.Crash)
		}
		kinds[r.Crash] = true
		if !strings.HasSuffix(r.Name, "-kdump-"+r.Crash) || len(r.Modules) != 1 || !strings.HasSuffix(r.Modules[0], "/gocrash_test.ko") {
			t.Errorf("%s: crash %q, modules %q", r.Name, r.Crash, r.Modules)
		}
	}
	for _, k := range []string{"oops", "oops-timer", "bug", "warn", "softlockup", "hungtask"} {
		if !kinds[k] {
			t.Errorf("no %s run", k)
		}
	}
}

// TestCorpusCrashReports: on every crash run, the console's first report
// is the kind's, with the faulting function of the module where the kernel
// names one, and the module's frames in the Call Trace.
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
	ForEachCrashRun(t, func(t *testing.T, r *Run) {
		w, ok := wants[r.Crash]
		if !ok {
			t.Fatalf("unknown crash kind %q", r.Crash)
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
		if (r.Crash == "oops" || r.Crash == "oops-timer") != (rep.Oops == "Oops: 0002 [#1] PREEMPT SMP NOPTI") ||
			(r.Crash == "bug") != (rep.Oops == "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI") {
			t.Errorf("oops line %q", rep.Oops)
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
		if !found {
			t.Errorf("no %s [gocrash_test] frame on the %s stack: %+v", w.frame, w.stack, rep.Trace)
		}
		// What the dump's panic task is: the report's task, or for a
		// panic after the report (hung task), the panic's.
		last := truth.Reports[len(truth.Reports)-1]
		if last.Comm == "" || last.PID < 0 {
			t.Errorf("last report names no task: %+v", last)
		}
	})
}
