package kernel

import (
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/symbols"
)

// The x86_64 kernel unwinds with ORC (arch/x86/kernel/unwind_orc.c); this
// walk makes the same decisions over the dump's memory, so that it names
// the frames the kernel's own traces name.

func (u *Unwinder) setupORC() error {
	var err error
	if u.orcRegs, err = orcRegsOf(u.machine, u.arch); err != nil {
		return err
	}
	lay, err := u.tables.ORCEntryLayout()
	if err != nil {
		return fmt.Errorf("ORC entry layout: %w", err)
	}
	if u.orc, err = u.tables.LoadORC(lay); err != nil {
		return err
	}
	if u.threadSPOff, err = u.Offset("task_struct", "thread.sp"); err != nil {
		return err
	}
	if u.frameBPOff, err = u.Offset("inactive_task_frame", "bp"); err != nil {
		return err
	}
	if u.frameRetOff, err = u.Offset("inactive_task_frame", "ret_addr"); err != nil {
		return err
	}
	if u.frameSize, err = u.Size("inactive_task_frame"); err != nil {
		return err
	}
	// A task that has never run "returns" to the start of the fork return
	// path (ret_from_fork_asm since 6.7, ret_from_fork before).
	for _, name := range []string{"ret_from_fork_asm", "ret_from_fork"} {
		if a, err := u.SymbolAddr(name); err == nil {
			u.retFromFork = a
			break
		} else if !symbols.IsMissing(err) {
			return err
		}
	}
	return nil
}

// orcRegs are the positions in a register set (a struct pt_regs) of the
// registers the ORC walk reads, from the architecture.
type orcRegs struct {
	ip, sp, bp int
	words      int // a full struct pt_regs
	// r10, r13, di, dx: the other registers ORC bases a stack on.
	r10, r13, di, dx int
}

func orcRegsOf(a arch.Arch, ua arch.Unwinding) (orcRegs, error) {
	ri := ua.RegIndex()
	p := orcRegs{ip: ri.PC, sp: ri.SP, bp: ri.FP, words: ua.PtRegsWords()}
	names := a.Registers()
	for _, r := range []struct {
		name string
		pos  *int
	}{{"r10", &p.r10}, {"r13", &p.r13}, {"rdi", &p.di}, {"rdx", &p.dx}} {
		if *r.pos = slices.Index(names, r.name); *r.pos < 0 {
			return p, fmt.Errorf("ORC unwinding: %s has no register %s", a.Name(), r.name)
		}
	}
	// An IRET frame (ip, cs, flags, sp, ss) ends a struct pt_regs.
	if p.ip < 0 || p.bp < 0 || p.ip+5 > p.words {
		return p, fmt.Errorf("ORC unwinding: %s's register set is not laid out as pt_regs", a.Name())
	}
	return p, nil
}

// base gives the register-set position of an ORC base register.
func (p orcRegs) base(r uint8) int {
	switch r {
	case symbols.ORCRegR10:
		return p.r10
	case symbols.ORCRegR13:
		return p.r13
	case symbols.ORCRegDI:
		return p.di
	}
	return p.dx
}

// orcFind finds the ORC entry for a run-time address.
func (u *Unwinder) orcFind(ip uint64) (symbols.ORCEntry, bool) {
	if u.KernelText(ip) {
		return u.orc.Find(u.syms.LinkAddr(ip))
	}
	return u.mods.moduleORCFind(ip)
}

// orcState is the unwinder's state between frames.
type orcState struct {
	ip, sp, bp uint64
	regs       []uint64 // the last pt_regs met (nil after a call frame)
	full       bool     // regs is a full struct pt_regs, not an IRET frame
	prev       []uint64 // the full pt_regs before a partial one
	signal     bool     // ip is exact, not a return address
	// crashPath: the frames are the kdump path's, walked from a return
	// address found on the stack; one without unwind data is passed by
	// finding its caller, as for a first frame from registers.
	crashPath bool
}

// reg reads a register from the last saved register set, as the kernel's
// get_reg does.
func (s *orcState) reg(i int) (uint64, bool) {
	switch {
	case s.regs == nil:
		return 0, false
	case s.full:
		return s.regs[i], true
	case s.prev != nil:
		return s.prev[i], true
	}
	return 0, false
}

