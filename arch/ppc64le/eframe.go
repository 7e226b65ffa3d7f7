package ppc64le

import (
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
)

// trapNames are the interrupt vectors crash's ppc64_check_eframe accepts
// (trap & ~0xf), with the names it prints.
func trapNames() map[uint64]string {
	return map[uint64]string{
		0x100: "System Reset", 0x200: "Machine Check", 0x300: "Data Access", 0x380: "Data SLB Access",
		0x400: "Instruction Access", 0x480: "Instruction SLB Access", 0x500: "Hardware Interrupt",
		0x600: "Alignment", 0x700: "Program Check", 0x800: "FPU Unavailable", 0x900: "Decrementer",
		0x980: "Hypervisor Decrementer", 0xa00: "Doorbell", 0xb00: "reserved", 0xc00: "System Call",
		0xd00: "Single Step", 0xe00: "fp assist", 0xe40: "Emulation Assist", 0xe60: "HMI",
		0xe80: "Hypervisor Doorbell", 0xf00: "Performance Monitor", 0xf20: "Altivec Unavailable",
		0x1300: "Instruction Breakpoint", 0x1500: "Denormalisation", 0x1700: "Altivec Assist",
		// The 6.1 kernel's scv (system call vectored) entry saves 0x3000.
		0x3000: "System Call Vectored",
	}
}

// TrapName names an exception frame's trap as crash does ("" for a trap
// that does not mark a frame).
func TrapName(trap uint64) string { return trapNames()[trap&^0xf] }

// SearchEFrames looks for exception frames as crash's ppc64_eframe_search
// does: every word of the stack holding the regs marker whose frame (96
// bytes below it) starts with a kernel or user address, and whose
// pt_regs (16 bytes above it) have a trap crash knows. Addr is the
// pt_regs' address, where bt shows them.
func (p *PPC64LE) SearchEFrames(s arch.EFrameStack) ([]arch.EFrame, error) {
	size := uint64(8 * prstatusRegs)
	if s.PtRegsSize < size {
		return nil, fmt.Errorf("struct pt_regs of %d bytes", s.PtRegsSize)
	}
	markers := []uint64{regsMarker, regsMarkerOld}
	var out []arch.EFrame
	top := uint64(len(s.Data))
	for off := uint64(markerSlot); off+16+size <= top; off += 8 {
		if !slices.Contains(markers, s.Order.Uint64(s.Data[off:])) {
			continue
		}
		chain := s.Order.Uint64(s.Data[off-markerSlot:])
		if chain>>62 != 3 && chain>>eaBits != 0 {
			continue // neither a kernel nor a user address
		}
		at := off + frameOverhead - markerSlot
		r := make([]uint64, prstatusRegs)
		for i := range r {
			r[i] = s.Order.Uint64(s.Data[at+uint64(8*i):])
		}
		if TrapName(r[RegTrap]) == "" {
			continue
		}
		out = append(out, arch.EFrame{Addr: s.Base + at, Regs: r, User: p.UserMode(r)})
	}
	return out, nil
}
