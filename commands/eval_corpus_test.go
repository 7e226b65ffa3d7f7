package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/repl"
)

// optionTable are eval, ascii, sym and rd lines whose text must equal
// crash 8.0.2's on the 5.10 and 6.1 kdump runs. {RAW} is a file rd -r
// writes (a different one for crash and for gocrash, compared after).
// Left out where crash is wrong: rd -s names a value at a section's start
// by the section (".data"), where gocrash names the symbol there; rd -R -a
// prints one character; rd -e refuses symbol+offset.
var optionTable = []string{
	"eval 128m", "eval 128 * 1m", "eval (1 << 27)", "eval (1 << 32)", "eval -b 41dc065", "eval -lb 64g", "eval -l 5",
	"eval 100", "eval 0x100", "eval ff", "eval 1g", "eval 3k", "eval 7", "eval 0", "eval -b 0", "eval jiffies",
	"eval init_task", "eval init_task + 8", "eval ~0", "eval 10 / 3", "eval 10 % 3", "eval (5 - 7)",
	"eval 0xffffffffffffffff", "eval 0x8000000000000000", "eval -b ffffffff", "eval ffffffff80000000",
	"eval 0x10 ^ 0x11", "eval 3 & 5", "eval (3 | 4)", "eval 2k * 2", "eval 1m / 4", "eval ~0x10", "eval 1536",
	"eval 10m + 512k", "eval (init_task | 0xfff)", "eval (16 >> 2)", "eval -b ~0", "eval -b 0x5555555555555555",
	"eval -b 0x8000000000000001",
	"ascii 62696c2f7273752f", "ascii", "ascii 41", "ascii 4142434445464748", "ascii 0x41 0x4243", "ascii 00414243",
	"ascii 0102037f80090a20", "ascii 1b7e5c",
	"sym -p schedule", "sym -n schedule", "sym -p -n schedule", "sym -p jiffies", "sym -n init_task", "sym -M",
	"rd -D jiffies 4", "rd -d jiffies 4", "rd -D -32 jiffies 4", "rd -N -32 linux_banner 4", "rd -N -16 linux_banner 4",
	"rd -R linux_banner 4", "rd -R -32 linux_banner 6", "rd -o 8 linux_banner 2", "rd -x linux_banner 2",
	"rd -8 -D linux_banner 4", "rd -f 0x1000 2", "rd -32 -o 4 -R linux_banner 3", "rd -a -o 6 linux_banner 10",
	"rd -d -8 linux_banner 4", "rd -d -16 linux_banner 4", "rd -d -32 linux_banner 4", "rd -D -16 linux_banner 4",
	"rd -d -64 linux_banner 2", "rd -R -8 linux_banner 5", "rd -N linux_banner 2", "rd -N -8 linux_banner 2",
	"rd -f 0 4", "rd -f -32 0x1000 4", "rd -r {RAW} linux_banner 32", "rd -S -o 0x80 init_task 300", "rd -SS -o 0x80 init_task 300",
}

// optionLines makes the lines for one run: -e needs an address.
func optionLines(t *testing.T, banner uint64, raw string) []string {
	lines := append([]string(nil), optionTable...)
	lines = append(lines, fmt.Sprintf("rd -e %x linux_banner", banner+0x20), fmt.Sprintf("rd -e %x -32 linux_banner", banner+0x24),
		fmt.Sprintf("rd -o 8 -e %x linux_banner", banner+0x20), fmt.Sprintf("rd -r {RAW}2 -e %x linux_banner", banner+0x10))
	for i := range lines {
		lines[i] = strings.ReplaceAll(lines[i], "{RAW}", raw)
	}
	return lines
}

var trailingSpaces = regexp.MustCompile(`(?m) +$`)

