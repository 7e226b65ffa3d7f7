package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/symbols"
)

// The vmlinux's DWARF call frame information (.debug_frame, .eh_frame)
// describes, for every address of the C code, where the caller's stack
// pointer (the CFA) and registers are. It is the second unwinder: on
// x86_64 for addresses ORC has no entry for, on arm64 where a function has
// not set up its frame record (yet). The walk here works over any memory,
// so tests can run it on synthetic stacks.

// The architecture gives its DWARF register numbering (arch.DWARFRegs).

// cfiNumRegs bounds the DWARF registers a walk keeps: x86_64's general
// registers and rip (0-16), arm64's x0-x30 and sp (0-31).
const cfiNumRegs = 33

// setRegs records a register set's general registers in DWARF numbering.
func (s *cfiState) setRegs(d arch.DWARFRegs, regs []uint64) {
	for dw, i := range d.RegSet {
		if i >= 0 && i < len(regs) {
			s.set(uint64(dw), regs[i])
		}
	}
}

// dwarfReg gives the DWARF number of the register named name in the
// architecture's register set (Arch.Registers).
func dwarfReg(a arch.Arch, d arch.DWARFRegs, name string) (uint64, bool) {
	pos := slices.Index(a.Registers(), name)
	if pos < 0 {
		return 0, false
	}
	for dw, i := range d.RegSet {
		if i == pos {
			return uint64(dw), true
		}
	}
	return 0, false
}

// cfiState is a frame's registers, in DWARF numbering.
type cfiState struct {
	pc uint64
	// ret: pc is a return address, looked up one byte back (the call
	// instruction may be a function's last).
	ret   bool
	regs  [cfiNumRegs]uint64
	known [cfiNumRegs]bool
}

func (s *cfiState) set(reg, v uint64) {
	if reg < cfiNumRegs {
		s.regs[reg], s.known[reg] = v, true
	}
}

func (s *cfiState) get(reg uint64) (uint64, bool) {
	if reg < cfiNumRegs && s.known[reg] {
		return s.regs[reg], true
	}
	return 0, false
}

// cfiWalker unwinds by CFI over some memory: the kernel's, or a test's.
type cfiWalker struct {
	arch   arch.DWARFRegs
	row    func(pc uint64) (*symbols.CFIRow, error) // by run-time address
	read   func(addr uint64) (uint64, error)
	isText func(addr uint64) bool
	strip  func(addr uint64) uint64
	order  binary.ByteOrder
	stacks []stackRange
}

// onAStack reports whether a stack pointer value lies on one of the
// stacks (the top of a stack included: an empty stack).
func onAStack(stacks []stackRange, sp uint64) bool {
	for _, s := range stacks {
		if sp > s.lo && sp <= s.hi {
			return true
		}
	}
	return false
}

