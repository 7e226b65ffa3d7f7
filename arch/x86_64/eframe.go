package x86_64

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
)

// pt_regs checks (crash's x86_64_eframe_verify, the cases that apply to a
// search of a task stack).
const (
	kernelCS   = 0x10
	kernelSS   = 0x18
	userCS     = 0x33
	userCS32   = 0x23
	userSS     = 0x2b
	rflagsRAZ  = 0xffffffffffc08028 // bits that read as zero
	rflagsRes1 = 0x2                // bit 1 is always set
	vsyscall   = 0xffffffffff600000 // the vsyscall page
)

// eframeCheck holds what the checks need of the kernel; a test fills it
// for a synthetic stack.
type eframeCheck struct {
	ptRegsSize uint64
	pageOffset uint64 // addresses at or above it are kernel addresses
	userTop    uint64 // user addresses lie below it
	// isText: kernel or module text. isModule: the module area.
	isText, isModule func(uint64) bool
	// vmallocMapped: in a vmalloc-type area and mapped.
	vmallocMapped func(uint64) bool
	// symbolName names the symbol holding an address ("" for none).
	symbolName func(uint64) string
	read       func(uint64) (uint64, error)
}

func (c *eframeCheck) kv(a uint64) bool { return a >= c.pageOffset }
func (c *eframeCheck) uv(a uint64) bool { return a < c.userTop }

// verify reports whether the pt_regs r at kvaddr look like a frame an
// entry saved.
func (c *eframeCheck) verify(kvaddr uint64, r []uint64) bool {
	cs, ss, rip, rsp, flags := r[RegCS], r[RegSS], r[RegIP], r[RegSP], r[RegFlags]
	if flags&rflagsRAZ != 0 || flags&rflagsRes1 == 0 {
		return false
	}
	end := kvaddr + c.ptRegsSize
	if cs == kernelCS && ss == kernelSS {
		switch {
		case c.isText(rip) && c.kv(rsp):
			return true
		case c.isModule(rip) && c.kv(rsp) && rsp == end:
			return true
		case c.symbolName(rip) == "ia32_sysenter_target": // RSP may be 0
			return true
		case rsp == end:
			return true
		}
		if w, err := c.read(kvaddr - 8); err == nil && c.symbolName(w) == "page_fault" {
			return true
		}
	}
	if cs == kernelCS {
		switch {
		case c.isText(rip) && c.kv(rsp) && (rsp == end+8 || rsp == end):
			return true
		case c.kv(rsp) && c.vmallocMapped(rip):
			return true
		}
	}
	if cs == userCS && ss == userSS {
		if c.uv(rsp) && (c.uv(rip) || rip>>12 == vsyscall>>12) {
			return true
		}
	}
	return cs == userCS32 && ss == userSS && c.uv(rip) && c.uv(rsp)
}

// search tries every word of the stack [base, base+8*len(words)) as the
// start of a pt_regs.
func (c *eframeCheck) search(base uint64, words []uint64) []arch.EFrame {
	var out []arch.EFrame
	n := int(c.ptRegsSize / 8)
	for i := 0; i+n <= len(words); i++ {
		r := words[i : i+PtRegsWords]
		addr := base + uint64(8*i)
		if !c.verify(addr, r) {
			continue
		}
		f := arch.EFrame{Addr: addr, Regs: append([]uint64(nil), r...), User: r[RegCS]&3 != 0}
		if !f.User {
			f.PCMapped = c.vmallocMapped(r[RegIP])
		}
		out = append(out, f)
	}
	return out
}

// SearchEFrames tries every word of the stack as the start of a pt_regs.
func (x *X86_64) SearchEFrames(s arch.EFrameStack) ([]arch.EFrame, error) {
	if s.PtRegsSize < 8*PtRegsWords {
		return nil, fmt.Errorf("struct pt_regs of %d bytes", s.PtRegsSize)
	}
	c := x.eframeCheck(s)
	words := make([]uint64, len(s.Data)/8)
	for i := range words {
		words[i] = s.Order.Uint64(s.Data[8*i:])
	}
	return c.search(s.Base, words), nil
}

// eframeCheck binds the checks to this kernel: its direct map, user
// address limit (4- or 5-level paging) and the vmalloc-type areas crash
// accepts a kernel PC in (x86_64_IS_VMALLOC_ADDR).
func (x *X86_64) eframeCheck(s arch.EFrameStack) *eframeCheck {
	la57 := x.levels == 5
	c := &eframeCheck{ptRegsSize: s.PtRegsSize, userTop: 0x0000800000000000, isText: s.IsText, read: s.ReadU64, symbolName: s.SymbolName}
	if la57 {
		c.userTop = 0x0100000000000000
	}
	c.pageOffset, _ = x.PhysToVirt(0)
	sym := func(name string, def uint64) uint64 {
		if p, ok := s.SymbolAddr(name); ok {
			if v, err := s.ReadU64(p); err == nil && v != 0 {
				return v
			}
		}
		return def
	}
	const tb = 1 << 40
	vmSize := uint64(32 * tb)
	if la57 {
		vmSize = 1280 * tb
	}
	vmStart := sym("vmalloc_base", 0xffffc90000000000)
	vmemmap := sym("vmemmap_base", 0xffffea0000000000)
	modStart := uint64(0xffffffffa0000000)
	if _, ok := s.SymbolAddr("vmalloc_base"); ok {
		img := uint64(1 << 30)
		if n, ok := x.dump.VMCoreInfo.Number("KERNEL_IMAGE_SIZE"); ok && n > 0 {
			img = uint64(n)
		}
		modStart = StartKernelMap + img
	}
	vmEnd := vmStart + vmSize - 1
	ranges := [][2]uint64{
		{vmStart, vmEnd},
		{vmemmap, vmemmap + tb - 1},
		{modStart, 0xffffffffff000000},
		{vsyscall, vsyscall + 0xfff},
		{0xfffffe0000000000, 0xfffffe7fffffffff}, // cpu_entry_area
	}
	if la57 && vmemmap > vmEnd+1 {
		ranges = append(ranges, [2]uint64{vmEnd + 1, vmemmap - 1})
	}
	c.isModule = func(v uint64) bool { return v >= modStart && v <= 0xffffffffff000000 }
	c.vmallocMapped = func(v uint64) bool {
		for _, r := range ranges {
			if v >= r[0] && v <= r[1] {
				return s.Mapped(v)
			}
		}
		return false
	}
	return c
}
