package kernel

import (
	"slices"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/internal/archtest"
)

// testArch sets an architecture up for the unit tests, which take
// register positions and DWARF numbering from it as the kernel's code does.
func testArch(machine string) arch.Arch { return archtest.New(machine) }

func cfiX86() arch.DWARFRegs   { return testArch("x86_64").(arch.DWARFUnwinding).DWARF() }
func cfiARM64() arch.DWARFRegs { return testArch("aarch64").(arch.DWARFUnwinding).DWARF() }

// x86Layout is where x86_64's pt_regs keeps the registers the tests set.
type x86Layout struct {
	RegIP, RegCS, RegSP, RegBP, PtRegsWords int
	orc                                     orcRegs
}

func x86Regs() x86Layout {
	a := testArch("x86_64")
	ua := a.(arch.Unwinding)
	ri := ua.RegIndex()
	orc, err := orcRegsOf(a, ua)
	if err != nil {
		panic(err)
	}
	return x86Layout{RegIP: ri.PC, RegCS: slices.Index(a.Registers(), "cs"), RegSP: ri.SP, RegBP: ri.FP,
		PtRegsWords: ua.PtRegsWords(), orc: orc}
}
