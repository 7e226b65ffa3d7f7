package symbols

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestWriteFuzzSeeds writes the fuzz targets' seeds (testdata/fuzz/FuzzX)
// from the corpus's vmlinuxes: small real fragments, each self-contained
// (offsets into other sections rewritten to the fragment's copies). It
// runs only when asked (GOCRASH_WRITE_FUZZ_SEEDS=1, with the corpus): the
// seeds are checked in, and run with every go test as the targets' corpus.
func TestWriteFuzzSeeds(t *testing.T) {
	corpus.WriteFuzzSeeds(t)
	seen := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		if seen[r.Vmlinux] {
			continue
		}
		seen[r.Vmlinux] = true
		name := r.Arch + "-" + strings.SplitN(r.Release, "-", 2)[0]
		v, err := Open(r.Vmlinux)
		if err != nil {
			t.Fatal(err)
		}
		le := v.File.ByteOrder == binary.LittleEndian
		if le {
			writeDWARFSeed(t, v, name)
		}
		writeCFISeed(t, v, name)
		if r.Arch == "x86_64" {
			writeORCSeed(t, v, name)
		}
		if s := v.File.Section(".BTF"); s != nil {
			writeBTFSeed(t, v.sectionBytes(s), name)
		}
		v.Close()
	}
}

// strCompactor copies the strings a fragment refers to into a small
// section of their own.
type strCompactor struct {
	src []byte
	out []byte
	at  map[uint64]uint32
}

func (c *strCompactor) add(off uint64) uint32 {
	if c.at == nil {
		c.at, c.out = map[uint64]uint32{}, []byte{0}
	}
	if n, ok := c.at[off]; ok {
		return n
	}
	n := uint32(len(c.out))
	c.out = append(append(c.out, cstrAt(c.src, off)...), 0)
	c.at[off] = n
	return n
}

// writeDWARFSeed picks a unit of 1.2 to 3 KB that defines a structure, and
// writes it with its abbreviations, strings, line program and address
// ranges, every offset rewritten to point into those copies.
func writeDWARFSeed(t *testing.T, v *Vmlinux, name string) {
	d, err := v.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	o := d.sec.order
	for i := range d.units {
		u := d.units[i]
		if u.dwarf64 || u.end-u.off < 1200 || u.end-u.off > 3000 {
			continue
		}
		tab, err := d.abbrevsOf(&u)
		if err != nil {
			t.Fatal(err)
		}
		hasStruct := false
		for _, a := range tab.dense {
			hasStruct = hasStruct || a.tag == 0x13 // DW_TAG_structure_type
		}
		if !hasStruct {
			continue
		}
		info := append([]byte(nil), d.sec.info[u.off:u.end]...)
		ru := u
		ru.off, ru.data, ru.end = 0, u.data-u.off, u.end-u.off
		abbrevAt := 6
		if u.version == 5 {
			abbrevAt = 8
		}
		o.PutUint32(info[abbrevAt:], 0)
		// The abbreviation table runs to its terminating zero code.
		ab := buf{data: d.sec.abbrev, off: u.abbrevOff}
		for ab.uleb() != 0 && ab.err == nil {
			ab.uleb()
			ab.u8()
			for {
				at, form := ab.uleb(), ab.uleb()
				if form == formImplicitConst {
					ab.sleb()
				}
				if at == 0 && form == 0 || ab.err != nil {
					break
				}
			}
		}
		abbrev := d.sec.abbrev[u.abbrevOff:ab.off]
		str := &strCompactor{src: d.sec.str}
		lineStr := &strCompactor{src: d.sec.lineStr}
		var line []byte
		b := buf{data: info, off: ru.data, order: o}
		for b.off < ru.end && b.err == nil {
			code := b.uleb()
			if code == 0 {
				continue
			}
			a := tab.get(code)
			if a == nil {
				t.Fatalf("%s: unit at %#x: code %d", name, u.off, code)
			}
			for _, at := range a.attrs {
				pos := b.off
				switch {
				case at.form == formStrp:
					o.PutUint32(info[pos:], str.add(uint64(o.Uint32(info[pos:]))))
				case at.form == formLineStrp:
					o.PutUint32(info[pos:], lineStr.add(uint64(o.Uint32(info[pos:]))))
				case at.attr == 0x10 && (at.form == formSecOffset || at.form == formData4): // DW_AT_stmt_list
					off := uint64(o.Uint32(info[pos:]))
					n := uint64(o.Uint32(d.sec.line[off:]))
					line = d.sec.line[off : off+4+n]
					o.PutUint32(info[pos:], 0)
				}
				skipForm(&b, at.form, &ru)
			}
		}
		var aranges []byte
		for p := uint64(0); p+12 <= uint64(len(d.sec.aranges)); {
			n := uint64(o.Uint32(d.sec.aranges[p:]))
			if uint64(o.Uint32(d.sec.aranges[p+6:])) == u.off {
				aranges = append([]byte(nil), d.sec.aranges[p:p+4+n]...)
				o.PutUint32(aranges[6:], 0)
				break
			}
			p += 4 + n
		}
		corpus.WriteFuzzSeed(t, "FuzzDWARF", name, info, abbrev, str.out, lineStr.out, line, aranges)
		if len(line) > 0 && len(line) < 16<<10 {
			// The whole .debug_line_str when it is small (ppc64le's,
			// s390x's), else the unit's strings only.
			ls := lineStr.out
			if len(d.sec.lineStr) < 4<<10 {
				ls = d.sec.lineStr
			}
			corpus.WriteFuzzSeed(t, "FuzzLineProgram", name, line, ls, str.out)
		}
		return
	}
	t.Errorf("%s: no unit of 1.2-3 KB with a structure", name)
}

