package kernel_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusModules checks the modules list against the guest's
// /proc/modules: every module is found with its name at the address the
// guest printed, and its text is named by its own symbols.
func TestCorpusModules(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		k := openKernel(t, r, r.Files[0])
		mods, err := k.Modules()
		if err != nil {
			t.Fatal(err)
		}
		// "@@GOCRASH modules: loop 32768 0 - Live 0xffffffffc02e1000"
		want := map[string]uint64{}
		for _, c := range truth.Console {
			rest, ok := strings.CutPrefix(c.Text, "@@GOCRASH modules: ")
			if !ok {
				continue
			}
			f := strings.Fields(rest)
			if len(f) >= 6 {
				if a, err := strconv.ParseUint(strings.TrimPrefix(f[5], "0x"), 16, 64); err == nil {
					want[f[0]] = a
				}
			}
		}
		if len(want) == 0 {
			t.Fatal("the guest listed no modules (every corpus guest loads some)")
		}
		if len(mods) != len(want) {
			t.Errorf("%d modules, the guest had %d", len(mods), len(want))
		}
		for _, m := range mods {
			base, ok := want[m.Name]
			if !ok {
				t.Errorf("module %s: not in the guest's list", m.Name)
				continue
			}
			if m.Base != base {
				t.Errorf("module %s at %x, the guest said %x", m.Name, m.Base, base)
			}
			if got := k.ModuleOf(base + 0x10); got != m.Name {
				t.Errorf("ModuleOf(%s+0x10) = %q", m.Name, got)
			}
			if name, _, ok := k.Symbolize(base + m.TextSize/2); !ok || name == "" {
				t.Errorf("module %s: its text is not named by its symbols", m.Name)
			}
		}
		if k.ModuleOf(k.Syms.Symbols()[0].Addr) != "" {
			t.Error("kernel text taken for a module")
		}
	})
}
