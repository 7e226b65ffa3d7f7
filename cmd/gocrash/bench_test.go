package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrash/gocrash/internal/corpus"
)

// benchRun is one corpus run's kdump-compressed (or first) dump file.
func benchDump(r *corpus.Run) string {
	for _, f := range r.Files {
		if f.Format == "kdump" && len(f.Parts) == 0 {
			return f.Path
		}
	}
	if len(r.Files) > 0 {
		return r.Files[0].Path
	}
	return ""
}

// benchVmlinuxes is one run per corpus vmlinux, so each kernel build is
// measured once: a kdump run before a QEMU one, then the shortest name (the
// plain sysrq run, not la57 or a crash kind).
func benchVmlinuxes(b *testing.B) []*corpus.Run {
	pick := map[string]*corpus.Run{}
	var order []string
	for _, r := range corpus.Runs(b) {
		if benchDump(r) == "" {
			continue
		}
		old, ok := pick[r.Vmlinux]
		if !ok {
			order = append(order, r.Vmlinux)
		}
		if !ok || (r.Method == "kdump") != (old.Method == "kdump") && r.Method == "kdump" ||
			(r.Method == "kdump") == (old.Method == "kdump") && len(r.Name) < len(old.Name) {
			pick[r.Vmlinux] = r
		}
	}
	out := make([]*corpus.Run, 0, len(order))
	for _, v := range order {
		out = append(out, pick[v])
	}
	return out
}

// benchStart runs gocrash as its main does, in this process, answering
// line from standard input: the whole start and one command. cold empties
// the index cache (a fresh XDG_CACHE_HOME) before every run.
func benchStart(b *testing.B, line string, cold bool) {
	benchStartOn(b, benchVmlinuxes(b), line, cold)
}

func benchStartOn(b *testing.B, runs []*corpus.Run, line string, cold bool) {
	for _, r := range runs {
		b.Run(r.Name, func(b *testing.B) {
			dump := benchDump(r)
			cache := b.TempDir()
			b.Setenv("XDG_CACHE_HOME", cache)
			in := filepath.Join(b.TempDir(), "in")
			if err := os.WriteFile(in, []byte(strings.TrimPrefix(line+"\n", "\n")), 0o644); err != nil {
				b.Fatal(err)
			}
			once := func() {
				f, err := os.Open(in)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				var errs strings.Builder
				if rc := run([]string{"-s", r.Vmlinux, dump}, f, io.Discard, &errs); rc != 0 && line != "" {
					b.Fatalf("%s: exit %d: %s", line, rc, errs.String())
				}
			}
			if !cold {
				once() // the cache file is written
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if cold {
					b.StopTimer()
					os.RemoveAll(filepath.Join(cache, "gocrash"))
					b.StartTimer()
				}
				once()
			}
		})
	}
}

// The whole start with one command, warm (the caches are there) or cold
// (an empty cache directory), in this process: what a batch run costs
// apart from the process's own start. Each reports B/op and allocs/op
// (make bench runs them with -benchmem), so a regression shows in numbers.
func BenchmarkStartOpen(b *testing.B)        { benchStart(b, "", false) }
func BenchmarkStartOpenCold(b *testing.B)    { benchStart(b, "", true) }
func BenchmarkStartSys(b *testing.B)         { benchStart(b, "sys", false) }
func BenchmarkStartPs(b *testing.B)          { benchStart(b, "ps", false) }
func BenchmarkStartBt(b *testing.B)          { benchStart(b, "bt", false) }
func BenchmarkStartForeachBt(b *testing.B)   { benchStart(b, "foreach bt", false) }
func BenchmarkStartKmemS(b *testing.B)       { benchStart(b, "kmem -s", false) }
func BenchmarkStartKmemI(b *testing.B)       { benchStart(b, "kmem -i", false) }
func BenchmarkStartSearchK(b *testing.B)     { benchStart(b, "search -k 0xfeedfacecafef00d", false) }
func BenchmarkStartLog(b *testing.B)         { benchStart(b, "log", false) }
func BenchmarkStartStruct(b *testing.B)      { benchStart(b, "struct task_struct", false) }
func BenchmarkStartStructCold(b *testing.B)  { benchStart(b, "struct task_struct", true) }
func BenchmarkStartWhatisWarm(b *testing.B)  { benchStart(b, "whatis jiffies", false) }
func BenchmarkStartWhatisCold(b *testing.B)  { benchStart(b, "whatis jiffies", true) }
func BenchmarkStartPrintWarm(b *testing.B)   { benchStart(b, "p jiffies", false) }
func BenchmarkStartPrintCold(b *testing.B)   { benchStart(b, "p jiffies", true) }
func BenchmarkStartWhatisFunc(b *testing.B)  { benchStart(b, "whatis schedule", true) }
func BenchmarkStartWhatisIndex(b *testing.B) { benchStart(b, "whatis -r 4096", false) }

