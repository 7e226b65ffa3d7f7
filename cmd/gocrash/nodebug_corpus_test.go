package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols"
)

// noDebugCommands answer from the dump alone as with the vmlinux: their
// JSON results are compared, one line each (sym's with the source line
// the vmlinux adds left out).
var noDebugCommands = []string{
	"ps", "log", "bt", "mod", "task -R pid,comm,state",
	"struct list_head -o", "struct task_struct -o", "struct mm_struct -o", "struct module -o",
	"struct file -o", "struct pt_regs -o", "struct printk_info -o", "struct page -o",
	"struct inode -o", "struct sk_buff -o", "union rcu_special", "struct timer_list",
	"whatis task_struct", "whatis struct list_head", "whatis pid_t", "whatis enum pid_type",
	"whatis PIDTYPE_PID", "whatis init_task", "whatis jiffies",
	"sym init_task", "sym sysrq_handle_crash", "rd init_task 4",
	"p init_task.comm", "p init_task.pid", "p/x jiffies", "vm 1", "files 1", "runq",
	// A per-CPU variable through a cast, which needs no VAR in the BTF.
	"p (*(struct rq *)&runqueues:0).nr_running", "p ((struct rq *)&runqueues:1)->cpu", "p *(int *)&process_counts:1",
}

// noDebugGaps may not answer from the dump alone on some kernels: what
// they read is known only to a kallsyms with data symbols (arm64's has
// only text: swap_info, the overcommit sysctls, dev's operations; its
// linux_banner, chrdevs, major_names, cdev_map and hstates are found in
// the image), or to a BTF with per-CPU variables (5.10's has none). They answer as with the vmlinux, or in
// part, or fail in one line; the test logs which. Elsewhere (gapOn false)
// they must answer as with the vmlinux.
var noDebugGaps = []string{
	"whatis runqueues", "p runqueues", "p process_counts:1", "struct rq.cpu,nr_running runqueues:a",
	"kmem -i", "dev", "rd -s linux_banner 2",
}

// gapOn says whether gap (of noDebugGaps) may differ on run r: the
// per-CPU variables' on 5.10, what needs static data symbols on arm64
// (kmem -i's swap_info and the overcommit sysctls; dev's operations are
// static data kallsyms does not name, the rest of dev must be the
// vmlinux's: opsNames).
func gapOn(r *corpus.Run, gap string) bool {
	perCPU := strings.Contains(gap, "runqueues") || strings.Contains(gap, "process_counts")
	if perCPU {
		return strings.HasPrefix(r.Release, "5.10")
	}
	// arm64's linux_banner is found in the image's rodata.
	return r.Arch == "arm64" && gap == "kmem -i"
}

// opsNames are dev's JSON's names of the operations' symbols.
var opsNames = regexp.MustCompile(`"symbol":"[^"]*"`)

var sourceLineJSON = regexp.MustCompile(`,"file":"[^"]*","line":\d+`)

