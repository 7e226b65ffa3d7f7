package kernel_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
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

// TestCorpusModuleSymbols checks the modules' own symbol tables on every
// run, the crash-kind runs' test module among them: each module has
// symbols in its memory, every symbol looked up by name is found at its
// address, and that address is named back by a symbol of the same name
// there (aliases share an address); addresses just past a symbol are
// named by it with the offset.
func TestCorpusModuleSymbols(t *testing.T) {
	check := func(t *testing.T, r *corpus.Run) {
		k := openKernel(t, r, r.Files[0])
		mods, err := k.Modules()
		if err != nil {
			t.Fatal(err)
		}
		kallsymsAll := strings.HasPrefix(r.Name, "x86_64")
		for _, m := range mods {
			syms := m.Symbols()
			if len(syms) == 0 {
				t.Errorf("module %s: no symbols", m.Name)
				continue
			}
			if len(m.Regions()) == 0 || !m.Holds(m.Base) {
				t.Errorf("module %s: regions %+v do not hold its base %x", m.Name, m.Regions(), m.Base)
			}
			text, data := 0, 0
			for _, sy := range syms {
				if sy.Module != m.Name {
					t.Errorf("%s: module %q, listed in %s", sy.Name, sy.Module, m.Name)
				}
				if sy.Text {
					text++
				} else {
					data++
				}
				found := false
				for _, n := range k.ModuleSymbolsNamed(sy.Name) {
					found = found || n.Addr == sy.Addr
				}
				if !found {
					t.Errorf("%s [%s]: not found by name at %x", sy.Name, m.Name, sy.Addr)
				}
				if !m.Holds(sy.Addr) {
					continue // e.g. a symbol of freed init memory
				}
				back, off, ok := k.ModuleSymbolAt(sy.Addr)
				if !ok || off != 0 || back.Addr != sy.Addr || back.Module != m.Name {
					t.Errorf("%s [%s] at %x: named back as %+v+%d (%v)", sy.Name, m.Name, sy.Addr, back, off, ok)
					continue
				}
				same := false
				for _, o := range syms {
					same = same || o.Addr == sy.Addr && o.Name == back.Name
				}
				if !same {
					t.Errorf("%s [%s]: named back as %s", sy.Name, m.Name, back.Name)
				}
				if m.Holds(sy.Addr + 1) {
					if b1, off1, ok := k.ModuleSymbolAt(sy.Addr + 1); !ok || b1.Addr > sy.Addr+1 || off1 != sy.Addr+1-b1.Addr {
						t.Errorf("%s [%s]+1: named as %+v+%d", sy.Name, m.Name, b1, off1)
					}
				}
			}
			// Without CONFIG_KALLSYMS_ALL (Debian's arm64 kernel) a
			// module's kallsyms keeps its text symbols only.
			if text == 0 || data == 0 && kallsymsAll {
				t.Errorf("module %s: %d text and %d data symbols", m.Name, text, data)
			}
			if _, _, ok := k.ModuleSymbolAt(m.Base - 1); ok && k.ModuleHolding(m.Base-1) != nil && k.ModuleHolding(m.Base-1).Name == m.Name {
				t.Errorf("module %s: the byte before its base is in it", m.Name)
			}
		}
		names := []string{"loop_queue_rq"}
		if kallsymsAll {
			names = append(names, "max_part")
		}
		for _, name := range names {
			got := k.ModuleSymbolsNamed(name)
			if len(got) != 1 || got[0].Module != "loop" {
				t.Errorf("%s: %+v, want one symbol of loop", name, got)
			}
		}
		if s := k.ModuleSymbolsNamed("loop_queue_rq"); len(s) == 1 && (!s[0].Text || s[0].Type != 't') {
			t.Errorf("loop_queue_rq: %+v, want local text", s[0])
		}
		if s := k.ModuleSymbolsNamed("max_part"); len(s) == 1 && (s[0].Text || s[0].Type != 'b' && s[0].Type != 'd') {
			t.Errorf("max_part: %+v, want local data or bss", s[0])
		}
	}
	corpus.ForEachRun(t, check)
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		check(t, r)
		if strings.HasPrefix(r.Name, "x86_64") {
			// (kallsymsAll, as above: without it the module's kallsyms name no
			// data, gocrash_list among them)
			// gocrash_list: a global list_head of the test module, with four
			// kmalloc'ed nodes on it.
			k := openKernel(t, r, r.Files[0])
			s := k.ModuleSymbolsNamed("gocrash_list")
			if len(s) != 1 || s[0].Module != "gocrash_test" || s[0].Text || s[0].Type != 'D' {
				t.Fatalf("gocrash_list: %+v, want global data of gocrash_test", s)
			}
			head := s[0].Addr
			p := head
			for i := 0; i < 4; i++ {
				next, err := k.ReadU64(p)
				if err != nil {
					t.Fatalf("node %d: %v", i, err)
				}
				if next == head {
					t.Fatalf("gocrash_list has %d nodes, want 4", i)
				}
				if k.ModuleHolding(next) != nil {
					t.Errorf("node %d at %x is in module memory", i, next)
				}
				phys, err := k.VirtToPhys(next)
				if err != nil {
					t.Fatalf("node %d at %x: %v", i, next, err)
				}
				pg, err := k.PageOf(phys)
				if err != nil {
					t.Fatal(err)
				}
				if !isSlabPage(t, k, pg) {
					t.Errorf("node %d at %x: page flags %v, not slab", i, next, pg.FlagNames)
				}
				p = next
			}
			if next, err := k.ReadU64(p); err != nil || next != head {
				t.Errorf("the fourth node's next is %x (%v), not the head %x", next, err, head)
			}
		}
	})
}

// isSlabPage: the page is a slab's: PG_slab among its flags, or where slab
// is a page type instead of a flag (6.12: no PG_slab), page_type's top
// byte is PGTY_slab.
func isSlabPage(t *testing.T, k *kernel.Kernel, pg kernel.Page) bool {
	t.Helper()
	if slices.Contains(pg.FlagNames, "slab") {
		return true
	}
	ty, err := k.Vmlinux.Layouts().Enumerator("PGTY_slab")
	if err != nil {
		return false // a kernel with PG_slab: the flag is the answer
	}
	off, err := k.Offset("page", "page_type")
	if err != nil {
		t.Fatalf("PGTY_slab but no page.page_type: %v", err)
	}
	v, err := k.ReadU32(pg.Addr + uint64(off))
	if err != nil {
		t.Fatalf("page %x: page_type: %v", pg.Addr, err)
	}
	return int64(v>>24) == ty
}