// orcWalker is the ORC walk over some memory: the kernel's, or a test's.
type orcWalker struct {
	read      func(addr uint64) (uint64, error)
	readWords func(addr uint64, n int) ([]uint64, error)
	find      func(ip uint64) (symbols.ORCEntry, bool) // by run-time address
	isText    func(ip uint64) bool
	userMode  func(regs []uint64) bool
	name      func(addr uint64) string
	// noUnwindData, when set, handles a first frame from registers whose
	// function has no ORC data.
	noUnwindData func(st *orcState, tr *Trace) error
	// cfi, when set, unwinds a frame ORC has no entry for (else the frame
	// pointer is tried).
	cfi    *cfiWalker
	stacks []stackRange
	regs   orcRegs
}

func (u *Unwinder) orcWalkerFor(stacks []stackRange) *orcWalker {
	w := &orcWalker{
		read:      u.ReadU64,
		readWords: u.readWords,
		find:      func(ip uint64) (symbols.ORCEntry, bool) { return u.orcFind(ip) },
		isText:    u.mods.IsText,
		userMode:  u.arch.UserMode,
		name:      u.symbolize,
		stacks:    stacks,
		regs:      u.orcRegs,
	}
	w.noUnwindData = func(st *orcState, tr *Trace) error { return u.findCaller(st, tr, stacks) }
	w.cfi = u.cfiWalkerFor(stacks)
	return w
}

func (u *Unwinder) walkORC(tr *Trace, regs []uint64) error {
	stacks, err := u.stacksOf(tr.Task)
	if err != nil {
		return err
	}
	w := u.orcWalkerFor(stacks)
	if regs != nil {
		if len(regs) < w.regs.words {
			return fmt.Errorf("register set of %d words, want %d", len(regs), w.regs.words)
		}
		// Registers at a fault that oops_end passed to crash_kexec: the
		// crash path's frames lie below them (unwind_crashpath.go).
		if st, ok := w.crashPath(tr, regs, u.crashPathRank); ok {
			w.walk(st, tr)
			return nil
		}
		w.startRegs(tr, regs)
		return nil
	}
	// A task switched out: thread.sp points at the inactive_task_frame
	// __switch_to_asm pushed, whose last word returns into __schedule.
	tsp, err := u.ReadU64(tr.Task.Addr + uint64(u.threadSPOff))
	if err != nil {
		return fmt.Errorf("task %x: thread.sp: %w", tr.Task.Addr, err)
	}
	words, err := u.readWords(tsp, int(u.frameSize/8))
	if err != nil {
		return fmt.Errorf("task %x: inactive_task_frame at %x: %w", tr.Task.Addr, tsp, err)
	}
	tr.Start = "thread.sp"
	ip := words[u.frameRetOff/8]
	st := orcState{sp: tsp + uint64(u.frameSize), bp: words[u.frameBPOff/8], ip: ip, signal: ip == u.retFromFork}
	// crash shows this first frame at thread.sp itself (the frame's base),
	// not at the slot of its return address.
	tr.Frames = append(tr.Frames, Frame{PC: st.ip, SP: tsp, Exact: st.signal, Stack: classify(w.stacks, tsp)})
	w.walk(&st, tr)
	return nil
}

// startRegs walks from a full register set.
func (w *orcWalker) startRegs(tr *Trace, regs []uint64) {
	st := orcState{ip: regs[w.regs.ip], sp: regs[w.regs.sp], bp: regs[w.regs.bp], regs: regs, full: true, signal: true}
	if w.userMode(regs) {
		return // the CPU was in user mode: no kernel frames
	}
	tr.Frames = append(tr.Frames, Frame{PC: st.ip, SP: st.sp, Exact: true, Stack: classify(w.stacks, st.sp)})
	w.walk(&st, tr)
}

// walk unwinds from st to the end of the stack, or to an error (tr.Err).
func (w *orcWalker) walk(st *orcState, tr *Trace) {
	for len(tr.Frames) < maxFrames {
		done, err := w.step(st, tr)
		if err != nil {
			tr.Err = err
			return
		}
		if done {
			return
		}
	}
	tr.Err = fmt.Errorf("more than %d frames", maxFrames)
}

