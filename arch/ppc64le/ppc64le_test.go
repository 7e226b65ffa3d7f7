package ppc64le

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// radix builds a radix tree in memory with Linux's 64K-page geometry
// (index bits 13, 9, 9, 5): directory entries big-endian, valid, with the
// next level's size in their low bits.
type radix struct {
	mem  []byte
	next uint64
	root uint64
}

func newRadix() *radix {
	r := &radix{mem: make([]byte, 8<<20), next: 1 << 20}
	r.root = r.alloc(1 << 13)
	return r
}

func (r *radix) alloc(entries uint64) uint64 {
	a := r.next
	r.next += max(entries*8, 256)
	return a
}

func (r *radix) entry(a uint64) uint64       { return binary.BigEndian.Uint64(r.mem[a:]) }
func (r *radix) set(a, v uint64)             { binary.BigEndian.PutUint64(r.mem[a:], v) }
func idx(va uint64, shift, bits uint) uint64 { return va >> shift & (1<<bits - 1) }

// mapAt maps va to pa with a leaf at level (1 PUD: 1G, 2 PMD: 2M, 3 PTE: 64K).
func (r *radix) mapAt(va, pa uint64, level int) {
	bits := []uint{13, 9, 9, 5}
	table, shift := r.root, uint(52)
	for l := 0; ; l++ {
		shift -= bits[l]
		ea := table + idx(va, shift, bits[l])*8
		if l == level {
			r.set(ea, entryValid|entryLeaf|pa|0x18e)
			return
		}
		e := r.entry(ea)
		if e&entryValid == 0 {
			nb := bits[l+1]
			e = entryValid | r.alloc(1<<nb) | uint64(nb)
			r.set(ea, e)
		}
		table = e & nlbMask
	}
}

func TestRadixWalk(t *testing.T) {
	r := newRadix()
	maps := []struct {
		va, pa, size uint64
		level        int
	}{
		{0xc000000000000000, 0, 1 << 30, 1},                   // the linear map's 1G pages
		{0xc000000040000000 + 3<<21, 0x7e00000, 1 << 21, 2},   // a 2M page
		{0xc008000000012345 &^ 0xffff, 0x3450000, 1 << 16, 3}, // vmalloc, a 64K page
		{0xc00c000000010000, 0x1230000, 1 << 16, 3},           // vmemmap
	}
	for _, m := range maps {
		r.mapAt(m.va, m.pa, m.level)
	}
	d := memory.NewRAMDump("ppc64", "", 0, r.mem)
	p := &PPC64LE{dump: d, root: r.root, pageShift: 16}
	for _, m := range maps {
		va := m.va + m.size - 8
		tr, err := p.KernelWalk(va)
		if err != nil {
			t.Fatalf("%#x: %v", va, err)
		}
		if tr.Phys != m.pa+m.size-8 || tr.PageSize != m.size || len(tr.Levels) != m.level+1 {
			t.Errorf("%#x: phys %#x size %#x levels %d, want %#x %#x %d", va, tr.Phys, tr.PageSize, len(tr.Levels), m.pa+m.size-8, m.size, m.level+1)
		}
	}
	if s, ok := pageShiftOf(d, r.root); !ok || s != 16 {
		t.Errorf("page shift from the tables: %d %v, want 16", s, ok)
	}
	// Unmapped, and outside quadrant 3 or with bits 52-61 set: not
	// translated.
	for _, va := range []uint64{0xc008000000100000, 0x0000000000010000, 0xc010000000000000} {
		var te *arch.TranslationError
		if _, err := p.KernelWalk(va); !errors.As(err, &te) {
			t.Errorf("%#x: %v, want a TranslationError", va, err)
		}
	}
	if v, _ := p.PhysToVirt(0x1234); v != 0xc000000000001234 {
		t.Errorf("PhysToVirt: %#x", v)
	}
}

// TestRadix4K: with 4K pages the PMD entries' next-level size is 9, and
// the page size follows from it.
func TestRadix4K(t *testing.T) {
	r := newRadix()
	bits := []uint{13, 9, 9, 9}
	va, pa := uint64(0xc008000000003000), uint64(0x5000)
	table, shift := r.root, uint(52)
	for l := 0; l < 4; l++ {
		shift -= bits[l]
		ea := table + idx(va, shift, bits[l])*8
		if l == 3 {
			r.set(ea, entryValid|entryLeaf|pa)
			break
		}
		nt := r.alloc(1 << bits[l+1])
		r.set(ea, entryValid|nt|uint64(bits[l+1]))
		table = nt
	}
	d := memory.NewRAMDump("ppc64", "", 0, r.mem)
	if s, ok := pageShiftOf(d, r.root); !ok || s != 12 {
		t.Fatalf("page shift %d %v, want 12", s, ok)
	}
	tr, err := Walk(d, r.root, va+0x10)
	if err != nil || tr.Phys != pa+0x10 || tr.PageSize != 4096 {
		t.Errorf("walk: %#x %#x %v", tr.Phys, tr.PageSize, err)
	}
}

// TestSearchEFrames: a "REGS"-marked frame with a system call's user
// registers is found, at its pt_regs; a marker under a bad trap, and
// one whose frame does not start with an address, are not.
func TestSearchEFrames(t *testing.T) {
	const base uint64 = 0xc000000003200000
	data := make([]byte, 0x4000)
	o := binary.LittleEndian
	frame := func(sp, chain, trap, msr uint64) {
		o.PutUint64(data[sp:], chain)
		o.PutUint64(data[sp+markerSlot:], regsMarker)
		regs := sp + frameOverhead
		o.PutUint64(data[regs+8*RegSP:], 0x7fffe29edbc0)
		o.PutUint64(data[regs+8*RegNIP:], 0x100c4180)
		o.PutUint64(data[regs+8*RegMSR:], msr)
		o.PutUint64(data[regs+8*RegTrap:], trap)
	}
	frame(0x3e10, 0x7fffe29edbc0, 0x3000, 0x800000000280f033) // scv from user mode
	frame(0x2000, base+0x2400, 0x901, 0x8000000000009033)     // a decrementer in the kernel
	frame(0x1000, base+0x1400, 0x3100, 0x8000000000009033)    // no such trap
	frame(0x0800, 0x1234_5678_9abc_def0, 0x500, 0)            // no address at the frame's start
	p := &PPC64LE{}
	got, err := p.SearchEFrames(arch.EFrameStack{Base: base, Data: data, Order: o, PtRegsSize: 8 * 48})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Addr != base+0x2000+frameOverhead || got[0].User ||
		got[1].Addr != base+0x3e10+frameOverhead || !got[1].User || got[1].Regs[RegNIP] != 0x100c4180 {
		t.Fatalf("found %+v", got)
	}
	if TrapName(0x3000) == "" || TrapName(0xc01) != "System Call" {
		t.Error("trap names")
	}
}

// TestDecodePTE: a radix leaf's page is its RPN, page-aligned (not the
// entry shifted by the page shift, which keeps the PTE and PRESENT bits);
// flags in crash's order and names.
func TestDecodePTE(t *testing.T) {
	p := &PPC64LE{pageShift: 16}
	got := p.DecodePTE(0xc00000001f500105)
	if got.Phys != 0x1f500000 || !got.Present || strings.Join(got.Flags, "|") != "PTE|PRESENT|USER|ACCESSED" {
		t.Errorf("%+v", got)
	}
	if got := p.DecodePTE(0x1f500105); got.Present {
		t.Errorf("no _PAGE_PRESENT: %+v", got)
	}
}