// TestCorpusOptionsAgainstCrash runs eval, ascii, sym -p/-n/-M and rd's
// options in crash 8.0.2 and gocrash on the 5.10 and 6.1 kdump runs and
// wants crash's text. crash ends rd's lines without an ASCII column with a
// space, gocrash does not: trailing spaces are not compared. crash's ASCII
// chart swaps the quote and the backquote, and '_' and '-': gocrash's
// chart is right, and the test puts crash's right before comparing.
func TestCorpusOptionsAgainstCrash(t *testing.T) {
	for _, r := range exprKdumpRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			banner, err := s.Kernel.SymbolAddr("linux_banner")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			want := crashAnswers(t, r, f, optionLines(t, banner, filepath.Join(dir, "crash")))
			lines := optionLines(t, banner, filepath.Join(dir, "gocrash"))
			same := 0
			for i, line := range lines {
				words, err := repl.Split(line)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := s.Registry.Run(context.Background(), s, words, &b); err != nil {
					b.WriteString(err.Error() + "\n")
				}
				got := trailingSpaces.ReplaceAllString(b.String(), "")
				w := trailingSpaces.ReplaceAllString(want[i], "")
				if line == "ascii" {
					w = strings.NewReplacer("'   p", "`   p", "`   7", "'   7", "_   =", "-   =", "-   o", "_   o").Replace(w)
				}
				w = strings.ReplaceAll(w, filepath.Join(dir, "crash"), filepath.Join(dir, "gocrash"))
				if got != w {
					t.Errorf("%s:\n got: %q\nwant: %q", line, got, w)
					continue
				}
				same++
			}
			for _, suffix := range []string{"", "2"} {
				a, err1 := os.ReadFile(filepath.Join(dir, "crash"+suffix))
				b, err2 := os.ReadFile(filepath.Join(dir, "gocrash"+suffix))
				if err1 != nil || err2 != nil || !bytes.Equal(a, b) || len(a) == 0 {
					t.Errorf("rd -r: crash wrote %d bytes (%v), gocrash %d (%v), equal %v", len(a), err1, len(b), err2, bytes.Equal(a, b))
				}
			}
			t.Logf("%s: %d of %d lines as crash prints them", r.Name, same, len(lines))
		})
	}
}

// TestCorpusWhatisSearchAgainstCrash runs whatis -r and -m in crash 8.0.2
// and gocrash on the 5.10 and 6.1 kdump runs. A range, a member search and
// both together must print as crash does. crash prints gdb's "info types"
// filtered by size, which holds base types (__int128), some typedefs of
// named structs (gate_desc) and not others, and some typedefs of anonymous
// structs (siphash_key_t) and not others (uuid_t), by rules of gdb's own;
// and crash's member search looks into some embedded structs and not
// others (it finds 6.1's nh_group by the list_head in the array of
// nh_grp_entry it ends with, but not 5.10's trie by the hlist_head in an
// anonymous union of its array of key_vector). For "whatis -r 16" and
// "whatis -r 24 -m list_head" the two lists must share all but 3% of
// their lines.
func TestCorpusWhatisSearchAgainstCrash(t *testing.T) {
	cmds := []string{"whatis -r 4090-4100", "whatis -m list_lru_node", "whatis -r 24 -m list_head", "whatis -r 16"}
	for _, r := range exprKdumpRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			want := crashAnswers(t, r, f, cmds)
			s := openSession(t, r, f)
			for i, line := range cmds {
				start := time.Now()
				got := exprLine(s, line)
				t.Logf("%s: %d lines in %v", line, strings.Count(got, "\n"), time.Since(start))
				if i < 2 {
					if got != want[i] {
						t.Errorf("%s:\n got: %q\nwant: %q", line, got, want[i])
					}
					continue
				}
				ours, theirs := lineSet(got), lineSet(want[i])
				common := 0
				for l := range ours {
					if theirs[l] {
						common++
					}
				}
				if len(theirs) < 20 || common*100 < 97*max(len(ours), len(theirs)) {
					t.Errorf("%s: %d lines, crash %d, %d in common", line, len(ours), len(theirs), common)
				}
			}
		})
	}
}

func lineSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		m[l] = true
	}
	return m
}

// TestCorpusOptionsJSON wants the JSON of eval, ascii, whatis -r, rd -D
// and sym -p -n to hold what their text shows, on every run.
func TestCorpusOptionsJSON(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		type jsonEval struct {
			Value     string `json:"value"`
			Signed    *int64 `json:"signed"`
			Shorthand string `json:"shorthand"`
			Bits      []int  `json:"bits"`
		}
		for _, line := range []string{"eval -b 128m", "eval init_task + 8", "eval (5 - 7)"} {
			var ev jsonEval
			text := run(t, s, line)
			jsonData(t, s, line, &ev)
			v := hexField(t, line, ev.Value)
			want := fmt.Sprintf("hexadecimal: %x  ", v)
			if ev.Shorthand != "" {
				want += "(" + ev.Shorthand + ")"
			}
			if !strings.HasPrefix(text, want+"\n") || (ev.Signed != nil) != strings.Contains(text, fmt.Sprintf("(%d)", int64(v))) {
				t.Errorf("%s: JSON %+v, text %q", line, ev, text)
			}
			if strings.Contains(line, "-b") && (len(ev.Bits) != 1 || ev.Bits[0] != 27 || !strings.Contains(text, "bits set: 27 \n")) {
				t.Errorf("%s: bits %v, text %q", line, ev.Bits, text)
			}
		}
		var as struct {
			Values []struct {
				Value string `json:"value"`
				Text  string `json:"text"`
			} `json:"values"`
		}
		text := run(t, s, "ascii 62696c2f7273752f 41")
		jsonData(t, s, "ascii 62696c2f7273752f 41", &as)
		var b strings.Builder
		for _, v := range as.Values {
			fmt.Fprintf(&b, "%s: %s\n", v.Value, v.Text)
		}
		if b.String() != text || len(as.Values) != 2 {
			t.Errorf("ascii: JSON gives %q, text %q", b.String(), text)
		}
		var ws struct {
			Types []struct {
				Size int64  `json:"size"`
				Name string `json:"name"`
			} `json:"types"`
		}
		text = run(t, s, "whatis -r 4090-4100")
		jsonData(t, s, "whatis -r 4090-4100", &ws)
		b.Reset()
		b.WriteString("SIZE  TYPE\n")
		for _, w := range ws.Types {
			if w.Size < 4090 || w.Size > 4100 {
				t.Errorf("whatis -r 4090-4100: %+v", w)
			}
			fmt.Fprintf(&b, "%4d  %s\n", w.Size, w.Name)
		}
		if b.String() != text || len(ws.Types) == 0 {
			t.Errorf("whatis -r: JSON gives %q, text %q", b.String(), text)
		}
		var rd struct {
			Rows []struct {
				Values []any `json:"values"`
			} `json:"rows"`
		}
		text = run(t, s, "rd -D -32 jiffies 4")
		jsonData(t, s, "rd -D -32 jiffies 4", &rd)
		var nums []string
		for _, row := range rd.Rows {
			for _, v := range row.Values {
				nums = append(nums, fmt.Sprintf("%.0f", v))
			}
		}
		if len(rd.Rows) != 1 || len(nums) != 4 || strings.Join(strings.Fields(text)[1:], " ") != strings.Join(nums, " ") {
			t.Errorf("rd -D: JSON %+v, text %q", rd, text)
		}
		var sy jsonSym
		text = run(t, s, "sym -p -n schedule")
		jsonData(t, s, "sym -p -n schedule", &sy)
		if len(sy.Symbols) != 3 || sy.Symbols[1].Name != "schedule" || strings.Count(text, "\n") != 3 ||
			!(sy.Symbols[0].Address < sy.Symbols[1].Address && sy.Symbols[1].Address < sy.Symbols[2].Address) {
			t.Errorf("sym -p -n: JSON %+v, text %q", sy, text)
		}
	})
}
