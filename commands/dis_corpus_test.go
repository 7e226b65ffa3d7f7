package commands_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusDisAgainstCrash runs dis in crash 8.0.2 and in gocrash on the
// x86_64 kdump runs and wants crash's text, instruction by instruction.
func TestCorpusDisAgainstCrash(t *testing.T) {
	cmds := []string{
		"dis schedule 20",
		"dis sysrq_handle_crash",
		"dis -r panic+101",
		"dis -r panic+100 3",
		"dis -f panic+701",
		"dis __handle_sysrq.cold 10",
		"dis -l schedule 10",
		"dis -l panic",
		"dis -x schedule 30",
		"dis -d panic 40",
		"dis panic",
		"dis __schedule",
		"dis panic+1 3",
	}
	compared := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			want := crashAnswers(t, r, f, cmds)
			equal, differ := 0, 0
			for i, c := range cmds {
				got := run(t, s, c)
				g, w := strings.Split(got, "\n"), strings.Split(want[i], "\n")
				if len(g) != len(w) {
					t.Errorf("%s: %d lines, crash %d:\n%s--- crash:\n%s", c, len(g), len(w), got, want[i])
					continue
				}
				for j := range g {
					if g[j] == w[j] {
						equal++
						continue
					}
					differ++
					t.Errorf("%s: line %d\n  gocrash: %q\n  crash:   %q", c, j+1, g[j], w[j])
				}
			}
			compared += equal + differ
			t.Logf("%d lines equal to crash's, %d differ", equal, differ)
		})
	}
	if compared == 0 {
		t.Fatal("no x86_64 kdump run compared")
	}
}

// TestCorpusDis disassembles whole functions on every corpus dump: every
// instruction decodes, the addresses step by the instructions' lengths
// from the function's start to its end, and the JSON carries the text's
// instructions.
func TestCorpusDis(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		for _, fn := range []string{"schedule", "panic", "__schedule", "sysrq_handle_crash", "vfs_read"} {
			sy, ok := s.Kernel.Syms.Lookup(fn)
			if !ok {
				t.Errorf("%s: no symbol", fn)
				continue
			}
			var res commands.DisResult
			jsonData(t, s, "dis "+fn, &res)
			text := run(t, s, "dis "+fn)
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if len(lines) != len(res.Instructions) {
				t.Errorf("dis %s: %d text lines, %d JSON instructions", fn, len(lines), len(res.Instructions))
				continue
			}
			next := sy.Addr
			for i, in := range res.Instructions {
				if uint64(in.Address) != next {
					t.Errorf("dis %s: instruction %d at %x, want %x", fn, i, uint64(in.Address), next)
					break
				}
				if r.Arch == "arm64" && strings.HasPrefix(in.Text, ".inst") {
					// arm64asm does not decode the LSE atomics (cas, ldadd,
					// stadd, swp): a known gap.
					t.Logf("dis %s: undecoded: %s", fn, lines[i])
				} else if r.Arch == "s390x" && regexp.MustCompile(`^\.long 0xeb[0-9a-f]{8}6[01]$`).MatchString(in.Text) {
					// s390xasm does not decode the runtime-instrumentation
					// controls (LRIC 0xeb..60, STRIC 0xeb..61): a known gap.
					t.Logf("dis %s: undecoded: %s", fn, lines[i])
				} else if in.Bad || strings.Contains(in.Text, "(bad)") || strings.Contains(in.Text, "undefined") || strings.Contains(in.Text, "?") {
					t.Errorf("dis %s: %s", fn, lines[i])
				}
				if !strings.HasPrefix(lines[i], fmt.Sprintf("0x%x <", uint64(in.Address))) || !strings.Contains(lines[i], ":\t"+in.Text) {
					t.Errorf("dis %s: text %q, JSON %+v", fn, lines[i], in)
				}
				next += uint64(len(in.Bytes) / 2)
			}
			if sy.Size > 0 && next != sy.Addr+sy.Size {
				t.Errorf("dis %s: ends at %x, the function at %x", fn, next, sy.Addr+sy.Size)
			}
		}
	})
}
