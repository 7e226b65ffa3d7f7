package commands_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
)

// TestCorpusSigAgainstTruth compares sig with the guest's /proc/PID/status
// of each test task on every run: SigPnd (the task's own pending set),
// ShdPnd (the thread group's), SigBlk (blocked), SigIgn and SigCgt (the
// signals whose handler is SIG_IGN, or a function) from sig's JSON, and
// the same sets in its text. init is left out: it is the shell that runs
// the guest's script, blocking and unblocking signals as it forks.
func TestCorpusSigAgainstTruth(t *testing.T) {
	forEachTaskSection(t, "status-", "the guest printed no status-PID section (rebuild the corpus)", func(t *testing.T, s *commands.Session, pid string, lines []string) bool {
		if pid == "1" {
			return false
		}
		want := map[string]uint64{}
		for _, ln := range lines {
			k, v, ok := strings.Cut(ln, ":")
			if ok && strings.HasPrefix(k, "Sig") || k == "ShdPnd" {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
					want[k] = n
				}
			}
		}
		var got struct {
			Tasks []struct {
				Blocked commands.Hex  `json:"blocked"`
				Pending commands.Hex  `json:"private_pending"`
				Shared  *commands.Hex `json:"shared_pending"`
				Actions []struct {
					Signal  int          `json:"signal"`
					Handler commands.Hex `json:"handler"`
				} `json:"actions"`
			} `json:"tasks"`
		}
		jsonData(t, s, "sig "+pid, &got)
		if len(got.Tasks) != 1 || got.Tasks[0].Shared == nil {
			t.Fatalf("sig %s: %d tasks", pid, len(got.Tasks))
		}
		g := got.Tasks[0]
		var ign, cgt uint64
		for _, a := range g.Actions {
			switch a.Handler {
			case 0:
			case 1:
				ign |= 1 << (a.Signal - 1)
			default:
				cgt |= 1 << (a.Signal - 1)
			}
		}
		have := map[string]uint64{"SigPnd": uint64(g.Pending), "ShdPnd": uint64(*g.Shared), "SigBlk": uint64(g.Blocked), "SigIgn": ign, "SigCgt": cgt}
		for k, v := range have {
			if w, ok := want[k]; !ok || w != v {
				t.Errorf("PID %s %s: %016x, the guest's status %016x (%v)", pid, k, v, w, ok)
			}
		}
		text := run(t, s, "sig "+pid)
		if !strings.Contains(text, fmt.Sprintf("   BLOCKED: %016x", uint64(g.Blocked))) {
			t.Errorf("sig %s: the text lacks the blocked set:\n%s", pid, text)
		}
		return true
	})
}
