package symbols

import (
	"path/filepath"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusQuickObjects: on each corpus vmlinux, variables and functions
// looked up without the name index (from the ELF symbol's address to the
// units it can be in) have the types the index gives; most are answered so.
func TestCorpusQuickObjects(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		if seen[r.Vmlinux] {
			continue
		}
		seen[r.Vmlinux] = true
		path := r.Vmlinux
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			quick, err := OpenCached(path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer quick.Close()
			full, err := OpenCached(path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer full.Close()
			if _, err := full.Index(); err != nil {
				t.Fatal(err)
			}
			qts, err := quick.Types()
			if err != nil {
				t.Fatal(err)
			}
			fts, _ := full.Types()
			tried, answered, differ := map[byte]int{}, map[byte]int{}, 0
			for i, s := range quick.Symbols() {
				class := byte('d')
				switch s.Type {
				case 'T', 't', 'W':
					class = 't'
				case 'D', 'd', 'B', 'b', 'R', 'r', 'V':
				default:
					continue
				}
				if i%53 != 0 || quick.dupName(i) {
					continue
				}
				ft, fk, ferr := fts.ObjectType(s.Name)
				if ferr != nil {
					continue // no DWARF object of that name (__ksymtab_*, .LC0)
				}
				tried[class]++
				if !qts.withoutIndex() {
					t.Fatal("the quick vmlinux's index got built")
				}
				e, ok := qts.quickObject(s.Name)
				if !ok {
					continue
				}
				answered[class]++
				qt, qk, qerr := qts.objectTypeAt(e)
				if qerr != nil || qk != fk || TypeName(qt) != TypeName(ft) {
					// The index takes the first definition in
					// .debug_info order; a unique symbol's own unit
					// may hold another (strcat's, with a const
					// parameter): allowed for 1 name in 100.
					t.Logf("differs: %s: %v %v %v without the index, %v %v with it", s.Name,
						qk, typeNameOrNil(qt), qerr, fk, typeNameOrNil(ft))
					differ++
				}
			}
			t.Logf("answered without the index: functions %d of %d, data %d of %d; %d differ",
				answered['t'], tried['t'], answered['d'], tried['d'], differ)
			if answered['t']*10 < tried['t']*8 || answered['d']*10 < tried['d']*6 {
				t.Errorf("fewer than 80%% of functions or 60%% of variables answered without the index")
			}
			if differ*100 > answered['t']+answered['d'] {
				t.Errorf("%d of %d answers differ from the index's", differ, answered['t']+answered['d'])
			}
		})
	}
}

func typeNameOrNil(t *Type) string {
	if t == nil {
		return "<nil>"
	}
	return TypeName(t)
}
