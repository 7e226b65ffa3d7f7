package commands

import (
	"fmt"
	"strconv"
	"strings"
)

// What gdb's disassembler (libopcodes) writes for arm64 that
// golang.org/x/arch's arm64asm spells otherwise or does not decode: the
// LSE atomics, hint and system-register names, and libopcodes' comments
// (the decimal value of a mov immediate, the other names of a condition).

// a64Conds are the condition codes by number with libopcodes' other names
// for each (its aarch64_conds table: the first name is the one printed).
var a64Conds = [16][]string{
	{"eq", "none"}, {"ne", "any"}, {"cs", "hs", "nlast"}, {"cc", "lo", "ul", "last"},
	{"mi", "first"}, {"pl", "nfrst"}, {"vs"}, {"vc"},
	{"hi", "pmore"}, {"ls", "plast"}, {"ge", "tcont"}, {"lt", "tstop"},
	{"gt"}, {"le"}, {"al"}, {"nv"},
}

func a64CondByName(name string) ([]string, bool) {
	for _, c := range a64Conds {
		if c[0] == name {
			return c, true
		}
	}
	return nil, false
}

// a64BranchComment is what libopcodes appends to a conditional branch:
// "  // b.any", "  // b.lo, b.ul, b.last"; "" for a condition with no
// other names.
func a64BranchComment(cond string) string {
	c, ok := a64CondByName(cond)
	if !ok || len(c) < 2 {
		return ""
	}
	parts := make([]string, len(c)-1)
	for i, n := range c[1:] {
		parts[i] = "b." + n
	}
	return "  // " + strings.Join(parts, ", ")
}

// a64CondComment is what libopcodes appends to an instruction whose last
// operand is a condition (csel, cset, ccmp, ...): "\t// ne = any".
func a64CondComment(cond string) string {
	c, ok := a64CondByName(cond)
	if !ok || len(c) < 2 {
		return ""
	}
	return "\t// " + c[0] + " = " + strings.Join(c[1:], ", ")
}

// a64CondOps are the instructions whose last operand is a condition.
var a64CondOps = map[string]bool{
	"csel": true, "csinc": true, "csinv": true, "csneg": true, "cset": true, "csetm": true,
	"cinc": true, "cinv": true, "cneg": true, "ccmp": true, "ccmn": true,
	"fcsel": true, "fccmp": true, "fccmpe": true,
}

// a64Hints names the hint instructions by their immediate, as libopcodes
// does (arm64asm names only the oldest few).
var a64Hints = map[uint32]string{
	0x0: "nop", 0x1: "yield", 0x2: "wfe", 0x3: "wfi", 0x4: "sev", 0x5: "sevl", 0x6: "dgh",
	0x7: "xpaclri", 0x8: "pacia1716", 0xa: "pacib1716", 0xc: "autia1716", 0xe: "autib1716",
	0x10: "esb", 0x11: "psb\tcsync", 0x12: "tsb\tcsync", 0x14: "csdb",
	0x18: "paciaz", 0x19: "paciasp", 0x1a: "pacibz", 0x1b: "pacibsp",
	0x1c: "autiaz", 0x1d: "autiasp", 0x1e: "autibz", 0x1f: "autibsp",
	0x20: "bti", 0x22: "bti\tc", 0x24: "bti\tj", 0x26: "bti\tjc",
}

