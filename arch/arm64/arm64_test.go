package arm64

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// build maps vaddr to phys with a last-level page for the granule and VA
// size, allocating tables from 1 MiB upward; returns memory and the root.
func build(pageSize uint64, vaBits uint, maps [][2]uint64) ([]byte, uint64) {
	mem := make([]byte, 16<<20)
	next := uint64(1 << 20)
	alloc := func() uint64 { a := next; next += pageSize; return a }
	shift0 := uint(12)
	for s := pageSize; s > 4096; s >>= 1 {
		shift0++
	}
	bpl := shift0 - 3
	levels := int((vaBits - shift0 + bpl - 1) / bpl)
	root := alloc()
	for _, m := range maps {
		table := root
		for lvl := levels - 1; lvl >= 0; lvl-- {
			shift := shift0 + bpl*uint(lvl)
			width := bpl
			if lvl == levels-1 {
				width = vaBits - shift
			}
			idx := (m[0] >> shift) & (1<<width - 1)
			if lvl == 0 {
				binary.LittleEndian.PutUint64(mem[table+idx*8:], encodeOA(m[1], pageSize, vaBits)|3|1<<10)
				break
			}
			e := binary.LittleEndian.Uint64(mem[table+idx*8:])
			if e&1 == 0 {
				e = alloc() | 3
				binary.LittleEndian.PutUint64(mem[table+idx*8:], e)
			}
			table = e & 0x0000fffffffff000 &^ (pageSize - 1)
		}
	}
	return mem, root
}

func TestWalkGranules(t *testing.T) {
	for _, c := range []struct {
		page uint64
		va   uint
	}{{4096, 39}, {4096, 48}, {16384, 36}, {16384, 47}, {16384, 48}, {65536, 42}, {65536, 48}} {
		t.Run(fmt.Sprintf("%dK-%dbit", c.page/1024, c.va), func(t *testing.T) {
			top := ^uint64(0) << c.va
			maps := [][2]uint64{
				{top | 0x10000000, 0x40000000},
				{top | (1<<(c.va-1) + 3*c.page), 0x80000000 + c.page},
			}
			mem, root := build(c.page, c.va, maps)
			d := memory.NewRAMDump("aarch64", "", 0, mem)
			for _, m := range maps {
				tr, err := Walk(d, root, c.page, c.va, m[0]+24)
				if err != nil {
					t.Fatalf("%#x: %v", m[0], err)
				}
				if tr.Phys != m[1]+24 || tr.PageSize != c.page {
					t.Errorf("%#x: got %#x/%#x want %#x", m[0], tr.Phys, tr.PageSize, m[1]+24)
				}
			}
			if _, err := Walk(d, root, c.page, c.va, top|0x20000000); err == nil {
				t.Error("unmapped address translated")
			}
			// The kernel's walk takes only the kernel's half of the
			// address space: not an address whose index bits would hit a
			// mapped entry from below it.
			a := &ARM64{dump: d, root: root, pageSize: c.page, vaBits: c.va}
			if tr, err := a.KernelWalk(maps[0][0] + 24); err != nil || tr.Phys != maps[0][1]+24 {
				t.Errorf("KernelWalk %#x: %#x %v", maps[0][0]+24, tr.Phys, err)
			}
			for _, bad := range []uint64{24, maps[0][0]&^(1<<55) + 24, maps[0][0]&^(1<<c.va) + 24} {
				var te *arch.TranslationError
				if _, err := a.KernelWalk(bad); !errors.As(err, &te) {
					t.Errorf("KernelWalk %#x: %v, want a TranslationError", bad, err)
				}
			}
		})
	}
}

// encodeOA places a physical address in a descriptor: LPA (64K: PA 51:48
// in bits 15:12), LPA2 (4K/16K with 52-bit VA: PA 51:50 in bits 9:8).
func encodeOA(pa, pageSize uint64, vaBits uint) uint64 {
	switch {
	case pageSize == 65536:
		return pa&0x0000ffffffff0000 | (pa>>48&0xf)<<12
	case vaBits == 52:
		return pa&0x0003fffffffff000 | (pa>>50&3)<<8
	}
	return pa
}

// TestWalkLPA maps pages above 2^48 with 52-bit physical addresses: FEAT_LPA
// (64K pages) and FEAT_LPA2 (4K and 16K pages, 52-bit VA, 5 and 4 levels).
func TestWalkLPA(t *testing.T) {
	for _, c := range []struct {
		page uint64
		va   uint
		pa   uint64
	}{{65536, 52, 0x000f123456780000}, {65536, 48, 0x000a000000010000}, {4096, 52, 0x000e000012345000}, {16384, 52, 0x000d00000abc4000}} {
		t.Run(fmt.Sprintf("%dK-%dbit", c.page/1024, c.va), func(t *testing.T) {
			top := ^uint64(0) << c.va
			va := top | 0x40000000 + 5*c.page
			mem, root := build(c.page, c.va, [][2]uint64{{va, c.pa}})
			d := memory.NewRAMDump("aarch64", "", 0, mem)
			tr, err := Walk(d, root, c.page, c.va, va+40)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Phys != c.pa+40 {
				t.Errorf("got %#x, want %#x", tr.Phys, c.pa+40)
			}
		})
	}
	// Without LPA2 (48-bit VA, 4K), bits 9:8 are shareability, not address.
	if got := outputAddress(0x0000000040000000|3<<8|3, 4096, 48); got != 0x40000000 {
		t.Errorf("SH bits read as address: %#x", got)
	}
}
