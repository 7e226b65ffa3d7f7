package arm64

import (
	"encoding/binary"
	"fmt"
	"testing"

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
				binary.LittleEndian.PutUint64(mem[table+idx*8:], m[1]|3|1<<10)
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
		})
	}
}
