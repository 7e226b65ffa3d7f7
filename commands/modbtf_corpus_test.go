package commands_test

import (
	"debug/elf"
	"path/filepath"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/internal/corpustest"
)

// openDumpSession opens f with no vmlinux: the kernel image from the
// dump's memory (kallsyms, BTF, ORC).
func openDumpSession(t testing.TB, f corpus.File) *commands.Session {
	t.Helper()
	return &commands.Session{Kernel: corpustest.DumpKernel(t, f), DumpPaths: f.Paths(), Registry: commands.NewRegistry()}
}

// moduleTypeCommands ask about the test module's types (gocrash_test.c).
var moduleTypeCommands = []string{
	"struct gocrash_node", "struct -o gocrash_node", "struct gocrash_tnode -o",
	"whatis struct gocrash_node", "whatis struct gocrash_tnode", "struct gocrash_node.name,index",
}

// TestCorpusModuleBTFCommands: with no vmlinux, struct and whatis of the
// test module's types, from its BTF in the dump, print what they print
// with the vmlinux and the module's DWARF loaded (mod -s), on the
// crash-kind runs whose test module was built with BTF (6.12's).
func TestCorpusModuleBTFCommands(t *testing.T) {
	for _, r := range corpus.CrashRuns(t) {
		ko := filepath.Join(r.Dir, "gocrash_test.ko")
		f, err := elf.Open(ko)
		if err != nil {
			t.Fatal(err)
		}
		hasBTF := f.Section(".BTF") != nil
		f.Close()
		if !hasBTF {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			want := openSession(t, r, r.Files[0])
			run(t, want, "mod -s gocrash_test "+ko)
			got := openDumpSession(t, r.Files[0])
			for _, cmd := range moduleTypeCommands {
				if g, w := run(t, got, cmd), run(t, want, cmd); g != w {
					t.Errorf("%s: from the dump's BTF\n%s\nwith the module's DWARF\n%s", cmd, g, w)
				}
			}
		})
	}
}
