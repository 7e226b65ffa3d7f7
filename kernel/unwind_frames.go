package kernel

import (
	"fmt"
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

func (k *Kernel) frameRecordLayout(u *unwindCache) (frameRecordLayout, error) {
	var l frameRecordLayout
	var err error
	if l.ctxFP, err = k.Offset("task_struct", "thread.cpu_context.fp"); err != nil {
		return l, err
	}
	if l.ctxPC, err = k.Offset("task_struct", "thread.cpu_context.pc"); err != nil {
		return l, err
	}
	if l.ptRegsSize, err = k.Size("pt_regs"); err != nil {
		return l, err
	}
	if off, err := k.Offset("pt_regs", "stackframe"); err == nil {
		l.ptRegsFrameOff, l.ptRegsFrameOK = off, true
	}
	return l, nil
}

func (k *Kernel) walkFrameRecords(u *unwindCache, tr *Trace, regs []uint64) error {
	l, err := k.frameRecordLayout(u)
	if err != nil {
		return err
	}
	stacks := k.stacksOf(u, tr.Task)
	ri := u.arch.RegIndex()
	var fp, pc, sp uint64
	if regs != nil {
		if len(regs) <= ri.PC {
			return fmt.Errorf("register set of %d words", len(regs))
		}
		if u.arch.UserMode(regs) {
			return nil
		}
		fp, pc, sp = regs[ri.FP], regs[ri.PC], regs[ri.SP]
	} else {
		if fp, err = k.ReadU64(tr.Task.Addr + uint64(l.ctxFP)); err != nil {
			return fmt.Errorf("task %x: cpu_context: %w", tr.Task.Addr, err)
		}
		if pc, err = k.ReadU64(tr.Task.Addr + uint64(l.ctxPC)); err != nil {
			return fmt.Errorf("task %x: cpu_context: %w", tr.Task.Addr, err)
		}
		sp = fp
		tr.Start = "thread.cpu_context"
	}
	// The last record lies in the pt_regs at the top of the task's stack.
	var final uint64
	if base, err := k.ReadU64(tr.Task.Addr + uint64(u.stackOff)); err == nil && l.ptRegsFrameOK {
		final = base + u.threadSize - uint64(l.ptRegsSize) + uint64(l.ptRegsFrameOff)
	}
	pc = u.arch.StripPointerAuth(pc)
	tr.Frames = append(tr.Frames, Frame{PC: pc, SP: sp, Exact: true, Stack: classify(stacks, sp)})
	for len(tr.Frames) < maxFrames {
		if fp == final || fp == 0 {
			return nil
		}
		if fp&7 != 0 || !onStack(stacks, fp, 16) {
			tr.Err = stackError("frame record", fp)
			return nil
		}
		rec, err := k.readWords(fp, 2)
		if err != nil {
			tr.Err = err
			return nil
		}
		next, ret := rec[0], u.arch.StripPointerAuth(rec[1])
		if ret == 0 {
			return nil
		}
		// Records move up the stack, or on to another stack.
		if next != 0 && classify(stacks, next) == classify(stacks, fp) && next <= fp {
			tr.Err = fmt.Errorf("frame record at %x points back to %x", fp, next)
			return nil
		}
		tr.Frames = append(tr.Frames, Frame{PC: ret, SP: fp, Exact: true, Stack: classify(stacks, fp)})
		fp = next
	}
	tr.Err = fmt.Errorf("more than %d frames", maxFrames)
	return nil
}
