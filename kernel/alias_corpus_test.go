package kernel

import (
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// TestCorpusAliasAsKallsyms: at an address several functions or objects
// share, gocrash names it as the kernel itself does: by the first of the
// aliases in the kernel's own kallsyms table, read from the dump (the
// kernel's lookup, get_symbol_pos, returns the first alias), on every
// corpus kernel whose dump says where its kallsyms is (VMCOREINFO: the
// ppc64le and s390x QEMU dumps have none, and ppc64le's kdump run covers
// that kernel). x86_64's __do_sys_pause (t) is listed before its
// __ia32_sys_pause and __x64_sys_pause (T) aliases, __memcpy before its
// weak alias memcpy.
func TestCorpusAliasAsKallsyms(t *testing.T) {
	kernels := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		d, err := memory.OpenFiles(r.Files[0].Paths()...)
		if err != nil {
			t.Fatal(err)
		}
		if kernels[r.Arch+" "+r.Release] || d.VMCoreInfo == nil {
			d.Close()
			continue
		}
		kernels[r.Arch+" "+r.Release] = true
		t.Run(r.Name, func(t *testing.T) { checkAliases(t, r, d) })
		d.Close()
	}
	if len(kernels) < 4 {
		t.Errorf("aliases checked on %d kernels: %v", len(kernels), kernels)
	}
}

func checkAliases(t *testing.T, r *corpus.Run, d *memory.Dump) {
	{
		b, err := bootDump(d)
		if err != nil {
			t.Fatal(err)
		}
		v, err := symbols.Open(r.Vmlinux)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		k, err := New(d, v)
		if err != nil {
			t.Fatal(err)
		}
		sized := map[uint64]int{} // the vmlinux's sized symbols at each address
		for _, s := range k.SymbolTable.Syms.Symbols() {
			if s.Size > 0 {
				sized[s.Addr]++
			}
		}
		checked, wrong := 0, 0
		for i, s := range b.syms {
			if i > 0 && b.syms[i-1].Addr == s.Addr || i+1 == len(b.syms) || b.syms[i+1].Addr != s.Addr || sized[s.Addr] < 2 {
				continue // not the first of several aliases the choice is among
			}
			checked++
			got, off, ok := k.SymbolTable.Syms.Nearest(s.Addr)
			if !ok || off != 0 || got.Name != s.Name {
				if wrong++; wrong <= 10 {
					t.Errorf("%x: %s, the kernel's kallsyms lists %s first", s.Addr, got.Name, s.Name)
				}
			}
		}
		if checked == 0 {
			t.Fatal("no address with aliases")
		}
		t.Logf("%d aliased addresses, %d named otherwise than by the kernel", checked, wrong)
	}
}
