package commands_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols"
)

// TestCorpusColdLayouts: on a first run (no DWARF name index built or
// cached), a vmlinux without BTF answers the kernel model's layout
// questions from the first-definition scan, which reads .debug_info only
// as far as the types asked about. Every question the commands below ask
// must get the answer the full index gives, on every corpus vmlinux (those
// with BTF answer from it, and are checked the same way).
func TestCorpusColdLayouts(t *testing.T) {
	corpus.ForEachVmlinux(t, func(t *testing.T, r *corpus.Run) {
		cache := t.TempDir()
		t.Setenv("XDG_CACHE_HOME", cache)
		s := openSession(t, r, r.Files[0])
		for _, line := range []string{"sys", "ps", "bt", "foreach bt", "log", "kmem -s", "kmem -i"} {
			run(t, s, line)
		}
		if idx, _ := filepath.Glob(filepath.Join(cache, "gocrash", "index-*")); len(idx) > 0 {
			t.Fatalf("the commands built the DWARF index (%s): the cold path did not answer them", idx[0])
		}
		cold := s.Kernel.Vmlinux.Layouts()
		asked := cold.Asked()
		if len(asked) < 50 {
			t.Fatalf("only %d layout questions were asked: %q", len(asked), asked)
		}
		full, err := symbols.OpenCached(r.Vmlinux, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer full.Close()
		if _, err := full.Index(); err != nil {
			t.Fatal(err)
		}
		want := full.Layouts()
		// The ORC entry's layout questions ("R field") are answered
		// together: the whole layout, read cold and from the full index.
		orcCold, ocerr := s.Kernel.Vmlinux.ORCEntryLayout()
		orcFull, oferr := full.ORCEntryLayout()
		orcChecked := false
		for _, q := range asked {
			f := strings.Fields(q)
			var got, exp int64
			var gerr, eerr error
			switch {
			case f[0] == "S" && len(f) == 2:
				got, gerr = cold.Size(f[1])
				exp, eerr = want.Size(f[1])
			case f[0] == "O" && len(f) == 3:
				got, gerr = cold.Offset(f[1], f[2])
				exp, eerr = want.Offset(f[1], f[2])
			case f[0] == "M" && len(f) == 3:
				got, gerr = cold.MemberSize(f[1], f[2])
				exp, eerr = want.MemberSize(f[1], f[2])
			case f[0] == "E" && len(f) == 2:
				got, gerr = cold.Enumerator(f[1])
				exp, eerr = want.Enumerator(f[1])
			case f[0] == "R" && len(f) == 2:
				if !orcChecked && (orcCold != orcFull || (ocerr == nil) != (oferr == nil)) {
					t.Errorf("orc_entry: cold %+v (%v), full index %+v (%v)", orcCold, ocerr, orcFull, oferr)
				}
				orcChecked = true
				continue
			default:
				t.Fatalf("unknown question %q", q)
			}
			if got != exp || (gerr == nil) != (eerr == nil) || gerr != nil && symbols.IsMissing(gerr) != symbols.IsMissing(eerr) {
				t.Errorf("%s: cold %d (%v), full index %d (%v)", q, got, gerr, exp, eerr)
			}
		}
		t.Logf("%d layout questions, all answered as the full index answers them", len(asked))
	})
}
