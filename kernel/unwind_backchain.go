package kernel

import (
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
)

// The ppc64 and s390x kernels unwind by the stack back chain
// (arch.BackChain): every frame's first word is the address of its
// caller's frame, and a function calling another leaves its return
// address in its own frame's return slot (the callee stores it there).
// A frame holding an exception's struct pt_regs is told by a marker word
// (ppc64) or by a zero back chain (s390x); the walk goes on from the
// interrupted registers when they were the kernel's.

// backChainWalker walks back chains over some memory: the kernel's, or a
// test's.
type backChainWalker struct {
	bc        arch.BackChain
	readWords func(addr uint64, n int) ([]uint64, error)
	isText    func(addr uint64) bool
	userMode  func(regs []uint64) bool
	regIndex  arch.RegIndex
	regWords  int
	stacks    []stackRange
}

func (u *Unwinder) walkBackChain(tr *Trace, regs []uint64) error {
	bca, ok := u.machine.(arch.BackChainUnwinding)
	if !ok {
		return fmt.Errorf("no back-chain layout for %s", u.machine.Name())
	}
	stacks, err := u.stacksOf(tr.Task)
	if err != nil {
		return err
	}
	w := &backChainWalker{bc: bca.BackChain(), readWords: u.readWords, isText: u.mods.IsText,
		userMode: u.arch.UserMode, regIndex: u.arch.RegIndex(), regWords: u.arch.PtRegsWords(), stacks: stacks}
	if regs != nil {
		ri := w.regIndex
		if len(regs) <= ri.PC || len(regs) <= ri.SP {
			return fmt.Errorf("register set of %d words", len(regs))
		}
		if u.arch.UserMode(regs) {
			return nil
		}
		sp := regs[ri.SP]
		if _, err := u.machine.KernelWalk(sp); err == nil && !onStack(stacks, sp, w.bc.MinFrame) && u.threadSize != 0 {
			// A stack of the CPU's own that the task's list lacks (ppc64's
			// emergency and NMI stacks in the paca): the THREAD_SIZE
			// block holding the stack pointer.
			lo := sp &^ (u.threadSize - 1)
			w.stacks = append(w.stacks, stackRange{StackUnknown, lo, lo + u.threadSize})
		}
		w.walk(tr, sp, regs[ri.PC], true)
		return nil
	}
	off, err := u.Offset("task_struct", w.bc.SavedSP)
	if err != nil {
		return err
	}
	sp, err := u.ReadU64(tr.Task.Addr + uint64(off))
	if err != nil {
		return fmt.Errorf("task %x: %s: %w", tr.Task.Addr, w.bc.SavedSP, err)
	}
	tr.Start = w.bc.SavedSP
	w.walk(tr, sp, 0, false)
	return nil
}

