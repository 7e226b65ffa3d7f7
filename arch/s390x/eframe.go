package s390x

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// PSW bits every 64-bit kernel and user PSW has: the extended and basic
// addressing modes (bits 31 and 32); and the bits a valid PSW has zero
// (0, 2-4, 24-30, 33-63).
const (
	pswAddr64   = 0x0000000180000000
	pswMustZero = 0xb80000fe7fffffff
)

// SearchEFrames looks for the frames of kernel entries: a frame with a
// zero back chain (at 152) right below a struct pt_regs whose PSW is a
// 64-bit one, either in user mode at a non-zero address, or in kernel mode at kernel text with
// r15 on this stack. Addr is the register set's (the PSW's) address, one
// word into the struct, where bt shows it.
func (s *S390X) SearchEFrames(st arch.EFrameStack) ([]arch.EFrame, error) {
	size := uint64(8 * (ptRegsSet + 1))
	if st.PtRegsSize < size {
		return nil, fmt.Errorf("struct pt_regs of %d bytes", st.PtRegsSize)
	}
	var out []arch.EFrame
	top := uint64(len(st.Data))
	lo, hi := st.Base, st.Base+top
	for sp := uint64(0); sp+frameOverhead+st.PtRegsSize <= top; sp += 8 {
		if st.Order.Uint64(st.Data[sp+chainSlot:]) != 0 {
			continue
		}
		at := sp + frameOverhead + 8
		r := make([]uint64, ptRegsSet)
		for i := range r {
			r[i] = st.Order.Uint64(st.Data[at+uint64(8*i):])
		}
		mask := r[RegPSWMask]
		if mask&pswAddr64 != pswAddr64 || mask&pswMustZero != 0 || r[RegR15] == 0 {
			continue
		}
		user := mask&pswPState != 0
		if user && r[RegPSWAddr] == 0 {
			continue // no program runs at address 0
		}
		if !user && (!st.IsText(r[RegPSWAddr]) || r[RegR15] < lo || r[RegR15] >= hi) {
			continue
		}
		out = append(out, arch.EFrame{Addr: st.Base + at, Regs: r, User: user})
	}
	return out, nil
}
