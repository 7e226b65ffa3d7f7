package symbols

import (
	"fmt"
	"path"
	"sort"
	"sync"
)

// Source lines: .debug_aranges finds the unit holding an address, and that
// unit's line-number program (.debug_line, DWARF 2 to 5) is run once and
// kept as a sorted table of rows.

// lineRow is one row of a line table: code from addr on comes from line of
// file (an index into the table's files).
type lineRow struct {
	addr uint64
	file uint32
	line uint32
	end  bool // end_sequence: the address just past a sequence
	stmt bool // is_stmt: a recommended breakpoint location
}

type lineTable struct {
	rows  []lineRow
	files []string
}

// lineIndex is the vmlinux's lines, read on first use.
type lineIndex struct {
	once   sync.Once
	err    error
	ranges []arange // sorted by lo

	mu     sync.Mutex
	tables map[uint64]*lineTable // by unit offset
}

type arange struct {
	lo, hi uint64
	unit   uint64
}

// LineForPC returns the source file and line of the code at the link-time
// address pc, as gdb names the file.
func (v *Vmlinux) LineForPC(pc uint64) (string, int, error) { return v.lineForPC(pc, 0) }

// lineForPC looks up the run-time address pc of a kernel placed reloc
// above its link-time addresses.
func (v *Vmlinux) lineForPC(pc, reloc uint64) (string, int, error) {
	d, err := v.DWARF()
	if err != nil {
		return "", 0, err
	}
	return d.lineForPC(pc, reloc)
}

// lineForPC looks up pc in d's line tables, whose addresses are reloc
// below pc's.
func (d *Dwarf) lineForPC(pc, reloc uint64) (string, int, error) {
	var err error
	li := &d.lines
	li.once.Do(func() { li.err = d.readAranges() })
	if li.err != nil {
		return "", 0, li.err
	}
	pc -= reloc
	i := sort.Search(len(li.ranges), func(i int) bool { return li.ranges[i].hi > pc })
	if i == len(li.ranges) || pc < li.ranges[i].lo {
		return "", 0, fmt.Errorf("no line information for %#x", pc+reloc)
	}
	unitOff := li.ranges[i].unit
	li.mu.Lock()
	lt, ok := li.tables[unitOff]
	li.mu.Unlock()
	if !ok {
		if lt, err = d.readLineTable(unitOff); err != nil {
			return "", 0, err
		}
		li.mu.Lock()
		if li.tables == nil {
			li.tables = map[uint64]*lineTable{}
		}
		li.tables[unitOff] = lt
		li.mu.Unlock()
	}
	j := sort.Search(len(lt.rows), func(j int) bool { return lt.rows[j].addr > pc }) - 1
	if j < 0 || lt.rows[j].end || int(lt.rows[j].file) >= len(lt.files) {
		return "", 0, fmt.Errorf("no line information for %#x", pc+reloc)
	}
	// Of the rows at that address, gdb takes the last that is a statement,
	// else the last.
	for k := j; k >= 0 && lt.rows[k].addr == lt.rows[j].addr && !lt.rows[k].end; k-- {
		if lt.rows[k].stmt {
			j = k
			break
		}
	}
	r := lt.rows[j]
	if int(r.file) >= len(lt.files) {
		return "", 0, fmt.Errorf("no line information for %#x", pc+reloc)
	}
	return lt.files[r.file], int(r.line), nil
}