// step unwinds one frame: st becomes the caller's registers and f its
// frame. done reports the end of the stack (the return address column is
// undefined). A step that fails any check changes nothing.
func (w *cfiWalker) step(st *cfiState) (f Frame, done bool, err error) {
	lookup := st.pc
	if st.ret {
		lookup--
	}
	row, err := w.row(lookup)
	if err != nil {
		return f, false, err
	}
	raRule := row.Rule(row.RA).Kind
	if raRule == symbols.RuleUndefined {
		return f, true, nil // the end of the stack
	}
	sp, ok := st.get(w.arch.SP)
	if !ok {
		return f, false, fmt.Errorf("stack pointer unknown at %#x", st.pc)
	}
	env := symbols.CFIExprEnv{
		Reg: st.get,
		Read: func(addr uint64, size int) (uint64, error) {
			if size != 8 {
				return 0, fmt.Errorf("DWARF expression reads %d bytes at %#x", size, addr)
			}
			return w.read(addr)
		},
	}
	var cfa uint64
	switch row.CFA.Kind {
	case symbols.RuleCFA:
		base, ok := st.get(row.CFA.Reg)
		if !ok {
			return f, false, fmt.Errorf("CFA at %#x is based on register %d, which is not known", st.pc, row.CFA.Reg)
		}
		cfa = base + uint64(row.CFA.Offset)
	case symbols.RuleCFAExpression:
		if cfa, err = symbols.EvalCFIExpr(row.CFA.Expr, w.order, env); err != nil {
			return f, false, fmt.Errorf("CFA at %#x: %v", st.pc, err)
		}
	default:
		return f, false, fmt.Errorf("no CFA rule at %#x", st.pc)
	}
	if !onAStack(w.stacks, cfa) {
		return f, false, stackError("CFA", cfa)
	}
	// The caller's stack pointer lies above the callee's; a function with
	// no frame (an arm64 leaf, its return address still in x30) may leave
	// it where it was.
	inRegister := raRule == symbols.RuleUnspecified || raRule == symbols.RuleSameValue || raRule == symbols.RuleRegister
	if classify(w.stacks, cfa-1) == classify(w.stacks, sp) && (cfa < sp || cfa == sp && !inRegister) {
		return f, false, fmt.Errorf("CFA %x at %#x is not above the stack pointer %x", cfa, st.pc, sp)
	}
	var next cfiState
	for _, r := range w.arch.CalleeSaved {
		if v, ok := st.get(r); ok {
			next.set(r, v)
		}
	}
	slot := map[uint64]uint64{} // where registers were saved
	for reg, rule := range row.Regs {
		var v uint64
		switch rule.Kind {
		case symbols.RuleUndefined:
			if reg < cfiNumRegs {
				next.known[reg] = false
			}
			continue
		case symbols.RuleSameValue:
			var ok bool
			if v, ok = st.get(reg); !ok {
				continue
			}
		case symbols.RuleOffset:
			a := cfa + uint64(rule.Offset)
			if !onStack(w.stacks, a, 8) {
				return f, false, stackError(fmt.Sprintf("register %d's save slot", reg), a)
			}
			if v, err = w.read(a); err != nil {
				return f, false, err
			}
			slot[reg] = a
		case symbols.RuleValOffset:
			v = cfa + uint64(rule.Offset)
		case symbols.RuleRegister:
			var ok bool
			if v, ok = st.get(rule.Reg); !ok {
				if reg < cfiNumRegs {
					next.known[reg] = false
				}
				continue
			}
		case symbols.RuleExpression, symbols.RuleValExpression:
			a, err := symbols.EvalCFIExpr(rule.Expr, w.order, env, cfa)
			if err != nil {
				return f, false, fmt.Errorf("register %d at %#x: %v", reg, st.pc, err)
			}
			v = a
			if rule.Kind == symbols.RuleExpression {
				if v, err = w.read(a); err != nil {
					return f, false, err
				}
				slot[reg] = a
			}
		default:
			continue
		}
		next.set(reg, v)
	}
	// The return address is recovered by its rule, or is still in its
	// register (a leaf, or a prologue that has not saved it yet). That
	// register does not survive into the caller: the call clobbered it.
	ra, ok := next.get(row.RA)
	if raRule == symbols.RuleUnspecified {
		ra, ok = st.get(row.RA)
	}
	if row.RA < cfiNumRegs && row.RA != w.arch.SP {
		next.known[row.RA] = false
	}
	if !ok {
		return f, false, fmt.Errorf("return address at %#x is not known", st.pc)
	}
	if row.RASigned {
		ra = w.strip(ra)
	}
	if !w.isText(ra) {
		return f, false, fmt.Errorf("return address %x (from %#x) is not kernel text", ra, st.pc)
	}
	next.set(w.arch.SP, cfa)
	next.pc, next.ret = ra, true
	fsp := cfa - 8
	if w.arch.FrameAtRecord {
		// A frame is shown at its frame record, where x29 was saved.
		fsp = cfa
		if a, ok := slot[w.arch.FP]; ok {
			fsp = a
		}
	}
	*st = next
	return Frame{PC: ra, SP: fsp, Exact: w.arch.ExactReturns, Stack: classify(w.stacks, fsp)}, false, nil
}

