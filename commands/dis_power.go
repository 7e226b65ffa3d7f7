package commands

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/arch/ppc64/ppc64asm"
	"golang.org/x/arch/s390x/s390xasm"
)

// ppc64Decoder decodes little-endian 64-bit Power in GNU syntax
// (golang.org/x/arch's ppc64asm, as objdump spells it), naming branch
// targets gdb's way.
type ppc64Decoder struct{}

func (ppc64Decoder) maxLen() int { return 8 } // prefixed (POWER10) instructions

func (ppc64Decoder) decode(b []byte, pc uint64, sym disSymbolizer) disDecoded {
	if len(b) < 4 {
		return disDecoded{len: len(b), text: "(bad)", bad: true}
	}
	inst, err := ppc64asm.Decode(b, binary.LittleEndian)
	if err != nil || inst.Len == 0 {
		return disDecoded{len: 4, text: fmt.Sprintf(".long 0x%x", binary.LittleEndian.Uint32(b)), bad: true}
	}
	d := disDecoded{len: inst.Len, text: tabAfterMnemonic(ppc64asm.GNUSyntax(inst, pc))}
	for _, a := range inst.Args {
		if r, ok := a.(ppc64asm.PCRel); ok && r != 0 {
			d.target, d.hasTgt = pc+uint64(int64(r)), true
		}
	}
	return withTarget(d, sym)
}

// s390xDecoder decodes z/Architecture in GNU syntax (s390xasm).
type s390xDecoder struct{}

func (s390xDecoder) maxLen() int { return 6 }

func (s390xDecoder) decode(b []byte, pc uint64, sym disSymbolizer) disDecoded {
	// An instruction's length is in its first two bits: 2, 4 or 6 bytes.
	n := 2
	if len(b) > 0 {
		n = [...]int{2, 4, 4, 6}[b[0]>>6]
	}
	if len(b) < n {
		return disDecoded{len: len(b), text: "(bad)", bad: true}
	}
	inst, err := s390xasm.Decode(b[:n])
	if err != nil || inst.Len == 0 {
		return disDecoded{len: n, text: fmt.Sprintf(".long 0x%x", b[:n]), bad: true}
	}
	d := disDecoded{len: inst.Len, text: tabAfterMnemonic(s390xasm.GNUSyntax(inst, pc))}
	for _, a := range inst.Args {
		var rel int64
		switch r := a.(type) {
		case s390xasm.RegIm12:
			rel = int64(int16(r<<4) >> 4)
		case s390xasm.RegIm16:
			rel = int64(int16(r))
		case s390xasm.RegIm24:
			rel = int64(int32(r<<8) >> 8)
		case s390xasm.RegIm32:
			rel = int64(int32(r))
		default:
			continue
		}
		d.target, d.hasTgt = pc+uint64(2*rel), true
	}
	return withTarget(d, sym)
}

// tabAfterMnemonic separates the mnemonic from its operands with a tab,
// as gdb prints them.
func tabAfterMnemonic(s string) string {
	if mn, args, ok := strings.Cut(s, " "); ok {
		return mn + "\t" + strings.TrimSpace(args)
	}
	return s
}

// withTarget names a branch target after the instruction: " <sym+off>".
func withTarget(d disDecoded, sym disSymbolizer) disDecoded {
	if d.hasTgt {
		if name, off, ok := sym(d.target); ok {
			d.text += " " + disSymbol(name, off, false)
			d.labels = append(d.labels, disLabel{name, off})
		}
	}
	return d
}