// readAranges reads .debug_aranges.
func (d *Dwarf) readAranges() error {
	sec := d.sec.aranges
	if sec == nil {
		return fmt.Errorf("no .debug_aranges: source lines are not available")
	}
	b := buf{data: sec, name: ".debug_aranges", order: d.sec.order}
	var out []arange
	for b.off < uint64(len(sec)) && b.err == nil {
		start := b.off
		length := uint64(b.u32())
		dwarf64 := false
		if length == 0xffffffff {
			length, dwarf64 = b.u64(), true
		}
		end := b.off + length
		if end > uint64(len(sec)) {
			return &DecodeError{".debug_aranges", start, "set runs past the end of the section"}
		}
		b.u16() // version
		var unitOff uint64
		if dwarf64 {
			unitOff = b.u64()
		} else {
			unitOff = uint64(b.u32())
		}
		addrSize := uint64(b.u8())
		b.u8() // segment selector size
		// Tuples start at a multiple of twice the address size.
		if tup := 2 * addrSize; tup > 0 {
			if r := (b.off - start) % tup; r != 0 {
				b.off += tup - r
			}
		}
		for b.off+2*addrSize <= end && b.err == nil {
			var lo, n uint64
			if addrSize == 8 {
				lo, n = b.u64(), b.u64()
			} else {
				lo, n = uint64(b.u32()), uint64(b.u32())
			}
			if lo == 0 && n == 0 {
				break
			}
			out = append(out, arange{lo, lo + n, unitOff})
		}
		b.off = end
	}
	if b.err != nil {
		return b.err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	d.lines.ranges = out
	return nil
}

// readLineTable runs the line program of the unit at unitOff.
func (d *Dwarf) readLineTable(unitOff uint64) (*lineTable, error) {
	i := sort.Search(len(d.units), func(i int) bool { return d.units[i].off >= unitOff })
	if i == len(d.units) || d.units[i].off != unitOff {
		return nil, &DecodeError{".debug_aranges", unitOff, "refers to no unit"}
	}
	u := &d.units[i]
	cu, err := d.readDIE(u.data)
	if err != nil || cu == nil {
		return nil, fmt.Errorf("unit at %#x: no unit entry", unitOff)
	}
	sl, ok := cu.attr(0x10) // DW_AT_stmt_list
	if !ok {
		return nil, fmt.Errorf("unit at %#x has no line table", unitOff)
	}
	compDir := ""
	if v, ok := cu.attr(0x1b); ok { // DW_AT_comp_dir
		compDir = string(v.str)
	}
	return d.runLineProgram(sl.u, compDir, string(cu.name()))
}

func (d *Dwarf) runLineProgram(off uint64, compDir, cuName string) (*lineTable, error) {
	sec := d.sec.line
	b := buf{data: sec, off: off, name: ".debug_line", order: d.sec.order}
	length := uint64(b.u32())
	dwarf64 := false
	if length == 0xffffffff {
		length, dwarf64 = b.u64(), true
	}
	end := b.off + length
	if end > uint64(len(sec)) || b.err != nil {
		return nil, &DecodeError{".debug_line", off, "line table runs past the end of the section"}
	}
	b.data = sec[:end]
	version := b.u16()
	if version < 2 || version > 5 {
		return nil, &DecodeError{".debug_line", off, fmt.Sprintf("line table version %d", version)}
	}
	addrSize := uint64(8)
	if version >= 5 {
		addrSize = uint64(b.u8())
		b.u8() // segment selector size
	}
	var hdrLen uint64
	if dwarf64 {
		hdrLen = b.u64()
	} else {
		hdrLen = uint64(b.u32())
	}
	progStart := b.off + hdrLen
	minInst := uint64(b.u8())
	if version >= 4 {
		b.u8() // maximum operations per instruction (VLIW only)
	}
	defaultStmt := b.u8() != 0
	lineBase := int64(int8(b.u8()))
	lineRange := uint64(b.u8())
	opcodeBase := b.u8()
	stdLens := b.bytes(uint64(max(int(opcodeBase)-1, 0)))
	if lineRange == 0 || b.err != nil {
		return nil, &DecodeError{".debug_line", off, "bad line table header"}
	}
	u := &unit{dwarf64: dwarf64, addrSize: uint8(addrSize), version: version}
	var dirs, files []string
	var fileDirs []uint64
	if version >= 5 {
		readEntries := func(each func(path string, dir uint64)) error {
			nfmt := b.u8()
			type fe struct{ typ, form uint64 }
			fmts := make([]fe, nfmt)
			for i := range fmts {
				fmts[i] = fe{b.uleb(), b.uleb()}
			}
			n := b.uleb()
			if n > uint64(len(b.data))-min(b.off, uint64(len(b.data))) {
				// Every entry takes a byte at least: a corrupt count.
				return &DecodeError{".debug_line", off, fmt.Sprintf("%d entries in the %d bytes left", n, uint64(len(b.data))-min(b.off, uint64(len(b.data))))}
			}
			for i := uint64(0); i < n && b.err == nil; i++ {
				var p string
				var dir uint64
				for _, f := range fmts {
					v := d.readForm(&b, uint16(f.form), 0, u)
					switch f.typ {
					case 1: // DW_LNCT_path
						p = string(v.str)
					case 2: // DW_LNCT_directory_index
						dir = v.u
					}
				}
				each(p, dir)
			}
			return b.err
		}
		if err := readEntries(func(p string, _ uint64) { dirs = append(dirs, p) }); err != nil {
			return nil, err
		}
		if err := readEntries(func(p string, dir uint64) { files = append(files, p); fileDirs = append(fileDirs, dir) }); err != nil {
			return nil, err
		}
	} else {
		dirs = append(dirs, compDir)
		for {
			s := b.cstr()
			if len(s) == 0 || b.err != nil {
				break
			}
			dirs = append(dirs, string(s))
		}
		files = append(files, cuName)
		fileDirs = append(fileDirs, 0)
		for {
			s := b.cstr()
			if len(s) == 0 || b.err != nil {
				break
			}
			dir := b.uleb()
			b.uleb()
			b.uleb()
			files = append(files, string(s))
			fileDirs = append(fileDirs, dir)
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	lt := &lineTable{}
	for i, f := range files {
		// gdb's name for a file: joined to its directory, and a relative
		// directory to the compilation directory.
		name := f
		if !path.IsAbs(f) && int(fileDirs[i]) < len(dirs) {
			dir := dirs[fileDirs[i]]
			if !path.IsAbs(dir) && fileDirs[i] != 0 && compDir != "" {
				dir = path.Join(compDir, dir)
			}
			if dir != "" {
				name = path.Join(dir, f)
			}
		}
		lt.files = append(lt.files, name)
	}
	// The program.
	b.off = progStart
	var addr uint64
	file, line := uint64(1), int64(1)
	if version >= 5 {
		file = 0
	}
	stmt := defaultStmt
	emit := func(endSeq bool) {
		lt.rows = append(lt.rows, lineRow{addr: addr, file: uint32(file), line: uint32(line), end: endSeq, stmt: stmt})
	}
	for b.off < end && b.err == nil {
		op := b.u8()
		switch {
		case op >= opcodeBase:
			adj := uint64(op - opcodeBase)
			addr += (adj / lineRange) * minInst
			line += lineBase + int64(adj%lineRange)
			emit(false)
		case op == 0:
			n := b.uleb()
			if n > end-min(b.off, end) {
				return nil, &DecodeError{".debug_line", off, fmt.Sprintf("extended opcode of %d bytes runs past the line table", n)}
			}
			next := b.off + n
			if n == 0 {
				continue
			}
			switch b.u8() {
			case 1: // end_sequence
				emit(true)
				addr, line = 0, 1
				stmt = defaultStmt
				file = 1
				if version >= 5 {
					file = 0
				}
			case 2: // set_address
				if n-1 == 4 {
					addr = uint64(b.u32())
				} else {
					addr = b.u64()
				}
			}
			b.off = next
		case op == 1: // copy
			emit(false)
		case op == 2:
			addr += b.uleb() * minInst
		case op == 3:
			line += b.sleb()
		case op == 4:
			file = b.uleb()
		case op == 6: // negate_stmt
			stmt = !stmt
		case op == 8: // const_add_pc
			addr += ((255 - uint64(opcodeBase)) / lineRange) * minInst
		case op == 9:
			addr += uint64(b.u16())
		default:
			// Other standard opcodes: skip their ULEB operands.
			if int(op-1) < len(stdLens) {
				for range stdLens[op-1] {
					b.uleb()
				}
			}
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	// Rows of different sequences interleave in address order; a stable
	// sort keeps each sequence's rows in program order.
	// An end_sequence row goes before a row at the same address (the next
	// sequence's start).
	sort.SliceStable(lt.rows, func(i, j int) bool {
		a, b := &lt.rows[i], &lt.rows[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		return a.end && !b.end
	})
	return lt, nil
}
