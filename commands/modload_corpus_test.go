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

	"github.com/ulikunitz/xz"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

var modLineRE = regexp.MustCompile(`(?m)^ ?#\d+ \[[0-9a-f]+\] (\w+) at [0-9a-f]+ \[gocrash_test\]\n    (\S*gocrash_test\.c): (\d+)$`)

// TestCorpusModLoad: on every crash-kind run, mod -s loads the run's
// gocrash_test.ko; mod shows it; the module's own type, its list and the
// four nodes the module stored are printed from its DWARF; bt -l names
// gocrash_test.c lines of module frames, each a line of the function;
// mod -d unloads it. On the oops runs mod -s, mod and p gocrash_list print
// what crash 8.0.2 prints, where crash reads the dump (crashReads).
func TestCorpusModLoad(t *testing.T) {
	src, err := os.ReadFile("../testdata/corpus/module/gocrash_test.c")
	if err != nil {
		t.Fatal(err)
	}
	srcLines := strings.Split(string(src), "\n")
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		f := crashKindFiles(t, r)[0]
		s := openSession(t, r, f)
		ko := filepath.Join(r.Dir, "gocrash_test.ko")
		load := run(t, s, "mod -s gocrash_test "+ko)
		if !strings.Contains(load, "  "+ko+" \n") || strings.Count(load, "\n") != 2 {
			t.Errorf("mod -s:\n%s", load)
		}
		if out := run(t, s, "mod"); !strings.Contains(out, "gocrash_test ") || !strings.Contains(out, ko+" \n") {
			t.Errorf("mod after mod -s:\n%s", out)
		}
		want := "struct gocrash_node {\n    struct list_head link;\n    unsigned long magic;\n    int index;\n    char name[16];\n}\nSIZE: 48\n"
		if out := run(t, s, "whatis struct gocrash_node"); out != want {
			t.Errorf("whatis struct gocrash_node:\n%s", out)
		}
		if moduleDataSymbols(r) {
			// (the module's data sections are placed by its data symbols in
			// the dump's kallsyms: moduleDataSymbols)
			p := run(t, s, "p gocrash_list")
			if !strings.HasPrefix(p, "gocrash_list = $1 = {\n  next = 0xffff") {
				t.Errorf("p gocrash_list:\n%s", p)
			}
			if sl := run(t, s, "struct list_head gocrash_list"); !strings.Contains(p, strings.TrimPrefix(sl, "struct list_head {")) {
				t.Errorf("struct list_head gocrash_list:\n%s\np gocrash_list:\n%s", sl, p)
			}
			// The nodes, from the head's next pointers.
			next := regexp.MustCompile(`next = (0x[0-9a-f]+)`)
			m := next.FindStringSubmatch(p)
			head := strings.Fields(run(t, s, "sym gocrash_list"))[0]
			addr := m[1]
			for i := 0; i < 4; i++ {
				out := run(t, s, "struct gocrash_node "+addr)
				magic := uint64(0x6763726173680000) + uint64(i)
				for _, w := range []string{fmt.Sprintf("  magic = %d,\n", magic), fmt.Sprintf("  index = %d,\n", i), fmt.Sprintf("  name = \"node-%d\\000", i)} {
					if !strings.Contains(out, w) {
						t.Errorf("node %d at %s: no %q:\n%s", i, addr, w, out)
					}
				}
				m = next.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("node %d: no next:\n%s", i, out)
				}
				addr = m[1]
			}
			if strings.TrimPrefix(addr, "0x") != head {
				t.Errorf("the fourth node's next is %s, not the head %s", addr, head)
			}
		}
		// bt -l of the panic task: module frames have lines of their
		// function in gocrash_test.c.
		bt := run(t, s, "bt -l")
		for _, ln := range strings.Split(run(t, s, "ps"), "\n") {
			if f := strings.Fields(strings.TrimPrefix(ln, ">")); len(f) > 0 && strings.HasSuffix(ln, " [gocrash_sleep]") {
				bt += run(t, s, "bt -l "+f[0])
			}
		}
		frames := modLineRE.FindAllStringSubmatch(bt, -1)
		if len(frames) == 0 {
			t.Errorf("bt -l: no module frame with a gocrash_test.c line:\n%s", bt)
		}
		for _, fr := range frames {
			var n int
			fmt.Sscan(fr[3], &n)
			if n < 1 || n > len(srcLines) {
				t.Errorf("%s: line %d", fr[1], n)
				continue
			}
			if r.Arch != "x86_64" {
				// arm64's frames are Exact (named at the return
				// address, as the kernel names them), and bt -l looks
				// their line up there too: after a call that is often an
				// inlined callee's line (sink's), not the call's. arm64:
				// see branch a64.
				continue
			}
			// The function's definition is at or above the line.
			found := false
			for j := n - 1; j >= 0 && j > n-30; j-- {
				if strings.Contains(srcLines[j], fr[1]+"(") && !strings.HasSuffix(strings.TrimSpace(srcLines[j]), ";") && strings.Contains(srcLines[j], " "+fr[1]) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s at gocrash_test.c: %d is not in the function (%q)", fr[1], n, srcLines[n-1])
			}
		}
		// (arm64: gocrash_oops_middle, the faulting leaf's caller, is only
		// the exception's lr, as in the kernel's own trace; see branch a64)
		if r.Crash == "oops" && r.Arch == "x86_64" {
			if len(frames) == 0 || frames[0][1] != "gocrash_oops_middle" || !strings.Contains(srcLines[mustAtoi(frames[0][3])-1], "gocrash_oops_inner(") {
				t.Errorf("oops: first module frame %v, want gocrash_oops_middle at its call of gocrash_oops_inner", frames)
			}
		}
		if r.Crash == "oops" && crashReads(r) {
			// sym after mod -s: the source line of module text, the data
			// symbol's letter from the object.
			cmds := []string{"mod -s gocrash_test " + ko, "mod", "p gocrash_list", "sym gocrash_oops_inner", "sym gocrash_list", "sym gocrash_command"}
			crash := crashAnswers(t, r, f, cmds)
			s2 := openSession(t, r, f)
			for i, c := range cmds {
				if got := run(t, s2, c); got != crash[i] {
					t.Errorf("%s:\n%s--- crash:\n%s", c, got, crash[i])
				}
			}
		}
		// mod -d unloads; then the type is gone.
		run(t, s, "mod -d gocrash_test")
		if out := run(t, s, "mod gocrash_test"); !strings.Contains(out, "(not loaded)") {
			t.Errorf("mod after mod -d:\n%s", out)
		}
		if err := s.Registry.Run(context.Background(), s, strings.Fields("whatis struct gocrash_node"), &bytes.Buffer{}); err == nil {
			t.Error("whatis struct gocrash_node after mod -d: no error")
		}
		testModLoadErrors(t, r, s, ko)
		// mod -S with the run's directory finds the object; mod -D unloads.
		out := run(t, s, "mod -S "+r.Dir)
		if !strings.Contains(out, ko+" \n") || !strings.Contains(out, "mod: cannot find or load object file for loop module\n") {
			t.Errorf("mod -S %s:\n%s", r.Dir, out)
		}
		run(t, s, "mod -D")
		if out := run(t, s, "mod"); strings.Contains(out, ".ko") {
			t.Errorf("mod after mod -D:\n%s", out)
		}
	})
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return max(n, 1)
}

