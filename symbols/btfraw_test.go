package symbols

import (
	"encoding/binary"
	"errors"
	"testing"
)

// btfBuilder writes a .BTF section by hand, as pahole would.
type btfBuilder struct {
	order binary.ByteOrder
	strs  []byte
	types []byte
	next  uint32 // the next type id
}

func newBTFBuilder(order binary.ByteOrder) *btfBuilder {
	return &btfBuilder{order: order, strs: []byte{0}, next: 1}
}

func (b *btfBuilder) str(s string) uint32 {
	if s == "" {
		return 0
	}
	off := uint32(len(b.strs))
	b.strs = append(append(b.strs, s...), 0)
	return off
}

func (b *btfBuilder) u32(vs ...uint32) {
	for _, v := range vs {
		b.types = append(b.types, 0, 0, 0, 0)
		b.order.PutUint32(b.types[len(b.types)-4:], v)
	}
}

// typ adds a type header and returns its id; the caller appends the
// kind's data.
func (b *btfBuilder) typ(name string, kind, vlen uint32, kflag bool, sizeOrType uint32) uint32 {
	info := kind<<24 | vlen
	if kflag {
		info |= 1 << 31
	}
	b.u32(b.str(name), info, sizeOrType)
	b.next++
	return b.next - 1
}

func (b *btfBuilder) intType(name string, size, bitOff, bits uint32) uint32 {
	id := b.typ(name, btfKindInt, 0, false, size)
	b.u32(bitOff<<16 | bits)
	return id
}

type testMember struct {
	name        string
	typ, bitOff uint32
	bits        uint32 // with kind_flag
}

func (b *btfBuilder) composite(kind uint32, name string, size uint32, kflag bool, ms ...testMember) uint32 {
	id := b.typ(name, kind, uint32(len(ms)), kflag, size)
	for _, m := range ms {
		off := m.bitOff
		if kflag {
			off |= m.bits << 24
		}
		b.u32(b.str(m.name), m.typ, off)
	}
	return id
}

func (b *btfBuilder) bytes() []byte {
	h := make([]byte, btfHeaderLen)
	b.order.PutUint16(h, btfMagic)
	h[2] = 1
	b.order.PutUint32(h[4:], btfHeaderLen)
	b.order.PutUint32(h[8:], 0)
	b.order.PutUint32(h[12:], uint32(len(b.types)))
	b.order.PutUint32(h[16:], uint32(len(b.types)))
	b.order.PutUint32(h[20:], uint32(len(b.strs)))
	return append(append(h, b.types...), b.strs...)
}

