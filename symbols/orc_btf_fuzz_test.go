package symbols

import (
	"encoding/binary"
	"testing"
)

// FuzzORC decodes ORC tables (.orc_unwind_ip and .orc_unwind) in both
// entry layouts (6.1's end bit, 6.3's signal bit) and looks up addresses.
func FuzzORC(f *testing.F) {
	f.Fuzz(func(t *testing.T, ips, entries []byte, endBit bool) {
		lay := orcLayoutNew()
		if endBit {
			lay = orcLayoutOld()
		}
		const base = 0xffffffff81000000
		o, err := NewORC(ips, base, entries, lay, binary.LittleEndian)
		if err != nil {
			return
		}
		if o.Len() > len(ips)/4 {
			t.Fatalf("%d entries from %d bytes of addresses", o.Len(), len(ips))
		}
		for i := 0; i < min(o.Len(), 64); i++ {
			o.Find(o.ip(i))
			o.Find(o.ip(i) + 1)
		}
		o.Find(base)
		o.Find(0)
		o.Find(^uint64(0))
	})
}

// FuzzBTF opens a .BTF section and answers what the layouts ask of it:
// struct sizes, member offsets (nested and anonymous members), enumerators.
func FuzzBTF(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBTF(data)
		if err != nil {
			return
		}
		if len(b.offs) > len(b.types)/btfTypeLen+1 {
			t.Fatalf("%d types from %d bytes", len(b.offs), len(b.types))
		}
		for id := uint32(0); id < uint32(min(len(b.offs)+2, 512)); id++ {
			b.sizeof(id)
			b.underlying(id)
			st, err := b.typ(id)
			if err != nil {
				continue
			}
			if st.kind == btfKindStruct || st.kind == btfKindUnion {
				for i := uint32(0); i < min(st.vlen, 32); i++ {
					if m, err := b.member(st, i); err == nil {
						name := b.str(m.nameOff)
						b.findMember(id, name)
						b.findMember(id, name+".x")
					}
				}
			}
			if st.kind == btfKindEnum || st.kind == btfKindEnum64 {
				b.enumerator(b.str(st.nameOff))
			}
			name := b.str(st.nameOff)
			b.composite(name)
			b.enumerator(name)
		}
		for _, name := range []string{"task_struct", "list_head", "orc_entry", "module"} {
			if id, ok, err := b.composite(name); ok && err == nil {
				b.sizeof(id)
				b.findMember(id, "next")
			}
		}
	})
}