// walk follows the chain from sp. With fromRegs, pc is the interrupted
// (or current) instruction, shown first; the first frame's return slot is
// then stale unless it names another function.
func (w *backChainWalker) walk(tr *Trace, sp, pc uint64, fromRegs bool) {
	first := true
	// A program counter outside the kernel's text (ppc64's RTAS firmware,
	// in real mode) is not a frame the kernel's traces show.
	if fromRegs && w.isText(pc) {
		tr.Frames = append(tr.Frames, Frame{PC: pc, SP: sp, Exact: true, Stack: classify(w.stacks, sp)})
	}
	for len(tr.Frames) < maxFrames {
		if sp == 0 {
			return
		}
		if first && fromRegs && !onStack(w.stacks, sp, w.bc.MinFrame) {
			// Interrupted at an exception vector, before the entry
			// code switched to the kernel's stack (the stack pointer is
			// still the user's): the PC is the whole trace.
			return
		}
		if sp&7 != 0 || !onStack(w.stacks, sp, w.bc.MinFrame) {
			tr.Err = stackError("stack frame", sp)
			return
		}
		n := int(max(w.bc.ReturnSlot, w.bc.MarkerSlot, w.bc.ChainSlot)/8) + 1
		words, err := w.readWords(sp, n)
		if err != nil {
			tr.Err = err
			return
		}
		next, ret := words[w.bc.ChainSlot/8], words[w.bc.ReturnSlot/8]
		show := w.isText(ret)
		switch {
		case first && fromRegs:
			// The frame of the function interrupted (or running): its
			// slot was left by a call it made earlier, or by its caller's
			// earlier callees; the kernel marks it unreliable.
			show = false
		case first && w.bc.SkipFirstSaved:
			// The context switch's own frame: whatever its slot holds
			// is stale (the kernel prints it "(unreliable)").
			show = false
		}
		if show {
			tr.Frames = append(tr.Frames, Frame{PC: ret, SP: sp, Exact: true, Stack: classify(w.stacks, sp)})
		} else if !first && ret != 0 && next != 0 {
			tr.Err = fmt.Errorf("frame at %x returns to %x, not kernel text", sp, ret)
			return
		}
		first = false
		if regs, ok := w.exceptionRegs(sp, words, next); ok {
			if len(tr.Frames) > 0 {
				tr.Frames[len(tr.Frames)-1].Regs = regs
			}
			if regs.User {
				return
			}
			ri := w.regIndex
			sp, pc, fromRegs, first = regs.Regs[ri.SP], regs.Regs[ri.PC], true, true
			if !onStack(w.stacks, sp, w.bc.MinFrame) {
				// Interrupted before the entry code switched stacks (a
				// system reset at an exception vector): the kernel's
				// own trace ends here too.
				return
			}
			tr.Frames = append(tr.Frames, Frame{PC: pc, SP: sp, Exact: true, Stack: classify(w.stacks, sp)})
			continue
		}
		if next == 0 {
			return
		}
		if classify(w.stacks, next) == classify(w.stacks, sp) && next <= sp {
			tr.Err = fmt.Errorf("stack frame at %x points back to %x", sp, next)
			return
		}
		sp = next
	}
	tr.Err = fmt.Errorf("more than %d frames", maxFrames)
}

// exceptionRegs reads the struct pt_regs of an exception frame at sp, if
// it is one.
func (w *backChainWalker) exceptionRegs(sp uint64, words []uint64, next uint64) (*SavedRegs, bool) {
	at, size := sp+w.bc.RegsOffset, uint64(8*w.regWords)
	switch {
	case len(w.bc.Markers) > 0 && !slices.Contains(w.bc.Markers, words[w.bc.MarkerSlot/8]):
		return nil, false
	case len(w.bc.Markers) == 0 && next != 0:
		return nil, false
	case !onStack(w.stacks, at, size):
		return nil, false
	}
	r, err := w.readWords(at, w.regWords)
	if err != nil {
		return nil, false
	}
	// A kernel thread's frame at the top of its stack has no stack
	// pointer: it never entered from user mode (its PC may be set:
	// s390x's kernel threads start from it).
	if r[w.regIndex.SP] == 0 {
		return nil, false
	}
	return &SavedRegs{Addr: at, Regs: r, User: w.userMode(r)}, true
}

// noteOfCPU finds the NT_PRSTATUS note of a CPU by the key the
// architecture's notes name their CPU by (arch.CPUNoteKeys: s390x's
// prefix, which lowcore_ptr[cpu] holds): its index in the notes, false
// when the architecture has no keys or no note has the CPU's.
func (u *Unwinder) noteOfCPU(cpu int) (int, bool) {
	ck, ok := u.machine.(arch.CPUNoteKeys)
	if !ok {
		return 0, false
	}
	base, err := u.SymbolAddr(ck.KeySymbol())
	if err != nil {
		return 0, false
	}
	key, err := u.ReadU64(base + 8*uint64(cpu))
	if err != nil || key == 0 {
		return 0, false
	}
	i := slices.Index(ck.NoteKeys(), key)
	return i, i >= 0
}
