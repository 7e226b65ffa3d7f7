package archs_test

import (
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/archs"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// TestCorpusWalkMatchesELF walks the kernel's page tables for addresses in
// every virtual PT_LOAD of the kdump ELF cores (the kernel text mapping and
// the direct map, as /proc/vmcore states them) and checks the physical
// address against the segment's.
func TestCorpusWalkMatchesELF(t *testing.T) {
	walked := 0
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		if f.Format != "elf" {
			return
		}
		d, err := memory.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		v, err := symbols.Open(r.Vmlinux)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		a, err := archs.New(arch.Config{Dump: d, Symbols: v.Addr})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range d.Loads {
			if s.Vaddr == s.Paddr || s.Vaddr < 1<<63 {
				continue // QEMU's physical-only segments
			}
			ps := a.PageSize()
			for off := uint64(0); off < s.Size; off += 1 << 21 {
				for _, o := range []uint64{off, min(off+(1<<21)-ps, s.Size-ps)} {
					tr, err := a.KernelWalk(s.Vaddr + o)
					if err != nil {
						t.Fatalf("%#x (segment %#x): %v", s.Vaddr+o, s.Vaddr, err)
					}
					if tr.Phys != s.Paddr+o {
						t.Fatalf("%#x: walk gives %#x, PT_LOAD says %#x", s.Vaddr+o, tr.Phys, s.Paddr+o)
					}
					n++
				}
			}
		}
		if r.Method == "kdump" && n == 0 {
			t.Error("no virtual PT_LOAD in a kdump ELF core")
		}
		walked += n
		t.Logf("%d addresses walked", n)
	})
	if walked == 0 {
		t.Error("no address walked in the whole corpus")
	}
}
