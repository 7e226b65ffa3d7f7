// Package archtest sets architectures up for unit tests outside arch/: a
// dump of no memory with the VMCOREINFO lines each constructor needs, so
// that tests take register positions, DWARF numbering and register blocks
// from the architecture, as the code under test does.
package archtest

import (
	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/archs"
	"github.com/gocrash/gocrash/memory"
)

// New returns the architecture for an ELF/dump machine name ("x86_64",
// "aarch64"); it panics on a name archs does not know (a test's mistake).
func New(machine string) arch.Arch {
	vi := map[string]string{
		"x86_64":  "NUMBER(phys_base)=0\nSYMBOL(init_top_pgt)=ffffffff8260a000\n",
		"aarch64": "PAGESIZE=4096\nNUMBER(VA_BITS)=48\nNUMBER(kimage_voffset)=0xffff800000000000\nSYMBOL(swapper_pg_dir)=ffff800082000000\n",
		"ppc64le": "PAGESIZE=65536\nSYMBOL(swapper_pg_dir)=c000000002740000\n",
		"s390x":   "SYMBOL(swapper_pg_dir)=1290000\n",
	}[machine]
	a, err := archs.New(arch.Config{Dump: memory.NewRAMDump(machine, vi, 0, nil)})
	if err != nil {
		panic(err)
	}
	return a
}
