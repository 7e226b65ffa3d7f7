package s390x

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// dat builds DAT tables in a big-endian memory image: a region-third
// table at 1M designating segment tables, page tables of 256 entries.
type dat struct {
	mem  []byte
	next uint64
}

func (d *dat) alloc(n uint64) uint64 { a := d.next; d.next += n; return a }
func (d *dat) get(a uint64) uint64   { return binary.BigEndian.Uint64(d.mem[a:]) }
func (d *dat) set(a, v uint64)       { binary.BigEndian.PutUint64(d.mem[a:], v) }

// fill marks every entry of a new table invalid, as the kernel does.
func (d *dat) table(entries, invalidBit uint64) uint64 {
	a := d.alloc(entries * 8)
	for i := uint64(0); i < entries; i++ {
		d.set(a+8*i, invalidBit)
	}
	return a
}

func TestDATWalk(t *testing.T) {
	d := &dat{mem: make([]byte, 8<<20), next: 1 << 20}
	r3 := d.table(2048, invalid)
	seg := d.table(2048, invalid)
	pt := d.table(256, pteInvalid)
	d.set(r3+0*8, seg|1<<2|3)          // R3 entry 0: the first 2G, a segment table
	d.set(r3+1*8, 0x80000000|largeFC)  // R3 entry 1: a 2G frame at 2G
	d.set(seg+5*8, pt)                 // segment 5 (5M-6M): a page table
	d.set(seg+7*8, 0x00300000|largeFC) // segment 7: a 1M frame at 3M
	d.set(pt+0x23*8, 0x00abc000|0x200) // page 0x523000: frame abc000, protected
	dump := memory.NewRAMDump("s390x", "", 0, d.mem)
	dump.ByteOrder = binary.BigEndian
	s := &S390X{dump: dump, asce: r3 | 1<<2 | 3}
	for _, c := range []struct{ va, pa, size uint64 }{
		{0x523456, 0xabc456, 4096},
		{0x7fff00, 0x3fff00, 1 << 20},
		{0x80000000 + 0x12345678, 0x80000000 + 0x12345678, 1 << 31},
	} {
		tr, err := s.KernelWalk(c.va)
		if err != nil {
			t.Fatalf("%#x: %v", c.va, err)
		}
		if tr.Phys != c.pa || tr.PageSize != c.size {
			t.Errorf("%#x: %#x/%#x, want %#x/%#x", c.va, tr.Phys, tr.PageSize, c.pa, c.size)
		}
	}
	if tr, _ := s.KernelWalk(0x523456); len(tr.Levels) != 3 || tr.Levels[0].Name != "PGD" || tr.Levels[2].Name != "PTE" {
		t.Errorf("levels %+v", tr.Levels)
	}
	if got := s.EntryFlags(0x00abc000|0x200, true); len(got) != 1 || got[0] != "PROTECT" {
		t.Errorf("flags %v", got)
	}
	// Invalid region, segment and page entries; an address beyond the
	// region-third table's 4T.
	for _, va := range []uint64{1 << 32, 0x600000, 0x524000, 1 << 42} {
		var te *arch.TranslationError
		if _, err := s.KernelWalk(va); !errors.As(err, &te) {
			t.Errorf("%#x: %v, want a TranslationError", va, err)
		}
	}
	// A user walk reads the table type from the top table's entries.
	if tr, err := s.UserWalk(r3, 0x523456); err != nil || tr.Phys != 0xabc456 {
		t.Errorf("user walk: %#x %v", tr.Phys, err)
	}
}

// TestNewFromNotes: the ASCE is control register 13 of the first
// NT_S390_CTRS note; the prefixes come from NT_S390_PREFIX, one per CPU.
func TestNewFromNotes(t *testing.T) {
	dump := memory.NewRAMDump("s390x", "", 0, make([]byte, 4096))
	dump.ByteOrder = binary.BigEndian
	ctrs := make([]byte, 128)
	binary.BigEndian.PutUint64(ctrs[13*8:], 0x01290007)
	dump.Notes = []memory.Note{
		{Name: "LINUX", Type: ntS390Prefix, Desc: []byte{0x01, 0x9b, 0x40, 0x00}},
		{Name: "LINUX", Type: ntS390Ctrs, Desc: ctrs},
		{Name: "LINUX", Type: ntS390Prefix, Desc: []byte{0x01, 0x9c, 0x00, 0x00}},
	}
	s, err := New(arch.Config{Dump: dump})
	if err != nil {
		t.Fatal(err)
	}
	if s.asce != 0x01290007 || len(s.Prefixes()) != 2 || s.Prefixes()[1] != 0x019c0000 {
		t.Errorf("asce %#x prefixes %x", s.asce, s.Prefixes())
	}
}

// TestSearchEFrames: the zero back chain above a user PSW's pt_regs is a
// frame; all-ones words and a kernel PSW outside text are not.
func TestSearchEFrames(t *testing.T) {
	const base uint64 = 0x37fffd20000
	data := make([]byte, 0x4000)
	o := binary.BigEndian
	for i := 0; i+8 <= len(data); i += 8 {
		o.PutUint64(data[i:], 0xffffffffffffffff)
	}
	put := func(sp, mask, addr, r15 uint64) {
		o.PutUint64(data[sp+chainSlot:], 0)
		at := sp + frameOverhead + 8
		o.PutUint64(data[at:], mask)
		o.PutUint64(data[at+8:], addr)
		o.PutUint64(data[at+8*RegR15:], r15)
	}
	put(0x4000-frameOverhead-8*22, 0x0705200180000000, 0x115cfc0, 0x3fffa9796a0) // a system call
	put(0x1000, 0x0404c00180000000, 0x9d4c0c, base+0x1400)                       // an interrupt in the kernel
	put(0x2000, 0x0404c00180000000, 0xf00000, base+0x2400)                       // not text
	s := &S390X{}
	got, err := s.SearchEFrames(arch.EFrameStack{Base: base, Data: data, Order: o, PtRegsSize: 8 * 22,
		IsText: func(a uint64) bool { return a >= 0x100000 && a < 0xa40000 }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].User || got[0].Regs[RegPSWAddr] != 0x9d4c0c || !got[1].User || got[1].Addr != base+0x4000-8*22+8 {
		t.Fatalf("found %+v", got)
	}
}