// testBTF is a small kernel-like type graph.
func testBTF(order binary.ByteOrder) []byte {
	b := newBTFBuilder(order)
	i32 := b.intType("int", 4, 0, 32)
	i16 := b.intType("short", 2, 0, 16)
	u8 := b.intType("unsigned char", 1, 0, 8)
	u32 := b.typ("u32", btfKindTypedef, 0, false, i32) // typedef chain: cu32 -> const -> volatile -> u32 -> int
	vol := b.typ("", btfKindVolatile, 0, false, u32)
	cst := b.typ("", btfKindConst, 0, false, vol)
	cu32 := b.typ("cu32", btfKindTypedef, 0, false, cst)
	ptr := b.typ("", btfKindPtr, 0, false, 0)
	arr := b.typ("", btfKindArray, 0, false, 0)
	b.u32(cu32, i32, 3)
	// A forward declaration, a zero-sized declaration, then the definition.
	b.typ("task", btfKindFwd, 0, false, 0)
	b.composite(btfKindStruct, "task", 0, false)
	inner := b.composite(btfKindStruct, "inner", 16, false, testMember{name: "x", typ: i32}, testMember{name: "y", typ: ptr, bitOff: 64})
	anon := b.composite(btfKindUnion, "", 16, false, testMember{name: "a", typ: u32}, testMember{name: "b", typ: inner})
	list := b.composite(btfKindStruct, "list_head", 16, false, testMember{name: "next", typ: ptr}, testMember{name: "prev", typ: ptr, bitOff: 64})
	b.composite(btfKindStruct, "task", 64, false,
		testMember{name: "state", typ: cu32},
		testMember{typ: anon, bitOff: 64},
		testMember{name: "arr", typ: arr, bitOff: 192},
		testMember{name: "tasks", typ: list, bitOff: 320},
		testMember{name: "flags", typ: u8, bitOff: 448})
	// A later struct of the same name is not chosen.
	b.composite(btfKindStruct, "task", 8, false, testMember{name: "state", typ: i32, bitOff: 32})
	// A typedef'd anonymous struct, found by its typedef's name.
	at := b.composite(btfKindStruct, "", 4, false, testMember{name: "counter", typ: i32})
	b.typ("atomic_t", btfKindTypedef, 0, false, at)
	// A union by name, and a zero-sized struct with no better definition.
	b.composite(btfKindUnion, "u", 8, false, testMember{name: "l", typ: ptr}, testMember{name: "i", typ: i32})
	b.composite(btfKindStruct, "empty", 0, false)
	// orc_entry's 6.4 layout, with kind_flag bitfields.
	b.composite(btfKindStruct, "orc_entry", 6, true,
		testMember{name: "sp_offset", typ: i16},
		testMember{name: "bp_offset", typ: i16, bitOff: 16},
		testMember{name: "sp_reg", typ: u8, bitOff: 32, bits: 4},
		testMember{name: "bp_reg", typ: u8, bitOff: 36, bits: 4},
		testMember{name: "type", typ: u8, bitOff: 40, bits: 3},
		testMember{name: "signal", typ: u8, bitOff: 43, bits: 1})
	// An old-style bitfield: the int type carries offset and width.
	bf := b.intType("unsigned int", 4, 3, 5)
	b.composite(btfKindStruct, "legacy", 4, false, testMember{name: "f", typ: bf, bitOff: 8})
	// Enumerators: signed, unsigned, 64-bit; the first of a name wins.
	b.typ("sign", btfKindEnum, 2, true, 4)
	b.u32(b.str("NEG"), uint32(0xfffffffd), b.str("ZERO"), 0)
	b.typ("unsign", btfKindEnum, 2, false, 4)
	b.u32(b.str("HIGH"), 0xfffffffd, b.str("ZERO"), 7)
	b.typ("big", btfKindEnum64, 1, false, 8)
	b.u32(b.str("BIG"), 5, 1<<8)
	// Kinds the layouts never ask about still have to be stepped over.
	proto := b.typ("", btfKindFuncProto, 2, false, i32)
	b.u32(b.str("a"), i32, 0, ptr)
	b.typ("do_it", btfKindFunc, 0, false, proto)
	v := b.typ("jiffies", btfKindVar, 0, false, i32)
	b.u32(1)
	b.typ(".data", btfKindDatasec, 1, false, 8)
	b.u32(v, 0, 8)
	b.typ("double", btfKindFloat, 0, false, 8)
	b.typ("tag", btfKindDeclTag, 0, false, v)
	b.u32(0xffffffff)
	b.typ("user", btfKindTypeTag, 0, false, ptr)
	b.typ("", btfKindRestrict, 0, false, ptr)
	return b.bytes()
}

func testVmlinux(data []byte) *Vmlinux {
	v := &Vmlinux{}
	v.layoutsOnce.Do(func() { v.layouts = &Layouts{data: data} })
	return v
}

