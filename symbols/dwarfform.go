package symbols

import (
	"bytes"
	"fmt"
)

// DWARF constants (DWARF 5 §7) that gocrash reads.
const (
	tagArrayType       = 0x01
	tagEnumerationType = 0x04
	tagFormalParameter = 0x05
	tagMember          = 0x0d
	tagPointerType     = 0x0f
	tagCompileUnit     = 0x11
	tagStructureType   = 0x13
	tagSubroutineType  = 0x15
	tagTypedef         = 0x16
	tagUnionType       = 0x17
	tagUnspecParams    = 0x18
	tagVariant         = 0x19
	tagInlinedSub      = 0x1d
	tagSubrangeType    = 0x21
	tagBaseType        = 0x24
	tagConstType       = 0x26
	tagEnumerator      = 0x28
	tagSubprogram      = 0x2e
	tagVariable        = 0x34
	tagVolatileType    = 0x35
	tagRestrictType    = 0x37
	tagPartialUnit     = 0x3c
	tagAtomicType      = 0x47
	tagUnspecifiedType = 0x3b

	atSibling            = 0x01
	atLocation           = 0x02
	atName               = 0x03
	atByteSize           = 0x0b
	atBitOffset          = 0x0c // DWARF 2/3, big-endian bit numbering
	atBitSize            = 0x0d
	atLowPC              = 0x11
	atLanguage           = 0x13
	atConstValue         = 0x1c
	atUpperBound         = 0x2f
	atPrototyped         = 0x27
	atCount              = 0x37
	atDataMemberLocation = 0x38
	atDeclaration        = 0x3c
	atEncoding           = 0x3e
	atExternal           = 0x3f
	atSpecification      = 0x47
	atType               = 0x49
	atDataBitOffset      = 0x6b
	atStrOffsetsBase     = 0x72
	atAddrBase           = 0x73
	atAlignment          = 0x88

	formAddr          = 0x01
	formBlock2        = 0x03
	formBlock4        = 0x04
	formData2         = 0x05
	formData4         = 0x06
	formData8         = 0x07
	formString        = 0x08
	formBlock         = 0x09
	formBlock1        = 0x0a
	formData1         = 0x0b
	formFlag          = 0x0c
	formSdata         = 0x0d
	formStrp          = 0x0e
	formUdata         = 0x0f
	formRefAddr       = 0x10
	formRef1          = 0x11
	formRef2          = 0x12
	formRef4          = 0x13
	formRef8          = 0x14
	formRefUdata      = 0x15
	formIndirect      = 0x16
	formSecOffset     = 0x17
	formExprloc       = 0x18
	formFlagPresent   = 0x19
	formStrx          = 0x1a
	formAddrx         = 0x1b
	formRefSup4       = 0x1c
	formStrpSup       = 0x1d
	formData16        = 0x1e
	formLineStrp      = 0x1f
	formRefSig8       = 0x20
	formImplicitConst = 0x21
	formLoclistx      = 0x22
	formRnglistx      = 0x23
	formRefSup8       = 0x24
	formStrx1         = 0x25
	formStrx2         = 0x26
	formStrx3         = 0x27
	formStrx4         = 0x28
	formAddrx1        = 0x29
	formAddrx2        = 0x2a
	formAddrx3        = 0x2b
	formAddrx4        = 0x2c
	formGNUStrIndex   = 0x1f02
	formGNUAddrIndex  = 0x1f01
	formGNURefAlt     = 0x1f20
	formGNUStrpAlt    = 0x1f21
)

// fixedFormSize is the byte size of a form's value when the abbreviation
// alone tells it, else -1.
func fixedFormSize(form uint16, u *unit) int {
	off := 4
	if u.dwarf64 {
		off = 8
	}
	switch form {
	case formFlagPresent, formImplicitConst:
		return 0
	case formData1, formRef1, formFlag, formStrx1, formAddrx1:
		return 1
	case formData2, formRef2, formStrx2, formAddrx2:
		return 2
	case formStrx3, formAddrx3:
		return 3
	case formData4, formRef4, formRefSup4, formStrx4, formAddrx4:
		return 4
	case formData8, formRef8, formRefSig8, formRefSup8:
		return 8
	case formData16:
		return 16
	case formAddr:
		return int(u.addrSize)
	case formStrp, formLineStrp, formSecOffset, formStrpSup, formGNURefAlt, formGNUStrpAlt:
		return off
	case formRefAddr:
		if u.version <= 2 {
			return int(u.addrSize)
		}
		return off
	}
	return -1
}

