package commands_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// crashKindFiles: the dumps of a crash-kind run these tests read: the
// whole memory as an ELF and a filtered, compressed kdump file. On a kdump
// run (x86_64) the ELF as the capture kernel copied it and makedumpfile's
// -c -d 31; on a QEMU run (arm64) dump-guest-memory's ELF and its -z.
func crashKindFiles(t *testing.T, r *corpus.Run) []corpus.File {
	names := map[string][2]string{"kdump": {"vmcore", "vmcore.zlib"}, "qemu": {"vmcore.elf", "vmcore.kdump-zlib"}}[r.Method]
	var out []corpus.File
	for _, f := range r.Files {
		if f.Name == names[0] || f.Name == names[1] {
			out = append(out, f)
		}
	}
	if len(out) != 2 {
		t.Fatalf("%s: no %s and %s", r.Name, names[0], names[1])
	}
	return out
}

// moduleDataSymbols: the dump's module kallsyms name the modules' data
// (gocrash_list) as well as their text. Debian's arm64 kernel is built
// without CONFIG_KALLSYMS_ALL: there they name text only, and a module's
// data can be found neither by name nor, after mod -s, where its .data is
// (sections are placed by the symbols the dump has).
func moduleDataSymbols(r *corpus.Run) bool { return r.Arch == "x86_64" }

// crashReads: crash 8.0.2 opens the run's dumps, so a test may compare
// with it: the x86_64 kdump runs of 5.10 and 6.1. It does not start on
// 6.12's, and Debian's x86_64 crash does not read arm64 dumps.
func crashReads(r *corpus.Run) bool {
	return r.Arch == "x86_64" && r.Method == "kdump" && (strings.HasPrefix(r.Release, "6.1.") || strings.HasPrefix(r.Release, "5.10."))
}

var btModFrameRE = regexp.MustCompile(`^ ?#\d+ \[[0-9a-f]{16}\] (\S+) at [0-9a-f]{16}(?: \[(\S+)\])?$`)

// TestCorpusCrashKinds: on the runs the test module crashed (oops in
// process context and in a timer, BUG, WARN with panic_on_warn, soft lockup,
// hung task), what gocrash already reads there: ps lists every task of the
// guest's ps, log holds every console line of the crashed kernel, mod lists
// gocrash_test, and bt of the module's sleeping kthread names its module
// frames with [gocrash_test] and equals the guest's sysrq-t trace of it.
func TestCorpusCrashKinds(t *testing.T) {
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		var sleeper *corpus.KernelTrace
		for _, kt := range truth.SysrqTraces() {
			if kt.Comm == "gocrash_sleep" {
				sleeper = &kt
			}
		}
		if sleeper == nil {
			t.Fatal("sysrq-t shows no gocrash_sleep")
		}
		for _, f := range crashKindFiles(t, r) {
			t.Run(f.Name, func(t *testing.T) {
				s := openSession(t, r, f)

				// ps: every process the guest's ps listed (but ps itself).
				type row struct {
					ppid int
					comm string
				}
				rows := map[int]row{}
				for _, ln := range strings.Split(run(t, s, "ps"), "\n")[1:] {
					fl := strings.Fields(strings.TrimPrefix(ln, ">"))
					if len(fl) < 9 {
						continue
					}
					pid, err1 := strconv.Atoi(fl[0])
					ppid, err2 := strconv.Atoi(fl[1])
					if err1 != nil || err2 != nil {
						t.Fatalf("ps line %q", ln)
					}
					rows[pid] = row{ppid, strings.Trim(strings.Join(fl[8:], " "), "[]")}
				}
				for _, p := range truth.PS {
					if p.Comm == "ps" {
						continue
					}
					got, ok := rows[p.PID]
					if !ok {
						t.Errorf("guest ps lists pid %d %q; gocrash's ps does not", p.PID, p.Comm)
					} else if got.ppid != p.PPID || !strings.HasPrefix(strings.Trim(p.Comm, "[]"), got.comm) {
						t.Errorf("pid %d: ppid %d comm %q; guest said ppid %d comm %q", p.PID, got.ppid, got.comm, p.PPID, p.Comm)
					}
				}

				// log: every timestamped console line of the crashed kernel
				// (a record's later lines print indented, without a stamp;
				// the console prints each with the record's stamp). Lines
				// are compared without their leading and trailing blanks.
				have := map[string]bool{}
				stamp := ""
				for _, ln := range strings.Split(run(t, s, "log"), "\n") {
					text := ln
					if strings.HasPrefix(ln, "[") && strings.Contains(ln, "]") {
						stamp, text, _ = strings.Cut(ln, "]")
						stamp += "]"
					}
					have[stamp+" "+strings.TrimSpace(text)] = true
				}
				missing := 0
				for _, c := range truth.Console {
					line := fmt.Sprintf("[%12s] %s", c.Stamp, strings.TrimSpace(c.Text))
					if !have[line] {
						if missing < 5 {
							t.Errorf("console line not in log: %q", line)
						}
						missing++
					}
				}
				if missing > 0 {
					t.Errorf("%d of %d console lines missing from log", missing, len(truth.Console))
				}
				// The report's own lines are among them.
				if rep, ok := truth.Report(); !ok || !strings.Contains(run(t, s, "log"), rep.Title) {
					t.Errorf("log lacks the crash report's first line")
				}

				// mod: the test module is listed.
				if !regexp.MustCompile(`(?m)^[0-9a-f]{16}  gocrash_test +[0-9a-f]{16} +\d+ `).MatchString(run(t, s, "mod")) {
					t.Errorf("mod does not list gocrash_test:\n%s", run(t, s, "mod"))
				}

				// bt of the sleeping kthread: the kernel's own trace, with
				// the module's frames marked.
				out := run(t, s, fmt.Sprintf("bt %d", sleeper.PID))
				var names []string
				modFrames := 0
				for _, ln := range strings.Split(out, "\n") {
					m := btModFrameRE.FindStringSubmatch(ln)
					if m == nil {
						continue
					}
					names = append(names, m[1])
					if strings.HasPrefix(m[1], "gocrash_") {
						if m[2] != "gocrash_test" {
							t.Errorf("module frame without [gocrash_test]: %q", ln)
						}
						modFrames++
					} else if m[2] != "" {
						t.Errorf("kernel frame marked as a module's: %q", ln)
					}
				}
				if modFrames != 3 {
					t.Errorf("%d module frames, want gocrash_sleep_inner, _outer, _fn:\n%s", modFrames, out)
				}
				if got, want := strings.Join(names, " "), strings.Join(sleeper.Names(), " "); got != want {
					t.Errorf("bt %d:\n  kernel: %s\n  bt:     %s\n%s", sleeper.PID, want, got, out)
				}
			})
		}
	})
}
