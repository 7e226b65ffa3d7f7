package kernel

import (
	"encoding/binary"
	"fmt"

	a64 "github.com/gocrash/gocrash/arch/arm64"
	x86 "github.com/gocrash/gocrash/arch/x86_64"
)

// bt -e: crash's search of a task's kernel stack for words laid out as a
// struct pt_regs that a kernel entry could have saved. It is a scan, not an
// unwind: every position where a pt_regs fits is tried, and a candidate is
// kept when its registers pass crash 8.0.2's plausibility checks
// (x86_64_eframe_verify, arm64_is_kernel_exception_frame), so stale frames
// left on the stack by earlier entries are found as crash finds them. Like
// crash's -e, only the task's own stack is searched (crash's -E searches
// the IRQ and exception stacks).

// EFrame is a register set found by searching a stack.
type EFrame struct {
	Addr uint64   // where the struct pt_regs lies
	Regs []uint64 // in NT_PRSTATUS order, as SavedRegs.Regs
	User bool     // taken in user mode
	// PCMapped: an x86_64 kernel-mode PC in the vmalloc, vmemmap, module,
	// vsyscall or cpu_entry_area space that translates (crash names such
	// a PC without a symbol "no symbolic reference").
	PCMapped bool
}

// x86 pt_regs checks (crash's x86_64_eframe_verify, the cases that apply
// to a search of a task stack).
const (
	x86KernelCS   = 0x10
	x86KernelSS   = 0x18
	x86UserCS     = 0x33
	x86UserCS32   = 0x23
	x86UserSS     = 0x2b
	x86RFlagsRAZ  = 0xffffffffffc08028 // bits that read as zero
	x86RFlagsRes1 = 0x2                // bit 1 is always set
	x86Vsyscall   = 0xffffffffff600000 // the vsyscall page
)