// benchProcess runs the gocrash binary (built once, as make build does)
// as a batch process answering line, with the caches filled by one run
// first: the whole warm start, including what an in-process benchmark
// cannot show (the process's own start, the symbol cache mapped in place
// at its address, which a second open in one process finds taken). It
// reports each run's CPU time (cpu-ms/op, user+sys) and peak resident
// size (maxrss-MiB, the largest of the runs) next to the wall time.
func benchProcess(b *testing.B, line string) {
	bin := filepath.Join(b.TempDir(), "gocrash")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, r := range benchVmlinuxes(b) {
		b.Run(r.Name, func(b *testing.B) {
			dump := benchDump(r)
			cache := b.TempDir()
			once := func() *os.ProcessState {
				cmd := exec.Command(bin, "-s", r.Vmlinux, dump)
				cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
				cmd.Stdin = strings.NewReader(line + "\n")
				if out, err := cmd.CombinedOutput(); err != nil && line != "bt" {
					b.Fatalf("%s: %v: %s", line, err, out)
				}
				return cmd.ProcessState
			}
			once() // the caches are written
			var cpu time.Duration
			var rss int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ps := once()
				cpu += ps.UserTime() + ps.SystemTime()
				if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
					rss = max(rss, int64(ru.Maxrss))
				}
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(rss)/1024, "maxrss-MiB")
		})
	}
}

// Whole-process warm starts (issue 20: each at most 20 ms of CPU and 48
// MiB resident on every corpus vmlinux).
func BenchmarkProcessWarmSys(b *testing.B)    { benchProcess(b, "sys") }
func BenchmarkProcessWarmPs(b *testing.B)     { benchProcess(b, "ps") }
func BenchmarkProcessWarmBt(b *testing.B)     { benchProcess(b, "bt") }
func BenchmarkProcessWarmWhatis(b *testing.B) { benchProcess(b, "whatis jiffies") }
func BenchmarkProcessWarmPrint(b *testing.B)  { benchProcess(b, "p jiffies") }
func BenchmarkProcessWarmStruct(b *testing.B) { benchProcess(b, "struct task_struct") }

// The same on the large run (8 GiB, 4 CPUs, 5,000+ tasks), warm: the paths
// of scripts/timing.sh --large, so that a cost that grows with the
// machine's size shows in ns/op, B/op and allocs/op.
func benchLarge(b *testing.B, line string) {
	benchStartOn(b, []*corpus.Run{corpus.LargeRun(b)}, line, false)
}

func BenchmarkLargeOpen(b *testing.B)      { benchLarge(b, "") }
func BenchmarkLargePs(b *testing.B)        { benchLarge(b, "ps") }
func BenchmarkLargeForeachBt(b *testing.B) { benchLarge(b, "foreach bt") }
func BenchmarkLargeKmemS(b *testing.B)     { benchLarge(b, "kmem -s") }
func BenchmarkLargeKmemI(b *testing.B)     { benchLarge(b, "kmem -i") }
func BenchmarkLargeSearchK(b *testing.B)   { benchLarge(b, "search -k 0xfeedfacecafef00d") }
func BenchmarkLargeLog(b *testing.B)       { benchLarge(b, "log") }
