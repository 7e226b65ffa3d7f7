package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// The arm64 kernel unwinds by frame records (arch/arm64/kernel/stacktrace.c):
// every function that calls another saves a record of two words, the
// caller's frame pointer (x29) and its return address (x30), and points x29
// at it. The chain ends at the record inside the struct pt_regs at the top
// of the task's stack. The kernel names each address as it is (%pS), and
// strips pointer-authentication bits from return addresses.

// frameRecordLayout is what the walk needs of the task and pt_regs.
type frameRecordLayout struct {
	ctxFP, ctxPC   int64 // task_struct.thread.cpu_context.fp and .pc
	ptRegsSize     int64
	ptRegsFrameOff int64 // pt_regs.stackframe
	ptRegsFrameOK  bool
}

func (u *Unwinder) frameRecordLayout() (frameRecordLayout, error) {
	var l frameRecordLayout
	var err error
	if l.ctxFP, err = u.Offset("task_struct", "thread.cpu_context.fp"); err != nil {
		return l, err
	}
	if l.ctxPC, err = u.Offset("task_struct", "thread.cpu_context.pc"); err != nil {
		return l, err
	}
	if l.ptRegsSize, err = u.Size("pt_regs"); err != nil {
		return l, err
	}
	if off, err := u.Offset("pt_regs", "stackframe"); err == nil {
		l.ptRegsFrameOff, l.ptRegsFrameOK = off, true
	} else if !symbols.IsMissing(err) {
		return l, err
	}
	return l, nil
}

// frameWalker walks frame records over some memory: the kernel's, or a
// test's.
type frameWalker struct {
	readWords func(addr uint64, n int) ([]uint64, error)
	strip     func(addr uint64) uint64
	stacks    []stackRange
	// final is the address of the last record, inside the pt_regs at the
	// top of the task's stack (0 when unknown); finalRegs reads those
	// pt_regs, to show the user registers when the task entered from
	// user mode.
	final     uint64
	finalRegs func() *SavedRegs
	// leaf is the caller of the first frame's function when that function
	// has not set up its frame record (found by CFI), shown second.
	leaf *Frame
	// entryRegs gives the kernel-mode pt_regs an exception entry saved,
	// when pc (a frame's) is the entry's and fp (the record to read next)
	// is the pt_regs' own frame record; nil otherwise.
	entryRegs func(pc, fp uint64) *SavedRegs
}

// arm64EntryFuncs are the exception entries whose frame lies in a pt_regs
// (crash's arm64_exception_functions, besides the entry text).
var arm64EntryFuncs = map[string]bool{
	"el1h_64_sync": true, "el1h_64_irq": true, "el1h_64_fiq": true, "el1h_64_error": true,
	"el1t_64_sync": true, "el1t_64_irq": true, "el1t_64_fiq": true, "el1t_64_error": true,
	"do_undefinstr": true, "do_sysinstr": true, "do_debug_exception": true, "do_mem_abort": true,
	"do_el0_irq_bp_hardening": true, "do_sp_pc_abort": true, "handle_bad_stack": true,
}

// exceptionEntry reports whether pc is in the kernel's exception entry
// code: its entry text (__entry_text_start to __entry_text_end, or the
// older __exception_text), or a function crash knows as an entry.
func (u *Unwinder) exceptionEntry(pc uint64) bool {
	for _, r := range [][2]string{{"__entry_text_start", "__entry_text_end"}, {"__exception_text_start", "__exception_text_end"}} {
		lo, err1 := u.SymbolAddr(r[0])
		hi, err2 := u.SymbolAddr(r[1])
		if err1 == nil && err2 == nil && pc >= lo && pc < hi {
			return true
		}
	}
	if u.syms != nil {
		if sym, _, ok := u.syms.Nearest(pc); ok && arm64EntryFuncs[sym.Name] {
			return true
		}
	}
	return false
}

// entryFrame returns the kernel-mode registers an exception saved, when
// the frame record at fp is the stackframe of a struct pt_regs (the
// record holds the interrupted x29 and pc, as kernel_entry stores them)
// and the frame whose record it is, at pc, is an exception entry.
func (u *Unwinder) entryFrame(l frameRecordLayout, pc, fp uint64) *SavedRegs {
	if !l.ptRegsFrameOK || fp < uint64(l.ptRegsFrameOff) || !u.exceptionEntry(pc) {
		return nil
	}
	ri := u.arch.RegIndex()
	at := fp - uint64(l.ptRegsFrameOff)
	r, err := u.readWords(at, u.arch.PtRegsWords())
	if err != nil || u.arch.UserMode(r) {
		return nil
	}
	rec, err := u.readWords(fp, 2)
	strip := u.arch.StripPointerAuth
	if err != nil || rec[0] != r[ri.FP] || strip(rec[1]) != strip(r[ri.PC]) {
		return nil
	}
	return &SavedRegs{Addr: at, Regs: r}
}

