package commands_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusBTCPUStacks checks bt -E on every corpus run, sysrq and crash
// kinds: a "CPU N IRQ STACK:" block for each CPU first, then each CPU's
// exception stacks, each block's frames or "(none found)", and the JSON
// the same; on the x86_64 kdump runs, the text equals crash 8.0.2's as far
// as crash gets (it stops at 6.1's MCE stack, which it cannot name); on the
// timer Oops, the IRQ stack holds the fault's frame.
func TestCorpusBTCPUStacks(t *testing.T) {
	runs := append(corpus.Runs(t), corpus.CrashRuns(t)...)
	for _, r := range runs {
		t.Run(r.Name, func(t *testing.T) {
			s := openSession(t, r, r.Files[0])
			text := run(t, s, "bt -E")
			var d struct {
				Stacks []struct {
					CPU    int    `json:"cpu"`
					Stack  string `json:"stack"`
					Frames []struct {
						Addr     any    `json:"addr"`
						User     bool   `json:"user"`
						Function string `json:"function"`
					} `json:"exception_frames"`
					Error string `json:"error"`
				} `json:"stacks"`
			}
			jsonData(t, s, "bt -E", &d)
			// The text rebuilt from the JSON's headers and frame lines.
			var headers []string
			irqDone := false
			seenIRQ := map[int]bool{}
			for _, st := range d.Stacks {
				headers = append(headers, fmt.Sprintf("CPU %d %s:", st.CPU, strings.ToUpper(st.Stack)))
				if st.Stack == "IRQ stack" {
					if irqDone {
						t.Errorf("CPU %d's IRQ stack after an exception stack", st.CPU)
					}
					seenIRQ[st.CPU] = true
				} else {
					irqDone = true
				}
				for _, f := range st.Frames {
					mode := "KERNEL"
					if f.User {
						mode = "USER"
					}
					want := fmt.Sprintf("%s-MODE EXCEPTION FRAME AT: %x", mode, hexField(t, "addr", f.Addr))
					if !strings.Contains(text, want) {
						t.Errorf("%s: %q is not in the text", headers[len(headers)-1], want)
					}
				}
				if len(st.Frames) == 0 && st.Error == "" {
					headers = append(headers, "(none found)")
				}
			}
			var got []string
			for _, ln := range strings.Split(text, "\n") {
				if strings.HasPrefix(ln, "CPU ") || ln == "(none found)" {
					got = append(got, ln)
				}
			}
			if strings.Join(got, "\n") != strings.Join(headers, "\n") {
				t.Errorf("bt -E headers:\n%s\nJSON:\n%s", strings.Join(got, "\n"), strings.Join(headers, "\n"))
			}
			if len(seenIRQ) != r.CPUs {
				t.Errorf("IRQ stacks of %d CPUs, the guest had %d", len(seenIRQ), r.CPUs)
			}
			// (x86_64's exception frames on the IRQ stack; arm64: see branch a64)
			if r.Crash == "oops-timer" && r.Arch == "x86_64" {
				// The CPU the timer ran on, the report's, and its RIP.
				truth, err := r.Truth()
				if err != nil {
					t.Fatal(err)
				}
				rep, ok := truth.Report()
				if !ok || rep.Regs == nil || rep.CPU < 0 {
					t.Fatal("no report with registers and a CPU")
				}
				want := "  KERNEL-MODE EXCEPTION FRAME AT: "
				_, block, _ := strings.Cut(text, fmt.Sprintf("CPU %d IRQ STACK:", rep.CPU))
				block, _, _ = strings.Cut(block, "\nCPU ")
				rip := fmt.Sprintf("[exception RIP: %s+%d]", rep.Regs.RIP.Func, rep.Regs.RIP.Off)
				if !strings.Contains(block, want) || !strings.Contains(block, rip) {
					t.Errorf("the timer Oops's frame (%s) is not on CPU %d's IRQ stack:\n%s", rip, rep.CPU, block)
				}
			}
			if !crashReads(r) {
				return
			}
			want := crashAnswers(t, r, r.Files[0], []string{"bt -E"})[0]
			var lines []string
			for _, ln := range strings.Split(want, "\n") {
				if strings.Contains(ln, "(unknown) EXCEPTION STACK") {
					break // crash 8.0.2 cannot name the MCE stack and stops
				}
				lines = append(lines, ln)
			}
			if len(lines) < 8 || !strings.HasPrefix(text, strings.Join(lines, "\n")) {
				t.Errorf("bt -E differs from crash 8.0.2's first %d lines:\ncrash:\n%s\ngocrash:\n%s", len(lines), strings.Join(lines, "\n"), text)
			}
		})
	}
}
