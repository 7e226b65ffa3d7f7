package kernel

import (
	"slices"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/archs"
	"github.com/gocrash/gocrash/memory"
)

// testArch sets an architecture up for a dump of no memory, with the
// VMCOREINFO it needs: the unit tests take register positions and DWARF
// numbering from the architecture as the kernel's code does.
func testArch(machine string) arch.Arch {
	vi := map[string]string{
		"x86_64":  "NUMBER(phys_base)=0\nSYMBOL(init_top_pgt)=ffffffff8260a000\n",
		"aarch64": "PAGESIZE=4096\nNUMBER(VA_BITS)=48\nNUMBER(kimage_voffset)=0xffff800000000000\nSYMBOL(swapper_pg_dir)=ffff800082000000\n",
	}[machine]
	a, err := archs.New(arch.Config{Dump: memory.NewRAMDump(machine, vi, 0, nil)})
	if err != nil {
		panic(err)
	}
	return a
}

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
