package commands_test

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

func openSession(t testing.TB, r *corpus.Run, f corpus.File) *commands.Session {
	t.Helper()
	d, err := memory.OpenFiles(f.Paths()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	v, err := symbols.Open(r.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	k, err := kernel.New(d, v)
	if err != nil {
		t.Fatal(err)
	}
	return &commands.Session{Kernel: k, VmlinuxPath: r.Vmlinux, DumpPaths: f.Paths(), Registry: commands.NewRegistry()}
}

func run(t testing.TB, s *commands.Session, line string) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Registry.Run(context.Background(), s, strings.Fields(line), &b); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return b.String()
}

var (
	btHeaderRE = regexp.MustCompile(`^PID: \d+ +TASK: [0-9a-f]{16}  CPU: \d+ +COMMAND: ".*"$`)
	btFrameRE  = regexp.MustCompile(`^( #\d|#\d\d) \[[0-9a-f]{16}\] \S+ at [0-9a-f]{16}( \[\S+\])?$`)
	btOtherRE  = regexp.MustCompile(`^( {4,5}\S.*|--- <.*> ---|\(no stack\))$`)
)

// checkShapes checks every line of bt output against crash's shapes (and
// those of crash's own layout on the run's architecture, layoutShape) and
// returns the number of task headers.
func checkShapes(t *testing.T, arch, out string) int {
	t.Helper()
	n := 0
	for _, ln := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		switch {
		case ln == "":
		case btHeaderRE.MatchString(ln):
			n++
		case btFrameRE.MatchString(ln), btOtherRE.MatchString(ln), layoutShape(arch, ln):
		default:
			t.Errorf("line not in crash's bt shapes: %q", ln)
		}
	}
	return n
}

// TestCorpusBT runs bt and foreach bt on every corpus dump: crash's line
// shapes, one trace per task, the panic task's trace through panic and the
// system call it came from, and foreach's task selectors.
func TestCorpusBT(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		out := run(t, s, "bt")
		if checkShapes(t, r.Arch, out) != 1 || !strings.Contains(out, "] panic at ") {
			t.Errorf("bt of the panic task:\n%s", out)
		}
		if got := checkShapes(t, r.Arch, run(t, s, "foreach bt")); got != len(tasks) {
			t.Errorf("foreach bt printed %d traces for %d tasks", got, len(tasks))
		}
		users, kthreads, sleeping := 0, 0, 0
		for _, tk := range tasks {
			if tk.Kthread() {
				kthreads++
			} else {
				users++
			}
			if tk.StateName() == "IN" {
				sleeping++
			}
		}
		for sel, want := range map[string]int{"user": users, "kernel": kthreads, "IN": sleeping, "1": 1, "active": r.CPUs} {
			if got := checkShapes(t, r.Arch, run(t, s, "foreach "+sel+" bt")); got != want {
				t.Errorf("foreach %s bt: %d traces, want %d", sel, got, want)
			}
		}
		if got := checkShapes(t, r.Arch, run(t, s, "bt -a")); got != r.CPUs {
			t.Errorf("bt -a: %d traces for %d CPUs", got, r.CPUs)
		}
		if out := run(t, s, "bt -sx 1"); !regexp.MustCompile(`\] \S+\+0x[0-9a-f]+ at `).MatchString(out) {
			t.Errorf("bt -sx: no offsets:\n%s", out)
		}
		if out := run(t, s, "bt -f 1"); !regexp.MustCompile(`(?m)^    [0-9a-f]{16}: [0-9a-f]{16} `).MatchString(out) {
			t.Errorf("bt -f: no frame data:\n%s", out)
		}
		if _, _, err := s.Kernel.SourceLine(s.Kernel.Syms.Symbols()[0].Addr); err == nil || !strings.Contains(err.Error(), "not available") {
			if out := run(t, s, "bt -l 1"); !regexp.MustCompile(`(?m)^    \S+\.[chS]: \d+$`).MatchString(out) {
				t.Errorf("bt -l: no source lines:\n%s", out)
			}
		}
		if out := run(t, s, "bt -t 1"); !strings.Contains(out, "START: ") {
			t.Errorf("bt -t:\n%s", out)
		}
	})
}

