package symbols

import (
	"encoding/binary"
	"testing"
)

// splitBuilder writes a module's split BTF over base: its type ids follow
// the base's, its string offsets the base's string section.
func splitBuilder(order binary.ByteOrder, base *btfBuilder) (*btfBuilder, func(string) uint32) {
	b := &btfBuilder{order: order, strs: []byte{}, next: base.next}
	strBase := uint32(len(base.strs))
	return b, func(s string) uint32 {
		off := uint32(len(b.strs))
		b.strs = append(append(b.strs, s...), 0)
		return strBase + off
	}
}

func TestSplitBTFTypes(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		base := newBTFBuilder(order)
		i32 := base.intType("int", 4, 0, 32)
		list := base.composite(btfKindStruct, "list_head", 16, false,
			testMember{name: "next", typ: 0}, testMember{name: "prev", typ: 0, bitOff: 64})
		baseNames := base.strs
		vts, err := NewBTFTypes(base.bytes())
		if err != nil {
			t.Fatal(err)
		}
		split, str := splitBuilder(order, base)
		// struct mod_node { int key; struct list_head link; }: the name
		// "key" is the module's, "next" (as a member name) the base's.
		split.u32(str("mod_node"), btfKindStruct<<24|3, 32)
		split.u32(str("key"), i32, 0)
		split.u32(str("link"), list, 64)
		nextOff := uint32(0)
		for i := 1; i < len(baseNames); i++ {
			if string(baseNames[i:i+4]) == "next" {
				nextOff = uint32(i)
				break
			}
		}
		split.u32(nextOff, i32, 192)
		modNode := split.next
		split.next++
		split.u32(0, btfKindPtr<<24, modNode) // struct mod_node *
		mts, err := NewSplitBTFTypes(split.bytes(), vts)
		if err != nil {
			t.Fatal(err)
		}
		mt, err := mts.Lookup("struct mod_node")
		if err != nil {
			t.Fatal(err)
		}
		if mt.Sizeof() != 32 {
			t.Errorf("sizeof(struct mod_node) = %d, want 32", mt.Sizeof())
		}
		ms, err := mt.Members()
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			name, typ string
			off       int64
		}{{"key", "int", 0}, {"link", "list_head", 8}, {"next", "int", 24}}
		if len(ms) != len(want) {
			t.Fatalf("%d members, want %d", len(ms), len(want))
		}
		for i, w := range want {
			if ms[i].Name != w.name || ms[i].Type.Name != w.typ || ms[i].Offset != w.off {
				t.Errorf("member %d = %s %s at %d, want %s %s at %d", i, ms[i].Type.Name, ms[i].Name, ms[i].Offset, w.typ, w.name, w.off)
			}
		}
		// The base's types are not the module's to answer, but a layered
		// view finds both.
		if _, err := mts.Lookup("struct list_head"); !IsMissing(err) {
			t.Errorf("the split BTF answers for its base's struct list_head: %v", err)
		}
		lv := Layered(vts, mts)
		for _, name := range []string{"struct list_head", "struct mod_node"} {
			if _, err := lv.Lookup(name); err != nil {
				t.Errorf("layered %s: %v", name, err)
			}
		}
		// A split BTF without its base, and type ids past its end, are
		// refused.
		if _, err := NewSplitBTFTypes(split.bytes(), nil); err == nil {
			t.Error("a split BTF without its base was accepted")
		}
		if _, err := mts.btf.typ(modNode + 5); err == nil {
			t.Error("a type id past the split BTF's end was accepted")
		}
	}
}