// a64SysRegs names the system registers the kernel reads and writes, by
// arm64asm's generic spelling s<op0>_<op1>_c<CRn>_c<CRm>_<op2>.
var a64SysRegs = map[string]string{
	"s3_0_c0_c0_0": "midr_el1", "s3_0_c0_c0_5": "mpidr_el1", "s3_0_c0_c0_6": "revidr_el1",
	"s3_0_c0_c4_0": "id_aa64pfr0_el1", "s3_0_c0_c4_1": "id_aa64pfr1_el1",
	"s3_0_c0_c5_0": "id_aa64dfr0_el1", "s3_0_c0_c6_0": "id_aa64isar0_el1", "s3_0_c0_c6_1": "id_aa64isar1_el1",
	"s3_0_c0_c7_0": "id_aa64mmfr0_el1", "s3_0_c0_c7_1": "id_aa64mmfr1_el1", "s3_0_c0_c7_2": "id_aa64mmfr2_el1",
	"s3_0_c1_c0_0": "sctlr_el1", "s3_0_c1_c0_1": "actlr_el1", "s3_0_c1_c0_2": "cpacr_el1",
	"s3_0_c2_c0_0": "ttbr0_el1", "s3_0_c2_c0_1": "ttbr1_el1", "s3_0_c2_c0_2": "tcr_el1",
	"s3_0_c2_c1_0": "apiakeylo_el1", "s3_0_c2_c1_1": "apiakeyhi_el1", "s3_0_c2_c1_2": "apibkeylo_el1",
	"s3_0_c2_c1_3": "apibkeyhi_el1", "s3_0_c2_c2_0": "apdakeylo_el1", "s3_0_c2_c2_1": "apdakeyhi_el1",
	"s3_0_c2_c2_2": "apdbkeylo_el1", "s3_0_c2_c2_3": "apdbkeyhi_el1", "s3_0_c2_c3_0": "apgakeylo_el1",
	"s3_0_c2_c3_1": "apgakeyhi_el1",
	"s3_0_c4_c0_0": "spsr_el1", "s3_0_c4_c0_1": "elr_el1", "s3_0_c4_c1_0": "sp_el0",
	"s3_0_c4_c2_0": "spsel", "s3_0_c4_c2_2": "currentel", "s3_0_c4_c2_3": "pan", "s3_0_c4_c2_4": "uao",
	"s3_0_c4_c6_0": "icc_pmr_el1",
	"s3_0_c5_c1_0": "afsr0_el1", "s3_0_c5_c1_1": "afsr1_el1", "s3_0_c5_c2_0": "esr_el1",
	"s3_0_c6_c0_0": "far_el1", "s3_0_c7_c4_0": "par_el1",
	"s3_0_c9_c14_1": "pmintenset_el1", "s3_0_c9_c14_2": "pmintenclr_el1",
	"s3_0_c10_c2_0": "mair_el1", "s3_0_c10_c3_0": "amair_el1",
	"s3_0_c12_c0_0": "vbar_el1", "s3_0_c12_c1_0": "isr_el1",
	"s3_0_c12_c11_5": "icc_sgi1r_el1", "s3_0_c12_c12_0": "icc_iar1_el1", "s3_0_c12_c12_1": "icc_eoir1_el1",
	"s3_0_c12_c12_3": "icc_bpr1_el1", "s3_0_c12_c12_4": "icc_ctlr_el1", "s3_0_c12_c12_5": "icc_sre_el1",
	"s3_0_c12_c12_7": "icc_igrpen1_el1", "s3_0_c12_c11_1": "icc_dir_el1", "s3_0_c12_c11_3": "icc_rpr_el1",
	"s3_0_c13_c0_1": "contextidr_el1", "s3_0_c13_c0_4": "tpidr_el1",
	"s3_0_c14_c1_0": "cntkctl_el1",
	"s3_1_c0_c0_0":  "ccsidr_el1", "s3_1_c0_c0_1": "clidr_el1", "s3_2_c0_c0_0": "csselr_el1",
	"s3_3_c0_c0_1": "ctr_el0", "s3_3_c0_c0_7": "dczid_el0",
	"s3_3_c4_c2_0": "nzcv", "s3_3_c4_c2_1": "daif", "s3_3_c4_c2_5": "dit", "s3_3_c4_c2_6": "ssbs",
	"s3_3_c4_c2_7": "tco", "s3_3_c4_c4_0": "fpcr", "s3_3_c4_c4_1": "fpsr",
	"s3_3_c9_c12_0": "pmcr_el0", "s3_3_c9_c12_1": "pmcntenset_el0", "s3_3_c9_c12_2": "pmcntenclr_el0",
	"s3_3_c9_c12_3": "pmovsclr_el0", "s3_3_c9_c12_5": "pmselr_el0", "s3_3_c9_c13_0": "pmccntr_el0",
	"s3_3_c9_c13_1": "pmxevtyper_el0", "s3_3_c9_c13_2": "pmxevcntr_el0", "s3_3_c9_c14_0": "pmuserenr_el0",
	"s3_3_c13_c0_2": "tpidr_el0", "s3_3_c13_c0_3": "tpidrro_el0",
	"s3_3_c14_c0_0": "cntfrq_el0", "s3_3_c14_c0_1": "cntpct_el0", "s3_3_c14_c0_2": "cntvct_el0",
	"s3_3_c14_c2_0": "cntp_tval_el0", "s3_3_c14_c2_1": "cntp_ctl_el0", "s3_3_c14_c2_2": "cntp_cval_el0",
	"s3_3_c14_c3_0": "cntv_tval_el0", "s3_3_c14_c3_1": "cntv_ctl_el0", "s3_3_c14_c3_2": "cntv_cval_el0",
	"s3_4_c1_c1_0": "hcr_el2", "s3_4_c4_c0_0": "spsr_el2", "s3_4_c4_c0_1": "elr_el2",
	"s3_4_c4_c1_0": "sp_el1", "s3_4_c12_c0_0": "vbar_el2",
	"s2_0_c0_c2_2": "mdscr_el1", "s2_0_c1_c0_4": "oslar_el1", "s2_0_c1_c1_4": "oslsr_el1",
}

// a64PState names the fields an MSR (immediate) writes, by op1 and op2.
var a64PState = map[[2]uint32]string{
	{0, 3}: "uao", {0, 4}: "pan", {0, 5}: "spsel", {3, 1}: "ssbs", {3, 2}: "dit",
	{3, 4}: "tco", {3, 6}: "daifset", {3, 7}: "daifclr",
}

