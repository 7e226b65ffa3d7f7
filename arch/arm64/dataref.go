package arm64

import (
	"strconv"
	"strings"

	"golang.org/x/arch/arm64/arm64asm"

	"github.com/gocrash/gocrash/arch"
)

// DataReferences returns the addresses code (at pc) forms with ADRP: the
// page an ADRP puts in a register plus the offset of a following ADD
// (immediate) or load/store (offset, pre- or post-index) on that register.
// A register written otherwise (either of a load pair's, a written-back
// base, the caller-saved x0-x18 and x30 at a call) stops being tracked.
func (a *ARM64) DataReferences(code []byte, pc uint64) []uint64 {
	var out []uint64
	for _, d := range a.DataAccesses(code, pc) {
		out = append(out, d.Addr)
	}
	return out
}

// DataAccesses returns DataReferences' addresses with each one's use: an
// ADD's is only formed, a load's or store's is accessed with its data
// register's size (a byte or halfword form's).
func (a *ARM64) DataAccesses(code []byte, pc uint64) []arch.DataAccess {
	base := map[arm64asm.Reg]uint64{}
	var out []arch.DataAccess
	for off := 0; off+4 <= len(code); off += 4 {
		inst, err := arm64asm.Decode(code[off : off+4])
		if err != nil {
			continue
		}
		at := pc + uint64(off)
		dst, hasDst := xreg(inst.Args[0])
		switch inst.Op {
		case arm64asm.ADRP:
			if rel, ok := inst.Args[1].(arm64asm.PCRel); ok && hasDst {
				base[dst] = at&^0xfff + uint64(int64(rel))
				continue
			}
		case arm64asm.ADD:
			src, ok1 := xreg(inst.Args[1])
			imm, ok2 := immShift(inst.Args[2])
			if b, ok := base[src]; ok && ok1 && ok2 && hasDst {
				out = append(out, arch.DataAccess{Addr: b + imm})
				base[dst] = b + imm
				continue
			}
		case arm64asm.BL, arm64asm.BLR:
			// The callee may write the caller-saved registers.
			for r := arm64asm.X0; r <= arm64asm.X18; r++ {
				delete(base, r)
			}
			delete(base, arm64asm.X30)
			continue
		default:
			for _, arg := range inst.Args[1:] {
				m, ok := arg.(arm64asm.MemImmediate)
				if !ok {
					continue
				}
				r, _ := xreg(m.Base)
				b, tracked := base[r]
				size, kind := access(inst)
				switch m.Mode {
				case arm64asm.AddrOffset, arm64asm.AddrPreIndex:
					if d, ok := memOffset(m); ok && tracked {
						out = append(out, arch.DataAccess{Addr: b + d, Size: size, Kind: kind})
					}
				case arm64asm.AddrPostIndex:
					if tracked {
						out = append(out, arch.DataAccess{Addr: b, Size: size, Kind: kind})
					}
				}
				if m.Mode == arm64asm.AddrPreIndex || m.Mode == arm64asm.AddrPostIndex {
					delete(base, r) // written back
				}
			}
		}
		if hasDst {
			delete(base, dst)
		}
		if pairLoad(inst.Op) {
			if r, ok := xreg(inst.Args[1]); ok {
				delete(base, r)
			}
		}
	}
	return out
}

// access is the size and kind of a load's or store's access: its data
// register's width (a store-exclusive's second register, its first being
// the status), a byte or halfword form's.
func access(inst arm64asm.Inst) (int, arch.AccessKind) {
	name := inst.Op.String()
	kind := arch.AccessLoad
	for _, p := range []string{"CAS", "SWP", "LDX", "LDAX", "STX", "STLX", "LDADD", "LDCLR", "LDEOR", "LDSET", "LDSMAX", "LDSMIN", "LDUMAX", "LDUMIN", "STADD", "STCLR", "STEOR", "STSET", "STSMAX", "STSMIN", "STUMAX", "STUMIN"} {
		if strings.HasPrefix(name, p) {
			kind = arch.AccessAtomic
			break
		}
	}
	if kind == arch.AccessLoad && strings.HasPrefix(name, "ST") {
		kind = arch.AccessStore
	}
	data := inst.Args[0]
	if strings.HasPrefix(name, "STX") || strings.HasPrefix(name, "STLX") {
		data = inst.Args[1]
	}
	switch {
	case strings.HasSuffix(name, "B"):
		return 1, kind
	case strings.HasSuffix(name, "H"):
		return 2, kind
	case strings.HasSuffix(name, "SW"):
		return 4, kind
	}
	r, ok := data.(arm64asm.Reg)
	switch {
	case ok && r >= arm64asm.W0 && r <= arm64asm.WZR:
		return 4, kind
	case ok && r >= arm64asm.X0 && r <= arm64asm.XZR:
		return 8, kind
	}
	return 0, kind
}

// pairLoad reports whether op loads two registers (Args[0] and Args[1]).
func pairLoad(op arm64asm.Op) bool {
	switch op {
	case arm64asm.LDP, arm64asm.LDPSW, arm64asm.LDNP, arm64asm.LDXP, arm64asm.LDAXP:
		return true
	}
	return false
}

// xreg is a general register operand as its X register (W0..WZR are the
// low halves of X0..XZR).
func xreg(arg arm64asm.Arg) (arm64asm.Reg, bool) {
	var r arm64asm.Reg
	switch v := arg.(type) {
	case arm64asm.Reg:
		r = v
	case arm64asm.RegSP:
		r = arm64asm.Reg(v)
	default:
		return 0, false
	}
	switch {
	case r >= arm64asm.W0 && r <= arm64asm.WZR:
		return r - arm64asm.W0 + arm64asm.X0, true
	case r >= arm64asm.X0 && r <= arm64asm.XZR:
		return r, true
	}
	return 0, false
}

// immShift reads an ADD's immediate as arm64asm prints it ("#0xa38", or
// "#0x1, LSL #12"): its value is not exported otherwise.
func immShift(arg arm64asm.Arg) (uint64, bool) {
	is, ok := arg.(arm64asm.ImmShift)
	if !ok {
		return 0, false
	}
	s := is.String()
	num, shift, _ := strings.Cut(s, ",")
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(num), "#"), 0, 64)
	if err != nil {
		return 0, false
	}
	if shift != "" {
		sh, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(shift), "LSL #"), 0, 8)
		if err != nil {
			return 0, false
		}
		v <<= sh
	}
	return v, true
}

// memOffset reads a load/store's offset as arm64asm prints it
// ("[X0,#2168]", "[X19]").
func memOffset(m arm64asm.MemImmediate) (uint64, bool) {
	s := m.String()
	s = strings.TrimSuffix(s, "!") // pre-index: [X0,#16]!
	_, num, found := strings.Cut(s, ",#")
	if !found {
		return 0, strings.HasSuffix(s, "]")
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(num, "]"), 0, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return uint64(v), true
}
