package symbols

import (
	"path/filepath"
	"slices"
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
			quick, qts, fts, _ := quickAndFull(t, path)
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

// quickAndFull opens the vmlinux at path twice, each with a cache of its
// own: one without the name index (its types qts), one with it built (fts,
// ix). Both close when the test ends.
func quickAndFull(t *testing.T, path string) (quick *Vmlinux, qts, fts *Types, ix *Index) {
	t.Helper()
	quick, err := OpenCached(path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { quick.Close() })
	full, err := OpenCached(path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { full.Close() })
	if ix, err = full.Index(); err != nil {
		t.Fatal(err)
	}
	if qts, err = quick.Types(); err != nil {
		t.Fatal(err)
	}
	if fts, err = full.Types(); err != nil {
		t.Fatal(err)
	}
	return quick, qts, fts, ix
}

func typeNameOrNil(t *Type) string {
	if t == nil {
		return "<nil>"
	}
	return TypeName(t)
}

// TestCorpusQuickData: on each corpus vmlinux, every 10th data symbol of
// the ELF symbol table (every one the index knows as a variable or
// function) looked up without the name index has the type the index gives,
// those with no definition DIE (jiffies) among them: answered from a
// declaration, in the units the address narrows to or the first that has
// one. The existing tolerance holds: 60% answered, 1 in 100 may differ.
func TestCorpusQuickData(t *testing.T) {
	corpus.ForEachVmlinux(t, func(t *testing.T, r *corpus.Run) {
		path := r.Vmlinux
		quick, qts, fts, ix := quickAndFull(t, path)
		tried, answered, declOnly, declAnswered, differ, n := 0, 0, 0, 0, 0, 0
		for i, s := range quick.Symbols() {
			switch s.Type {
			case 'D', 'd', 'B', 'b', 'R', 'r', 'V':
			default:
				continue
			}
			if n++; n%10 != 0 || quick.dupName(i) {
				continue
			}
			ft, fk, ferr := fts.ObjectType(s.Name)
			if ferr != nil {
				continue // no DWARF object of that name (__ksymtab_*, .LC0)
			}
			tried++
			ents := ix.Lookup(s.Name, KindVariable, KindFunction)
			noDef := !slices.ContainsFunc(ents, func(e IndexEntry) bool { return !e.Decl })
			if noDef {
				declOnly++
			}
			e, ok := qts.quickObject(s.Name)
			if !qts.withoutIndex() {
				t.Fatal("the quick vmlinux's index got built")
			}
			if !ok {
				continue
			}
			answered++
			if noDef {
				declAnswered++
			}
			if e.Decl != noDef {
				t.Errorf("%s: a declaration %v without the index, %v with it", s.Name, e.Decl, noDef)
			}
			qt, qk, qerr := qts.objectTypeAt(e)
			if qerr != nil || qk != fk || TypeName(qt) != TypeName(ft) {
				t.Logf("differs: %s: %v %v %v without the index, %v %v with it", s.Name,
					qk, typeNameOrNil(qt), qerr, fk, typeNameOrNil(ft))
				differ++
			}
		}
		for _, name := range []string{"jiffies"} {
			if _, ok := quick.Lookup(name); !ok {
				continue
			}
			e, ok := qts.quickObject(name)
			qt, _, qerr := qts.objectTypeAt(e)
			ft, _, ferr := fts.ObjectType(name)
			if !ok || qerr != nil || ferr != nil || TypeName(qt) != TypeName(ft) {
				t.Errorf("%s: %v %v %v without the index, %v %v with it", name, ok, typeNameOrNil(qt), qerr, typeNameOrNil(ft), ferr)
			}
		}
		t.Logf("data symbols answered without the index: %d of %d (%d of %d with no definition); %d differ",
			answered, tried, declAnswered, declOnly, differ)
		if answered*10 < tried*6 {
			t.Errorf("fewer than 60%% of variables answered without the index")
		}
		if differ*100 > answered {
			t.Errorf("%d of %d answers differ from the index's", differ, answered)
		}
	})
}