// walk unwinds from st to the end of the stack, or to an error (tr.Err).
func (w *cfiWalker) walk(st *cfiState, tr *Trace) {
	for len(tr.Frames) < maxFrames {
		f, done, err := w.step(st)
		if err != nil {
			tr.Err = err
			return
		}
		if done {
			return
		}
		tr.Frames = append(tr.Frames, f)
	}
	tr.Err = fmt.Errorf("more than %d frames", maxFrames)
}

// fpStep follows one link of an x86_64 frame-pointer chain: at bp the
// caller's bp, above it the return address; the caller's stack pointer is
// bp+16. The link must lie on a stack at or above sp, and return into
// kernel text.
func fpStep(read func(uint64) (uint64, error), isText func(uint64) bool, stacks []stackRange, sp, bp uint64) (f Frame, nextSP, nextBP uint64, err error) {
	if bp&7 != 0 || !onStack(stacks, bp, 16) {
		return f, 0, 0, stackError("frame pointer", bp)
	}
	if classify(stacks, bp) == classify(stacks, sp) && bp < sp {
		return f, 0, 0, fmt.Errorf("frame pointer %x is below the stack pointer %x", bp, sp)
	}
	if nextBP, err = read(bp); err != nil {
		return f, 0, 0, err
	}
	ret, err := read(bp + 8)
	if err != nil {
		return f, 0, 0, err
	}
	if !isText(ret) {
		return f, 0, 0, fmt.Errorf("frame pointer %x: return address %x is not kernel text", bp, ret)
	}
	return Frame{PC: ret, SP: bp + 8, Stack: classify(stacks, bp+8)}, bp + 16, nextBP, nil
}

// fpWalk follows a frame-pointer chain from sp and bp until bp is zero (the
// end) or a link fails its checks (tr.Err).
func fpWalk(read func(uint64) (uint64, error), isText func(uint64) bool, stacks []stackRange, tr *Trace, sp, bp uint64) {
	for len(tr.Frames) < maxFrames {
		if bp == 0 {
			return
		}
		f, nsp, nbp, err := fpStep(read, isText, stacks, sp, bp)
		if err != nil {
			tr.Err = err
			return
		}
		tr.Frames = append(tr.Frames, f)
		sp, bp = nsp, nbp // the next link must lie above this one
	}
	tr.Err = fmt.Errorf("more than %d frames", maxFrames)
}

// orcFallback unwinds a frame ORC has no entry for: by CFI, else by the
// frame pointer (the kernel's own guess), checked.
func (w *orcWalker) orcFallback(st *orcState, tr *Trace) (done bool, err error) {
	var cfiErr error
	if w.cfi != nil {
		cs := cfiState{pc: st.ip, ret: !st.signal}
		d := w.cfi.arch
		if st.regs != nil && st.full {
			cs.setRegs(d, st.regs)
		}
		cs.set(d.SP, st.sp)
		cs.set(d.FP, st.bp)
		f, done, err := w.cfi.step(&cs)
		if err == nil {
			if done {
				return true, nil
			}
			st.ip, st.sp, st.regs, st.prev, st.signal = cs.pc, cs.regs[d.SP], nil, nil, false
			st.bp, _ = cs.get(d.FP)
			tr.Frames = append(tr.Frames, f)
			return false, nil
		}
		cfiErr = err
	}
	f, sp, bp, err := fpStep(w.read, w.isText, w.stacks, st.sp, st.bp)
	if err != nil {
		if cfiErr != nil {
			var no *symbols.NoCFIError
			if !errors.As(cfiErr, &no) {
				return false, fmt.Errorf("no ORC entry at %s; CFI: %v; frame pointer: %v", w.name(st.ip), cfiErr, err)
			}
		}
		return false, fmt.Errorf("no ORC entry at %s; frame pointer: %v", w.name(st.ip), err)
	}
	st.ip, st.sp, st.bp, st.regs, st.prev, st.signal = f.PC, sp, bp, nil, nil, false
	tr.Frames = append(tr.Frames, f)
	return false, nil
}

// setupCFI finds the vmlinux's CFI tables (decoded on first use).
func (u *Unwinder) setupCFI() {
	d, ok := u.machine.(arch.DWARFUnwinding)
	if !ok {
		return
	}
	u.cfiArch = d.DWARF()
	u.cfi, _ = u.tables.LoadCFI()
}

