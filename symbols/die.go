package symbols

// die is one decoded debugging information entry.
type die struct {
	off      uint64
	tag      uint16
	children bool
	attrs    []attrValue
	u        *unit
	end      uint64 // offset just past the attributes (first child, if any)
	sibling  uint64 // DW_AT_sibling, 0 when absent
}

func (e *die) attr(a uint16) (attrValue, bool) {
	for _, v := range e.attrs {
		if v.attr == a {
			return v, true
		}
	}
	return attrValue{}, false
}

func (e *die) name() string {
	if v, ok := e.attr(atName); ok && v.class == classString {
		return string(v.str)
	}
	return ""
}

func (e *die) flag(a uint16) bool {
	v, ok := e.attr(a)
	return ok && v.u != 0
}

// constant returns an unsigned constant attribute.
func (e *die) constant(a uint16) (int64, bool) {
	v, ok := e.attr(a)
	if !ok || v.class != classConst {
		return 0, false
	}
	return int64(v.u), true
}

func (e *die) ref(a uint16) (uint64, bool) {
	v, ok := e.attr(a)
	if !ok || v.class != classRef {
		return 0, false
	}
	return v.u, true
}

// readDIE decodes the entry at off (nil, nil for a null entry).
func (d *Dwarf) readDIE(off uint64) (*die, error) {
	u, err := d.unitOf(off)
	if err != nil {
		return nil, err
	}
	t, err := d.abbrevsOf(u)
	if err != nil {
		return nil, err
	}
	b := buf{data: d.sec.info[:u.end], off: off, name: ".debug_info", order: d.sec.order}
	code := b.uleb()
	if b.err != nil {
		return nil, b.err
	}
	if code == 0 {
		return nil, nil
	}
	a := t.get(code)
	if a == nil {
		return nil, &DecodeError{".debug_info", off, "abbreviation code not in the unit's table"}
	}
	e := &die{off: off, tag: a.tag, children: a.children, u: u, attrs: make([]attrValue, 0, len(a.attrs))}
	for _, at := range a.attrs {
		v := d.readForm(&b, at.form, at.implicit, u)
		v.attr = at.attr
		if at.attr == atSibling && v.class == classRef {
			e.sibling = v.u
		}
		e.attrs = append(e.attrs, v)
	}
	if b.err != nil {
		return nil, b.err
	}
	e.end = b.off
	return e, nil
}

// childrenOf returns e's direct children.
func (d *Dwarf) childrenOf(e *die) ([]*die, error) {
	if !e.children {
		return nil, nil
	}
	var out []*die
	off := e.end
	for off < e.u.end {
		c, err := d.readDIE(off)
		if err != nil {
			return nil, err
		}
		if c == nil {
			break
		}
		out = append(out, c)
		next, err := d.skipDIE(c)
		if err != nil {
			return nil, err
		}
		off = next
	}
	return out, nil
}

// skipDIE returns the offset of the entry after e and all its children.
func (d *Dwarf) skipDIE(e *die) (uint64, error) {
	if !e.children {
		return e.end, nil
	}
	if e.sibling > e.off && e.sibling <= e.u.end {
		return e.sibling, nil
	}
	off := e.end
	for off < e.u.end {
		c, err := d.readDIE(off)
		if err != nil {
			return 0, err
		}
		if c == nil {
			// the null entry ending e's children: one byte
			return off + 1, nil
		}
		if off, err = d.skipDIE(c); err != nil {
			return 0, err
		}
	}
	return off, nil
}
