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
	root := Root()
	runs, err := loadRuns(LargeDir(root))
	if err != nil {
		t.Fatalf("corpus at %s: %v", root, err)
	}
	if len(runs) == 0 {
		msg := fmt.Sprintf("no large corpus run under %s; build it with 'make corpus' (root, ~15 minutes)", LargeDir(root))
		if os.Getenv("GOCRASH_CORPUS_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return runs[len(runs)-1]
}
