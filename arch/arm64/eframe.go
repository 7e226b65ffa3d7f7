package arm64

import (
	"encoding/binary"
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// pstate fields.
const (
	psrMode = 0xf
	el1t    = 0x4
	el1h    = 0x5
	el2t    = 0x8
	el2h    = 0x9
)

// eframeCheck holds what crash's arm64_is_kernel_exception_frame needs.
type eframeCheck struct {
	ptRegsSize uint64
	lo, hi     uint64 // the task stack
	isText     func(uint64) bool
	pacMask    uint64 // CONFIG_ARM64_KERNELPACMASK (0 without pointer auth)
}

// kernelFrame reports whether r (x0..x30, sp, pc, pstate) look like a
// kernel-mode exception frame: sp and x29 on the stack, a 64-bit EL1/EL2
// pstate, pc and lr in kernel text.
func (c *eframeCheck) kernelFrame(r []uint64) bool {
	in := func(a uint64) bool { return a >= c.lo && a < c.hi }
	ps := r[RegPState]
	if !in(r[RegSP]) || !in(r[RegFP]) || ps&(0xffffffff00000000|psrMode32) != 0 ||
		!c.isText(r[RegPC]) || !c.isText(r[RegLR]|c.pacMask) {
		return false
	}
	switch ps & psrMode {
	case el1t, el1h, el2t, el2h:
		return true
	}
	return false
}

// search tries every byte offset of the stack buf (at c.lo) below its top
// pt_regs, as crash's arm64_eframe_search does; nwords registers are
// returned for each frame found.
func (c *eframeCheck) search(buf []byte, order binary.ByteOrder, nwords int) []arch.EFrame {
	var out []arch.EFrame
	size := int(c.ptRegsSize)
	r := make([]uint64, nwords)
	for off := 0; off < len(buf)-size; off++ {
		for i := 0; i <= RegPState; i++ {
			r[i] = order.Uint64(buf[off+8*i:])
		}
		if !c.kernelFrame(r) {
			continue
		}
		for i := RegPState + 1; i < nwords; i++ {
			r[i] = order.Uint64(buf[off+8*i:])
		}
		out = append(out, arch.EFrame{Addr: c.lo + uint64(off), Regs: append([]uint64(nil), r...)})
	}
	return out
}

// SearchEFrames tries every byte offset of the stack, as crash does; a
// user task's frame at the top of its stack, where its entries from user
// mode save their registers, is added last whatever it holds, as crash
// prints it.
func (a *ARM64) SearchEFrames(s arch.EFrameStack) ([]arch.EFrame, error) {
	nwords := a.PtRegsWords()
	if s.PtRegsSize < uint64(8*nwords) {
		return nil, fmt.Errorf("struct pt_regs of %d bytes", s.PtRegsSize)
	}
	top := uint64(len(s.Data))
	c := &eframeCheck{ptRegsSize: s.PtRegsSize, lo: s.Base, hi: s.Base + top, isText: s.IsText, pacMask: a.pacMask}
	out := c.search(s.Data, s.Order, nwords)
	if s.UserTask {
		// pt_regs ends 16 bytes below the top where the struct has no
		// stackframe member of its own.
		off := s.PtRegsSize
		if !s.PtRegsStackframe {
			off += 16
		}
		at := top - off
		r := make([]uint64, nwords)
		for i := range r {
			r[i] = s.Order.Uint64(s.Data[at+uint64(8*i):])
		}
		out = append(out, arch.EFrame{Addr: s.Base + at, Regs: r, User: true})
	}
	return out, nil
}
