package symbols

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// CFI is a table of DWARF call frame information (DWARF 5 §6.4): the
// .debug_frame section, or the .eh_frame section in its GNU variant. It is
// made of CIEs (common information: alignment factors, the return address
// column, the initial rules) and FDEs (one per function: its address range
// and the instructions that change the rules from instruction to
// instruction). Executing an FDE's instructions up to an address gives the
// row of the table for that address: how to find the caller's stack
// pointer (the CFA) and where each register of the caller was saved.
//
// The index from addresses to FDEs is built on the first lookup.
type CFI struct {
	data  []byte
	order binary.ByteOrder
	eh    bool   // .eh_frame: CIE ids of 0, CIE pointers relative, encoded addresses
	addr  uint64 // the section's address (for pc-relative pointers in .eh_frame)
	// addrSize is the size of a target address (8 for ELF64).
	addrSize int
	// aarch64 makes opcode 0x2d DW_CFA_AARCH64_negate_ra_state (on other
	// machines it is SPARC's DW_CFA_GNU_window_save).
	aarch64 bool

	once  sync.Once
	fdes  []fde
	cies  map[uint64]*cie
	err   error // the first entry that could not be read
	nbad  int   // how many entries could not be read
	ciemu sync.Mutex
}

// cie is a decoded Common Information Entry.
type cie struct {
	version   uint8
	codeAlign uint64
	dataAlign int64
	ra        uint64 // return address column
	addrSize  int
	fdeEnc    byte // pointer encoding of FDE addresses (.eh_frame 'R')
	hasAug    bool // 'z': FDEs carry an augmentation length
	initial   []byte
	initRow   *CFIRow // the row after the initial instructions (lazily)
	initErr   error
}

// fde is one FDE in the index.
type fde struct {
	lo, hi uint64
	ins    []byte
	cie    *cie
}

// CFI register rules.
type RuleKind uint8

const (
	// RuleUnspecified: no instruction named the register; the ABI's
	// default applies (callee-saved registers keep their values).
	RuleUnspecified   RuleKind = iota
	RuleUndefined              // the caller's value cannot be recovered
	RuleSameValue              // unchanged from the callee
	RuleOffset                 // saved at CFA+Offset
	RuleValOffset              // the value is CFA+Offset
	RuleRegister               // held in register Reg
	RuleExpression             // saved at the address Expr computes (CFA pushed first)
	RuleValExpression          // the value Expr computes (CFA pushed first)
	RuleCFA                    // CFA only: register Reg plus Offset
	RuleCFAExpression          // CFA only: the value of Expr
)

// Rule is how to recover one register (or the CFA).
type Rule struct {
	Kind   RuleKind
	Reg    uint64
	Offset int64
	Expr   []byte
}

// CFIRow is the row of the CFI table for one address.
type CFIRow struct {
	Loc uint64 // the first address the row covers
	CFA Rule
	// Regs holds every register with a rule other than unspecified.
	Regs map[uint64]Rule
	// RA is the return address column (the CIE's).
	RA uint64
	// RASigned reports that the return address was signed by pointer
	// authentication (arm64's DW_CFA_AARCH64_negate_ra_state toggles it):
	// its PAC bits must be stripped before use.
	RASigned bool
	// Lo and Hi are the FDE's address range.
	Lo, Hi uint64
}

// Rule gives a register's rule (RuleUnspecified when the row has none).
func (r *CFIRow) Rule(reg uint64) Rule { return r.Regs[reg] }

func (r *CFIRow) clone() *CFIRow {
	c := *r
	c.Regs = make(map[uint64]Rule, len(r.Regs))
	for k, v := range r.Regs {
		c.Regs[k] = v
	}
	return &c
}

// NoCFIError reports an address no FDE covers.
type NoCFIError struct{ PC uint64 }

func (e *NoCFIError) Error() string { return fmt.Sprintf("no call frame information for %#x", e.PC) }

