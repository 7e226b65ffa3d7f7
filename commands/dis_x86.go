package commands

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// x86Decoder decodes x86_64 in gdb's AT&T syntax.
type x86Decoder struct{}

func (x86Decoder) maxLen() int { return 15 }

func (x86Decoder) decode(b []byte, pc uint64, sym disSymbolizer) disDecoded {
	if len(b) >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && (b[3] == 0xfa || b[3] == 0xfb) {
		// CET's endbr64/endbr32, which x86asm does not know.
		return disDecoded{len: 4, text: gdbPad(map[byte]string{0xfa: "endbr64", 0xfb: "endbr32"}[b[3]], "")}
	}
	inst, err := x86asm.Decode(b, 64)
	if err != nil || inst.Len == 0 {
		return disDecoded{len: 1, text: gdbPad("(bad)", ""), bad: true}
	}
	raw := x86asm.GNUSyntax(inst, pc, nil)
	mn, args := raw, ""
	if inst.Args[0] != nil {
		if i := strings.LastIndexByte(raw, ' '); i > 0 {
			mn, args = raw[:i], raw[i+1:]
		}
	}
	mn, args = gdbX86Spelling(inst, b[:inst.Len], mn, args)
	d := disDecoded{len: inst.Len, text: gdbPad(mn, args)}
	for _, a := range inst.Args {
		switch a := a.(type) {
		case x86asm.Rel:
			t := pc + uint64(inst.Len) + uint64(int64(a))
			d.target, d.hasTgt = t, true
			if name, off, ok := sym(t); ok {
				d.text += " " + disSymbol(name, off, false)
				d.labels = append(d.labels, disLabel{name, off})
			}
		case x86asm.Mem:
			if a.Base != x86asm.RIP {
				continue
			}
			t := pc + uint64(inst.Len) + uint64(a.Disp)
			d.target, d.hasTgt = t, true
			d.text += fmt.Sprintf("        # 0x%x", t)
			if name, off, ok := sym(t); ok {
				d.text += " " + disSymbol(name, off, false)
				d.labels = append(d.labels, disLabel{name, off})
			}
		}
	}
	return d
}

// gdbPad lays out a mnemonic and its operands as gdb does: the mnemonic
// padded to six columns, a space, the operands.
func gdbPad(mn, args string) string { return fmt.Sprintf("%-6s %s", mn, args) }

// gdbX86Spelling rewrites what x86asm's GNU syntax spells differently from
// gdb 10's libopcodes: the q suffix of near branches, AT&T's names of the
// sign extensions, immediates as unsigned numbers of the operand's width,
// a zero displacement that is encoded, and the scale 1 of an index.
func gdbX86Spelling(inst x86asm.Inst, b []byte, mn, args string) (string, string) {
	mn = gdbMnemonic(mn)
	if mn == "mov" && x86MovAbs(b) {
		mn = "movabs"
	}
	if n := len(b); inst.Op == x86asm.NOP && n >= 2 && b[n-1] == 0x90 && b[n-2] == 0x66 && strings.HasSuffix(mn, "nop") {
		// 66 90 is xchg %ax,%ax to libopcodes; further 66s are data16.
		return strings.Repeat("data16 ", strings.Count(mn, "data16")-1) + "xchg", "%ax,%ax"
	}
	for _, a := range inst.Args {
		switch a := a.(type) {
		case x86asm.Imm:
			if int64(a) < 0 {
				from := fmt.Sprintf("$%#x", int64(a))
				to := fmt.Sprintf("$%#x", uint64(a)&x86ImmMask(inst))
				args = strings.Replace(args, from, to, 1)
			}
		case x86asm.Mem:
			if a.Index == 0 && a.Scale == 1 && a.Base != 0 {
				// A SIB byte without an index: libopcodes shows %riz only
				// where the SIB is not required (a base other than %r12).
				if a.Base == x86asm.R12 {
					args = strings.Replace(args, ",%riz)", ")", 1)
				} else {
					args = strings.Replace(args, ",%riz)", ",%riz,1)", 1)
				}
			}
			if a.Index != 0 && a.Scale == 1 {
				args = x86ScaleOne.ReplaceAllString(args, "($1,$2,1)")
			}
			if a.Disp == 0 && a.Base != 0 && a.Base != x86asm.RIP && x86HasDisp(b) {
				if m := x86MemStart.FindStringIndex(args); m != nil {
					i := m[1] - 2 // the '('
					args = args[:i] + "0x0" + args[i:]
				}
			}
		}
	}
	return mn, args
}

