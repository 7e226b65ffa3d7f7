package commands_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// TestCorpusSearchMarkers searches every dump file's kernel memory for the
// guest's marker "@@GOCRASH-BEGIN" (its log records carry it, and the init
// script's text) and wants each match read back by rd at the address
// printed, and the log's own record "@@GOCRASH-BEGIN uname@@" among them;
// on each run's first file, physical memory too (rd -p reads the matches
// back).
func TestCorpusSearchMarkers(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		s := openSession(t, r, f)
		if !strings.Contains(run(t, s, "log"), "@@GOCRASH-BEGIN uname@@") {
			t.Fatal("the log has no @@GOCRASH-BEGIN uname@@ record")
		}
		lines := []string{"search -c @@GOCRASH-BEGIN"}
		if f.Path == r.Files[0].Path {
			lines = append(lines, "search -p -c @@GOCRASH-BEGIN")
		}
		for _, line := range lines {
			var res struct {
				Matches []struct {
					Addr string `json:"addr"`
					Text string `json:"text"`
				} `json:"matches"`
			}
			jsonData(t, s, line, &res)
			if len(res.Matches) == 0 {
				t.Fatalf("%s: no match", line)
			}
			uname := false
			for _, m := range res.Matches {
				if !strings.HasPrefix(m.Text, "@@GOCRASH-BEGIN") {
					t.Errorf("%s: match %s shows %q", line, m.Addr, m.Text)
				}
				uname = uname || strings.HasPrefix(m.Text, "@@GOCRASH-BEGIN uname@@")
				rd := "rd -a " + m.Addr
				if strings.Contains(line, "-p") {
					rd = "rd -p -a " + m.Addr
				}
				out := run(t, s, rd)
				if _, text, ok := strings.Cut(out, ":  "); !ok || !strings.HasPrefix(text, "@@GOCRASH-BEGIN") {
					t.Errorf("%s: %s reads %q", line, rd, out)
				}
			}
			if !uname {
				t.Errorf("%s does not find the log's record @@GOCRASH-BEGIN uname@@", line)
			}
		}
	})
}

