package memory

import "encoding/binary"

// ramImage is physical memory held in a byte slice: the source of synthetic
// dumps built by tests in other packages.
type ramImage struct {
	base uint64
	data []byte
}

// NewRAMDump returns a little-endian Dump of machine whose physical memory
// is data at physical address base, with the given VMCOREINFO text.
func NewRAMDump(machine, vmcoreinfo string, base uint64, data []byte) *Dump {
	return &Dump{
		Path: "(memory image)", Format: FormatELF, Machine: machine,
		ByteOrder: binary.LittleEndian, VMCoreInfo: ParseVMCoreInfo([]byte(vmcoreinfo)),
		DumpLevel: -1, Bits: 64, b: &ramImage{base, data},
	}
}

func (r *ramImage) readPhys(p []byte, addr uint64) error {
	if addr < r.base || addr-r.base > uint64(len(r.data)) || uint64(len(p)) > uint64(len(r.data))-(addr-r.base) {
		return &NotInDumpError{Addr: addr}
	}
	copy(p, r.data[addr-r.base:])
	return nil
}

func (r *ramImage) ranges() []Range { return []Range{{r.base, r.base + uint64(len(r.data))}} }
func (r *ramImage) close() error    { return nil }
