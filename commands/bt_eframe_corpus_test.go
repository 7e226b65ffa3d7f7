package commands_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// blockedUserTasks are the tasks of user programs that were not on a CPU
// (thread-group leaders, so that a PID names the task).
func blockedUserTasks(t *testing.T, k *kernel.Kernel) []kernel.Task {
	t.Helper()
	tasks, err := k.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	var out []kernel.Task
	for _, tk := range tasks {
		if !tk.Active && !tk.Kthread() && tk.PID == tk.TGID && tk.PID != 0 {
			out = append(out, tk)
		}
	}
	return out
}

// eframeBlocks splits bt -e output into one block per task header, blank
// lines and crash's WARNING and error lines left out.
func eframeBlocks(text string) map[string]string {
	out := map[string]string{}
	var key string
	for _, ln := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(ln, "WARNING"), strings.HasPrefix(ln, "bt: "), strings.TrimSpace(ln) == "":
			continue
		case strings.HasPrefix(ln, "PID: "):
			key = ln
		}
		if key != "" {
			out[key] += ln + "\n"
		}
	}
	return out
}

// TestCorpusBTEFramesAgainstCrash compares bt -e with crash 8.0.2's on the
// kdump runs: the panic task's search (bt -e), and bt -e PID for every
// blocked user task crash finds, must be the same text.
func TestCorpusBTEFramesAgainstCrash(t *testing.T) {
	total := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			s := openSession(t, r, r.Files[0])
			blocked := blockedUserTasks(t, s.Kernel)
			cmds := []string{"bt -e"}
			for _, tk := range blocked {
				cmds = append(cmds, fmt.Sprintf("bt -e %d", tk.PID))
			}
			want := strings.Join(crashAnswers(t, r, r.Files[0], cmds), "")
			crashBlocks := eframeBlocks(want)
			got := run(t, s, "bt -e")
			panicHdr := strings.SplitN(got, "\n", 2)[0]
			if w, ok := crashBlocks[panicHdr]; !ok {
				t.Errorf("crash printed no %q:\n%s", panicHdr, want)
			} else if g := eframeBlocks(got)[panicHdr]; g != w {
				t.Errorf("bt -e of the panic task:\n%s--- crash:\n%s", g, w)
			} else if !strings.Contains(g, "KERNEL-MODE EXCEPTION FRAME AT: ") || !strings.Contains(g, "USER-MODE EXCEPTION FRAME AT: ") {
				t.Errorf("bt -e of the panic task found no kernel-mode and user-mode frames:\n%s", g)
			}
			compared := 0
			for _, tk := range blocked {
				out := run(t, s, fmt.Sprintf("bt -e %d", tk.PID))
				hdr := strings.SplitN(out, "\n", 2)[0]
				w, ok := crashBlocks[hdr]
				if !ok {
					continue // a task crash did not find (the 6.1 kdumps)
				}
				compared++
				if g := eframeBlocks(out)[hdr]; g != w {
					t.Errorf("bt -e %d:\n%s--- crash:\n%s", tk.PID, g, w)
				}
			}
			t.Logf("the panic task and %d of %d blocked user tasks compared with crash", compared, len(blocked))
			total += compared
		})
	}
	if total == 0 {
		t.Fatal("crash found no blocked user task on any kdump run")
	}
}

var eframeAtRE = regexp.MustCompile(`^ {0,2}(USER|KERNEL)-MODE EXCEPTION FRAME AT: ([0-9a-f]+)$`)

// eframeAtLayoutRE is the header of crash's ppc64 layout ("AT addr:").
var eframeAtLayoutRE = regexp.MustCompile(`^  (USER|KERNEL)-MODE EXCEPTION FRAME AT ([0-9a-f]+):$`)

// TestCorpusBTEFramesUserRegs: on every corpus dump, each blocked user
// task's search finds the user-mode frame its system call saved at the top
// of its stack, where the unwinder found it, and prints the same register
// block as plain bt.
func TestCorpusBTEFramesUserRegs(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		checked := 0
		for _, tk := range blockedUserTasks(t, s.Kernel) {
			tr, err := s.Kernel.Backtrace(tk)
			if err != nil {
				t.Fatal(err)
			}
			var user *kernel.SavedRegs
			for _, f := range tr.Frames {
				if f.Regs != nil && f.Regs.User {
					user = f.Regs
				}
			}
			if user == nil {
				if tr.Err == nil && len(tr.Frames) > 0 {
					t.Errorf("PID %d: bt ends without user registers", tk.PID)
				}
				continue // an exited task, or a walk that stopped
			}
			// An architecture with crash's own layout (arch.BTLayout)
			// prints its blocks unindented, and bt -e's frame at an
			// address of its choice.
			indent, at := "    ", user.Addr
			bl, layout := s.Kernel.Arch.(arch.BTLayout)
			if layout {
				indent, at = " ", uint64(int64(user.Addr)+bl.BTFormat().EFrameAddrOffset)
			}
			// Plain bt's register block: the indented lines after the last frame.
			var btRegs []string
			for _, ln := range strings.Split(strings.TrimSuffix(run(t, s, fmt.Sprintf("bt %d", tk.PID)), "\n"), "\n") {
				if btFrameRE.MatchString(ln) || layout && btNameRE.MatchString(ln) {
					btRegs = nil
				} else if strings.HasPrefix(ln, indent) {
					btRegs = append(btRegs, ln)
				}
			}
			// The -e frame at the same address, and its register lines.
			var eRegs []string
			in, found := false, false
			for _, ln := range strings.Split(run(t, s, fmt.Sprintf("bt -e %d", tk.PID)), "\n") {
				m := eframeAtRE.FindStringSubmatch(ln)
				if m == nil && layout {
					m = eframeAtLayoutRE.FindStringSubmatch(ln)
				}
				if m != nil {
					in = m[1] == "USER" && m[2] == fmt.Sprintf("%x", at)
					found = found || in
					continue
				}
				if in && strings.HasPrefix(ln, indent) {
					eRegs = append(eRegs, ln)
				}
			}
			if !found {
				t.Errorf("PID %d: bt -e found no user-mode frame at %x", tk.PID, user.Addr)
				continue
			}
			checked++
			if len(btRegs) == 0 || strings.Join(eRegs, "\n") != strings.Join(btRegs, "\n") {
				t.Errorf("PID %d: bt -e user frame:\n%s\n--- bt:\n%s", tk.PID, strings.Join(eRegs, "\n"), strings.Join(btRegs, "\n"))
			}
		}
		t.Logf("%d blocked user tasks checked", checked)
		if checked == 0 {
			t.Error("no blocked user task with user registers")
		}
	})
}