// TestCorpusSearchAgainstCrash runs searches in crash 8.0.2 and gocrash on
// the 5.10 kdump's ELF file and wants crash's text: strings, masked
// values, -w and -h, context (-x), physical memory, -K, every task's stack
// (-t) and the active tasks' (-T), and the current context's user memory
// (-u). (crash takes ~10 s a whole-memory search here, so the list is
// short; TestCorpusSearchMarkers covers every file.)
//
// Where crash is wrong, its lines are left out: crash reads x86_64's
// whole kernel image mapping (__START_KERNEL_map to _end) by a linear
// formula, but the kernel's page tables map only the image (the rest is
// cleared by cleanup_highmap, and freed __init pages are unmapped), so
// crash reports bytes at addresses the kernel cannot read (rd in gocrash
// says "invalid kernel virtual address" there; they are the direct map's
// hits once more). gocrash searches only what the page tables map, and
// crash's lines at unmapped kernel image addresses are dropped before
// comparing. Not compared at all: a -s start inside the kernel image,
// which crash searches twice (its vmalloc range, which ends at the
// modules, also covers the image, and its vmalloc walk reads any page
// that translates).
func TestCorpusSearchAgainstCrash(t *testing.T) {
	compared := 0
	for _, r := range corpus.Runs(t) {
		if r.Method != "kdump" || !strings.HasPrefix(r.Release, "5.10") {
			continue
		}
		for _, f := range r.Files {
			if f.Name != "vmcore" {
				continue
			}
			t.Run(r.Name+"/"+f.Name, func(t *testing.T) {
				s := openSession(t, r, f)
				k := s.Kernel
				pt, err := k.PanicTask()
				if err != nil {
					t.Fatal(err)
				}
				task, err := k.FindTask(pt)
				if err != nil {
					t.Fatal(err)
				}
				lo, hi, err := k.TaskStack(task)
				if err != nil {
					t.Fatal(err)
				}
				sched, err := k.SymbolAddr("schedule")
				if err != nil {
					t.Fatal(err)
				}
				h := func(v uint64) string { return fmt.Sprintf("%x", v) }
				cmds := []string{
					"search -c @@GOCRASH-BEGIN @@GOCRASH-END",
					"search -m ffff " + h(pt&^0xffff),
					"search -x 2 -s " + h(lo) + " -e " + h(hi) + " " + h(pt),
					"search -w -s " + h(pt) + " -l 0x1000 1",
					"search -h -s " + h(pt) + " -l 256 1",
					"search -p -c @@GOCRASH-END",
					"search -K -c @@GOCRASH-BEGIN",
					"search -t " + h(sched+0x46),
					"search -T " + h(pt),
					"search -u -c GOCRASH",
				}
				want := crashAnswers(t, r, f, cmds)
				regions, err := k.KernelSearchRegions()
				if err != nil {
					t.Fatal(err)
				}
				unmappedImage := func(addr uint64) bool {
					for _, rg := range regions {
						if rg.Kind == kernel.RegionKernelImage && addr >= rg.Start && addr < rg.End {
							_, err := k.Arch.KernelWalk(addr)
							return err != nil
						}
					}
					return false
				}
				for i, c := range cmds {
					got := run(t, s, c)
					var kept []string
					dropped := 0
					for _, ln := range strings.SplitAfter(want[i], "\n") {
						if a, _, ok := strings.Cut(ln, ": "); ok && len(a) == 16 {
							if v, err := strconv.ParseUint(a, 16, 64); err == nil && unmappedImage(v) {
								dropped++
								continue
							}
						}
						kept = append(kept, ln)
					}
					want[i] = strings.Join(kept, "")
					if dropped > 0 {
						t.Logf("%s: %d of crash's lines are at unmapped kernel image addresses", c, dropped)
					}
					if got != want[i] {
						t.Errorf("%s: differs from crash 8.0.2\n%s", c, lineDiff(want[i], got))
						continue
					}
					compared++
				}
			})
		}
	}
	if compared == 0 {
		t.Fatal("no search was compared with crash")
	}
}

// BenchmarkSearch scans the whole kernel virtual memory of the 6.1 and
// 5.10 kdump runs' files (ELF, kdump zlib and lzo, flattened, ELF -d 31)
// and the QEMU runs' ELF and kdump files for a string that is not there,
// and reports the scan rate (bytes scanned per second, as MB/s).
func BenchmarkSearch(b *testing.B) {
	for _, r := range corpus.Runs(b) {
		if r.Arch != "x86_64" || strings.Contains(r.Name, "la57") {
			continue
		}
		for _, f := range r.Files {
			if len(f.Parts) > 0 {
				continue
			}
			b.Run(r.Name+"/"+f.Name, func(b *testing.B) {
				s := openSession(b, r, f)
				k := s.Kernel
				regions, err := k.KernelSearchRegions()
				if err != nil {
					b.Fatal(err)
				}
				var segs []kernel.SearchSegment
				var bytes int64
				for _, rg := range regions {
					for _, sg := range k.KernelSegments(rg, 0, ^uint64(0)) {
						segs = append(segs, sg)
						bytes += int64(sg.End - sg.Start)
					}
				}
				q := kernel.SearchQuery{Mode: kernel.SearchLong, Values: []uint64{0x0123456789abcdef}, PageSize: 4096}
				b.SetBytes(bytes)
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := kernel.Search(context.Background(), segs, q, k.ByteOrder(), k.Dump.ReadPhys, func(kernel.SearchHit) bool { return true }); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				// The machine is shared: the rate per CPU-second of the
				// process says what the scan costs when wall time is
				// taken by others.
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(bytes)*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
				}
			})
		}
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