// NewCFI reads a .debug_frame (eh false) or .eh_frame (eh true) section
// whose contents are data, loaded at addr, for a machine with addresses of
// addrSize bytes. Nothing is decoded until the first lookup.
func NewCFI(data []byte, order binary.ByteOrder, eh bool, addr uint64, addrSize int, machine elf.Machine) *CFI {
	return &CFI{data: data, order: order, eh: eh, addr: addr, addrSize: addrSize, aarch64: machine == elf.EM_AARCH64}
}

// LoadCFI reads the vmlinux's .debug_frame and .eh_frame, whichever it
// has (.debug_frame first). It fails when it has neither.
func (v *Vmlinux) LoadCFI() ([]*CFI, error) {
	var out []*CFI
	size := 8
	if v.File.Class == elf.ELFCLASS32 {
		size = 4
	}
	for _, s := range []struct {
		name string
		eh   bool
	}{{".debug_frame", false}, {".eh_frame", true}} {
		sec := v.File.Section(s.name)
		if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size == 0 {
			continue
		}
		b := v.sectionBytes(sec)
		if b == nil {
			return nil, fmt.Errorf("%s: section %s runs past the end of the file", v.Path, s.name)
		}
		if sec.Flags&elf.SHF_COMPRESSED != 0 {
			var err error
			if b, err = decompressSection(v.File, s.name, b); err != nil {
				return nil, err
			}
		}
		out = append(out, NewCFI(b, v.File.ByteOrder, s.eh, sec.Addr, size, v.Machine))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no .debug_frame or .eh_frame section", v.Path)
	}
	return out, nil
}

// Len is the number of FDEs in the index.
func (c *CFI) Len() int {
	c.once.Do(c.build)
	return len(c.fdes)
}

// Err reports the first entry that could not be decoded while the index
// was built, and how many could not (the others are usable).
func (c *CFI) Err() (int, error) {
	c.once.Do(c.build)
	return c.nbad, c.err
}

// cfiReader reads the primitive forms of CFI from a byte slice; any read
// past the end sets err and returns zero.
type cfiReader struct {
	b     []byte
	pos   int
	order binary.ByteOrder
	err   error
}

func (r *cfiReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("truncated at offset %#x", r.pos)
	}
	r.pos = len(r.b)
}

func (r *cfiReader) need(n int) bool {
	if r.err != nil || n < 0 || n > len(r.b)-r.pos {
		r.fail()
		return false
	}
	return true
}

func (r *cfiReader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	r.pos++
	return r.b[r.pos-1]
}

func (r *cfiReader) u16() uint64 {
	if !r.need(2) {
		return 0
	}
	r.pos += 2
	return uint64(r.order.Uint16(r.b[r.pos-2:]))
}

func (r *cfiReader) u32() uint64 {
	if !r.need(4) {
		return 0
	}
	r.pos += 4
	return uint64(r.order.Uint32(r.b[r.pos-4:]))
}

func (r *cfiReader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	r.pos += 8
	return r.order.Uint64(r.b[r.pos-8:])
}

func (r *cfiReader) uint(size int) uint64 {
	switch size {
	case 1:
		return uint64(r.u8())
	case 2:
		return r.u16()
	case 4:
		return r.u32()
	case 8:
		return r.u64()
	}
	if r.err == nil {
		r.err = fmt.Errorf("unsupported address size %d", size)
	}
	return 0
}

func (r *cfiReader) uleb() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if !r.need(1) {
			return 0
		}
		b := r.b[r.pos]
		r.pos++
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b&0x80 == 0 {
			return v
		}
	}
}

