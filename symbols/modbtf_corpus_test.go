package symbols_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/internal/corpustest"
	"github.com/gocrash/gocrash/symbols"
)

var paholeStructName = regexp.MustCompile(`(?m)^struct (\w+) \{`)

// TestCorpusModuleBTF: with no vmlinux, the loaded modules' types come from
// their BTF as the kernel keeps it (btf_modules; on arm64, whose kallsyms
// has text alone, that list is found in the image). Every loaded module
// whose .ko (the kernel's modules/, the test module of a crash-kind run)
// has a .BTF section has its BTF in the dump, and each struct that BTF
// defines has pahole's layout of the .ko's BTF over the vmlinux's; the
// test module, built with DWARF, also has pahole's layout of its DWARF. A
// module built without BTF has none in the dump (6.1's test module), and
// 5.10 has no modules' BTF at all (no btf_modules).
func TestCorpusModuleBTF(t *testing.T) {
	for _, r := range append(corpus.Runs(t), corpus.CrashRuns(t)...) {
		if r.Arch != "x86_64" && r.Arch != "arm64" {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			k := corpustest.DumpKernel(t, r.Files[0])
			v := k.Vmlinux
			base, err := v.Types()
			if err != nil {
				t.Fatal(err)
			}
			btfs, err := k.ModulesBTF()
			if strings.HasPrefix(r.Release, "5.10") {
				if !symbols.IsMissing(err) || len(btfs) != 0 {
					t.Errorf("5.10: %d modules' BTF, %v", len(btfs), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mts, err := k.ModuleTypes(base)
			if err != nil || len(mts) != len(btfs) {
				t.Fatalf("%d of %d modules' BTF typed: %v", len(mts), len(btfs), err)
			}
			byName := map[string]*symbols.Types{}
			for i, b := range btfs {
				byName[b.Module] = mts[i]
			}
			mods, err := k.Modules()
			if err != nil {
				t.Fatal(err)
			}
			kdir := filepath.Dir(r.Vmlinux)
			withBTF, structs, members := 0, 0, 0
			for _, m := range mods {
				ko := filepath.Join(kdir, "modules", m.Name+".ko")
				if m.Name == "gocrash_test" {
					ko = filepath.Join(r.Dir, "gocrash_test.ko")
				}
				f, err := elf.Open(ko)
				if os.IsNotExist(err) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				hasBTF, hasDWARF := f.Section(".BTF") != nil, f.Section(".debug_info") != nil
				f.Close()
				ts, ok := byName[m.Name]
				if !hasBTF {
					if ok {
						t.Errorf("%s: its .ko has no BTF, the dump has some", m.Name)
					}
					continue
				}
				if !ok {
					t.Errorf("%s: no BTF in the dump", m.Name)
					continue
				}
				withBTF++
				args := []string{"-F", "btf", "--btf_base", r.Vmlinux, ko}
				out, err := exec.Command("pahole", args...).Output()
				if err != nil {
					t.Fatalf("pahole %s: %v", ko, err)
				}
				var names []string
				for _, sm := range paholeStructName.FindAllStringSubmatch(string(out), -1) {
					names = append(names, sm[1])
				}
				if len(names) == 0 {
					t.Errorf("%s: pahole lists no structs", m.Name)
				}
				// The module's own structs: a name the vmlinux defines
				// too (pahole lists the base's types a module refers to)
				// is looked up in the module's BTF alone.
				var own []string
				for _, n := range names {
					if lt, err := ts.Lookup("struct " + n); err == nil && !lt.Decl {
						own = append(own, n)
					}
				}
				structs += len(own)
				members += checkPaholeOf(t, ts, args, own)
				if hasDWARF {
					members += checkPaholeOf(t, ts, []string{"-F", "dwarf", ko}, own)
				}
			}
			if withBTF == 0 {
				t.Errorf("no loaded module with BTF of %d", len(mods))
			}
			t.Logf("%d modules' BTF in the dump, %d loaded modules' .ko with BTF: %d structs, %d members equal pahole's", len(btfs), withBTF, structs, members)
		})
	}
}