// testModLoadErrors: bad input gives one line and an error.
func testModLoadErrors(t *testing.T, r *corpus.Run, s *commands.Session, ko string) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "gocrash_test.ko")
	os.WriteFile(notELF, []byte("this is not an ELF file, just some text\n"), 0o644)
	// The module's object given as another module's: its symbols are
	// not that module's.
	cases := map[string]string{
		"mod -s gocrash_test /nonexistent/gocrash_test.ko": "no such file or directory",
		"mod -s nosuch " + ko:                              "nosuch: not a loaded module",
		"mod -s gocrash_test " + notELF:                    "not an ELF file",
		"mod -s gocrash_test " + r.Vmlinux:                 "not a kernel module object",
		"mod -s loop " + ko:                                "is module gocrash_test's object, not loop's",
		"mod -d loop":                                      "no object file is loaded",
	}
	for c, want := range cases {
		var b bytes.Buffer
		err := s.Registry.Run(context.Background(), s, strings.Fields(c), &b)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || b.Len() != 0 {
			t.Errorf("%s: %v (output %q), want an error with %q", c, err, b.String(), want)
		}
	}
}

// TestCorpusModLoadXZ: mod -s reads an xz-compressed object (.ko.xz, as
// Debian ships modules): the run's gocrash_test.ko compressed gives the
// same module types as the plain one.
func TestCorpusModLoadXZ(t *testing.T) {
	runs := corpus.CrashRuns(t)
	r := runs[0]
	ko, err := os.ReadFile(filepath.Join(r.Dir, "gocrash_test.ko"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(ko)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gocrash_test.ko.xz")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, r, crashKindFiles(t, r)[0])
	if out := run(t, s, "mod -s gocrash_test "+path); !strings.Contains(out, "  "+path+" \n") {
		t.Errorf("mod -s of the .ko.xz:\n%s", out)
	}
	if out := run(t, s, "whatis struct gocrash_node"); !strings.HasSuffix(out, "SIZE: 48\n") || !strings.Contains(out, "    char name[16];\n") {
		t.Errorf("whatis struct gocrash_node from the .ko.xz:\n%s", out)
	}
}
