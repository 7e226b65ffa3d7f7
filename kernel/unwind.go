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

// unwindTables are the vmlinux's unwinding tables (a *symbols.Vmlinux).
type unwindTables interface {
	LoadCFI() ([]*symbols.CFI, error)
	ORCEntryLayout() (symbols.ORCLayout, error)
	LoadORC(lay symbols.ORCLayout) (*symbols.ORC, error)
}

// moduleText is what unwinding asks of the loaded modules: their text,
// symbols and ORC tables (a *ModuleList).
type moduleText interface {
	IsText(addr uint64) bool
	Symbolize(addr uint64) (name string, off uint64, ok bool)
	moduleORCFind(addr uint64) (symbols.ORCEntry, bool)
}

// Unwinder unwinds tasks' kernel stacks (ORC, frame records, CFI, frame
// pointers), finds the CPUs' saved registers and the stacks a task may
// run on, and searches stacks for exception frames, over a Reader, a
// Layout, Symbols and a Translator, the System (CPUs, per-CPU offsets),
// the modules' text (a moduleText), the vmlinux's tables and relocated
// symbols, the architecture and the dump's notes. What it finds is found
// once per kernel, on first use.
type Unwinder struct {
	Reader
	Layout
	Symbols
	Translator
	sys      *System
	mods     moduleText
	tables   unwindTables       // nil without a vmlinux
	syms     *symbols.Relocated // nil without a vmlinux
	machine  arch.Arch
	prstatus PRStatusNotes
	live     bool // a running system: active tasks' stacks change

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
}

// UnwinderDeps are what an Unwinder reads through; Tables and Syms are nil
// without a vmlinux.
type UnwinderDeps struct {
	Reader     Reader
	Layout     Layout
	Symbols    Symbols
	Translator Translator
	System     *System
	Modules    moduleText
	Tables     unwindTables
	Syms       *symbols.Relocated
	Arch       arch.Arch
	PRStatus   PRStatusNotes
	Live       bool
}

// NewUnwinder unwinds through d's dependencies. Modules may be set later
// (SetModules): the modules' reader asks the unwinder for the kernel's text.
func NewUnwinder(d UnwinderDeps) *Unwinder {
	return &Unwinder{Reader: d.Reader, Layout: d.Layout, Symbols: d.Symbols, Translator: d.Translator,
		sys: d.System, mods: d.Modules, tables: d.Tables, syms: d.Syms, machine: d.Arch, prstatus: d.PRStatus, live: d.Live}
}

// SetModules gives the unwinder the modules' text, symbols and ORC tables.
func (u *Unwinder) SetModules(m moduleText) { u.mods = m }

// ready sets up the unwinding tables for this kernel, once.
func (u *Unwinder) ready() error {
	u.once.Do(func() { u.err = u.setupUnwind() })
	return u.err
}

// kernelORC is the vmlinux's ORC table (nil when it has none), set up
// first: the modules' ORC tables share its entry layout.
func (u *Unwinder) kernelORC() *symbols.ORC {
	u.ready()
	return u.orc
}

func (u *Unwinder) setupUnwind() error {
	if u.tables == nil {
		return fmt.Errorf("backtraces need the vmlinux")
	}
	a, ok := u.machine.(arch.Unwinding)
	if !ok {
		return fmt.Errorf("backtraces are not supported on %s", u.machine.Name())
	}
	u.arch = a
	u.threadSize = 16384
	if n, err := u.Size("thread_union"); err == nil && n > 0 {
		u.threadSize = uint64(n)
	} else if err != nil && !symbols.IsMissing(err) {
		return err
	}
	var err error
	if u.stackOff, err = u.Offset("task_struct", "stack"); err != nil {
		return err
	}
	for _, r := range [][2]string{{"_stext", "_etext"}, {"_sinittext", "_einittext"}} {
		lo, e1 := u.SymbolAddr(r[0])
		hi, e2 := u.SymbolAddr(r[1])
		for _, e := range []error{e1, e2} {
			if e != nil && !symbols.IsMissing(e) {
				return e
			}
		}
		if e1 == nil && e2 == nil && lo < hi {
			u.textRanges = append(u.textRanges, [2]uint64{lo, hi})
		}
	}
	u.cpuStacks = map[int][]stackRange{}
	u.setupCFI()
	switch a.Unwinder() {
	case arch.UnwindORC:
		return u.setupORC()
	case arch.UnwindFrameRecords:
		u.cpuCtxOff, err = u.Offset("task_struct", "thread.cpu_context")
		return err
	case arch.UnwindBackChain:
		return nil
	}
	return fmt.Errorf("no unwinder for %s", u.machine.Name())
}

