package kernel

import "slices"

// A CPU's registers in a kdump dump are saved on its way into the capture
// kernel. The panicking CPU saves its own inside __crash_kexec, unless the
// crash came through oops_end (an oops, BUG()): that passes the fault's
// struct pt_regs to crash_kexec, and the note then holds the registers at
// the fault, not in the crash path. The crash path's frames are still on
// the stack, below the pt_regs the exception entry saved: a return address
// into machine_kexec (it called relocate_kernel, which never returned), or
// into __crash_kexec or crash_kexec. Walked from there, ORC goes up through
// oops_end and the exception handler to the entry code that saved the
// pt_regs; when the register set it reaches there is exactly the note's,
// the chain is the live one (a stale one reaches other registers, or none),
// and the trace is that chain continued through the exception frame, as the
// kernel's own unwinder would print it from inside the crash path.

// crashPathFuncs are the kdump path's functions, in the order their return
// addresses are looked for: the deepest first.
func crashPathFuncs() []string { return []string{"machine_kexec", "__crash_kexec", "crash_kexec"} }

// crashPathRank gives the position in crashPathFuncs of the function a
// kernel return address returns into, or -1.
func (u *Unwinder) crashPathRank(ret uint64) int {
	if !u.KernelText(ret) {
		return -1
	}
	name, _, ok := u.mods.Symbolize(ret - 1)
	if !ok {
		return -1
	}
	return slices.Index(crashPathFuncs(), name)
}

// crashPath looks for the crash path's frames under the pt_regs that equal
// regs (a register set at a fault, from a dump note) on the stack regs'
// stack pointer lies on; rank names the crash-path function a word returns
// into (-1 for none; lower is preferred). When found, tr's frames are the
// crash path's, up to the frame whose saved registers are regs, and the
// state to go on walking from is returned.
func (w *orcWalker) crashPath(tr *Trace, regs []uint64, rank func(ret uint64) int) (*orcState, bool) {
	n := w.regs.words
	if len(regs) < n || w.userMode(regs) {
		return nil, false
	}
	sp := regs[w.regs.sp]
	var stack stackRange
	for _, s := range w.stacks {
		if sp >= s.lo && sp < s.hi {
			stack = s
		}
	}
	if stack.hi == 0 {
		return nil, false
	}
	words, err := w.readWords(stack.lo, int((stack.hi-stack.lo)/8))
	if err != nil {
		return nil, false
	}
	nranks := len(crashPathFuncs())
	for at := 0; at+n <= len(words); at++ {
		if !slices.Equal(words[at:at+n], regs[:n]) {
			continue
		}
		regsAddr := stack.lo + uint64(8*at)
		// Below the pt_regs, the crash path's return addresses, the
		// deepest function first, each from the bottom of the stack up.
		for want := 0; want < nranks; want++ {
			for i := 0; i < at; i++ {
				if rank(words[i]) != want {
					continue
				}
				slot := stack.lo + uint64(8*i)
				if st, frames, ok := w.crashPathFrom(tr.Task, words[i], slot, regsAddr, regs[:n]); ok {
					tr.Frames = frames
					return st, true
				}
			}
		}
	}
	return nil, false
}

// crashPathFrom ORC-walks from the return address ret at slot, and
// accepts the walk when the first saved registers it meets are want, at
// regsAddr.
func (w *orcWalker) crashPathFrom(t Task, ret, slot, regsAddr uint64, want []uint64) (*orcState, []Frame, bool) {
	tr := &Trace{Task: t, Frames: []Frame{{PC: ret, SP: slot, Stack: classify(w.stacks, slot)}}}
	st := &orcState{ip: ret, sp: slot + 8, crashPath: true}
	for len(tr.Frames) < maxFrames {
		done, err := w.step(st, tr)
		if err != nil || done {
			return nil, nil, false
		}
		for _, f := range tr.Frames {
			if f.Regs == nil {
				continue
			}
			if f.Regs.Addr != regsAddr || f.Regs.Partial || !slices.Equal(f.Regs.Regs, want) {
				return nil, nil, false
			}
			st.crashPath = false
			return st, tr.Frames, true
		}
	}
	return nil, nil, false
}