// step unwinds one frame; done reports the end of the stack.
func (w *orcWalker) step(st *orcState, tr *Trace) (done bool, err error) {
	stacks := w.stacks
	if st.regs != nil && w.userMode(st.regs) {
		return true, nil
	}
	lookup := st.ip
	if !st.signal {
		lookup--
	}
	e, ok := w.find(lookup)
	if (!ok || e.Type == symbols.ORCUndefined) && (len(tr.Frames) == 1 && tr.Regs != nil || st.crashPath) && w.noUnwindData != nil {
		// The registers were saved in a function objtool gave no unwind
		// data (the kdump path's __crash_kexec): find its caller's return
		// address on the stack instead.
		return false, w.noUnwindData(st, tr)
	}
	if !ok {
		if !w.isText(st.ip) {
			return false, fmt.Errorf("%x is not kernel text", st.ip)
		}
		return w.orcFallback(st, tr)
	}
	switch e.Type {
	case symbols.ORCUndefined:
		return false, fmt.Errorf("no unwind information at %s", w.name(st.ip))
	case symbols.ORCEndOfStack:
		return true, nil
	}
	if e.SignalKnown {
		st.signal = e.Signal
	}
	var sp uint64
	indirect := false
	switch e.SPReg {
	case symbols.ORCRegSP:
		sp = st.sp + uint64(int64(e.SPOffset))
	case symbols.ORCRegBP:
		sp = st.bp + uint64(int64(e.SPOffset))
	case symbols.ORCRegSPIndirect:
		sp, indirect = st.sp, true
	case symbols.ORCRegBPIndirect:
		sp, indirect = st.bp+uint64(int64(e.SPOffset)), true
	case symbols.ORCRegR10, symbols.ORCRegR13, symbols.ORCRegDI, symbols.ORCRegDX:
		v, ok := st.reg(w.regs.base(e.SPReg))
		if !ok {
			return false, fmt.Errorf("register %d needed at %s is not saved", e.SPReg, w.name(st.ip))
		}
		sp = v
	default:
		return false, fmt.Errorf("unknown ORC stack base %d at %s", e.SPReg, w.name(st.ip))
	}
	if indirect {
		if sp, err = w.read(sp); err != nil {
			return false, err
		}
		if e.SPReg == symbols.ORCRegSPIndirect {
			sp += uint64(int64(e.SPOffset))
		}
	}
	prevSP, prevStack := st.sp, classify(stacks, st.sp)
	switch e.Type {
	case symbols.ORCCall:
		ipp := sp - 8
		ip, err := w.read(ipp)
		if err != nil {
			return false, err
		}
		st.ip, st.sp, st.regs, st.prev = ip, sp, nil, nil
		if !e.SignalKnown {
			st.signal = false
		}
		tr.Frames = append(tr.Frames, Frame{PC: ip, SP: ipp, Exact: st.signal, Stack: classify(stacks, ipp)})
	case symbols.ORCRegs:
		r, err := w.readWords(sp, w.regs.words)
		if err != nil {
			return false, fmt.Errorf("pt_regs at %x: %w", sp, err)
		}
		w.attachRegs(tr, &SavedRegs{Addr: sp, Regs: r, User: w.userMode(r)})
		st.ip, st.sp, st.regs, st.full, st.prev = r[w.regs.ip], r[w.regs.sp], r, true, nil
		if !e.SignalKnown {
			st.signal = true
		}
	case symbols.ORCRegsPartial:
		iret, err := w.readWords(sp, 5) // ip, cs, flags, sp, ss
		if err != nil {
			return false, fmt.Errorf("IRET frame at %x: %w", sp, err)
		}
		r := make([]uint64, w.regs.words)
		copy(r[w.regs.ip:], iret)
		base := sp - uint64(8*w.regs.ip)
		w.attachRegs(tr, &SavedRegs{Addr: base, Regs: r, User: w.userMode(r), Partial: true})
		if st.full {
			st.prev = st.regs
		}
		st.ip, st.sp, st.regs, st.full = r[w.regs.ip], r[w.regs.sp], r, false
		if !e.SignalKnown {
			st.signal = true
		}
	default:
		return false, fmt.Errorf("unknown ORC entry type %d at %s", e.Type, w.name(st.ip))
	}
	switch e.BPReg {
	case symbols.ORCRegUndefined:
		if v, ok := st.reg(w.regs.bp); ok {
			st.bp = v
		}
	case symbols.ORCRegPrevSP:
		if st.bp, err = w.read(sp + uint64(int64(e.BPOffset))); err != nil {
			return false, err
		}
	case symbols.ORCRegBP:
		if st.bp, err = w.read(st.bp + uint64(int64(e.BPOffset))); err != nil {
			return false, err
		}
	default:
		return false, fmt.Errorf("unknown ORC frame-pointer base %d at %s", e.BPReg, w.name(st.ip))
	}
	if st.regs != nil && w.userMode(st.regs) {
		return true, nil
	}
	if classify(stacks, st.sp) == prevStack && prevStack != StackUnknown && st.sp <= prevSP {
		return false, fmt.Errorf("stack pointer went back from %x to %x", prevSP, st.sp)
	}
	return false, nil
}