func (u *Unwinder) walkFrameRecords(tr *Trace, regs []uint64) error {
	l, err := u.frameRecordLayout()
	if err != nil {
		return err
	}
	ri := u.arch.RegIndex()
	stacks, err := u.stacksOf(tr.Task)
	if err != nil {
		return err
	}
	w := &frameWalker{readWords: u.readWords, strip: u.arch.StripPointerAuth, stacks: stacks,
		entryRegs: func(pc, fp uint64) *SavedRegs { return u.entryFrame(l, pc, fp) }}
	if base, err := u.ReadU64(tr.Task.Addr + uint64(u.stackOff)); err == nil && l.ptRegsFrameOK {
		regsAddr := base + u.threadSize - uint64(l.ptRegsSize)
		w.final = regsAddr + uint64(l.ptRegsFrameOff)
		w.finalRegs = func() *SavedRegs {
			r, err := u.readWords(regsAddr, u.arch.PtRegsWords())
			// A kernel thread's are zero: it never entered from user mode.
			if err != nil || !u.arch.UserMode(r) || r[ri.PC] == 0 && r[ri.SP] == 0 {
				return nil
			}
			return &SavedRegs{Addr: regsAddr, Regs: r, User: true}
		}
	}
	var fp, pc, sp uint64
	if regs != nil {
		if len(regs) <= ri.PC {
			return fmt.Errorf("register set of %d words", len(regs))
		}
		if u.arch.UserMode(regs) {
			return nil
		}
		fp, pc, sp = regs[ri.FP], regs[ri.PC], regs[ri.SP]
		w.leaf = u.leafCaller(w.stacks, regs)
	} else {
		if fp, err = u.ReadU64(tr.Task.Addr + uint64(l.ctxFP)); err != nil {
			return fmt.Errorf("task %x: cpu_context: %w", tr.Task.Addr, err)
		}
		if pc, err = u.ReadU64(tr.Task.Addr + uint64(l.ctxPC)); err != nil {
			return fmt.Errorf("task %x: cpu_context: %w", tr.Task.Addr, err)
		}
		sp = fp
		tr.Start = "thread.cpu_context"
	}
	w.walk(tr, pc, fp, sp)
	return nil
}

// walk follows the records from pc and fp (sp is shown for the first
// frame) to the last record, or to an error (tr.Err).
func (w *frameWalker) walk(tr *Trace, pc, fp, sp uint64) {
	pc = w.strip(pc)
	tr.Frames = append(tr.Frames, Frame{PC: pc, SP: sp, Exact: true, Stack: classify(w.stacks, sp)})
	if w.leaf != nil {
		tr.Frames = append(tr.Frames, *w.leaf)
	}
	for len(tr.Frames) < maxFrames {
		if fp == w.final && w.final != 0 {
			if w.finalRegs != nil {
				if r := w.finalRegs(); r != nil {
					tr.Frames[len(tr.Frames)-1].Regs = r
				}
			}
			return
		}
		if fp == 0 {
			return
		}
		if last := &tr.Frames[len(tr.Frames)-1]; w.entryRegs != nil && last.Regs == nil {
			last.Regs = w.entryRegs(last.PC, fp)
		}
		if fp&7 != 0 || !onStack(w.stacks, fp, 16) {
			tr.Err = stackError("frame record", fp)
			return
		}
		rec, err := w.readWords(fp, 2)
		if err != nil {
			tr.Err = err
			return
		}
		next, ret := rec[0], w.strip(rec[1])
		if ret == 0 {
			return
		}
		// Records move up the stack, or on to another stack.
		if next != 0 && classify(w.stacks, next) == classify(w.stacks, fp) && next <= fp {
			tr.Err = fmt.Errorf("frame record at %x points back to %x", fp, next)
			return
		}
		tr.Frames = append(tr.Frames, Frame{PC: ret, SP: fp, Exact: true, Stack: classify(w.stacks, fp)})
		fp = next
	}
	tr.Err = fmt.Errorf("more than %d frames", maxFrames)
}