// cfiRow finds the CFI row for a run-time address in the kernel's text.
func (u *Unwinder) cfiRow(pc uint64) (*symbols.CFIRow, error) {
	if !u.KernelText(pc) {
		return nil, &symbols.NoCFIError{PC: pc}
	}
	link := u.syms.LinkAddr(pc)
	var err error = &symbols.NoCFIError{PC: pc}
	for _, t := range u.cfi {
		row, e := t.RowForPC(link)
		if e == nil {
			return row, nil
		}
		var no *symbols.NoCFIError
		if !errors.As(e, &no) {
			err = e
		}
	}
	return nil, err
}

// cfiWalkerFor is the CFI walk over the kernel's memory (nil without CFI).
func (u *Unwinder) cfiWalkerFor(stacks []stackRange) *cfiWalker {
	if len(u.cfi) == 0 {
		return nil
	}
	return &cfiWalker{
		arch:   u.cfiArch,
		row:    func(pc uint64) (*symbols.CFIRow, error) { return u.cfiRow(pc) },
		read:   u.ReadU64,
		isText: u.mods.IsText,
		strip:  u.arch.StripPointerAuth,
		order:  u.ByteOrder(),
		stacks: stacks,
	}
}

// unwindMode chooses the unwinders of a walk (tests compare them).
type unwindMode int

const (
	unwindPrimary unwindMode = iota // as bt does
	unwindCFIOnly                   // CFI alone
	unwindFPOnly                    // x86_64 frame pointers alone
)

// backtraceMode unwinds a task that is not running with one unwinder
// alone, from the context it saved when it was switched out.
func (u *Unwinder) backtraceMode(t Task, mode unwindMode) (*Trace, error) {
	if mode == unwindPrimary {
		return u.Backtrace(t)
	}
	err := u.ready()
	if err != nil {
		return nil, err
	}
	if t.Active {
		return nil, fmt.Errorf("PID %d is active: only switched-out tasks are compared", t.PID)
	}
	tr := &Trace{Task: t}
	stacks, err := u.stacksOf(t)
	if err != nil {
		return nil, err
	}
	switch u.arch.Unwinder() {
	case arch.UnwindORC:
		tsp, err := u.ReadU64(t.Addr + uint64(u.threadSPOff))
		if err != nil {
			return nil, err
		}
		words, err := u.readWords(tsp, int(u.frameSize/8))
		if err != nil {
			return nil, err
		}
		ip, bp, sp := words[u.frameRetOff/8], words[u.frameBPOff/8], tsp+uint64(u.frameSize)
		tr.Start = "thread.sp"
		tr.Frames = append(tr.Frames, Frame{PC: ip, SP: tsp, Exact: ip == u.retFromFork, Stack: classify(stacks, tsp)})
		if mode == unwindFPOnly {
			fpWalk(u.ReadU64, u.mods.IsText, stacks, tr, sp, bp)
			return tr, nil
		}
		cw := u.cfiWalkerFor(stacks)
		if cw == nil {
			return nil, fmt.Errorf("the vmlinux has no call frame information")
		}
		st := cfiState{pc: ip, ret: ip != u.retFromFork}
		st.set(u.cfiArch.SP, sp)
		st.set(u.cfiArch.FP, bp)
		// inactive_task_frame's members, by the registers they save.
		for member, name := range map[string]string{"bx": "rbx", "r12": "r12", "r13": "r13", "r14": "r14", "r15": "r15"} {
			reg, ok := dwarfReg(u.machine, u.cfiArch, name)
			off, err := u.Offset("inactive_task_frame", member)
			if err != nil && !symbols.IsMissing(err) {
				return nil, err
			}
			if err == nil && ok {
				st.set(reg, words[off/8])
			}
		}
		cw.walk(&st, tr)
		return tr, nil
	case arch.UnwindFrameRecords:
		if mode != unwindCFIOnly {
			return nil, fmt.Errorf("frame-pointer walk is for x86_64")
		}
		cw := u.cfiWalkerFor(stacks)
		if cw == nil {
			return nil, fmt.Errorf("the vmlinux has no call frame information")
		}
		ctx := t.Addr + uint64(u.cpuCtxOff)
		l, err := u.frameRecordLayout()
		if err != nil {
			return nil, err
		}
		fp, err := u.ReadU64(t.Addr + uint64(l.ctxFP))
		if err != nil {
			return nil, err
		}
		pc, err := u.ReadU64(t.Addr + uint64(l.ctxPC))
		if err != nil {
			return nil, err
		}
		// struct cpu_context: x19-x28, fp, sp, pc.
		words, err := u.readWords(ctx, 13)
		if err != nil {
			return nil, err
		}
		pc = u.arch.StripPointerAuth(pc)
		tr.Start = "thread.cpu_context"
		tr.Frames = append(tr.Frames, Frame{PC: pc, SP: fp, Exact: true, Stack: classify(stacks, fp)})
		st := cfiState{pc: pc, ret: true}
		for i, name := range []string{"x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "", "sp"} {
			if reg, ok := dwarfReg(u.machine, u.cfiArch, name); ok {
				st.set(reg, words[i])
			}
		}
		st.set(u.cfiArch.FP, fp)
		cw.walk(&st, tr)
		return tr, nil
	}
	return nil, fmt.Errorf("no unwinder for %s", u.machine.Name())
}

