package commands_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

var btTaskHeaderRE = regexp.MustCompile(`^PID: (\d+)\s+TASK: ([0-9a-f]{16})\s+CPU: (\d+)\s+COMMAND: "(.*)"$`)

// TestCorpusCrashKindsPanicCPU: on every crash-kind run (kdump and QEMU,
// x86_64 and arm64), the dump's panic is where the kernel's report says
// it was: bt's default task is the report's task (PID, command) on the
// report's CPU, and ps marks that task active (">") on that CPU. (A kdump
// run's panic CPU is the one whose NT_PRSTATUS crash_kexec wrote; a QEMU
// run's, the vCPU that sat in panic() when QEMU stopped the guest.)
func TestCorpusCrashKindsPanicCPU(t *testing.T) {
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		rep, ok := truth.PanicReport()
		if !ok || rep.CPU < 0 || rep.CPU >= r.CPUs {
			t.Fatalf("no report names the panic's CPU: %+v", truth.Reports)
		}
		for _, f := range crashKindFiles(t, r) {
			t.Run(f.Name, func(t *testing.T) {
				s := openSession(t, r, f)
				hdr, _, _ := strings.Cut(run(t, s, "bt"), "\n")
				m := btTaskHeaderRE.FindStringSubmatch(hdr)
				if m == nil {
					t.Fatalf("bt header %q", hdr)
				}
				if m[1] != strconv.Itoa(rep.PID) || m[3] != strconv.Itoa(rep.CPU) || m[4] != rep.Comm {
					t.Errorf("bt: %q; the kernel's report: PID %d CPU %d Comm %s", hdr, rep.PID, rep.CPU, rep.Comm)
				}
				found := false
				for _, ln := range strings.Split(run(t, s, "ps"), "\n") {
					f := strings.Fields(strings.TrimPrefix(ln, ">"))
					if len(f) < 4 || f[3] != m[2] {
						continue
					}
					found = true
					if !strings.HasPrefix(ln, ">") || f[0] != strconv.Itoa(rep.PID) || f[2] != strconv.Itoa(rep.CPU) {
						t.Errorf("ps: %q, want PID %d active on CPU %d", ln, rep.PID, rep.CPU)
					}
				}
				if !found {
					t.Errorf("ps lists no task %s", m[2])
				}
			})
		}
	})
}