// x86EFrameCheck holds what the checks need of the kernel; a test fills it
// for a synthetic stack.
type x86EFrameCheck struct {
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

func (c *x86EFrameCheck) kv(a uint64) bool { return a >= c.pageOffset }
func (c *x86EFrameCheck) uv(a uint64) bool { return a < c.userTop }

// verify reports whether the pt_regs r at kvaddr look like a frame an
// entry saved.
func (c *x86EFrameCheck) verify(kvaddr uint64, r []uint64) bool {
	cs, ss, rip, rsp, flags := r[x86.RegCS], r[x86.RegSS], r[x86.RegIP], r[x86.RegSP], r[x86.RegFlags]
	if flags&x86RFlagsRAZ != 0 || flags&x86RFlagsRes1 == 0 {
		return false
	}
	end := kvaddr + c.ptRegsSize
	if cs == x86KernelCS && ss == x86KernelSS {
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
	if cs == x86KernelCS {
		switch {
		case c.isText(rip) && c.kv(rsp) && (rsp == end+8 || rsp == end):
			return true
		case c.kv(rsp) && c.vmallocMapped(rip):
			return true
		}
	}
	if cs == x86UserCS && ss == x86UserSS {
		if c.uv(rsp) && (c.uv(rip) || rip>>12 == x86Vsyscall>>12) {
			return true
		}
	}
	return cs == x86UserCS32 && ss == x86UserSS && c.uv(rip) && c.uv(rsp)
}

// search tries every word of the stack [base, base+8*len(words)) as the
// start of a pt_regs.
func (c *x86EFrameCheck) search(base uint64, words []uint64) []EFrame {
	var out []EFrame
	n := int(c.ptRegsSize / 8)
	for i := 0; i+n <= len(words); i++ {
		r := words[i : i+x86.PtRegsWords]
		addr := base + uint64(8*i)
		if !c.verify(addr, r) {
			continue
		}
		f := EFrame{Addr: addr, Regs: append([]uint64(nil), r...), User: r[x86.RegCS]&3 != 0}
		if !f.User {
			f.PCMapped = c.vmallocMapped(r[x86.RegIP])
		}
		out = append(out, f)
	}
	return out
}

// arm64 pstate fields.
const (
	a64PSRMode32 = 0x10
	a64PSRMode   = 0xf
	a64EL1t      = 0x4
	a64EL1h      = 0x5
	a64EL2t      = 0x8
	a64EL2h      = 0x9
)

// a64EFrameCheck holds what crash's arm64_is_kernel_exception_frame needs.
type a64EFrameCheck struct {
	ptRegsSize uint64
	lo, hi     uint64 // the task stack
	isText     func(uint64) bool
	pacMask    uint64 // CONFIG_ARM64_KERNELPACMASK (0 without pointer auth)
}

// kernelFrame reports whether r (x0..x30, sp, pc, pstate) look like a
// kernel-mode exception frame: sp and x29 on the stack, a 64-bit EL1/EL2
// pstate, pc and lr in kernel text.
func (c *a64EFrameCheck) kernelFrame(r []uint64) bool {
	in := func(a uint64) bool { return a >= c.lo && a < c.hi }
	ps := r[a64.RegPState]
	if !in(r[a64.RegSP]) || !in(r[a64.RegFP]) || ps&(0xffffffff00000000|a64PSRMode32) != 0 ||
		!c.isText(r[a64.RegPC]) || !c.isText(r[a64.RegLR]|c.pacMask) {
		return false
	}
	switch ps & a64PSRMode {
	case a64EL1t, a64EL1h, a64EL2t, a64EL2h:
		return true
	}
	return false
}

// search tries every byte offset of the stack buf (at c.lo) below its top
// pt_regs, as crash's arm64_eframe_search does; nwords registers are
// returned for each frame found.
func (c *a64EFrameCheck) search(buf []byte, order binary.ByteOrder, nwords int) []EFrame {
	var out []EFrame
	size := int(c.ptRegsSize)
	r := make([]uint64, nwords)
	for off := 0; off < len(buf)-size; off++ {
		for i := 0; i <= a64.RegPState; i++ {
			r[i] = order.Uint64(buf[off+8*i:])
		}
		if !c.kernelFrame(r) {
			continue
		}
		for i := a64.RegPState + 1; i < nwords; i++ {
			r[i] = order.Uint64(buf[off+8*i:])
		}
		out = append(out, EFrame{Addr: c.lo + uint64(off), Regs: append([]uint64(nil), r...)})
	}
	return out
}

// SearchEFrames searches a task's kernel stack for exception frames, as
// crash's bt -e does, in stack order. On arm64 a user task's frame at the
// top of its stack, where its entries from user mode save their registers,
// is added last whatever it holds, as crash prints it. A task whose stack
// is gone gives a NoStackError.
func (k *Kernel) SearchEFrames(t Task) ([]EFrame, error) {
	u, err := k.unwinder()
	if err != nil {
		return nil, err
	}
	base, err := k.ReadU64(t.Addr + uint64(u.stackOff))
	if err != nil {
		return nil, err
	}
	if base == 0 {
		return nil, &NoStackError{PID: t.PID}
	}
	size, err := k.Size("pt_regs")
	if err != nil {
		return nil, err
	}
	buf := make([]byte, u.threadSize)
	if err := k.ReadVirt(buf, base); err != nil {
		return nil, fmt.Errorf("task %x: stack at %x: %w", t.Addr, base, err)
	}
	switch a := k.Arch.(type) {
	case *x86.X86_64:
		if size < 8*x86.PtRegsWords {
			return nil, fmt.Errorf("struct pt_regs of %d bytes", size)
		}
		c := k.x86EFrameCheck(a, uint64(size))
		words := make([]uint64, len(buf)/8)
		for i := range words {
			words[i] = k.order.Uint64(buf[8*i:])
		}
		return c.search(base, words), nil
	case *a64.ARM64:
		nwords := u.arch.PtRegsWords()
		if size < int64(8*nwords) {
			return nil, fmt.Errorf("struct pt_regs of %d bytes", size)
		}
		c := &a64EFrameCheck{ptRegsSize: uint64(size), lo: base, hi: base + u.threadSize, isText: k.IsText, pacMask: a.PACMask()}
		out := c.search(buf, k.order, nwords)
		if !t.Kthread() {
			// pt_regs ends 16 bytes below the top where the struct
			// has no stackframe member of its own.
			off := uint64(size)
			if _, err := k.Offset("pt_regs", "stackframe"); err != nil {
				off += 16
			}
			at := u.threadSize - off
			r := make([]uint64, nwords)
			for i := range r {
				r[i] = k.order.Uint64(buf[at+uint64(8*i):])
			}
			out = append(out, EFrame{Addr: base + at, Regs: r, User: true})
		}
		return out, nil
	}
	return nil, fmt.Errorf("bt -e is not supported on %s", k.Arch.Name())
}

// x86EFrameCheck binds the x86_64 checks to this kernel: its direct map,
// user address limit (4- or 5-level paging) and the vmalloc-type areas
// crash accepts a kernel PC in (x86_64_IS_VMALLOC_ADDR).
func (k *Kernel) x86EFrameCheck(a *x86.X86_64, size uint64) *x86EFrameCheck {
	la57 := a.Levels() == 5
	c := &x86EFrameCheck{ptRegsSize: size, userTop: 0x0000800000000000, isText: k.IsText, read: k.ReadU64}
	if la57 {
		c.userTop = 0x0100000000000000
	}
	c.pageOffset, _ = a.PhysToVirt(0)
	sym := func(name string, def uint64) uint64 {
		if p, err := k.SymbolAddr(name); err == nil {
			if v, err := k.ReadU64(p); err == nil && v != 0 {
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
	if _, err := k.SymbolAddr("vmalloc_base"); err == nil {
		img := uint64(1 << 30)
		if n, ok := k.Dump.VMCoreInfo.Number("KERNEL_IMAGE_SIZE"); ok && n > 0 {
			img = uint64(n)
		}
		modStart = x86.StartKernelMap + img
	}
	vmEnd := vmStart + vmSize - 1
	ranges := [][2]uint64{
		{vmStart, vmEnd},
		{vmemmap, vmemmap + tb - 1},
		{modStart, 0xffffffffff000000},
		{x86Vsyscall, x86Vsyscall + 0xfff},
		{0xfffffe0000000000, 0xfffffe7fffffffff}, // cpu_entry_area
	}
	if la57 && vmemmap > vmEnd+1 {
		ranges = append(ranges, [2]uint64{vmEnd + 1, vmemmap - 1})
	}
	c.isModule = func(v uint64) bool { return v >= modStart && v <= 0xffffffffff000000 }
	c.vmallocMapped = func(v uint64) bool {
		for _, r := range ranges {
			if v >= r[0] && v <= r[1] {
				_, err := k.VirtToPhys(v)
				return err == nil
			}
		}
		return false
	}
	c.symbolName = func(v uint64) string {
		if s, _, ok := k.Symbolize(v); ok {
			return s
		}
		return ""
	}
	return c
}
