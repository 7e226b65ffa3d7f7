package x86_64

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// pageTables builds physical memory with page tables in it, one table per
// 4 KiB page allocated upward from 1 MiB.
type pageTables struct {
	mem  []byte
	next uint64
}

func newPageTables() *pageTables { return &pageTables{mem: make([]byte, 8<<20), next: 1 << 20} }

func (p *pageTables) alloc() uint64 { a := p.next; p.next += 4096; return a }

func (p *pageTables) set(table, idx, val uint64) {
	binary.LittleEndian.PutUint64(p.mem[table+idx*8:], val)
}

func (p *pageTables) get(table, idx uint64) uint64 {
	return binary.LittleEndian.Uint64(p.mem[table+idx*8:])
}

// mapPage maps vaddr to phys with a page of size 4K, 2M or 1G.
func (p *pageTables) mapPage(root uint64, levels int, vaddr, phys, size uint64) {
	table := root
	for lvl := levels - 1; lvl >= 0; lvl-- {
		shift := uint(12 + 9*lvl)
		idx := (vaddr >> shift) & 511
		if uint64(1)<<shift == size {
			flags := uint64(ptePresent | 2)
			if lvl > 0 {
				flags |= ptePSE
			}
			p.set(table, idx, phys|flags|1<<63)
			return
		}
		e := p.get(table, idx)
		if e&ptePresent == 0 {
			e = p.alloc() | ptePresent | 2
			p.set(table, idx, e)
		}
		table = e & addrMask
	}
}

func TestWalk(t *testing.T) {
	for _, levels := range []int{4, 5} {
		t.Run(fmt.Sprintf("%d-level", levels), func(t *testing.T) {
			pt := newPageTables()
			root := pt.alloc()
			cases := []struct{ va, pa, size uint64 }{
				{0xffffffff81000000, 0x1000000, 1 << 21},    // kernel text, 2M page
				{0xffff888000000000, 0x0, 1 << 30},          // direct map, 1G page
				{0xffffc90000123000, 0x7f000, 4096},         // vmalloc, 4K page
				{0xff11000000000000 + 0x5000, 0x6000, 4096}, // high with 5 levels
			}
			for _, c := range cases {
				pt.mapPage(root, levels, c.va, c.pa, c.size)
			}
			d := memory.NewRAMDump("x86_64", "", 0, pt.mem)
			for _, c := range cases {
				for _, off := range []uint64{0, 8, c.size - 8} {
					tr, err := Walk(d, root, levels, c.va+off)
					if err != nil {
						t.Fatalf("%#x: %v", c.va+off, err)
					}
					if tr.Phys != c.pa+off || tr.PageSize != c.size {
						t.Errorf("%#x: phys %#x size %#x, want %#x %#x", c.va+off, tr.Phys, tr.PageSize, c.pa+off, c.size)
					}
				}
			}
			_, err := Walk(d, root, levels, 0xffffc90000200000)
			var te *arch.TranslationError
			if !errors.As(err, &te) {
				t.Errorf("unmapped: %v", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	vi := "NUMBER(phys_base)=-16777216\nSYMBOL(init_top_pgt)=ffffffff8260a000\nNUMBER(pgtable_l5_enabled)=0\n"
	x, err := New(arch.Config{Dump: memory.NewRAMDump("x86_64", vi, 0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if x.root != 0x260a000-0x1000000 || x.levels != 4 {
		t.Errorf("root %#x levels %d", x.root, x.levels)
	}
	if _, err := New(arch.Config{Dump: memory.NewRAMDump("x86_64", "", 0, nil)}); err == nil {
		t.Error("no error without phys_base")
	}
}

// A kdump ELF core whose VMCOREINFO lacks NUMBER(phys_base) (older
// kernels): phys_base comes from the PT_LOAD of the kernel image.
func TestPhysBaseFromLoads(t *testing.T) {
	d := memory.NewRAMDump("x86_64", "SYMBOL(init_top_pgt)=ffffffff8260a000\n", 0, nil)
	d.Loads = []memory.LoadSegment{
		{Vaddr: 0xffff888000000000, Paddr: 0, Size: 1 << 30},
		{Vaddr: 0xffffffff81000000, Paddr: 0x3000000, Size: 1 << 24},
	}
	x, err := New(arch.Config{Dump: d})
	if err != nil {
		t.Fatal(err)
	}
	if x.PhysBase() != 0x2000000 || x.KernelImagePhys(0xffffffff81000000) != 0x3000000 {
		t.Errorf("phys_base %#x", x.PhysBase())
	}
	if n := len(x.Registers()); n != prstatusRegs {
		t.Errorf("%d register names", n)
	}
}
