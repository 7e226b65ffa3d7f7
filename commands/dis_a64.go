package commands

import (
	"fmt"
	"strings"

	"golang.org/x/arch/arm64/arm64asm"
)

// arm64Decoder decodes arm64 in gdb's A64 syntax.
type arm64Decoder struct{}

func (arm64Decoder) maxLen() int { return 4 }

func (arm64Decoder) decode(b []byte, pc uint64, sym disSymbolizer) disDecoded {
	if len(b) < 4 {
		return disDecoded{len: len(b), text: "(bad)", bad: true}
	}
	w := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	if text, ok := a64Special(w); ok {
		return disDecoded{len: 4, text: text}
	}
	inst, err := arm64asm.Decode(b)
	if err != nil {
		return disDecoded{len: 4, text: fmt.Sprintf(".inst\t0x%08x ; undefined", w), bad: true}
	}
	d := disDecoded{len: 4}
	var args []string
	mn := strings.ToLower(inst.Op.String())
	for i, a := range inst.Args {
		if a == nil {
			break
		}
		switch a := a.(type) {
		case arm64asm.PCRel:
			t := pc + uint64(int64(a))
			if inst.Op == arm64asm.ADRP {
				t = pc&^0xfff + uint64(int64(a))
			}
			d.target, d.hasTgt = t, true
			args = append(args, fmt.Sprintf("0x%x", t))
		case arm64asm.Cond:
			if inst.Op == arm64asm.B && i == 0 {
				mn = "b." + strings.ToLower(a.String())
				continue
			}
			args = append(args, strings.ToLower(a.String()))
		default:
			args = append(args, gdbArm64Arg(a.String()))
		}
	}
	if inst.Op == arm64asm.RET && len(args) == 1 && args[0] == "x30" {
		args = nil
	}
	mn, args, comment := a64GDBSpelling(mn, args)
	d.text = mn
	if len(args) > 0 {
		d.text += "\t" + strings.Join(args, ", ")
	}
	if d.hasTgt {
		if name, off, ok := sym(d.target); ok {
			d.text += " " + disSymbol(name, off, false)
			d.labels = append(d.labels, disLabel{name, off})
		}
	}
	if cond, ok := strings.CutPrefix(mn, "b."); ok {
		comment = a64BranchComment(cond)
	}
	d.text += comment
	return d
}

// gdbArm64Arg spells an operand as gdb does: lower case registers, but
// shifts, extends and condition names as libopcodes writes them.
func gdbArm64Arg(s string) string {
	s = strings.ToLower(s)
	// libopcodes separates a memory operand's parts with ", ".
	return strings.ReplaceAll(strings.ReplaceAll(s, ",", ", "), ",  ", ", ")
}