// KernelText reports whether addr is in the kernel's core text (not a
// module's).
func (u *Unwinder) KernelText(addr uint64) bool {
	err := u.ready()
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
func (u *Unwinder) Backtrace(t Task) (*Trace, error) {
	err := u.ready()
	if err != nil {
		return nil, err
	}
	tr := &Trace{Task: t}
	// An exited task has given its stack back (task_struct.stack is NULL),
	// and the kernel prints no trace for it.
	if base, err := u.ReadU64(t.Addr + uint64(u.stackOff)); err != nil || base == 0 {
		tr.Err = &NoStackError{PID: t.PID}
		return tr, nil
	}
	var regs []uint64
	if t.Active {
		if u.live {
			return nil, &RunningError{PID: t.PID, CPU: t.CPU}
		}
		regs, tr.Start, err = u.CPURegisters(t.CPU, t.PID)
		if err != nil {
			return nil, err
		}
		tr.Regs = regs
	}
	switch u.arch.Unwinder() {
	case arch.UnwindORC:
		err = u.walkORC(tr, regs)
	case arch.UnwindFrameRecords:
		err = u.walkFrameRecords(tr, regs)
	case arch.UnwindBackChain:
		err = u.walkBackChain(tr, regs)
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
func (u *Unwinder) CPURegisters(cpu int, pid int32) (regs []uint64, source string, err error) {
	err = u.ready()
	if err != nil {
		return nil, "", err
	}
	u.notesOnce.Do(func() {
		u.notes, _ = u.prstatus.PRStatus(u.machine.PRStatusRegs())
	})
	n, _, _ := u.sys.CPUs()
	if i, ok := u.noteOfCPU(cpu); ok && i < len(u.notes) {
		return u.notes[i].Regs, "NT_PRSTATUS", nil
	}
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
	if regs, err := u.crashNotes(cpu); err == nil {
		return regs, "crash_notes", nil
	}
	return nil, "", fmt.Errorf("no registers saved for CPU %d (no NT_PRSTATUS note, empty crash_notes)", cpu)
}

// crashNotes reads the NT_PRSTATUS note the kernel's crash path saved in
// CPU cpu's crash_notes buffer (per-CPU; empty when the kernel did not
// crash through kexec).
func (u *Unwinder) crashNotes(cpu int) ([]uint64, error) {
	a, err := u.SymbolAddr("crash_notes")
	if err != nil {
		return nil, err
	}
	base, err := u.ReadU64(a)
	if err != nil {
		return nil, err
	}
	off, err := u.sys.PerCPUOffset(cpu)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 512)
	if err := u.ReadVirt(buf, base+off); err != nil {
		return nil, err
	}
	notes, _ := memory.ParseNotes(buf, u.ByteOrder())
	for _, n := range notes {
		if n.Type == memory.NTPRStatus && n.Name == "CORE" {
			st, err := memory.ParsePRStatus(n.Desc, u.ByteOrder(), u.machine.PRStatusRegs(), 64)
			if err != nil {
				return nil, err
			}
			return st.Regs, nil
		}
	}
	return nil, fmt.Errorf("CPU %d's crash_notes are empty", cpu)
}

// readWords reads n words at addr.
func (u *Unwinder) readWords(addr uint64, n int) ([]uint64, error) {
	b := make([]byte, 8*n)
	if err := u.ReadVirt(b, addr); err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = u.ByteOrder().Uint64(b[8*i:])
	}
	return out, nil
}

// SourceLine gives the source file and line of a kernel text address,
// from the vmlinux's line tables (the symbols package's DWARF reader, where
// it has one).
func (u *Unwinder) SourceLine(addr uint64) (string, int, error) {
	type lineFinder interface {
		LineForPC(pc uint64) (string, int, error)
	}
	if u.syms == nil {
		return "", 0, fmt.Errorf("source lines need the vmlinux")
	}
	lf, ok := any(u.syms).(lineFinder)
	if !ok {
		return "", 0, fmt.Errorf("source lines are not available")
	}
	return lf.LineForPC(addr)
}
