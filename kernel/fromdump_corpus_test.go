package kernel_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/internal/corpustest"
	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/symbols"
)

// openDumpKernel opens a dump with no vmlinux: the kernel image from its
// memory (kallsyms, BTF, ORC).
func openDumpKernel(t *testing.T, f corpus.File) (*kernel.Kernel, error) {
	t.Helper()
	d, v, err := corpustest.FromDump(t, f)
	if err != nil {
		return nil, err
	}
	if v.Path != symbols.DumpKernelName {
		t.Errorf("the image from the dump is called %q", v.Path)
	}
	return kernel.New(d, v)
}

// hasBTF: Debian builds its ppc64el and s390x kernels without BTF.
func hasBTF(r *corpus.Run) bool { return r.Arch == "x86_64" || r.Arch == "arm64" }

// TestCorpusNoDebuginfo opens every corpus dump with no vmlinux (issue 18)
// and wants what the vmlinux gives: the same tasks (pid, parent, state,
// CPU, command), the same log, 97% of the tasks' traces naming the same
// functions (a frame in an assembler routine may be named otherwise: the
// vmlinux has labels kallsyms leaves out), and on the sysrq runs the
// traces the guest's kernel printed (TestCorpusBacktraces's check). A
// kernel without BTF is refused in one line (Debian's ppc64el and s390x
// kernels).
func TestCorpusNoDebuginfo(t *testing.T) {
	runs := append(corpus.Runs(t), corpus.CrashRuns(t)...)
	sysrq := map[*corpus.Run]bool{}
	for _, r := range corpus.Runs(t) {
		sysrq[r] = true
	}
	for _, r := range runs {
		t.Run(r.Name, func(t *testing.T) {
			dk, err := openDumpKernel(t, r.Files[0])
			if !hasBTF(r) {
				// Refused in one line: no BTF, or (s390x's QEMU dump,
				// ppc64le's without VMCOREINFO) not even the page
				// tables to read it from.
				if err == nil || strings.Contains(err.Error(), "\n") {
					t.Errorf("a kernel without BTF: %v", err)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			vk := openKernel(t, r, r.Files[0])
			want, err := vk.Tasks()
			if err != nil {
				t.Fatal(err)
			}
			got, err := dk.Tasks()
			if err != nil {
				t.Fatal(err)
			}
			row := func(tk kernel.Task) string {
				return fmt.Sprintf("%d %d %s %d %s", tk.PID, tk.PPID, tk.StateName(), tk.CPU, tk.Comm)
			}
			if len(got) != len(want) {
				t.Fatalf("%d tasks, with the vmlinux %d", len(got), len(want))
			}
			sameTraces := 0
			for i := range want {
				if row(got[i]) != row(want[i]) {
					t.Errorf("task %d: %s, with the vmlinux %s", i, row(got[i]), row(want[i]))
					continue
				}
				wt, werr := vk.Backtrace(want[i])
				gt, gerr := dk.Backtrace(got[i])
				if (werr == nil) != (gerr == nil) {
					t.Errorf("pid %d: backtrace error %v, with the vmlinux %v", got[i].PID, gerr, werr)
					continue
				}
				if werr != nil {
					sameTraces++
					continue
				}
				w, g := strings.Join(traceNames(vk, wt), " "), strings.Join(traceNames(dk, gt), " ")
				if w == g {
					sameTraces++
				} else {
					t.Logf("pid %d: %s\n  with the vmlinux: %s", got[i].PID, g, w)
				}
			}
			if pct := 100 * float64(sameTraces) / float64(len(want)); pct < 97 {
				t.Errorf("%d of %d traces name the functions the vmlinux names (%.1f%%)", sameTraces, len(want), pct)
			}
			wl, err := vk.Log()
			if err != nil {
				t.Fatal(err)
			}
			gl, err := dk.Log()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(gl) != fmt.Sprint(wl) {
				t.Errorf("the log differs from the vmlinux's (%d records, %d)", len(gl), len(wl))
			}
			if sysrq[r] {
				checkBacktraces(t, r, dk)
			}
			t.Logf("%d tasks, %d traces, %d log records as with the vmlinux", len(got), sameTraces, len(gl))
		})
	}
}
