package commands_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// foreach names each object a task's net could not read after the result:
// "foreach: PID N: net: OBJECT ADDR: reason".
var netTaskErrRE = regexp.MustCompile(`^foreach: PID (\d+): net: `)

// TestCorpusOldFilterDumpNetDev: on the damaged dump (corpus.OldFilterDump,
// its live slab pages filtered out), foreach net -s lists every task it
// can read, each line one its intact twin (vmcore.zlib) shows too, and
// names each task, file or socket it cannot read in a line of its own
// (foreach's "PID N: net: ..." with the object's address, after the
// result), going on past the first: a
// task whose open files cannot all be read keeps its header; the command
// fails. dev -d and dev -D find the block class although a class before
// it on class_kset's list cannot be read (the list walked back from its
// head), and show what the twin shows but for the objects they name lost.
func TestCorpusOldFilterDumpNetDev(t *testing.T) {
	r, f := corpus.OldFilterDump(t)
	good := filteredRight(t, r)
	gs, ds := openSession(t, r, good), openSession(t, r, f)
	for _, line := range []string{"dev -d", "dev -D"} {
		// Every line the twin's; where a device this build's damage
		// took is missing, a "dev: " line names its address.
		want, got := runText(t, gs, line), runText(t, ds, line)
		twin := map[string]bool{}
		for _, l := range strings.Split(want, "\n") {
			twin[l] = true
		}
		lost, shown := 0, map[string]bool{}
		for _, l := range strings.Split(got, "\n") {
			switch {
			case twin[l]:
				shown[l] = true
			case strings.HasPrefix(l, "dev: ") && objAddrRE.MatchString(l):
				lost++
			default:
				t.Errorf("%s: line %q is not %s's", line, l, good.Name)
			}
		}
		missing := 0
		for l := range twin {
			if !shown[l] {
				missing++
			}
		}
		if !strings.HasPrefix(got, "MAJOR ") || missing > 0 && lost == 0 {
			t.Errorf("%s on the damaged dump:\n%s--- on %s:\n%s", line, got, good.Name, want)
		}
		t.Logf("%s: %d of %s's lines, %d objects named lost", line, len(shown), good.Name, lost)
	}
	var b strings.Builder
	_, werr := gs.Registry.Exec(context.Background(), gs, []string{"foreach", "net", "-s"})
	want := runText(t, gs, "foreach net -s")
	if werr != nil {
		t.Fatalf("foreach net -s on %s: %v", good.Name, werr)
	}
	err := ds.Registry.Run(context.Background(), ds, []string{"foreach", "net", "-s"}, &b)
	if err == nil {
		t.Fatal("foreach net -s succeeded on the damaged dump: what it could not read is not reported")
	}
	intact := map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		intact[l] = true
	}
	// foreach prints each task's net -s, then its error lines; its own
	// error names the tasks it could not read.
	got := b.String()
	errLines := strings.Split(err.Error(), "\n")
	netLines := 0
	for _, l := range errLines {
		if netTaskErrRE.MatchString(l) {
			netLines++
		}
	}
	for _, l := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
		if !intact[l] {
			t.Errorf("line %q is not %s's", l, good.Name)
		}
	}
	for _, l := range errLines {
		if !strings.HasPrefix(l, "foreach: ") || !objAddrRE.MatchString(l) {
			t.Errorf("error line %q does not name an object's address", l)
		}
		if m := netTaskErrRE.FindStringSubmatch(l); m != nil && !strings.Contains(got, "PID: "+m[1]+" ") {
			t.Errorf("%q: the task is not listed", l)
		}
	}
	if netLines < 2 {
		t.Errorf("net names %d objects it cannot read, want it to go on past the first:\n%v", netLines, err)
	}
	t.Logf("%d tasks listed (%s: %d), %d objects net could not read", strings.Count(got, "PID: "), good.Name, strings.Count(want, "PID: "), netLines)
}