// leafCaller finds, for a walk by frame records from registers, the
// caller of a function that has not set up its frame record (a leaf, or a
// prologue or epilogue): CFI says the return address is still in x30, or
// saved, while x29 still points at the caller's record, which would skip
// the caller. nil when the record is set up or CFI does not say.
func (u *Unwinder) leafCaller(stacks []stackRange, regs []uint64) *Frame {
	cw := u.cfiWalkerFor(stacks)
	ri := u.arch.RegIndex()
	if len(regs) <= ri.PC || ri.FP < 0 || ri.FP >= len(regs) {
		return nil
	}
	if cw == nil {
		return u.leafCallerByCode(stacks, regs)
	}
	st := cfiState{pc: u.arch.StripPointerAuth(regs[ri.PC])}
	st.setRegs(cw.arch, regs)
	f, done, err := cw.step(&st)
	if err != nil || done {
		return nil
	}
	if fp, ok := st.get(cw.arch.FP); !ok || fp != regs[ri.FP] {
		return nil
	}
	return &f
}

// maxPrologueScan bounds how far into a function leafCallerByCode reads
// (bytes) for the store of its frame record.
const maxPrologueScan = 4096

// leafCallerByCode is leafCaller without CFI (a dump opened without its
// vmlinux), on an architecture whose prologues push a frame record
// (arch.FrameRecordSaves): when the code of the interrupted function, from
// its start (the symbol the address is in) to the interrupted
// instruction, stores no frame record, the frame pointer is still the
// caller's and the caller is the link register's return address, at the
// same stack pointer, as the CFI would say.
func (u *Unwinder) leafCallerByCode(stacks []stackRange, regs []uint64) *Frame {
	fs, ok := u.arch.(arch.FrameRecordSaves)
	ri := u.arch.RegIndex()
	if !ok || u.syms == nil || ri.LR < 0 || ri.LR >= len(regs) || ri.SP >= len(regs) {
		return nil
	}
	pc := u.arch.StripPointerAuth(regs[ri.PC])
	lr := u.arch.StripPointerAuth(regs[ri.LR])
	sym, off, ok := u.syms.Nearest(pc)
	if !ok || off > maxPrologueScan || off%4 != 0 || lr == pc || !u.mods.IsText(lr) || u.exceptionEntry(pc) {
		return nil // (at an exception vector the link register is the interrupted code's)
	}
	if end := sym.Addr + max(sym.Size, off+4); lr >= sym.Addr && lr < end {
		return nil // a return address into the function itself: a stale link register
	}
	code := make([]byte, off)
	if err := u.ReadVirt(code, sym.Addr); err != nil || fs.SavesFrameRecord(code) {
		return nil
	}
	sp := regs[ri.SP]
	return &Frame{PC: lr, SP: sp, Exact: u.cfiArch.ExactReturns, Stack: classify(stacks, sp)}
}
