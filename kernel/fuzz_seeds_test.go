package kernel

import (
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/memory"
)

// TestWriteFuzzSeeds writes the printk targets' seeds from the corpus: the
// last 16 records of the log of an Oops run per architecture and kernel
// (what the guest printed: its texts, stamps, levels, caller ids and
// device dictionaries), as a lockless ring and as a record log. Run it
// only to rewrite them (GOCRASH_WRITE_FUZZ_SEEDS=1, with the corpus).
func TestWriteFuzzSeeds(t *testing.T) {
	corpus.WriteFuzzSeeds(t)
	for _, r := range corpus.CrashRuns(t) {
		if r.Crash != "oops" || !r.VMCoreInfo {
			continue
		}
		d, err := memory.OpenFiles(r.Files[0].Paths()...)
		if err != nil {
			t.Fatal(err)
		}
		k, err := New(d, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := k.Log()
		if err != nil || len(recs) < 16 {
			t.Fatalf("%s: %d records, %v", r.Name, len(recs), err)
		}
		last := recs[len(recs)-16:]
		name := r.Arch + "-" + strings.SplitN(r.Release, "-", 2)[0] + "-oops"
		corpus.WriteFuzzSeed(t, "FuzzPrintkLockless", name, fuzzLocklessRing(last))
		buf, first, next := fuzzRecords(2048, true, last)
		corpus.WriteFuzzSeed(t, "FuzzPrintkRecords", name, buf, first, next, true)
		d.Close()
	}
}