// TestCorpusBTAgainstCrash compares the panic task's trace with crash
// 8.0.2's on the dumps crash opens: where both print a function, they print
// it at the same stack address, and the user-mode register block is
// identical. (crash's stack scanning adds stale frames between them, which
// the kernel's own unwinder, and gocrash, do not print.)
func TestCorpusBTAgainstCrash(t *testing.T) {
	compared := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			want := crashAnswers(t, r, f, []string{"bt"})[0]
			crashFrames := map[string]string{}
			var crashRegs []string
			for _, ln := range strings.Split(want, "\n") {
				if m := regexp.MustCompile(`^ ?#\d+ \[([0-9a-f]+)\] (\S+) at`).FindStringSubmatch(ln); m != nil {
					if _, dup := crashFrames[m[2]]; !dup { // a later one is stale
						crashFrames[m[2]] = m[1]
					}
				} else if strings.HasPrefix(ln, "    ") {
					crashRegs = append(crashRegs, ln)
				}
			}
			if len(crashFrames) == 0 {
				t.Fatalf("crash printed no trace:\n%s", want)
			}
			compared++
			s := openSession(t, r, f)
			got := run(t, s, "bt")
			same := 0
			var regs []string
			for _, ln := range strings.Split(got, "\n") {
				if m := regexp.MustCompile(`^ ?#\d+ \[([0-9a-f]+)\] (\S+) at`).FindStringSubmatch(ln); m != nil && !strings.HasPrefix(ln, " #0 ") {
					// Frame 0 is the saved registers' own function, which
					// crash shows by where it found the return address.
					if addr, ok := crashFrames[m[2]]; ok {
						same++
						if addr != m[1] {
							t.Errorf("%s at [%s], crash says [%s]", m[2], m[1], addr)
						}
					}
				} else if strings.HasPrefix(ln, "    ") {
					regs = append(regs, ln)
				}
			}
			if same < 7 {
				t.Errorf("only %d frames in common with crash:\n%s\n---\n%s", same, got, want)
			}
			if strings.Join(regs, "\n") != strings.Join(crashRegs, "\n") {
				t.Errorf("register block:\n%s\n--- crash:\n%s", strings.Join(regs, "\n"), strings.Join(crashRegs, "\n"))
			}
		})
	}
	if compared == 0 {
		t.Fatal("crash opened no dump")
	}
}

// TestCorpusForeachBTAgainstCrash compares foreach bt with crash 8.0.2's
// on the kdump runs, for every task crash finds that was not running on a
// CPU: the whole block (header, frames with their stack addresses, the
// user-mode registers) must be the same text. Tasks on a CPU are left out:
// crash starts the panic task at machine_kexec, which it finds by scanning
// the stack, and shows the NMI frames of the other CPUs' tasks the same
// way; gocrash starts from the registers the dump saved.
func TestCorpusForeachBTAgainstCrash(t *testing.T) {
	blocks := func(text string) map[string]string {
		out := map[string]string{}
		var key string
		var b strings.Builder
		flush := func() {
			if key != "" {
				out[key] = strings.TrimRight(b.String(), "\n")
			}
			b.Reset()
		}
		for _, ln := range strings.Split(text, "\n") {
			if strings.HasPrefix(ln, "WARNING") {
				continue
			}
			if strings.HasPrefix(ln, "PID: ") {
				flush()
				key = ln
			}
			if key != "" && ln != "" {
				b.WriteString(ln + "\n")
			}
		}
		flush()
		return out
	}
	total := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			want := crashAnswers(t, r, f, []string{"foreach bt"})[0]
			s := openSession(t, r, f)
			got := blocks(run(t, s, "foreach bt"))
			active := map[uint64]bool{}
			tasks, err := s.Kernel.Tasks()
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range tasks {
				if tk.Active {
					active[tk.Addr] = true
				}
			}
			compared := 0
			for hdr, w := range blocks(want) {
				m := regexp.MustCompile(`TASK: ([0-9a-f]+)`).FindStringSubmatch(hdr)
				if m == nil {
					t.Fatalf("crash header %q", hdr)
				}
				addr, _ := strconv.ParseUint(m[1], 16, 64)
				if active[addr] {
					continue
				}
				g, ok := got[hdr]
				if !ok {
					t.Errorf("gocrash has no block %q", hdr)
					continue
				}
				compared++
				if g != w {
					t.Errorf("%s:\n%s\n--- crash:\n%s", hdr, g, w)
				}
			}
			t.Logf("%d blocked or exited tasks compared with crash", compared)
			if compared == 0 {
				t.Error("crash found no task that was not running")
			}
			total += compared
		})
	}
	if total == 0 {
		t.Fatal("crash opened no dump")
	}
}

// TestCorpusForeachBTTime: foreach bt over every task, on a kernel just
// opened (no unwind table or page translation cached yet), within 0.1 s.
func TestCorpusForeachBTTime(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	for _, r := range corpus.Runs(t) {
		if r.Method != "kdump" || r.Arch != "x86_64" || strings.Contains(r.Name, "la57") {
			continue
		}
		best := time.Hour
		for i := 0; i < 3; i++ {
			s := openSession(t, r, r.Files[0])
			s.Kernel.Vmlinux.Layouts().Preload()
			start := time.Now()
			var b bytes.Buffer
			if err := s.Registry.Run(context.Background(), s, []string{"foreach", "bt"}, &b); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		t.Logf("%s: foreach bt in %v", r.Name, best)
		if best > 100*time.Millisecond {
			t.Errorf("foreach bt took %v, want at most 0.1 s", best)
		}
	}
}

// BenchmarkForeachBT times foreach bt on each corpus run's first dump, on
// a kernel opened afresh each time (its types preloaded, as at start-up).
func BenchmarkForeachBT(b *testing.B) {
	for _, r := range corpus.Runs(b) {
		b.Run(r.Name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := openSession(b, r, r.Files[0])
				s.Kernel.Vmlinux.Layouts().Preload()
				b.StartTimer()
				if err := s.Registry.Run(context.Background(), s, []string{"foreach", "bt"}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
