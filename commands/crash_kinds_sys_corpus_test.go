package commands_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusCrashKindsSys checks sys's PANIC line on every crash-kind run
// against the guest's own report and crash 8.0.2's sys (where crash reads
// the dump: crashReads): an Oops shows its
// die() line "(check log for details)", a BUG its "kernel BUG at" title,
// the others the panic() line; and log holds the report's title line.
func TestCorpusCrashKindsSys(t *testing.T) {
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		rep, ok := truth.Report()
		if !ok {
			t.Fatal("no crash report in the console")
		}
		// The message crash looks for first: a panic() line (a QEMU run's
		// Oops or BUG goes on to panic, a kdump run's does not), then a
		// BUG's title, then the die() line; "(check log for details)"
		// where it holds "Oops: ".
		var msg string
		switch {
		case truth.Panic != "":
			msg = truth.Panic
		case strings.HasPrefix(rep.Title, "kernel BUG at "):
			msg = rep.Title
		case rep.Oops != "" && strings.HasPrefix(rep.Oops, "Oops: "):
			msg = rep.Oops
		}
		want := strconv.Quote(msg)
		if strings.Contains(msg, "Oops: ") {
			want += " (check log for details)"
		}
		s := openSession(t, r, r.Files[0])
		out := run(t, s, "sys")
		got := ""
		for _, ln := range strings.Split(out, "\n") {
			if p, ok := strings.CutPrefix(ln, "       PANIC: "); ok {
				got = p
			}
		}
		if got != want {
			t.Errorf("PANIC: %s, the report says %s", got, want)
		}
		if log := run(t, s, "log"); !strings.Contains(log, "] "+rep.Title+"\n") {
			t.Errorf("log lacks the report's title %q", rep.Title)
		}
		if !crashReads(r) {
			return // (6.12, arm64: the report above is the check)
		}
		crash := crashAnswers(t, r, r.Files[0], []string{"sys"})[0]
		if !strings.Contains(crash, "       PANIC: "+got+"\n") {
			t.Errorf("crash 8.0.2's sys has another PANIC line than %s:\n%s", got, crash)
		}
	})
}
