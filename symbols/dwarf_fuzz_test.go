package symbols

import (
	"encoding/binary"
	"testing"
)

// Fuzz targets for the readers of the vmlinux's DWARF: whatever the bytes,
// they return errors, never panic, loop or allocate more than the input
// can justify. The seeds under testdata/fuzz/FuzzX are fragments of the
// corpus's vmlinuxes (one unit of .debug_info with its abbreviations and
// strings, one line program, the start of .debug_frame): see
// fuzz_seeds_test.go, which writes them.

// fuzzDwarf is a Dwarf over the sections given, nil when its unit headers
// do not read.
func fuzzDwarf(info, abbrev, str, lineStr, line, aranges []byte) *Dwarf {
	d := &Dwarf{abbrevs: map[uint64]*abbrevTable{}, strBase: map[uint64]uint64{}}
	d.sec = dwarfSections{info: info, abbrev: abbrev, str: str, lineStr: lineStr, line: line, aranges: aranges,
		order: binary.LittleEndian}
	if d.readUnits() != nil {
		return nil
	}
	return d
}

// fuzzTree reads every DIE under e, at most budget of them.
func fuzzTree(d *Dwarf, e *die, budget *int) {
	if e == nil || *budget <= 0 {
		return
	}
	*budget--
	e.name()
	e.constant(atByteSize)
	e.ref(atType)
	kids, _ := d.childrenOf(e)
	for _, c := range kids {
		fuzzTree(d, c, budget)
	}
	d.skipDIE(e)
}

// fuzzTypes looks up the first names of the index as types and reads them
// as the commands do: members, enumerators, sizes, elements.
func fuzzTypes(d *Dwarf, ix *Index) {
	ts := NewTypes(d, ix)
	names := ix.Names("")
	for _, name := range names[:min(len(names), 64)] {
		for _, kind := range []Kind{KindStruct, KindUnion, KindEnum, KindTypedef, KindBase, KindVariable, KindFunction} {
			for _, e := range ix.Lookup(name, kind) {
				t, err := ts.At(e.Off)
				if err != nil || t == nil {
					continue
				}
				t.Sizeof()
				t.Strip().Sizeof()
				t.Element()
				if ms, err := t.Strip().Members(); err == nil {
					for _, m := range ms[:min(len(ms), 16)] {
						t.Strip().MemberPath(m.Name)
					}
				}
				t.Strip().Enumerators()
			}
		}
		ts.Lookup(name)
		ts.Lookup("struct " + name)
		ts.ObjectType(name)
		ts.Enumerator(name)
	}
}

// FuzzDWARF reads units, DIEs, the name index, types and line tables.
func FuzzDWARF(f *testing.F) {
	f.Fuzz(func(t *testing.T, info, abbrev, str, lineStr, line, aranges []byte) {
		d := fuzzDwarf(info, abbrev, str, lineStr, line, aranges)
		if d == nil {
			return
		}
		budget := 4096
		for i := range d.units[:min(len(d.units), 8)] {
			e, err := d.readDIE(d.units[i].data)
			if err == nil {
				fuzzTree(d, e, &budget)
			}
			d.readLineTable(d.units[i].off)
		}
		if ix, err := d.BuildIndex(nil); err == nil {
			fuzzTypes(d, ix)
		}
		if d.readAranges() == nil {
			for _, r := range d.lines.ranges[:min(len(d.lines.ranges), 16)] {
				d.lineForPC(r.lo, 0)
			}
		}
	})
}

// FuzzLineProgram runs one line program (at the start of line) on its own.
func FuzzLineProgram(f *testing.F) {
	f.Fuzz(func(t *testing.T, line, lineStr, str []byte) {
		d := &Dwarf{sec: dwarfSections{line: line, lineStr: lineStr, str: str, order: binary.LittleEndian},
			abbrevs: map[uint64]*abbrevTable{}, strBase: map[uint64]uint64{}}
		lt, err := d.runLineProgram(0, "/build", "fuzz.c")
		if err == nil && len(lt.rows) > 1<<20 {
			t.Fatalf("%d rows from a %d-byte program", len(lt.rows), len(line))
		}
	})
}

// FuzzCFI decodes .debug_frame or .eh_frame and executes the rows of the
// FDEs found.
func FuzzCFI(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, eh, bigEndian bool, pc uint64) {
		var order binary.ByteOrder = binary.LittleEndian
		if bigEndian {
			order = binary.BigEndian
		}
		c := NewCFI(data, order, eh, 0xffffffff81000000, 8, 62) // EM_X86_64
		c.Len()
		c.Err()
		c.RowForPC(pc)
		for i, fd := range c.fdes[:min(len(c.fdes), 32)] {
			c.Covers(fd.lo)
			if row, err := c.RowForPC(fd.lo + uint64(i)); err == nil {
				for _, r := range row.Regs {
					if r.Kind == RuleExpression || r.Kind == RuleValExpression {
						EvalCFIExpr(r.Expr, order, CFIExprEnv{
							Reg:  func(uint64) (uint64, bool) { return 0x1000, true },
							Read: func(uint64, int) (uint64, error) { return 0x2000, nil },
						}, 0x3000)
					}
				}
			}
		}
	})
}

// FuzzCFIExpr evaluates DWARF expressions of CFI rules.
func FuzzCFIExpr(f *testing.F) {
	f.Add([]byte{0x77, 0x08, 0x06}) // DW_OP_breg7 8; DW_OP_deref
	f.Fuzz(func(t *testing.T, expr []byte) {
		EvalCFIExpr(expr, binary.LittleEndian, CFIExprEnv{
			Reg:  func(r uint64) (uint64, bool) { return r * 8, r < 17 },
			Read: func(a uint64, n int) (uint64, error) { return a + uint64(n), nil },
		}, 0x1000)
	})
}