var (
	x86ScaleOne = regexp.MustCompile(`\((%\w+)?,(%\w+)\)`)
	x86MemStart = regexp.MustCompile(`(^|[,:*])\(%`)
)

// gdbMnemonic maps x86asm's mnemonic to libopcodes'.
func gdbMnemonic(mn string) string {
	prefix, op := "", mn
	if i := strings.LastIndexByte(mn, ' '); i >= 0 {
		prefix, op = mn[:i+1], mn[i+1:]
	}
	switch op {
	case "callq":
		op = "call"
	case "retq":
		op = "ret"
	case "jmpq":
		op = "jmp"
	case "cdqe":
		op = "cltq"
	case "cwde":
		op = "cwtl"
	case "cbw":
		op = "cbtw"
	case "cwd":
		op = "cwtd"
	case "cdq":
		op = "cltd"
	case "cqo":
		op = "cqto"
	}
	return prefix + op
}

// x86ImmMask is the width of an instruction's immediate as libopcodes
// prints it: the width of its register or memory operand.
func x86ImmMask(inst x86asm.Inst) uint64 {
	bits := inst.DataSize
	for _, a := range inst.Args {
		switch a := a.(type) {
		case x86asm.Reg:
			switch {
			case a >= x86asm.AL && a <= x86asm.R15B:
				bits = 8
			case a >= x86asm.AX && a <= x86asm.R15W:
				bits = 16
			case a >= x86asm.EAX && a <= x86asm.R15L:
				bits = 32
			case a >= x86asm.RAX && a <= x86asm.R15:
				bits = 64
			}
		case x86asm.Mem:
			if inst.MemBytes > 0 {
				bits = inst.MemBytes * 8
			}
		}
		break
	}
	if bits <= 0 || bits >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(bits) - 1
}

// x86HasDisp reports whether the ModRM byte of the (non-VEX) instruction
// b encodes a displacement (mod 01 or 10).
func x86HasDisp(b []byte) bool {
	i := 0
	for i < len(b) {
		switch c := b[i]; {
		case c == 0x66 || c == 0x67 || c == 0xf0 || c == 0xf2 || c == 0xf3 ||
			c == 0x2e || c == 0x36 || c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65:
			i++
			continue
		case c >= 0x40 && c <= 0x4f:
			i++
			continue
		}
		break
	}
	if i >= len(b) {
		return false
	}
	switch b[i] {
	case 0xc4, 0xc5, 0x62, 0x8f:
		return false // VEX, EVEX, XOP: not handled
	case 0x0f:
		i++
		if i < len(b) && (b[i] == 0x38 || b[i] == 0x3a) {
			i++
		}
	}
	i++ // the opcode
	if i >= len(b) {
		return false
	}
	mod := b[i] >> 6
	return mod == 1 || mod == 2
}

// x86MovAbs reports whether b is a mov with a 64-bit immediate (REX.W
// B8+r) or a 64-bit absolute address (A0-A3): libopcodes' movabs.
func x86MovAbs(b []byte) bool {
	rexW := false
	for i, c := range b {
		switch {
		case c == 0x66 || c == 0x67 || c == 0x2e || c == 0x3e || c == 0x26 || c == 0x36 || c == 0x64 || c == 0x65:
			continue
		case c >= 0x40 && c <= 0x4f:
			rexW = c&8 != 0
			continue
		case c >= 0xb8 && c <= 0xbf:
			return rexW && len(b)-i == 9
		case c >= 0xa0 && c <= 0xa3:
			return len(b)-i == 9
		}
		return false
	}
	return false
}