// TestCorpusNoDebuginfoSession: "gocrash DUMPFILE" with no vmlinux
// anywhere (no debuginfod server, an empty cache) says so in one line,
// naming the build-id, and answers from the dump alone: sys's KERNEL line
// says so, its DATE and UPTIME are the vmlinux's, the commands of noDebugCommands give the vmlinux's JSON, and
// what needs DWARF (bt -l, dis -l) fails in one line saying so. The
// start-up time of the two modes is logged (ps and sys, in process).
func TestCorpusNoDebuginfoSession(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	t.Setenv("DEBUGINFOD_CACHE_PATH", t.TempDir())
	for _, r := range append(corpus.Runs(t), corpus.CrashRuns(t)...) {
		if r.Arch != "x86_64" && r.Arch != "arm64" {
			continue // Debian's ppc64el and s390x kernels have no BTF
		}
		t.Run(r.Name, func(t *testing.T) {
			sameClocks(t, r)
			dump := r.Files[0].Paths()
			cmds := append(append([]string{}, noDebugCommands...), noDebugGaps...)
			input := strings.Join(cmds, "\n") + "\n"
			_, want, _ := runGocrash(t, input, append([]string{"-s", "--json", r.Vmlinux}, dump...)...)
			code, got, errs := runGocrash(t, input, append([]string{"-s", "--json"}, dump...)...)
			notice := strings.Split(strings.TrimRight(errs, "\n"), "\n")[0]
			if !strings.Contains(notice, "running from the dump alone") || (r.VMCoreInfo && !strings.Contains(notice, "build-id")) {
				t.Errorf("the notice: %q", notice)
			}
			wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
			if len(gl) != len(wl) {
				t.Fatalf("%d JSON lines, with the vmlinux %d (exit %d, %s)", len(gl), len(wl), code, errs)
			}
			for i, cmd := range noDebugCommands {
				if w := sourceLineJSON.ReplaceAllString(wl[i], ""); gl[i] != w {
					t.Errorf("%s: the JSON differs from the vmlinux's:\n got %.300s\nwant %.300s", cmd, gl[i], w)
				}
			}
			var gaps []string
			for i, cmd := range noDebugGaps {
				g := gl[len(noDebugCommands)+i]
				var res struct {
					Error string `json:"error"`
				}
				switch err := json.Unmarshal([]byte(g), &res); {
				case err != nil:
					t.Errorf("%s: not one JSON line: %v", cmd, err)
				case g == wl[len(noDebugCommands)+i]:
				case cmd == "dev" && r.Arch == "arm64" && opsNames.ReplaceAllString(g, "") == opsNames.ReplaceAllString(wl[len(noDebugCommands)+i], ""):
					gaps = append(gaps, "dev: the operations' data symbols unnamed")
				case !gapOn(r, cmd):
					t.Errorf("%s: the JSON differs from the vmlinux's:\n got %.300s\nwant %.300s", cmd, g, wl[len(noDebugCommands)+i])
				case strings.Contains(res.Error, "\n"):
					t.Errorf("%s: an error of more than one line: %.300s", cmd, g)
				case res.Error == "":
					gaps = append(gaps, cmd+": a partial answer")
				default:
					gaps = append(gaps, res.Error)
				}
			}
			t.Logf("%d commands as with the vmlinux, %d of %d more too; not: %q", len(noDebugCommands), len(noDebugGaps)-len(gaps), len(noDebugGaps), gaps)
			// sys marks the mode.
			_, out, _ := runGocrash(t, "sys\n", append([]string{"-s"}, dump...)...)
			if !strings.Contains(out, "      KERNEL: "+symbols.DumpKernelName) {
				t.Errorf("sys:\n%s", out)
			}
			var sys struct {
				Data struct {
					Kernel string `json:"kernel"`
				} `json:"data"`
			}
			_, out, _ = runGocrash(t, "sys\n", append([]string{"-s", "--json"}, dump...)...)
			if err := json.Unmarshal([]byte(out), &sys); err != nil || sys.Data.Kernel != symbols.DumpKernelName {
				t.Errorf("sys --json: %v %q", err, out)
			}
			// What needs DWARF says so, in one line each.
			for _, cmd := range []string{"bt -l", "dis -l sysrq_handle_crash 2"} {
				_, _, errs := runGocrash(t, cmd+"\n", append([]string{"-s"}, dump...)...)
				lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
				if last := lines[len(lines)-1]; !strings.Contains(last, "no debugging data available") {
					t.Errorf("%s: %q", cmd, errs)
				}
			}
			// Start-up, whole session: ps and sys.
			start := time.Now()
			runGocrash(t, "ps\nsys\n", append([]string{"-s", r.Vmlinux}, dump...)...)
			withVmlinux := time.Since(start)
			start = time.Now()
			runGocrash(t, "ps\nsys\n", append([]string{"-s"}, dump...)...)
			t.Logf("ps and sys: %v with the vmlinux, %v from the dump alone", withVmlinux.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		})
	}
}

// sameClocks: sys's DATE and UPTIME (its JSON's date and uptime_seconds)
// from the dump alone equal the vmlinux mode's.
func sameClocks(t *testing.T, r *corpus.Run) {
	t.Helper()
	dump := r.Files[0].Paths()
	type clocks struct {
		Data struct {
			Date   *string  `json:"date"`
			Uptime *float64 `json:"uptime_seconds"`
		} `json:"data"`
		Error string `json:"error"`
	}
	var want, got clocks
	_, w, _ := runGocrash(t, "sys\n", append([]string{"-s", "--json", r.Vmlinux}, dump...)...)
	_, g, _ := runGocrash(t, "sys\n", append([]string{"-s", "--json"}, dump...)...)
	if err := json.Unmarshal([]byte(w), &want); err != nil || want.Data.Date == nil || want.Data.Uptime == nil {
		t.Fatalf("sys --json with the vmlinux: %v %.300s", err, w)
	}
	if err := json.Unmarshal([]byte(g), &got); err != nil || got.Data.Date == nil || got.Data.Uptime == nil {
		t.Fatalf("sys --json from the dump alone: %v %.300s", err, g)
	}
	if *got.Data.Date != *want.Data.Date || *got.Data.Uptime != *want.Data.Uptime {
		t.Errorf("sys: date %s uptime %v, with the vmlinux %s %v", *got.Data.Date, *got.Data.Uptime, *want.Data.Date, *want.Data.Uptime)
	}
}
