package commands_test

import (
	"testing"
)

// TestCorpusWhatisSymbolFirst: a name that is both a symbol and a type
// (struct mem_section and the variable mem_section, struct rcu_state and
// rcu_state) is the variable in whatis, as crash 8.0.2 shows it (its
// cmd_whatis tries the symbol table first); "whatis struct NAME" is still
// the type. Checked against crash on the x86_64 kdump runs.
func TestCorpusWhatisSymbolFirst(t *testing.T) {
	candidates := []string{"mem_section", "rcu_state", "kmem_cache", "ksm_scan", "tick_nohz_mode", "kset_uevent_ops"}
	compared := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			ts, err := s.Kernel.Vmlinux.Types()
			if err != nil {
				t.Fatal(err)
			}
			var cmds []string
			for _, name := range candidates {
				if _, ok := s.Kernel.Syms.Lookup(name); !ok {
					continue
				}
				if _, err := ts.Lookup(name); err != nil {
					continue
				}
				cmds = append(cmds, "whatis "+name)
				if ty, err := ts.Lookup("struct " + name); err == nil && ty.Name == name {
					cmds = append(cmds, "whatis struct "+name)
				}
			}
			if len(cmds) < 2 {
				t.Fatalf("fewer than 2 of %v are both a symbol and a type", candidates)
			}
			want := crashAnswers(t, r, f, cmds)
			for i, c := range cmds {
				got := run(t, s, c)
				if got != want[i] {
					t.Errorf("%s:\n%s--- crash:\n%s", c, got, want[i])
				}
			}
			compared++
			t.Logf("%d commands print what crash prints: %v", len(cmds), cmds)
		})
	}
	if compared == 0 {
		t.Fatal("no x86_64 kdump run in the corpus")
	}
}
