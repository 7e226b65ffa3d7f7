package commands_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusBTLinesException: with the module's debuginfo loaded, bt -l
// of the panic task gives the source line of the exception's interrupted
// kernel address after its register block, as crash does: a line inside
// the faulting function of gocrash_test.c, in the text and in JSON
// (exception_source); on the x86_64 6.1 oops and bug runs, the very line
// crash 8.0.2 prints there.
func TestCorpusBTLinesException(t *testing.T) {
	src, err := os.ReadFile("../testdata/corpus/module/gocrash_test.c")
	if err != nil {
		t.Fatal(err)
	}
	srcLines := strings.Split(string(src), "\n")
	// funcBody gives the source lines of a function of the module: from its
	// name at the start of a line to the next line that closes a body.
	funcBody := func(name string) (first, last int) {
		re := regexp.MustCompile(`^[A-Za-z].*\b` + regexp.QuoteMeta(name) + `\(`)
		for i, ln := range srcLines {
			if re.MatchString(ln) {
				for j := i; j < len(srcLines); j++ {
					if srcLines[j] == "}" {
						return i + 1, j + 1
					}
				}
			}
		}
		return 0, 0
	}
	checked := 0
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		f := r.Files[0]
		s := openSession(t, r, f)
		run(t, s, "mod -s gocrash_test "+filepath.Join(r.Dir, "gocrash_test.ko"))
		var res struct {
			Traces []struct {
				Frames []struct {
					Exception *struct {
						Function string `json:"function"`
						User     bool   `json:"user"`
					} `json:"exception"`
					ExceptionSource *struct {
						File string `json:"file"`
						Line int    `json:"line"`
					} `json:"exception_source"`
				} `json:"frames"`
			} `json:"traces"`
		}
		jsonData(t, s, "bt -l", &res)
		text := run(t, s, "bt -l")
		if len(res.Traces) != 1 {
			t.Fatalf("bt -l: %d traces", len(res.Traces))
		}
		var found []string
		for _, fr := range res.Traces[0].Frames {
			e := fr.Exception
			if e == nil || e.User {
				continue
			}
			fn, _, _ := strings.Cut(e.Function, "+")
			if !strings.HasPrefix(fn, "gocrash_") {
				// A kernel function: the vmlinux's line table names it (the
				// soft lockup's interrupted spinner is the module's).
				if fr.ExceptionSource == nil {
					t.Errorf("exception RIP %s: no source line", e.Function)
				}
				continue
			}
			sl := fr.ExceptionSource
			if sl == nil {
				t.Errorf("exception RIP %s: no source line", e.Function)
				continue
			}
			first, last := funcBody(fn)
			if !strings.HasSuffix(sl.File, "testdata/corpus/module/gocrash_test.c") || sl.Line < first || sl.Line > last {
				t.Errorf("exception RIP %s: %s: %d, want gocrash_test.c lines %d-%d", e.Function, sl.File, sl.Line, first, last)
			}
			want := "    " + sl.File + ": " + strconv.Itoa(sl.Line) + "\n"
			if !strings.Contains(text, want) {
				t.Errorf("bt -l text lacks %q:\n%s", want, text)
			}
			found = append(found, want)
			checked++
		}
		if (r.Crash == "oops" || r.Crash == "bug") && r.Arch == "x86_64" && strings.HasPrefix(r.Release, "6.1.") {
			if len(found) != 1 {
				t.Fatalf("%d module exception frames, want 1", len(found))
			}
			crash := crashAnswers(t, r, f, []string{"mod -s gocrash_test " + filepath.Join(r.Dir, "gocrash_test.ko"), "bt -l"})[1]
			// crash prints the line after ORIG_RAX's line.
			_, after, ok := strings.Cut(crash, "ORIG_RAX: ")
			_, after, _ = strings.Cut(after, "\n")
			if !ok || !strings.HasPrefix(after, found[0]) {
				t.Errorf("crash's bt -l after the exception registers:\n%.200s\nwant %q", after, found[0])
			}
		}
	})
	if checked == 0 {
		t.Error("no module exception frame was checked")
	}
}