// writeCFISeed writes the start of the vmlinux's .debug_frame: its first
// CIE and the FDEs that follow it, up to 3 KB.
func writeCFISeed(t *testing.T, v *Vmlinux, name string) {
	s := v.File.Section(".debug_frame")
	if s == nil {
		return
	}
	b := v.sectionBytes(s)
	o := v.File.ByteOrder
	end := 0
	for end+4 <= len(b) {
		n := int(o.Uint32(b[end:]))
		if end+4+n > 3<<10 {
			break
		}
		end += 4 + n
	}
	corpus.WriteFuzzSeed(t, "FuzzCFI", name, b[:end], false, o == binary.BigEndian, uint64(0))
}

// writeORCSeed writes 48 consecutive entries of the ORC tables, from
// their middle, with the table's addresses made relative to the slice.
func writeORCSeed(t *testing.T, v *Vmlinux, name string) {
	ip, ent := v.File.Section(".orc_unwind_ip"), v.File.Section(".orc_unwind")
	if ip == nil || ent == nil {
		return
	}
	lay, err := v.ORCEntryLayout()
	if err != nil {
		t.Fatal(err)
	}
	ips, ents := v.sectionBytes(ip), v.sectionBytes(ent)
	from, n := len(ips)/4/2, 48
	corpus.WriteFuzzSeed(t, "FuzzORC", name, ips[4*from:4*(from+n)], ents[lay.Size*from:lay.Size*(from+n)], lay.HasEndBit)
}

// writeBTFSeed writes the BTF header and the first 100 types, with the
// string section cut after the last string they name (pahole writes a
// type's names as it adds it, so the first types' names come first).
func writeBTFSeed(t *testing.T, data []byte, name string) {
	b, err := parseBTF(data)
	if err != nil {
		t.Fatal(err)
	}
	o := b.order
	n := min(100, len(b.offs)-1)
	typesEnd := uint32(len(b.types))
	if n+1 < len(b.offs) {
		typesEnd = b.offs[n+1]
	}
	types := b.types[:typesEnd]
	maxStr := uint32(0)
	for id := 1; id <= n; id++ {
		pos := b.offs[id]
		maxStr = max(maxStr, o.Uint32(types[pos:]))
		info := o.Uint32(types[pos+4:])
		kind, vlen := info>>24&0x1f, info&0xffff
		step := uint32(0)
		switch kind {
		case btfKindStruct, btfKindUnion:
			step = 12
		case btfKindEnum:
			step = 8
		case btfKindFuncProto:
			step = 8
		}
		for i := uint32(0); step > 0 && i < vlen; i++ {
			maxStr = max(maxStr, o.Uint32(types[pos+btfTypeLen+i*step:]))
		}
	}
	strs := b.strs[:maxStr+uint32(len(b.str(maxStr)))+1]
	hdr := make([]byte, btfHeaderLen)
	copy(hdr, data[:8])
	o.PutUint32(hdr[4:], btfHeaderLen)
	o.PutUint32(hdr[8:], 0)
	o.PutUint32(hdr[12:], uint32(len(types)))
	o.PutUint32(hdr[16:], uint32(len(types)))
	o.PutUint32(hdr[20:], uint32(len(strs)))
	out := append(append(hdr, types...), strs...)
	if _, err := parseBTF(out); err != nil {
		t.Fatalf("%s: the seed does not parse: %v", name, err)
	}
	corpus.WriteFuzzSeed(t, "FuzzBTF", name, out)
}
