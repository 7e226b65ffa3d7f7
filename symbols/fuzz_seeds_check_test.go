package symbols

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestFuzzSeedsRead checks that the corpus seeds are what they claim, so
// that fuzzing starts from the parsers' real paths: each DWARF unit reads
// with its types and line table, each line program gives rows, each
// .debug_frame slice has FDEs with rows, each ORC slice decodes, each BTF
// slice has its types.
func TestFuzzSeedsRead(t *testing.T) {
	for name, v := range corpus.ReadFuzzSeeds(t, "FuzzDWARF") {
		d := fuzzDwarf(v[0].([]byte), v[1].([]byte), v[2].([]byte), v[3].([]byte), v[4].([]byte), v[5].([]byte))
		if d == nil || len(d.units) != 1 {
			t.Errorf("FuzzDWARF/%s: no unit", name)
			continue
		}
		ix, err := d.BuildIndex(nil)
		if err != nil || ix.Len() == 0 {
			t.Errorf("FuzzDWARF/%s: index: %v", name, err)
			continue
		}
		structs := 0
		for _, n := range ix.Names("", KindStruct) {
			ty, err := NewTypes(d, ix).Lookup("struct " + n)
			if err == nil {
				if ms, err := ty.Members(); err == nil && len(ms) > 0 {
					structs++
				}
			}
		}
		if structs == 0 {
			t.Errorf("FuzzDWARF/%s: no struct with members", name)
		}
		if lt, err := d.readLineTable(0); err != nil || len(lt.rows) == 0 {
			t.Errorf("FuzzDWARF/%s: line table: %v", name, err)
		}
	}
	for name, v := range corpus.ReadFuzzSeeds(t, "FuzzLineProgram") {
		d := &Dwarf{sec: dwarfSections{line: v[0].([]byte), lineStr: v[1].([]byte), str: v[2].([]byte), order: binary.LittleEndian}}
		if lt, err := d.runLineProgram(0, "/build", "fuzz.c"); err != nil || len(lt.rows) == 0 || len(lt.files) == 0 {
			t.Errorf("FuzzLineProgram/%s: %v", name, err)
		}
	}
	for name, v := range corpus.ReadFuzzSeeds(t, "FuzzCFI") {
		var order binary.ByteOrder = binary.LittleEndian
		if v[2].(bool) {
			order = binary.BigEndian
		}
		c := NewCFI(v[0].([]byte), order, v[1].(bool), 0, 8, 62)
		if nbad, err := c.Err(); c.Len() == 0 || nbad > 0 {
			t.Errorf("FuzzCFI/%s: %d FDEs, %d bad: %v", name, c.Len(), nbad, err)
			continue
		}
		if _, err := c.RowForPC(c.fdes[0].lo); err != nil {
			t.Errorf("FuzzCFI/%s: %v", name, err)
		}
	}
	for name, v := range corpus.ReadFuzzSeeds(t, "FuzzORC") {
		lay := orcLayoutNew()
		if v[2].(bool) {
			lay = orcLayoutOld()
		}
		o, err := NewORC(v[0].([]byte), 0xffffffff81000000, v[1].([]byte), lay, binary.LittleEndian)
		if err != nil || o.Len() != 48 {
			t.Errorf("FuzzORC/%s: %v", name, err)
		}
	}
	for name, v := range corpus.ReadFuzzSeeds(t, "FuzzBTF") {
		b, err := parseBTF(v[0].([]byte))
		if err != nil || len(b.offs) != 101 || len(b.comp) == 0 {
			t.Errorf("FuzzBTF/%s: %v", name, err)
		}
		if !bytes.HasSuffix(b.strs, []byte{0}) {
			t.Errorf("FuzzBTF/%s: strings", name)
		}
	}
}