// attachRegs records saved registers met while unwinding the last frame:
// they belong to it (the entry code that saved them).
func (w *orcWalker) attachRegs(tr *Trace, r *SavedRegs) {
	if n := len(tr.Frames); n > 0 && tr.Frames[n-1].Regs == nil {
		tr.Frames[n-1].Regs = r
		return
	}
	// Two register sets in a row: give the second a frame of its own at
	// the interrupted address.
	tr.Frames = append(tr.Frames, Frame{PC: r.Regs[w.regs.ip], SP: r.Addr, Exact: true, Regs: r})
}

// symbolize names an address as the kernel prints it (func+0xoff).
func (u *Unwinder) symbolize(addr uint64) string {
	if name, off, ok := u.mods.Symbolize(addr); ok {
		return fmt.Sprintf("%s+%#x", name, off)
	}
	return fmt.Sprintf("%#x", addr)
}

// findCaller finds the return address into the caller of the function
// st.ip is in, for a function without unwind data: the first word above
// the stack pointer that returns just after a direct call of that
// function (checked in the vmlinux's code).
func (u *Unwinder) findCaller(st *orcState, tr *Trace, stacks []stackRange) error {
	fn, off, ok := u.syms.Nearest(st.ip)
	if !ok {
		return fmt.Errorf("no unwind information at %#x", st.ip)
	}
	start := st.ip - off
	n := 512 // words, at most to the end of the stack
	for _, r := range stacks {
		if st.sp >= r.lo && st.sp < r.hi && int((r.hi-st.sp)/8) < n {
			n = int((r.hi - st.sp) / 8)
		}
	}
	words, err := u.readWords(st.sp, n)
	if err != nil {
		return err
	}
	for i, w := range words {
		if !u.KernelText(w) || !u.callsTo(w, start) {
			continue
		}
		slot := st.sp + uint64(8*i)
		st.ip, st.sp, st.regs, st.prev, st.signal = w, slot+8, nil, nil, false
		tr.Frames = append(tr.Frames, Frame{PC: w, SP: slot, Stack: classify(stacks, slot)})
		return nil
	}
	return fmt.Errorf("no unwind information at %s", u.symbolize(fn.Addr+off))
}

// callsTo reports whether the instruction before the return address ret
// is a direct call (E8 rel32) of target, reading the vmlinux's code (the
// dump's, without a vmlinux file).
func (u *Unwinder) callsTo(ret, target uint64) bool {
	b, ok := u.syms.ReadRunAddr(ret-5, 5)
	if !ok {
		b = make([]byte, 5)
		ok = u.ReadVirt(b, ret-5) == nil
	}
	if !ok || b[0] != 0xe8 {
		return false
	}
	rel := int32(uint32(b[1]) | uint32(b[2])<<8 | uint32(b[3])<<16 | uint32(b[4])<<24)
	return ret+uint64(int64(rel)) == target
}
