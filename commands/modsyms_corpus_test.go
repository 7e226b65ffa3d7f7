package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// moduleSymCommands are sym, rd and struct lines about the modules every
// guest loads, at addresses taken from the dump: the module's listing, its
// base, an address into its text and into its data, symbols by name (an
// alias in three modules, a name crash shows without its .isra.0), and
// module symbols as rd's and struct's addresses.
func moduleSymCommands(t *testing.T, s *commands.Session, mods ...string) []string {
	t.Helper()
	cmds := []string{"sym loop_queue_rq", "sym cleanup_module", "sym max_part", "sym lo_rw_aio",
		"sym -q loop_q", "sym -q numdumm", "rd max_part 2", "rd -x loop_queue_rq 2"}
	all, err := s.Kernel.Modules()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range mods {
		var m *kernel.Module
		for _, x := range all {
			if x.Name == name {
				m = x
			}
		}
		if m == nil {
			t.Fatalf("no module %s", name)
		}
		cmds = append(cmds, "sym -m "+name, fmt.Sprintf("sym %x", m.Base), fmt.Sprintf("sym %x", m.Base+0x13))
		for _, sy := range m.Symbols() {
			if !sy.Text {
				cmds = append(cmds, fmt.Sprintf("sym %x", sy.Addr+1))
				break
			}
		}
	}
	return cmds
}

// TestCorpusModuleSymbolsAgainstCrash: on the x86_64 kdump runs, sym of
// module symbols (by name, by address, -m, -q) and rd and struct of module
// symbols print what crash 8.0.2 prints; on the crash-kind runs, of the
// test module too (where crash reads the dump: crashReads), and its
// gocrash_list's four nodes lead back to the head.
func TestCorpusModuleSymbolsAgainstCrash(t *testing.T) {
	compare := func(t *testing.T, r *corpus.Run, f corpus.File, s *commands.Session, cmds []string) {
		want := crashAnswers(t, r, f, cmds)
		same := 0
		for i, c := range cmds {
			var b bytes.Buffer
			if err := s.Registry.Run(context.Background(), s, strings.Fields(c), &b); err != nil {
				t.Errorf("%s: %v", c, err)
				continue
			}
			got := b.String()
			if strings.HasPrefix(c, "rd -s") || strings.HasPrefix(c, "rd -x") {
				// crash ends rd -s and -x lines with a space; gocrash does not.
				want[i] = trimLines(want[i])
			}
			if got != want[i] {
				t.Errorf("%s:\n%s--- crash:\n%s", c, got, want[i])
				continue
			}
			same++
		}
		t.Logf("%d of %d commands print what crash prints", same, len(cmds))
	}
	compared := 0
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "x86_64" || r.Method != "kdump" {
			return
		}
		s := openSession(t, r, r.Files[0])
		compare(t, r, r.Files[0], s, moduleSymCommands(t, s, "qemu_fw_cfg", "dummy", "loop"))
		testModuleSymJSON(t, s)
		compared++
	})
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		f := crashKindFiles(t, r)[0]
		s := openSession(t, r, f)
		if crashReads(r) { // (6.12, arm64: crash does not read them)
			cmds := append(moduleSymCommands(t, s, "loop", "gocrash_test"),
				"sym gocrash_list", "sym gocrash_sleep_inner", "sym -q gocrash_sl",
				"struct list_head gocrash_list", "rd gocrash_list 2", "rd -s gocrash_list 2")
			compare(t, r, f, s, cmds)
			compared++
		}

		if moduleDataSymbols(r) {
			// Follow gocrash_list's next pointers with rd: four nodes out of
			// the module's memory, then the head again.
			head := strings.Fields(run(t, s, "sym gocrash_list"))[0]
			out := run(t, s, "struct list_head gocrash_list")
			if !strings.Contains(out, "next = 0xffff") || !strings.Contains(out, "prev = 0xffff") {
				t.Errorf("struct list_head gocrash_list:\n%s", out)
			}
			p := head
			for i := 0; i < 4; i++ {
				f := strings.Fields(run(t, s, "rd "+p))
				if len(f) < 2 {
					t.Fatalf("rd %s: %q", p, f)
				}
				p = f[1]
				if p == head {
					t.Fatalf("gocrash_list has %d nodes, want 4", i)
				}
				if err := s.Registry.Run(context.Background(), s, []string{"sym", p}, io.Discard); err == nil {
					t.Errorf("node %d at %s is named by a symbol", i, p)
				}
			}
			if f := strings.Fields(run(t, s, "rd "+p)); len(f) < 2 || f[1] != head {
				t.Errorf("the fourth node's next is %q, not the head %s", f, head)
			}
		}
	})
	if compared == 0 {
		t.Fatal("no kdump run in the corpus")
	}
}

// testModuleSymJSON: a module symbol's JSON row names its module, where
// the text shows it in brackets.
func testModuleSymJSON(t *testing.T, s *commands.Session) {
	for _, c := range []string{"sym loop_queue_rq", "sym max_part", "sym -m loop"} {
		var js jsonSym
		jsonData(t, s, c, &js)
		text := strings.Split(strings.TrimSuffix(run(t, s, c), "\n"), "\n")
		if len(js.Symbols) != len(text) {
			t.Errorf("%s: %d rows, %d lines", c, len(js.Symbols), len(text))
			continue
		}
		for i, row := range js.Symbols {
			if row.Module == nil || *row.Module != "loop" || !strings.HasPrefix(text[i], fmt.Sprintf("%016x ", uint64(row.Address))) {
				t.Errorf("%s: row %+v for %q", c, row, text[i])
			}
			if !strings.Contains(text[i], "MODULE") && !strings.Contains(text[i], " "+row.Name) {
				t.Errorf("%s: row %+v for %q", c, row, text[i])
			}
		}
	}
}

// trimLines drops the spaces that end each line.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