func (r *cfiReader) sleb() int64 {
	var v int64
	var shift uint
	for {
		if !r.need(1) {
			return 0
		}
		b := r.b[r.pos]
		r.pos++
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

func (r *cfiReader) cstring() string {
	for i := r.pos; i < len(r.b); i++ {
		if r.b[i] == 0 {
			s := string(r.b[r.pos:i])
			r.pos = i + 1
			return s
		}
	}
	r.fail()
	return ""
}

func (r *cfiReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) || !r.need(int(n)) {
		r.fail()
		return nil
	}
	r.pos += int(n)
	return r.b[r.pos-int(n) : r.pos]
}

// Pointer encodings of .eh_frame (DW_EH_PE_*).
const (
	pePtr     = 0x00
	peULEB    = 0x01
	peU2      = 0x02
	peU4      = 0x03
	peU8      = 0x04
	peSLEB    = 0x09
	peS2      = 0x0a
	peS4      = 0x0b
	peS8      = 0x0c
	pePCRel   = 0x10
	peAligned = 0x50
	peOmit    = 0xff
)

// pointer reads a pointer in encoding enc; secAddr is the section's
// address, for pc-relative encodings (applied only when rel is set: an
// FDE's address range is a length, not an address).
func (c *CFI) pointer(r *cfiReader, enc byte, rel bool) (uint64, error) {
	if enc == peOmit {
		return 0, nil
	}
	at := c.addr + uint64(r.pos)
	if enc&0x70 == peAligned {
		for r.pos%c.addrSize != 0 {
			r.u8()
		}
		enc = pePtr
	}
	var v uint64
	switch enc & 0x0f {
	case pePtr:
		v = r.uint(c.addrSize)
	case peULEB:
		v = r.uleb()
	case peU2:
		v = r.u16()
	case peU4:
		v = r.u32()
	case peU8:
		v = r.u64()
	case peSLEB:
		v = uint64(r.sleb())
	case peS2:
		v = uint64(int64(int16(r.u16())))
	case peS4:
		v = uint64(int64(int32(r.u32())))
	case peS8:
		v = r.u64()
	default:
		return 0, fmt.Errorf("unsupported pointer encoding %#x", enc)
	}
	if r.err != nil {
		return 0, r.err
	}
	if !rel {
		return v, nil
	}
	switch enc & 0x70 {
	case 0:
	case pePCRel:
		v += at
	default:
		return 0, fmt.Errorf("unsupported pointer encoding %#x (needs a base the kernel image does not give)", enc)
	}
	if enc&0x80 != 0 {
		return 0, fmt.Errorf("indirect pointer encoding %#x in an FDE address", enc)
	}
	return v, nil
}

// entry is one CIE or FDE's framing.
type cfiEntry struct {
	start   int // offset of the length field
	body    int // offset after the CIE id / pointer
	end     int // offset after the entry
	idPos   int // offset of the CIE id / pointer field
	id      uint64
	offSize int // 4 or 8 (32- or 64-bit DWARF)
	isCIE   bool
}

// entryAt reads the framing of the entry at off. ok is false at the end of
// the section (or at .eh_frame's zero terminator).
func (c *CFI) entryAt(off int) (e cfiEntry, ok bool, err error) {
	r := &cfiReader{b: c.data, pos: off, order: c.order}
	e.start = off
	length := r.u32()
	e.offSize = 4
	if length == 0xffffffff {
		length = r.u64()
		e.offSize = 8
	} else if length >= 0xfffffff0 {
		return e, false, fmt.Errorf("entry at %#x: reserved length %#x", off, length)
	}
	if r.err != nil {
		return e, false, fmt.Errorf("entry at %#x: %v", off, r.err)
	}
	if length == 0 {
		if c.eh {
			return e, false, nil // the terminator
		}
		return e, false, fmt.Errorf("entry at %#x has length 0", off)
	}
	if length > uint64(len(c.data)-r.pos) || length < uint64(e.offSize) {
		return e, false, fmt.Errorf("entry at %#x: length %#x runs past the end of the section (%#x bytes)", off, length, len(c.data))
	}
	e.end = r.pos + int(length)
	e.idPos = r.pos
	e.id = r.uint(e.offSize)
	e.body = r.pos
	switch {
	case c.eh:
		e.isCIE = e.id == 0
	case e.offSize == 4:
		e.isCIE = e.id == 0xffffffff
	default:
		e.isCIE = e.id == ^uint64(0)
	}
	return e, true, nil
}

// cieAt decodes the CIE at off (cached).
func (c *CFI) cieAt(off uint64) (*cie, error) {
	c.ciemu.Lock()
	defer c.ciemu.Unlock()
	if ce, ok := c.cies[off]; ok {
		return ce, nil
	}
	if off >= uint64(len(c.data)) {
		return nil, fmt.Errorf("CIE pointer %#x outside the section", off)
	}
	e, ok, err := c.entryAt(int(off))
	if err != nil {
		return nil, err
	}
	if !ok || !e.isCIE {
		return nil, fmt.Errorf("no CIE at %#x", off)
	}
	r := &cfiReader{b: c.data[:e.end], pos: e.body, order: c.order}
	ce := &cie{addrSize: c.addrSize, fdeEnc: pePtr}
	ce.version = r.u8()
	if ce.version != 1 && ce.version != 3 && ce.version != 4 {
		return nil, fmt.Errorf("CIE at %#x: unsupported version %d", off, ce.version)
	}
	aug := r.cstring()
	if ce.version >= 4 {
		ce.addrSize = int(r.u8())
		if seg := r.u8(); seg != 0 {
			return nil, fmt.Errorf("CIE at %#x: segment selectors (%d bytes) are not supported", off, seg)
		}
	}
	ce.codeAlign = r.uleb()
	ce.dataAlign = r.sleb()
	if ce.version == 1 {
		ce.ra = uint64(r.u8())
	} else {
		ce.ra = r.uleb()
	}
	if len(aug) > 0 {
		if aug[0] != 'z' {
			return nil, fmt.Errorf("CIE at %#x: augmentation %q is not understood", off, aug)
		}
		ce.hasAug = true
		n := r.uleb()
		data := r.bytes(n)
		if r.err != nil {
			return nil, fmt.Errorf("CIE at %#x: %v", off, r.err)
		}
		ar := &cfiReader{b: data, order: c.order}
		for _, ch := range aug[1:] {
			switch ch {
			case 'R':
				ce.fdeEnc = ar.u8()
			case 'L':
				ar.u8() // the LSDA's encoding: only FDE augmentation data uses it
			case 'P':
				ar.skipPointer(c, ar.u8())
			case 'S', 'B', 'G':
				// signal frame, BTI, MTE-tagged stack: no data
			default:
				// The length lets the rest be skipped.
			}
			if ar.err != nil {
				return nil, fmt.Errorf("CIE at %#x: augmentation data: %v", off, ar.err)
			}
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("CIE at %#x: %v", off, r.err)
	}
	ce.initial = c.data[r.pos:e.end]
	if c.cies == nil {
		c.cies = map[uint64]*cie{}
	}
	c.cies[off] = ce
	return ce, nil
}

// skipPointer skips a personality pointer in encoding enc.
func (r *cfiReader) skipPointer(c *CFI, enc byte) {
	if _, err := c.pointer(r, enc&^0x80, false); err != nil && r.err == nil {
		r.err = err
	}
}

// build indexes every FDE by address.
func (c *CFI) build() {
	// The entries counted first, so that the table is allocated once
	// (grown by append, its copies were most of an arm64 start's first
	// backtrace).
	n := 0
	for off := 0; off < len(c.data); {
		e, ok, err := c.entryAt(off)
		if err != nil || !ok {
			break
		}
		if !e.isCIE {
			n++
		}
		off = e.end
	}
	c.fdes = make([]fde, 0, n)
	off := 0
	for off < len(c.data) {
		e, ok, err := c.entryAt(off)
		if err != nil {
			c.bad(err)
			break // the framing is lost: nothing after it can be trusted
		}
		if !ok {
			break
		}
		off = e.end
		if e.isCIE {
			continue
		}
		f, err := c.decodeFDE(e)
		if err != nil {
			c.bad(err)
			continue
		}
		if f.hi > f.lo {
			c.fdes = append(c.fdes, f)
		}
	}
	// Sorted by address through pointer-free keys (moving the entries
	// themselves, by sort.Slice's reflection swapper, cost two thirds of
	// an arm64 start's first backtrace); entries of one address keep
	// their order in the section.
	type key struct {
		lo uint64
		i  int
	}
	keys := make([]key, len(c.fdes))
	sorted := true
	for i := range c.fdes {
		keys[i] = key{c.fdes[i].lo, i}
		sorted = sorted && (i == 0 || c.fdes[i-1].lo <= c.fdes[i].lo)
	}
	if sorted {
		return
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.lo, b.lo); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	// Permuted in place, cycle by cycle: entry j takes entry keys[j].i.
	for j := range keys {
		if keys[j].i < 0 {
			continue
		}
		tmp := c.fdes[j]
		at := j
		for {
			from := keys[at].i
			keys[at].i = -1
			if from == j {
				c.fdes[at] = tmp
				break
			}
			c.fdes[at] = c.fdes[from]
			at = from
		}
	}
}

func (c *CFI) bad(err error) {
	if c.err == nil {
		c.err = err
	}
	c.nbad++
}

func (c *CFI) decodeFDE(e cfiEntry) (fde, error) {
	var f fde
	cieOff := e.id
	if c.eh {
		cieOff = uint64(e.idPos) - e.id
	}
	ce, err := c.cieAt(cieOff)
	if err != nil {
		return f, fmt.Errorf("FDE at %#x: %v", e.start, err)
	}
	r := &cfiReader{b: c.data[:e.end], pos: e.body, order: c.order}
	if c.eh {
		if f.lo, err = c.pointer(r, ce.fdeEnc, true); err == nil {
			f.hi, err = c.pointer(r, ce.fdeEnc&0x0f, false)
		}
		if err != nil {
			return f, fmt.Errorf("FDE at %#x: %v", e.start, err)
		}
	} else {
		f.lo = r.uint(ce.addrSize)
		f.hi = r.uint(ce.addrSize)
	}
	f.hi += f.lo
	if ce.hasAug {
		r.bytes(r.uleb())
	}
	if r.err != nil {
		return f, fmt.Errorf("FDE at %#x: %v", e.start, r.err)
	}
	f.ins, f.cie = c.data[r.pos:e.end], ce
	return f, nil
}

// find returns the FDE covering pc.
func (c *CFI) find(pc uint64) (*fde, bool) {
	c.once.Do(c.build)
	i := sort.Search(len(c.fdes), func(i int) bool { return c.fdes[i].lo > pc }) - 1
	// FDEs may nest or overlap in a broken table: look back a little.
	for j := i; j >= 0 && j > i-4; j-- {
		if pc >= c.fdes[j].lo && pc < c.fdes[j].hi {
			return &c.fdes[j], true
		}
	}
	return nil, false
}

// Covers reports whether an FDE covers pc.
func (c *CFI) Covers(pc uint64) bool {
	_, ok := c.find(pc)
	return ok
}

// RowForPC computes the CFI row for the link-time address pc. The error is
// a *NoCFIError when no FDE covers pc.
func (c *CFI) RowForPC(pc uint64) (*CFIRow, error) {
	f, ok := c.find(pc)
	if !ok {
		return nil, &NoCFIError{PC: pc}
	}
	init, err := c.initialRow(f.cie)
	if err != nil {
		return nil, err
	}
	row := init.clone()
	row.Loc, row.Lo, row.Hi = f.lo, f.lo, f.hi
	if err := c.execute(f.cie, f.ins, row, init, pc); err != nil {
		return nil, fmt.Errorf("FDE for %#x..%#x: %v", f.lo, f.hi, err)
	}
	return row, nil
}

func (c *CFI) initialRow(ce *cie) (*CFIRow, error) {
	c.ciemu.Lock()
	defer c.ciemu.Unlock()
	if ce.initRow == nil && ce.initErr == nil {
		row := &CFIRow{Regs: map[uint64]Rule{}, RA: ce.ra}
		if err := c.execute(ce, ce.initial, row, nil, ^uint64(0)); err != nil {
			ce.initErr = fmt.Errorf("CIE initial instructions: %v", err)
		} else {
			ce.initRow = row
		}
	}
	return ce.initRow, ce.initErr
}

// CFA instructions (DW_CFA_*).
const (
	cfaAdvanceLoc        = 0x40
	cfaOffset            = 0x80
	cfaRestore           = 0xc0
	cfaNop               = 0x00
	cfaSetLoc            = 0x01
	cfaAdvanceLoc1       = 0x02
	cfaAdvanceLoc2       = 0x03
	cfaAdvanceLoc4       = 0x04
	cfaOffsetExtended    = 0x05
	cfaRestoreExtended   = 0x06
	cfaUndefined         = 0x07
	cfaSameValue         = 0x08
	cfaRegister          = 0x09
	cfaRememberState     = 0x0a
	cfaRestoreState      = 0x0b
	cfaDefCFA            = 0x0c
	cfaDefCFARegister    = 0x0d
	cfaDefCFAOffset      = 0x0e
	cfaDefCFAExpression  = 0x0f
	cfaExpression        = 0x10
	cfaOffsetExtendedSF  = 0x11
	cfaDefCFASF          = 0x12
	cfaDefCFAOffsetSF    = 0x13
	cfaValOffset         = 0x14
	cfaValOffsetSF       = 0x15
	cfaValExpression     = 0x16
	cfaAArch64NegateRA   = 0x2d
	cfaGNUArgsSize       = 0x2e
	cfaGNUNegOffsetExtSF = 0x2f
)

// execute runs CFA instructions over row until the location passes pc.
// init is the CIE's initial row, which DW_CFA_restore returns registers
// to (nil while the CIE's own instructions run).
func (c *CFI) execute(ce *cie, ins []byte, row *CFIRow, init *CFIRow, pc uint64) error {
	r := &cfiReader{b: ins, order: c.order}
	var stack []*CFIRow
	advance := func(delta uint64) bool {
		loc := row.Loc + delta*ce.codeAlign
		if loc > pc {
			return false
		}
		row.Loc = loc
		return true
	}
	restore := func(reg uint64) {
		if init != nil {
			if rule, ok := init.Regs[reg]; ok {
				row.Regs[reg] = rule
				return
			}
		}
		delete(row.Regs, reg)
	}
	set := func(reg uint64, rule Rule) { row.Regs[reg] = rule }
	for r.pos < len(ins) {
		at := r.pos
		op := r.u8()
		switch op & 0xc0 {
		case cfaAdvanceLoc:
			if !advance(uint64(op & 0x3f)) {
				return nil
			}
			continue
		case cfaOffset:
			set(uint64(op&0x3f), Rule{Kind: RuleOffset, Offset: int64(r.uleb()) * ce.dataAlign})
			continue
		case cfaRestore:
			restore(uint64(op & 0x3f))
			continue
		}
		switch op {
		case cfaNop:
		case cfaSetLoc:
			var loc uint64
			if c.eh {
				var err error
				if loc, err = c.pointer(r, ce.fdeEnc, false); err != nil {
					return err
				}
			} else {
				loc = r.uint(ce.addrSize)
			}
			if r.err == nil {
				if loc > pc {
					return nil
				}
				row.Loc = loc
			}
		case cfaAdvanceLoc1, cfaAdvanceLoc2, cfaAdvanceLoc4:
			var d uint64
			switch op {
			case cfaAdvanceLoc1:
				d = uint64(r.u8())
			case cfaAdvanceLoc2:
				d = r.u16()
			default:
				d = r.u32()
			}
			if r.err == nil && !advance(d) {
				return nil
			}
		case cfaOffsetExtended:
			reg := r.uleb()
			set(reg, Rule{Kind: RuleOffset, Offset: int64(r.uleb()) * ce.dataAlign})
		case cfaOffsetExtendedSF:
			reg := r.uleb()
			set(reg, Rule{Kind: RuleOffset, Offset: r.sleb() * ce.dataAlign})
		case cfaGNUNegOffsetExtSF:
			reg := r.uleb()
			set(reg, Rule{Kind: RuleOffset, Offset: -int64(r.uleb()) * ce.dataAlign})
		case cfaValOffset:
			reg := r.uleb()
			set(reg, Rule{Kind: RuleValOffset, Offset: int64(r.uleb()) * ce.dataAlign})
		case cfaValOffsetSF:
			reg := r.uleb()
			set(reg, Rule{Kind: RuleValOffset, Offset: r.sleb() * ce.dataAlign})
		case cfaRestoreExtended:
			restore(r.uleb())
		case cfaUndefined:
			set(r.uleb(), Rule{Kind: RuleUndefined})
		case cfaSameValue:
			set(r.uleb(), Rule{Kind: RuleSameValue})
		case cfaRegister:
			reg := r.uleb()
			set(reg, Rule{Kind: RuleRegister, Reg: r.uleb()})
		case cfaRememberState:
			stack = append(stack, row.clone())
		case cfaRestoreState:
			if len(stack) == 0 {
				return fmt.Errorf("DW_CFA_restore_state at %#x without a remembered state", at)
			}
			saved := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			loc := row.Loc
			*row = *saved
			row.Loc = loc
		case cfaDefCFA:
			reg := r.uleb()
			row.CFA = Rule{Kind: RuleCFA, Reg: reg, Offset: int64(r.uleb())}
		case cfaDefCFASF:
			reg := r.uleb()
			row.CFA = Rule{Kind: RuleCFA, Reg: reg, Offset: r.sleb() * ce.dataAlign}
		case cfaDefCFARegister:
			if row.CFA.Kind != RuleCFA {
				return fmt.Errorf("DW_CFA_def_cfa_register at %#x when the CFA is not register-based", at)
			}
			row.CFA.Reg = r.uleb()
		case cfaDefCFAOffset, cfaDefCFAOffsetSF:
			var o int64
			if op == cfaDefCFAOffset {
				o = int64(r.uleb())
			} else {
				o = r.sleb() * ce.dataAlign
			}
			if row.CFA.Kind != RuleCFA {
				return fmt.Errorf("DW_CFA_def_cfa_offset at %#x when the CFA is not register-based", at)
			}
			row.CFA.Offset = o
		case cfaDefCFAExpression:
			row.CFA = Rule{Kind: RuleCFAExpression, Expr: r.bytes(r.uleb())}
		case cfaExpression, cfaValExpression:
			reg := r.uleb()
			k := RuleExpression
			if op == cfaValExpression {
				k = RuleValExpression
			}
			set(reg, Rule{Kind: k, Expr: r.bytes(r.uleb())})
		case cfaGNUArgsSize:
			r.uleb() // bytes of outgoing arguments: the CFA does not depend on it
		case cfaAArch64NegateRA:
			if !c.aarch64 {
				return fmt.Errorf("DW_CFA_GNU_window_save (SPARC) at %#x", at)
			}
			row.RASigned = !row.RASigned
		default:
			return fmt.Errorf("unknown CFA instruction %#x at %#x", op, at)
		}
		if r.err != nil {
			return fmt.Errorf("instruction %#x at %#x: %v", op, at, r.err)
		}
	}
	return nil
}

// CFIExprEnv is what a DWARF expression in CFI may read.
type CFIExprEnv struct {
	Reg  func(reg uint64) (uint64, bool)
	Read func(addr uint64, size int) (uint64, error)
}

// EvalCFIExpr evaluates a DWARF expression of a CFI rule (DWARF 5 §2.5)
// with initial on the stack first: the common forms (constants, register
// plus offset, arithmetic, dereferences). Other operations are an error.
func EvalCFIExpr(expr []byte, order binary.ByteOrder, env CFIExprEnv, initial ...uint64) (uint64, error) {
	st := append([]uint64(nil), initial...)
	r := &cfiReader{b: expr, order: order}
	pop := func() (uint64, error) {
		if len(st) == 0 {
			return 0, fmt.Errorf("DWARF expression stack underflow")
		}
		v := st[len(st)-1]
		st = st[:len(st)-1]
		return v, nil
	}
	reg := func(n uint64) (uint64, error) {
		v, ok := env.Reg(n)
		if !ok {
			return 0, fmt.Errorf("DWARF expression needs register %d, which is not known", n)
		}
		return v, nil
	}
	for r.pos < len(expr) {
		op := r.u8()
		switch {
		case op >= 0x30 && op <= 0x4f: // DW_OP_lit0..31
			st = append(st, uint64(op-0x30))
			continue
		case op >= 0x70 && op <= 0x8f: // DW_OP_breg0..31
			off := r.sleb()
			v, err := reg(uint64(op - 0x70))
			if err != nil {
				return 0, err
			}
			st = append(st, v+uint64(off))
			continue
		}
		switch op {
		case 0x03: // DW_OP_addr
			st = append(st, r.uint(8))
		case 0x08:
			st = append(st, uint64(r.u8()))
		case 0x09:
			st = append(st, uint64(int64(int8(r.u8()))))
		case 0x0a:
			st = append(st, r.u16())
		case 0x0b:
			st = append(st, uint64(int64(int16(r.u16()))))
		case 0x0c:
			st = append(st, r.u32())
		case 0x0d:
			st = append(st, uint64(int64(int32(r.u32()))))
		case 0x0e, 0x0f:
			st = append(st, r.u64())
		case 0x10:
			st = append(st, r.uleb())
		case 0x11:
			st = append(st, uint64(r.sleb()))
		case 0x12: // dup
			if len(st) == 0 {
				return 0, fmt.Errorf("DWARF expression stack underflow")
			}
			st = append(st, st[len(st)-1])
		case 0x13: // drop
			if _, err := pop(); err != nil {
				return 0, err
			}
		case 0x14: // over
			if len(st) < 2 {
				return 0, fmt.Errorf("DWARF expression stack underflow")
			}
			st = append(st, st[len(st)-2])
		case 0x16: // swap
			if len(st) < 2 {
				return 0, fmt.Errorf("DWARF expression stack underflow")
			}
			st[len(st)-1], st[len(st)-2] = st[len(st)-2], st[len(st)-1]
		case 0x06, 0x94: // deref, deref_size
			size := 8
			if op == 0x94 {
				size = int(r.u8())
			}
			a, err := pop()
			if err != nil {
				return 0, err
			}
			v, err := env.Read(a, size)
			if err != nil {
				return 0, err
			}
			st = append(st, v)
		case 0x23: // plus_uconst
			a, err := pop()
			if err != nil {
				return 0, err
			}
			st = append(st, a+r.uleb())
		case 0x1f, 0x20: // neg, not
			a, err := pop()
			if err != nil {
				return 0, err
			}
			if op == 0x1f {
				st = append(st, -a)
			} else {
				st = append(st, ^a)
			}
		case 0x1a, 0x1c, 0x1e, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27:
			b, err := pop()
			if err != nil {
				return 0, err
			}
			a, err := pop()
			if err != nil {
				return 0, err
			}
			var v uint64
			switch op {
			case 0x1a:
				v = a & b
			case 0x1c:
				v = a - b
			case 0x1e:
				v = a * b
			case 0x21:
				v = a | b
			case 0x22:
				v = a + b
			case 0x24:
				v = a << (b & 63)
			case 0x25:
				v = a >> (b & 63)
			case 0x26:
				v = uint64(int64(a) >> (b & 63))
			case 0x27:
				v = a ^ b
			}
			st = append(st, v)
		case 0x92: // bregx
			n := r.uleb()
			off := r.sleb()
			v, err := reg(n)
			if err != nil {
				return 0, err
			}
			st = append(st, v+uint64(off))
		case 0x96: // nop
		default:
			return 0, fmt.Errorf("DWARF expression operation %#x is not supported in call frame information", op)
		}
		if r.err != nil {
			return 0, fmt.Errorf("DWARF expression: %v", r.err)
		}
	}
	if len(st) == 0 {
		return 0, fmt.Errorf("DWARF expression left an empty stack")
	}
	return st[len(st)-1], nil
}
