package kernel

import (
	"fmt"
	"sync"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// Frame is one frame of a backtrace.
type Frame struct {
	// PC is the frame's program counter: a return address, unless Exact.
	PC uint64
	// SP is where crash shows the frame: the stack slot its PC was read
	// from, or the stack pointer for a frame started from registers.
	SP uint64
	// Exact reports that PC is the instruction being executed (or
	// interrupted), not a return address; a return address is named by the
	// call instruction before it, as the kernel's %pB does.
	Exact bool
	// Stack is the stack SP lies on.
	Stack StackKind
	// Regs are the registers saved when this frame's function was entered
	// from an exception, interrupt or system call (nil for a call).
	Regs *SavedRegs
}

// LookupPC is the address to name the frame by.
func (f Frame) LookupPC() uint64 {
	if f.Exact || f.PC == 0 {
		return f.PC
	}
	return f.PC - 1
}

// SavedRegs is a register set the kernel saved on its stack (struct
// pt_regs) at an entry from user mode, an interrupt or an exception.
type SavedRegs struct {
	Addr    uint64   // where the struct pt_regs lies
	Regs    []uint64 // in NT_PRSTATUS order
	User    bool     // taken in user mode: the trace ends here
	Partial bool     // only the hardware frame (x86_64 IRET frame) is valid
}

// Trace is a task's backtrace.
type Trace struct {
	Task Task
	// Start says where the first registers came from.
	Start string
	// Regs are the registers the walk started from, when it started from
	// a full register set (a dump's NT_PRSTATUS note).
	Regs   []uint64
	Frames []Frame
	// Err says why the walk stopped before the end of the stack; nil when
	// it reached the end as the kernel's unwinder would.
	Err error
}

// RunningError reports a task that is running on a live system, whose
// stack cannot be unwound consistently.
type RunningError struct {
	PID int32
	CPU int
}

func (e *RunningError) Error() string {
	return fmt.Sprintf("PID %d is running on CPU %d: its stack changes while it is read", e.PID, e.CPU)
}

// NoStackError reports a task without a kernel stack: it has exited.
type NoStackError struct{ PID int32 }

func (e *NoStackError) Error() string {
	return fmt.Sprintf("PID %d has no kernel stack: it has exited", e.PID)
}

// maxFrames bounds a walk, so a corrupt stack ends instead of looping.
const maxFrames = 512

// unwindCache holds what the unwinders need, found once per kernel.
type unwindCache struct {
	once sync.Once
	err  error
	arch arch.Unwinding

	orc         *symbols.ORC
	orcRegs     orcRegs        // register positions the ORC walk reads
	cfi         []*symbols.CFI // .debug_frame, .eh_frame (none when absent)
	cfiArch     arch.DWARFRegs
	threadSize  uint64
	stackOff    int64 // task_struct.stack
	threadSPOff int64 // task_struct.thread.sp (x86_64)
	frameBPOff  int64 // inactive_task_frame.bp
	frameRetOff int64 // inactive_task_frame.ret_addr
	frameSize   int64 // sizeof(struct inactive_task_frame)
	retFromFork uint64
	cpuCtxOff   int64 // task_struct.thread.cpu_context (arm64)
	textRanges  [][2]uint64
	notesOnce   sync.Once
	notes       []memory.PRStatus
	stacksMu    sync.Mutex
	cpuStacks   map[int][]stackRange
	modules     moduleCache
}

// unwinder sets up the unwinding tables for this kernel, once.
func (k *Kernel) unwinder() (*unwindCache, error) {
	u := &k.unwindData
	u.once.Do(func() { u.err = k.setupUnwind(u) })
	return u, u.err
}

func (k *Kernel) setupUnwind(u *unwindCache) error {
	if k.Vmlinux == nil {
		return fmt.Errorf("backtraces need the vmlinux")
	}
	a, ok := k.Arch.(arch.Unwinding)
	if !ok {
		return fmt.Errorf("backtraces are not supported on %s", k.Arch.Name())
	}
	u.arch = a
	u.threadSize = 16384
	if n, err := k.Size("thread_union"); err == nil && n > 0 {
		u.threadSize = uint64(n)
	} else if err != nil && !symbols.IsMissing(err) {
		return err
	}
	var err error
	if u.stackOff, err = k.Offset("task_struct", "stack"); err != nil {
		return err
	}
	for _, r := range [][2]string{{"_stext", "_etext"}, {"_sinittext", "_einittext"}} {
		lo, e1 := k.SymbolAddr(r[0])
		hi, e2 := k.SymbolAddr(r[1])
		if e1 == nil && e2 == nil && lo < hi {
			u.textRanges = append(u.textRanges, [2]uint64{lo, hi})
		}
	}
	u.cpuStacks = map[int][]stackRange{}
	k.setupCFI(u)
	switch a.Unwinder() {
	case arch.UnwindORC:
		return k.setupORC(u)
	case arch.UnwindFrameRecords:
		u.cpuCtxOff, err = k.Offset("task_struct", "thread.cpu_context")
		return err
	}
	return fmt.Errorf("no unwinder for %s", k.Arch.Name())
}

// KernelText reports whether addr is in the kernel's core text (not a
// module's).
func (k *Kernel) KernelText(addr uint64) bool {
	u, err := k.unwinder()
	if err != nil {
		return false
	}
	for _, r := range u.textRanges {
		if addr >= r[0] && addr < r[1] {
			return true
		}
	}
	return false
}

// Backtrace unwinds a task's kernel stack as the kernel's own unwinder
// would: a task that was running when the dump was taken from its CPU's
// registers (the dump's NT_PRSTATUS note, or the kernel's crash_notes), any
// other task from the context it saved when it was switched out.
func (k *Kernel) Backtrace(t Task) (*Trace, error) {
	u, err := k.unwinder()
	if err != nil {
		return nil, err
	}
	tr := &Trace{Task: t}
	// An exited task has given its stack back (task_struct.stack is NULL),
	// and the kernel prints no trace for it.
	if base, err := k.ReadU64(t.Addr + uint64(u.stackOff)); err != nil || base == 0 {
		tr.Err = &NoStackError{PID: t.PID}
		return tr, nil
	}
	var regs []uint64
	if t.Active {
		if k.Dump.Live {
			return nil, &RunningError{PID: t.PID, CPU: t.CPU}
		}
		regs, tr.Start, err = k.CPURegisters(t.CPU, t.PID)
		if err != nil {
			return nil, err
		}
		tr.Regs = regs
	}
	switch u.arch.Unwinder() {
	case arch.UnwindORC:
		err = k.walkORC(u, tr, regs)
	case arch.UnwindFrameRecords:
		err = k.walkFrameRecords(u, tr, regs)
	}
	if err != nil {
		return nil, err
	}
	return tr, nil
}

// CPURegisters returns the registers of a CPU when the dump was taken:
// the dump's NT_PRSTATUS notes (one per CPU, in CPU order; matched by PID
// when some are missing), else the kernel's per-CPU crash_notes, which the
// crash path fills for every CPU it stops. source says which.
func (k *Kernel) CPURegisters(cpu int, pid int32) (regs []uint64, source string, err error) {
	u, err := k.unwinder()
	if err != nil {
		return nil, "", err
	}
	u.notesOnce.Do(func() {
		u.notes, _ = k.Dump.PRStatus(k.Arch.PRStatusRegs())
	})
	n, _, _ := k.CPUs()
	if len(u.notes) > 0 && len(u.notes) == n && cpu < n {
		return u.notes[cpu].Regs, "NT_PRSTATUS", nil
	}
	if pid != 0 {
		for _, st := range u.notes {
			if st.PID == pid {
				return st.Regs, "NT_PRSTATUS", nil
			}
		}
	}
	if regs, err := k.crashNotes(cpu); err == nil {
		return regs, "crash_notes", nil
	}
	return nil, "", fmt.Errorf("no registers saved for CPU %d (no NT_PRSTATUS note, empty crash_notes)", cpu)
}

// crashNotes reads the NT_PRSTATUS note the kernel's crash path saved in
// CPU cpu's crash_notes buffer (per-CPU; empty when the kernel did not
// crash through kexec).
func (k *Kernel) crashNotes(cpu int) ([]uint64, error) {
	a, err := k.SymbolAddr("crash_notes")
	if err != nil {
		return nil, err
	}
	base, err := k.ReadU64(a)
	if err != nil {
		return nil, err
	}
	off, err := k.PerCPUOffset(cpu)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 512)
	if err := k.ReadVirt(buf, base+off); err != nil {
		return nil, err
	}
	notes, _ := memory.ParseNotes(buf, k.order)
	for _, n := range notes {
		if n.Type == memory.NTPRStatus && n.Name == "CORE" {
			st, err := memory.ParsePRStatus(n.Desc, k.order, k.Arch.PRStatusRegs(), 64)
			if err != nil {
				return nil, err
			}
			return st.Regs, nil
		}
	}
	return nil, fmt.Errorf("CPU %d's crash_notes are empty", cpu)
}

// readWords reads n words at addr.
func (k *Kernel) readWords(addr uint64, n int) ([]uint64, error) {
	b := make([]byte, 8*n)
	if err := k.ReadVirt(b, addr); err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = k.order.Uint64(b[8*i:])
	}
	return out, nil
}

// SourceLine gives the source file and line of a kernel text address,
// from the vmlinux's line tables (the symbols package's DWARF reader, where
// it has one).
func (k *Kernel) SourceLine(addr uint64) (string, int, error) {
	type lineFinder interface {
		LineForPC(pc uint64) (string, int, error)
	}
	if k.Vmlinux == nil {
		return "", 0, fmt.Errorf("source lines need the vmlinux")
	}
	lf, ok := any(k.Syms).(lineFinder)
	if !ok {
		return "", 0, fmt.Errorf("source lines are not available")
	}
	return lf.LineForPC(addr)
}
