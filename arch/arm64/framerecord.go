package arm64

import "encoding/binary"

// SavesFrameRecord reports whether code (A64 instructions, little-endian)
// stores x29 and x30 as a pair at the stack pointer: stp x29, x30, [sp,
// #imm] with or without pre-index writeback, the frame record a kernel
// function built with frame pointers pushes in its prologue.
func (*ARM64) SavesFrameRecord(code []byte) bool {
	for i := 0; i+4 <= len(code); i += 4 {
		insn := binary.LittleEndian.Uint32(code[i:])
		// STP (64-bit) Rt=x29, Rt2=x30, Rn=sp; imm7 any: signed offset
		// (0xa9000000) or pre-index (0xa9800000).
		if m := insn & 0xffc07fff; m == 0xa9007bfd || m == 0xa9807bfd {
			return true
		}
	}
	return false
}
