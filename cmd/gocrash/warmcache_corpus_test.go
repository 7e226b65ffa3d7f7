package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// warmCommands are the commands a warm start answers from the caches
// (symbols, layouts, units and statics, quick answers, the ORC layout),
// and one whose quick path is a function's.
var warmCommands = []string{"sys", "ps", "bt", "whatis jiffies", "p jiffies", "struct task_struct", "whatis schedule"}

// runBatch runs gocrash -s VMLINUX DUMP on line with XDG_CACHE_HOME at
// cache, as a batch run, and returns its output and exit status.
func runBatch(t *testing.T, r *corpus.Run, dump, cache, line string) (string, int) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", cache)
	rc, out, errs := runGocrash(t, line+"\n", "-s", r.Vmlinux, dump)
	return out + errs, rc
}

// TestCorpusWarmCaches: on every corpus vmlinux, each warm command answers
// the same with the caches as without them (a first run on an empty cache
// directory); the caches are written by batch runs; and a cache file
// spoilt (a flipped byte, cut short, or another vmlinux's file put in its
// place) is refused, gives the same answers and is rewritten.
func TestCorpusWarmCaches(t *testing.T) {
	seen := map[string]bool{}
	var runs []*corpus.Run
	for _, r := range corpus.Runs(t) {
		if !seen[r.Vmlinux] && benchDump(r) != "" {
			seen[r.Vmlinux] = true
			runs = append(runs, r)
		}
	}
	if len(runs) < 6 {
		t.Fatalf("%d corpus vmlinuxes, want 6", len(runs))
	}
	type state struct {
		r     *corpus.Run
		dump  string
		cold  map[string]string // each command's answer from an empty cache
		warm  string            // the cache directory, filled
		files []string          // its units-, quick- and layouts- files
	}
	var states []*state
	for _, r := range runs {
		s := &state{r: r, dump: benchDump(r), cold: map[string]string{}, warm: t.TempDir()}
		for _, c := range warmCommands {
			out, rc := runBatch(t, r, s.dump, t.TempDir(), c)
			s.cold[c] = out
			if rc != 0 && c != "bt" {
				t.Errorf("%s: %s: exit %d: %s", r.Name, c, rc, out)
			}
			runBatch(t, r, s.dump, s.warm, c) // fills the caches
		}
		for _, c := range warmCommands {
			if out, _ := runBatch(t, r, s.dump, s.warm, c); out != s.cold[c] {
				t.Errorf("%s: %s from the caches:\n%s\nwithout them:\n%s", r.Name, c, out, s.cold[c])
			}
		}
		for _, kind := range []string{"units-", "quick-", "layouts-"} {
			m, _ := filepath.Glob(filepath.Join(s.warm, "gocrash", kind+"*.idx"))
			if len(m) != 1 {
				t.Fatalf("%s: %s cache files: %v", r.Name, kind, m)
			}
			s.files = append(s.files, m[0])
		}
		states = append(states, s)
	}
	for i, s := range states {
		other := states[(i+1)%len(states)]
		for k, file := range s.files {
			good, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			otherImg, err := os.ReadFile(other.files[k])
			if err != nil {
				t.Fatal(err)
			}
			for _, spoil := range []struct {
				what string
				img  []byte
			}{
				{"a flipped byte", func() []byte {
					b := bytes.Clone(good)
					b[len(b)/2+1] ^= 0x10
					return b
				}()},
				{"cut short", good[:len(good)/2]},
				{"another vmlinux's", otherImg},
			} {
				// Put in place by a rename, as gocrash writes its caches: a
				// file cut short in place under a mapping that an earlier
				// run's goroutine still reads would fault that run.
				if err := os.WriteFile(file+".new", spoil.img, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(file+".new", file); err != nil {
					t.Fatal(err)
				}
				for _, c := range warmCommands {
					if out, _ := runBatch(t, s.r, s.dump, s.warm, c); out != s.cold[c] {
						t.Errorf("%s: %s with %s %s:\n%s\nwithout the caches:\n%s", s.r.Name, c, spoil.what,
							filepath.Base(file), out, s.cold[c])
					}
				}
				if ix, _ := filepath.Glob(filepath.Join(s.warm, "gocrash", "index-*.idx")); len(ix) == 1 &&
					strings.HasPrefix(filepath.Base(file), "quick-") {
					// A command the quick paths could not answer built the
					// name index, and a start with the index cached asks
					// the index, not the quick answers: those are not
					// read, nor rewritten.
					continue
				}
				now, err := os.ReadFile(file)
				if err != nil || bytes.Equal(now, spoil.img) {
					t.Errorf("%s: %s %s was not rewritten (%v)", s.r.Name, spoil.what, filepath.Base(file), err)
				}
			}
			if !strings.HasPrefix(filepath.Base(file), "quick-") {
				continue
			}
			// The rewritten answers are the ones the scans give.
			for _, c := range warmCommands {
				if out, _ := runBatch(t, s.r, s.dump, s.warm, c); out != s.cold[c] {
					t.Errorf("%s: %s from the rewritten cache:\n%s\nwithout it:\n%s", s.r.Name, c, out, s.cold[c])
				}
			}
		}
	}
}
