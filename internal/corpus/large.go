package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// LargeDir is where the corpus keeps its large-machine run
// (testdata/corpus/build-large.sh): an 8 GiB, 4-CPU x86_64 guest with
// thousands of tasks. It is not under dumps/, so Runs, ForEachRun and
// ForEachFile leave it out; LargeRun gives it to the tests written for it.
func LargeDir(root string) string { return filepath.Join(root, "large") }

// LargeRun returns the large-machine run, skipping the test when the corpus
// has none, or failing it when GOCRASH_CORPUS_REQUIRED=1.
func LargeRun(t testing.TB) *Run {
	t.Helper()
	runs := runsIn(t, LargeDir(Root()), "no large corpus run under %s; build it with 'make corpus' (root, ~15 minutes)")
	return runs[len(runs)-1]
}

// runsIn returns the runs under dir, skipping the test when there are
// none (missing says so, %s being dir), or failing it when
// GOCRASH_CORPUS_REQUIRED=1.
func runsIn(t testing.TB, dir, missing string) []*Run {
	t.Helper()
	runs, err := loadRuns(dir)
	if err != nil {
		t.Fatalf("corpus at %s: %v", Root(), err)
	}
	if len(runs) == 0 {
		msg := fmt.Sprintf(missing, dir)
		if os.Getenv("GOCRASH_CORPUS_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return runs
}
