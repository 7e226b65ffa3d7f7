package commands_test

import (
	"sync"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusTriageSignatureAcrossReleases: the same kind of crash (the
// test module's oops, oops-timer, bug, warn, softlockup, hungtask) signs
// the same on x86_64 6.1 and 6.12, whose compilers split and name their
// functions differently (6.1's hung task is in watchdog.cold, 6.12's in
// watchdog; 6.12's kernel threads start in ret_from_fork_asm), while
// different kinds sign differently.
func TestCorpusTriageSignatureAcrossReleases(t *testing.T) {
	var mu sync.Mutex
	sigs := map[string]map[string]string{} // kind -> release -> hash
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "x86_64" || r.Method != "kdump" {
			return
		}
		s := openSession(t, r, r.Files[0])
		var got struct {
			Signature struct {
				Hash     string   `json:"hash"`
				Function string   `json:"function"`
				Frames   []string `json:"frames"`
			} `json:"signature"`
		}
		jsonData(t, s, "triage", &got)
		t.Logf("%s %s: %s in %s <- %v", r.Release, r.Crash, got.Signature.Hash, got.Signature.Function, got.Signature.Frames)
		mu.Lock()
		defer mu.Unlock()
		if sigs[r.Crash] == nil {
			sigs[r.Crash] = map[string]string{}
		}
		sigs[r.Crash][r.Release] = got.Signature.Hash
	})
	kinds := map[string]string{}
	for kind, byRel := range sigs {
		if len(byRel) < 2 {
			t.Errorf("%s: signed on %d releases, want 6.1 and 6.12", kind, len(byRel))
		}
		first := ""
		for rel, h := range byRel {
			if first == "" {
				first = h
			} else if h != first {
				t.Errorf("%s signs differently across releases: %v", kind, byRel)
			}
			if other, ok := kinds[h]; ok && other != kind {
				t.Errorf("%s (%s) has the signature of %s", kind, rel, other)
			}
			kinds[h] = kind
		}
	}
	if len(sigs) < 6 {
		t.Errorf("%d kinds of crash signed, want 6", len(sigs))
	}
}