// a64Special decodes what arm64asm does not: the LSE atomics (ARMv8.1)
// and MSR (immediate) of the PSTATE fields added after ARMv8.0.
func a64Special(w uint32) (string, bool) {
	reg := func(n uint32, x bool) string {
		switch {
		case n == 31 && x:
			return "xzr"
		case n == 31:
			return "wzr"
		case x:
			return fmt.Sprintf("x%d", n)
		}
		return fmt.Sprintf("w%d", n)
	}
	base := func(n uint32) string {
		if n == 31 {
			return "[sp]"
		}
		return fmt.Sprintf("[x%d]", n)
	}
	size, rs, rn, rt := w>>30, (w>>16)&31, (w>>5)&31, w&31
	sizeSuffix := [4]string{"b", "h", "", ""}[size]
	order := func(acq, rel bool) string {
		switch {
		case acq && rel:
			return "al"
		case acq:
			return "a"
		case rel:
			return "l"
		}
		return ""
	}
	switch {
	case w&0x3f208c00 == 0x38200000 || w&0x3f20fc00 == 0x38208000:
		// LDADD, LDCLR, LDEOR, LDSET, LD{S,U}{MAX,MIN} (o3 0) and SWP (o3 1,
		// opc 000): size 111000 A R 1 Rs o3 opc 00 Rn Rt.
		acq, rel := w&(1<<23) != 0, w&(1<<22) != 0
		o3, opc := (w>>15)&1, (w>>12)&7
		x := size == 3
		if o3 == 1 {
			return "swp" + order(acq, rel) + sizeSuffix + "\t" + reg(rs, x) + ", " + reg(rt, x) + ", " + base(rn), true
		}
		op := [8]string{"add", "clr", "eor", "set", "smax", "smin", "umax", "umin"}[opc]
		if rt == 31 && !acq {
			// The store forms: the loaded value discarded.
			return "st" + op + order(false, rel) + sizeSuffix + "\t" + reg(rs, x) + ", " + base(rn), true
		}
		return "ld" + op + order(acq, rel) + sizeSuffix + "\t" + reg(rs, x) + ", " + reg(rt, x) + ", " + base(rn), true
	case w&0x3fa07c00 == 0x08a07c00:
		// CAS: size 0010001 L 1 Rs o0 11111 Rn Rt.
		x := size == 3
		return "cas" + order(w&(1<<22) != 0, w&(1<<15) != 0) + sizeSuffix + "\t" + reg(rs, x) + ", " + reg(rt, x) + ", " + base(rn), true
	case w&0xbfa07c00 == 0x08207c00:
		// CASP: 0 sz 0010000 L 1 Rs o0 11111 Rn Rt, register pairs.
		x := w&(1<<30) != 0
		return "casp" + order(w&(1<<22) != 0, w&(1<<15) != 0) + "\t" + reg(rs, x) + ", " + reg(rs+1, x) + ", " +
			reg(rt, x) + ", " + reg(rt+1, x) + ", " + base(rn), true
	case w&0xfff8f01f == 0xd500401f:
		// MSR (immediate): 1101010100000 op1 0100 CRm op2 11111.
		if f, ok := a64PState[[2]uint32{(w >> 16) & 7, (w >> 5) & 7}]; ok {
			return fmt.Sprintf("msr\t%s, #0x%x", f, (w>>8)&15), true
		}
	}
	return "", false
}

// a64GDBSpelling rewrites arm64asm's mnemonic and operands as libopcodes
// prints them, comments included (the branch-condition comment is added
// after the target's label by the caller).
func a64GDBSpelling(mn string, args []string) (string, []string, string) {
	comment := ""
	switch {
	case mn == "hint" && len(args) == 1:
		if v, err := strconv.ParseUint(strings.TrimPrefix(args[0], "#0x"), 16, 32); err == nil {
			if name, ok := a64Hints[uint32(v)]; ok {
				mn, rest, _ := strings.Cut(name, "\t")
				if rest == "" {
					return mn, nil, ""
				}
				return mn, []string{rest}, ""
			}
		}
	case mn == "isb" && len(args) == 1 && args[0] == "sy":
		args = nil
	case mn == "mrs" && len(args) == 2:
		if name, ok := a64SysRegs[args[1]]; ok {
			args[1] = name
		}
	case mn == "msr" && len(args) == 2:
		if name, ok := a64SysRegs[args[0]]; ok {
			args[0] = name
		}
	case mn == "mov" && len(args) == 2 && strings.HasPrefix(args[1], "#0x"):
		// libopcodes prints a move's immediate as "#0x%-20x" and its value
		// in decimal, signed at the register's width.
		v, err := strconv.ParseUint(args[1][3:], 16, 64)
		if err == nil {
			dec := int64(v)
			if strings.HasPrefix(args[0], "w") {
				dec = int64(int32(uint32(v)))
			}
			args[1] = fmt.Sprintf("#0x%-20x", v)
			comment = fmt.Sprintf("\t// #%d", dec)
		}
	case a64CondOps[mn] && len(args) > 0:
		comment = a64CondComment(args[len(args)-1])
	}
	return mn, args, comment
}
