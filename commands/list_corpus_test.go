package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// runOut runs a command line and gives its text as crash prints it: the
// output, then the error line ("list: duplicate list entry: ...").
func runOut(t testing.TB, s *commands.Session, line string) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Registry.Run(context.Background(), s, strings.Fields(line), &b); err != nil {
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

// kdumpRun finds the x86_64 kdump sysrq run of a release.
func kdumpRun(t *testing.T, release string) *corpus.Run {
	t.Helper()
	for _, r := range corpus.Runs(t) {
		if r.Arch == "x86_64" && r.Method == "kdump" && strings.HasPrefix(r.Release, release) && !strings.Contains(r.Name, "la57") {
			return r
		}
	}
	t.Fatalf("no x86_64 %s kdump run", release)
	return nil
}

func readU64(t *testing.T, s *commands.Session, addr uint64) uint64 {
	t.Helper()
	v, err := s.Kernel.ReadU64(addr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func symAddr(t *testing.T, s *commands.Session, name string) uint64 {
	t.Helper()
	a, err := s.Kernel.SymbolAddr(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func offsetOf(t *testing.T, s *commands.Session, st, m string) uint64 {
	t.Helper()
	o, err := s.Kernel.Offset(st, m)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(o)
}

// compareWithCrash runs cmds in gocrash and in crash 8.0.2 and wants the
// same text; it returns the number of commands compared.
func compareWithCrash(t *testing.T, r *corpus.Run, f corpus.File, s *commands.Session, pre []string, cmds []string) int {
	t.Helper()
	want := crashAnswers(t, r, f, append(append([]string{}, pre...), cmds...))[len(pre):]
	for i, c := range cmds {
		if got := runOut(t, s, c); got != want[i] {
			t.Errorf("%s:\n%s--- crash 8.0.2:\n%s", c, got, want[i])
		}
	}
	return len(cmds)
}

// TestCorpusListAgainstCrash: list's text equals crash 8.0.2's on the 5.10
// kdump run (the task list by its embedded list_head every way list takes
// it: -h, -H, -r, -l, -e, -O, -B, with -s and -S members, in decimal and
// hex; the module list; a singly-linked list by member and by numeric
// offset; an empty list) and on the 6.1 kdump run for the lists that are
// not of tasks (crash 8.0.2 loses most of 6.1's tasks). The JSON form
// carries the addresses the text prints.
func TestCorpusListAgainstCrash(t *testing.T) {
	for _, rel := range []string{"5.10", "6.1"} {
		t.Run(rel, func(t *testing.T) {
			r := kdumpRun(t, rel)
			f := r.Files[0]
			s := openSession(t, r, f)
			init := symAddr(t, s, "init_task")
			tasksOff := offsetOf(t, s, "task_struct", "tasks")
			head := init + tasksOff
			first := readU64(t, s, head)
			// The fifth task's link, for -e.
			link := first
			for range 4 {
				link = readU64(t, s, link)
			}
			fs := readU64(t, s, symAddr(t, s, "file_systems"))
			nextOff := offsetOf(t, s, "file_system_type", "next")
			cmds := []string{
				"list -H modules module.list -s module.name",
				"list -H modules -o module.list -S module.state,name",
				"list -H modules module.list -s module.state,refcnt -x",
				"list -r -H modules module.list",
				fmt.Sprintf("list file_system_type.next -s file_system_type.name,fs_flags %x", fs),
				fmt.Sprintf("list %d %x", nextOff, fs),
				fmt.Sprintf("list -o file_system_type.next -S file_system_type.name,fs_flags %x", fs),
				fmt.Sprintf("list -H %x", head+offsetOf(t, s, "task_struct", "ptraced")-tasksOff),
				"list -B -H modules module.list",
			}
			if rel == "5.10" {
				cmds = append(cmds,
					"list task_struct.tasks -s task_struct.pid,comm -h init_task",
					fmt.Sprintf("list -H %x -o task_struct.tasks", head),
					fmt.Sprintf("list -r -H %x task_struct.tasks -s task_struct.pid", head),
					fmt.Sprintf("list %x -l task_struct.tasks -s task_struct.comm", first),
					fmt.Sprintf("list -e %x task_struct.tasks -h init_task", link),
					"list -B task_struct.tasks -h init_task -S task_struct.pid,comm",
					"list task_struct.tasks -S task_struct.pid,flags,comm -x -h init_task",
					fmt.Sprintf("list -o task_struct.sibling -s task_struct.pid -O task_struct.children -h %x", first-tasksOff),
				)
			}
			n := compareWithCrash(t, r, f, s, nil, cmds)
			t.Logf("%s: %d list commands equal crash 8.0.2's", r.Name, n)

			// JSON: the entries are the addresses the text lists.
			line := "list -H modules module.list -s module.name"
			var res struct {
				Entries []struct {
					Address string `json:"address"`
					Data    struct {
						Values []struct {
							Members []any `json:"members"`
						} `json:"values"`
					} `json:"data"`
				} `json:"entries"`
			}
			jsonData(t, s, line, &res)
			var text []string
			for _, ln := range strings.Split(run(t, s, line), "\n") {
				if len(ln) == 16 {
					text = append(text, ln)
				}
			}
			if len(res.Entries) != len(text) || len(text) == 0 {
				t.Fatalf("JSON has %d entries, the text %d", len(res.Entries), len(text))
			}
			for i, e := range res.Entries {
				if e.Address != text[i] || len(e.Data.Values) != 1 || len(e.Data.Values[0].Members) != 1 {
					t.Errorf("JSON entry %d: %+v, text %s", i, e, text[i])
				}
			}
		})
	}
}

// TestCorpusListModuleNodes: on every x86_64 crash-kind run (6.1, 6.12), the test module's
// gocrash_list walked by list -H with the module's debuginfo loaded gives
// its four nodes in order, each with the magic and name the module gave
// it; on the oops run the text equals crash 8.0.2's.
func TestCorpusListModuleNodes(t *testing.T) {
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "x86_64" {
			// arm64's kallsyms holds no module data symbols and mod -s
			// does not yet add the object's: gocrash_list has no address there.
			return
		}
		f := r.Files[0]
		s := openSession(t, r, f)
		ko := filepath.Join(r.Dir, "gocrash_test.ko")
		load := "mod -s gocrash_test " + ko
		run(t, s, load)
		line := "list -H gocrash_list -o gocrash_node.link -s gocrash_node.magic,index,name"
		out := run(t, s, line)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 16 {
			t.Fatalf("%s: %d lines, want 4 nodes of 4:\n%s", line, len(lines), out)
		}
		for i := range 4 {
			blk := lines[4*i : 4*i+4]
			want := []string{
				fmt.Sprintf("  magic = %d,", uint64(0x6763726173680000)+uint64(i)),
				fmt.Sprintf("  index = %d,", i),
				fmt.Sprintf("  name = \"node-%d", i),
			}
			if len(blk[0]) != 16 || blk[1] != want[0] || blk[2] != want[1] || !strings.HasPrefix(blk[3], want[2]) {
				t.Errorf("node %d:\n%s\nwant %q", i, strings.Join(blk, "\n"), want)
			}
		}
		// -S reads magic and index directly: the same values.
		fast := run(t, s, "list -H gocrash_list -o gocrash_node.link -S gocrash_node.magic,index -x")
		for i := range 4 {
			if w := fmt.Sprintf("  magic = 0x%x\n  index = 0x%x\n", uint64(0x6763726173680000)+uint64(i), i); !strings.Contains(fast, w) {
				t.Errorf("-S: no %q:\n%s", w, fast)
			}
		}
		if r.Crash == "oops" && strings.HasPrefix(r.Release, "6.1.") {
			cmds := []string{line, "list -r -H gocrash_list -o gocrash_node.link -S gocrash_node.magic,index,name -x"}
			n := compareWithCrash(t, r, f, s, []string{load}, cmds)
			t.Logf("%s: %d gocrash_list commands equal crash 8.0.2's", r.Name, n)
		}
	})
}