func TestBTFRawLayouts(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(order.String(), func(t *testing.T) {
			v := testVmlinux(testBTF(order))
			l := v.Layouts()
			sizes := map[string]int64{"task": 64, "inner": 16, "list_head": 16, "atomic_t": 4, "u": 8, "empty": 0, "orc_entry": 6}
			for name, want := range sizes {
				if got, err := l.Size(name); err != nil || got != want {
					t.Errorf("Size(%s) = %d, %v; want %d", name, got, err, want)
				}
			}
			offsets := []struct {
				s, path string
				want    int64
			}{
				{"task", "state", 0}, {"task", "a", 8}, {"task", "b", 8}, {"task", "b.x", 8}, {"task", "b.y", 16},
				{"task", "arr", 24}, {"task", "tasks", 40}, {"task", "tasks.prev", 48}, {"task", "flags", 56},
				{"atomic_t", "counter", 0}, {"u", "i", 0}, {"legacy", "f", 1},
			}
			for _, o := range offsets {
				if got, err := l.Offset(o.s, o.path); err != nil || got != o.want {
					t.Errorf("Offset(%s, %s) = %d, %v; want %d", o.s, o.path, got, err, o.want)
				}
			}
			for _, q := range [][2]string{{"task", "nope"}, {"task", "b.nope"}, {"task", "tasks.next.x"}, {"task", "state.x"}, {"nothere", "x"}, {"empty", "x"}} {
				if _, err := l.Offset(q[0], q[1]); !IsMissing(err) {
					t.Errorf("Offset(%s, %s): %v, want a MissingError", q[0], q[1], err)
				}
			}
			if _, err := l.Size("nothere"); !IsMissing(err) {
				t.Errorf("Size(nothere): %v, want a MissingError", err)
			}
			if _, err := l.Size("do_it"); err == nil || IsMissing(err) {
				t.Errorf("Size(do_it) of a function: %v, want an error other than missing", err)
			}
			enums := map[string]int64{"NEG": -3, "ZERO": 0, "HIGH": 0xfffffffd, "BIG": 1<<40 | 5}
			for name, want := range enums {
				if got, err := l.Enumerator(name); err != nil || got != want {
					t.Errorf("Enumerator(%s) = %d, %v; want %d", name, got, err, want)
				}
			}
			if _, err := l.Enumerator("NOPE"); !IsMissing(err) {
				t.Errorf("Enumerator(NOPE): %v, want a MissingError", err)
			}
			lay, err := v.ORCEntryLayout()
			if err != nil {
				t.Fatal(err)
			}
			if want := orcLayoutNew(); lay != want {
				t.Errorf("ORCEntryLayout = %+v, want %+v", lay, want)
			}
			// Sizes through typedef chains, arrays and pointers.
			b := l.btf
			for id, want := range map[uint32]int64{4: 4, 7: 4, 8: 8, 9: 12} {
				if got, err := b.sizeof(id); err != nil || got != want {
					t.Errorf("sizeof(%d) = %d, %v; want %d", id, got, err, want)
				}
			}
			// The old-style bitfield member decodes to its bits.
			id, _, _ := b.composite("legacy")
			lt, _ := b.typ(id)
			if m, err := b.member(lt, 0); err != nil || m.bitOff != 11 || m.bits != 5 {
				t.Errorf("legacy bitfield = %+v, %v; want offset 11, 5 bits", m, err)
			}
		})
	}
}

// A cut-short or damaged section is an error, never a panic; a closed
// vmlinux answers with an error.
func TestBTFRawCorrupt(t *testing.T) {
	good := testBTF(binary.LittleEndian)
	ask := func(data []byte) error {
		v := testVmlinux(data)
		l := v.Layouts()
		_, err := l.Size("task")
		for _, q := range [][2]string{{"task", "b.y"}, {"task", "tasks.prev"}, {"atomic_t", "counter"}, {"u", "i"}, {"legacy", "f"}, {"nothere", "x"}} {
			l.Offset(q[0], q[1])
		}
		l.Enumerator("BIG")
		v.ORCEntryLayout()
		return err
	}
	for n := 0; n < len(good); n++ {
		if err := ask(good[:n]); err == nil {
			t.Errorf("cut to %d of %d bytes: no error", n, len(good))
		} else if !errors.Is(err, errBTFCorrupt) {
			t.Errorf("cut to %d bytes: %v, not a corrupt-BTF error", n, err)
		}
	}
	// Every single-byte change: whatever the answers, no panic, and no
	// endless loop (a self-containing anonymous member, a typedef cycle).
	for i := range good {
		for _, x := range []byte{0xff, 0x01, 0x80} {
			bad := append([]byte(nil), good...)
			bad[i] ^= x
			ask(bad)
		}
	}
	b := newBTFBuilder(binary.LittleEndian)
	loop := b.typ("loop", btfKindTypedef, 0, false, 2)
	b.typ("", btfKindConst, 0, false, loop)
	self := b.next
	b.composite(btfKindStruct, "self", 4, false, testMember{typ: self})
	l := testVmlinux(b.bytes()).Layouts()
	if _, err := l.Size("loop"); err == nil {
		t.Error("Size of a typedef cycle: no error")
	}
	if _, err := l.Offset("self", "x"); err == nil || IsMissing(err) {
		t.Errorf("Offset in a self-containing struct: %v, want a corrupt-BTF error", err)
	}
	bad := append([]byte(nil), good...)
	bad[0] = 0
	if err := ask(bad); err == nil {
		t.Error("bad magic: no error")
	}

	v := testVmlinux(good)
	if _, err := v.Layouts().Size("task"); err != nil {
		t.Fatal(err)
	}
	v.Layouts().close()
	if _, err := v.Layouts().Offset("task", "state"); !errors.Is(err, errClosed) {
		t.Errorf("after close: %v", err)
	}
	if _, err := v.ORCEntryLayout(); !errors.Is(err, errClosed) {
		t.Errorf("ORCEntryLayout after close: %v", err)
	}
}