// skipForm moves b past one value of form.
func skipForm(b *buf, form uint16, u *unit) {
	if n := fixedFormSize(form, u); n >= 0 {
		b.off += uint64(n)
		if b.off > uint64(len(b.data)) {
			b.fail("attribute runs past the end of the unit")
		}
		return
	}
	switch form {
	case formUdata, formSdata, formRefUdata, formStrx, formAddrx, formLoclistx, formRnglistx,
		formGNUStrIndex, formGNUAddrIndex:
		b.uleb()
	case formString:
		b.cstr()
	case formBlock1:
		b.bytes(uint64(b.u8()))
	case formBlock2:
		b.bytes(uint64(b.u16()))
	case formBlock4:
		b.bytes(uint64(b.u32()))
	case formBlock, formExprloc:
		b.bytes(b.uleb())
	case formIndirect:
		skipForm(b, uint16(b.uleb()), u)
	default:
		b.fail(fmt.Sprintf("unknown attribute form %#x", form))
	}
}

// attrClass says how to read an attribute's value.
type attrClass uint8

const (
	classNone      attrClass = iota
	classConst               // Int (and Uint for unsigned forms)
	classRef                 // Uint: a .debug_info offset
	classString              // Str
	classFlag                // Int 0/1
	classBlock               // Block
	classAddress             // Uint
	classSecOffset           // Uint
)

// attrValue is one decoded attribute.
type attrValue struct {
	attr  uint16
	form  uint16
	class attrClass
	u     uint64
	s     int64
	str   []byte
	block []byte
}

// readForm decodes one value of form.
func (d *Dwarf) readForm(b *buf, form uint16, implicit int64, u *unit) attrValue {
	v := attrValue{form: form}
	off := func() uint64 {
		if u.dwarf64 {
			return b.u64()
		}
		return uint64(b.u32())
	}
	switch form {
	case formAddr:
		v.class = classAddress
		if u.addrSize == 8 {
			v.u = b.u64()
		} else {
			v.u = uint64(b.u32())
		}
	case formData1:
		v.class, v.u = classConst, uint64(b.u8())
		v.s = int64(int8(v.u))
	case formData2:
		v.class, v.u = classConst, uint64(b.u16())
		v.s = int64(int16(v.u))
	case formData4:
		v.class, v.u = classConst, uint64(b.u32())
		v.s = int64(int32(v.u))
	case formData8:
		v.class, v.u = classConst, b.u64()
		v.s = int64(v.u)
	case formData16:
		v.class, v.block = classBlock, b.bytes(16)
	case formSdata:
		v.class = classConst
		v.s = b.sleb()
		v.u = uint64(v.s)
	case formUdata:
		v.class = classConst
		v.u = b.uleb()
		v.s = int64(v.u)
	case formImplicitConst:
		v.class, v.s, v.u = classConst, implicit, uint64(implicit)
	case formFlag:
		v.class, v.u = classFlag, uint64(b.u8())
	case formFlagPresent:
		v.class, v.u = classFlag, 1
	case formRef1:
		v.class, v.u = classRef, u.off+uint64(b.u8())
	case formRef2:
		v.class, v.u = classRef, u.off+uint64(b.u16())
	case formRef4:
		v.class, v.u = classRef, u.off+uint64(b.u32())
	case formRef8:
		v.class, v.u = classRef, u.off+b.u64()
	case formRefUdata:
		v.class, v.u = classRef, u.off+b.uleb()
	case formRefAddr:
		v.class = classRef
		if u.version <= 2 && u.addrSize == 4 {
			v.u = uint64(b.u32())
		} else if u.version <= 2 {
			v.u = b.u64()
		} else {
			v.u = off()
		}
	case formString:
		v.class, v.str = classString, b.cstr()
	case formStrp:
		v.class, v.str = classString, cstrAt(d.sec.str, off())
	case formLineStrp:
		v.class, v.str = classString, cstrAt(d.sec.lineStr, off())
	case formStrx, formGNUStrIndex:
		v.class, v.str = classString, d.strx(u, b.uleb())
	case formStrx1:
		v.class, v.str = classString, d.strx(u, uint64(b.u8()))
	case formStrx2:
		v.class, v.str = classString, d.strx(u, uint64(b.u16()))
	case formStrx3:
		p := b.bytes(3)
		var x uint64
		if p != nil {
			if d.sec.order.Uint16([]byte{1, 0}) == 1 {
				x = uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16
			} else {
				x = uint64(p[2]) | uint64(p[1])<<8 | uint64(p[0])<<16
			}
		}
		v.class, v.str = classString, d.strx(u, x)
	case formStrx4:
		v.class, v.str = classString, d.strx(u, uint64(b.u32()))
	case formSecOffset, formStrpSup, formGNURefAlt, formGNUStrpAlt:
		v.class, v.u = classSecOffset, off()
	case formBlock1:
		v.class, v.block = classBlock, b.bytes(uint64(b.u8()))
	case formBlock2:
		v.class, v.block = classBlock, b.bytes(uint64(b.u16()))
	case formBlock4:
		v.class, v.block = classBlock, b.bytes(uint64(b.u32()))
	case formBlock, formExprloc:
		v.class, v.block = classBlock, b.bytes(b.uleb())
	case formIndirect:
		return d.readForm(b, uint16(b.uleb()), 0, u)
	default:
		// addrx, loclistx, rnglistx, ref_sig8, ref_sup: not needed by the
		// type model; skipped.
		skipForm(b, form, u)
	}
	return v
}

// cstrAt returns the NUL-terminated string at off in sec (nil when off is
// out of range).
func cstrAt(sec []byte, off uint64) []byte {
	if off >= uint64(len(sec)) {
		return nil
	}
	i := bytes.IndexByte(sec[off:], 0)
	if i < 0 {
		return nil
	}
	return sec[off : off+uint64(i)]
}

// strx resolves a DWARF 5 string index through .debug_str_offsets.
func (d *Dwarf) strx(u *unit, i uint64) []byte {
	base := d.strOffsetsBase(u)
	size := uint64(4)
	if u.dwarf64 {
		size = 8
	}
	p := base + i*size
	if p+size > uint64(len(d.sec.strOffsets)) {
		return nil
	}
	var off uint64
	if size == 8 {
		off = d.sec.order.Uint64(d.sec.strOffsets[p:])
	} else {
		off = uint64(d.sec.order.Uint32(d.sec.strOffsets[p:]))
	}
	return cstrAt(d.sec.str, off)
}

// strOffsetsBase is the unit's DW_AT_str_offsets_base (cached).
func (d *Dwarf) strOffsetsBase(u *unit) uint64 {
	d.mu.Lock()
	base, ok := d.strBase[u.off]
	d.mu.Unlock()
	if ok {
		return base
	}
	// The attribute is on the unit's own DIE; without it, the first
	// contribution (past its 8- or 16-byte header) is assumed.
	base = 8
	if u.dwarf64 {
		base = 16
	}
	if t, err := d.abbrevsOf(u); err == nil {
		b := buf{data: d.sec.info[:u.end], off: u.data, name: ".debug_info", order: d.sec.order}
		if a := t.get(b.uleb()); a != nil {
			for _, at := range a.attrs {
				if at.attr == atStrOffsetsBase {
					if u.dwarf64 {
						base = b.u64()
					} else {
						base = uint64(b.u32())
					}
					break
				}
				skipForm(&b, at.form, u)
			}
		}
	}
	d.mu.Lock()
	d.strBase[u.off] = base
	d.mu.Unlock()
	return base
}
