package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/kernel"
)

func btCommand() *Command {
	return &Command{
		Name:     "bt",
		Synopsis: "bt [-a|-c cpu(s)|-p] [-f|-F] [-l] [-s [-x|-d]] [-t|-T] [-r] [-e|-E] [pid | task] ...",
		Summary:  "backtrace",
		Help: `Displays a task's kernel stack trace, as the kernel's own unwinder would print
it: ORC on x86_64, frame records on arm64, with the kernel's ELF symbol names.
A task that was running when the dump was taken is unwound from its CPU's
registers (the dump's NT_PRSTATUS note or the kernel's crash_notes); any other
task from the context it saved when it was switched out. When a CPU's saved
registers are those of a fault the kernel passed to its crash path (an Oops or
BUG() under panic_on_oops), the crash path's frames are found on the stack below
the saved registers and the trace starts there: machine_kexec, __crash_kexec,
crash_kexec, oops_end, the exception handler, then the faulting function as the
entry frame's [exception RIP: ...]. With no argument, the current context (see
set) is shown, at start the task that panicked.

Each frame is printed as " #N [stack address] function at address": the stack
address is where the frame's return address lies. Module functions end with
[module]. Where the kernel entered from user mode, an interrupt or an exception,
the registers it saved are printed below the entry frame, an interrupted kernel
address first as [exception RIP: function+offset]. Leaving an interrupt or
exception stack is marked "--- <IRQ stack> ---". On a live system a running
task cannot be unwound: bt says which CPU it is running on.

With -e, bt does not unwind: as crash's bt -e does, it searches the task's
whole kernel stack for words laid out as a saved struct pt_regs that pass
crash's checks (x86_64: a kernel CS 0x10 or user CS 0x33/0x23 with its SS,
RFLAGS with bit 1 set and its reserved bits clear, RIP in kernel text or
mapped kernel space for a kernel frame, RIP and RSP user addresses for a user
frame; arm64: a 64-bit EL1/EL2 PSTATE, PC and LR in kernel text, SP and X29
on the stack, and a user task's frame at the top of its stack). Each is
printed as "KERNEL-MODE EXCEPTION FRAME AT: address" or "USER-MODE
EXCEPTION FRAME AT: address" with its registers. Frames left on the stack by
earlier entries are found too: a search shows what may be there, not what
the task is doing. Only the task stack is searched, not the CPU's IRQ and
exception stacks.

On ppc64le and s390x, bt takes crash's layouts of those architectures:
ppc64's exception frames as their trap's name and number ("System Call
[c00] exception frame:"), the registers R0-R31, NIP, MSR, LR... and the
names of NIP and LR, the panic task's saved registers above its frames, and
bt -e's frames at their marker ("KERNEL-MODE EXCEPTION FRAME AT addr:");
s390x's frames at their stack frame in at least 8 digits, numbered from #0
on each stack and after each exception frame (PSW: and GPRS: lines), and
for a task on a CPU its lowcore's save areas (LOWCORE INFO: PSW and
function, prefix, CPU timer, clock comparator, general, access, control and
floating-point registers) in place of the interrupted function's frame.

With -E, bt searches instead each CPU's IRQ stack (all CPUs' first), then
each CPU's exception stacks (x86_64's DOUBLEFAULT, NMI, DEBUG, MCE, VC and
VC2 stacks in the cpu_entry_area), the same way, under a "CPU N IRQ STACK:"
or "CPU N NMI EXCEPTION STACK:" line, "(none found)" where a search finds
nothing; -c limits it to those CPUs, and other options and tasks are
ignored, as in crash.`,
		Options: []Option{
			{"-a", "the task running on each CPU"},
			{"-c cpu", "the task running on these CPUs (\"1\", \"0,2\", \"0-3\")"},
			{"-p", "the task that panicked"},
			{"-f", "each frame's stack words, from its return address to the next frame's"},
			{"-F", "as -f, with words that are kernel text addresses shown as symbols"},
			{"-l", "each frame's source file and line (of the call, for a return address)"},
			{"-s", "function names with their offset"},
			{"-x", "offsets in hexadecimal (with -s)"},
			{"-d", "offsets in decimal (with -s; the default)"},
			{"-t", "every kernel text address on the stack, from the saved stack pointer up"},
			{"-T", "every kernel text address on the whole stack"},
			{"-r", "the raw stack, word by word"},
			{"-e", "search the stack for possible kernel and user mode exception frames"},
			{"-E", "search each CPU's IRQ and exception stacks (those of the CPUs -c names) for possible exception frames; other options are ignored"},
			{"pid | task", "the task with this PID, or whose task_struct is at this address"},
		},
		Examples: []string{"gocrash> bt", "gocrash> bt -a", "gocrash> bt 95", "gocrash> bt -sx 1", "gocrash> bt -f ffff8bad4258c800", "gocrash> bt -e 95", "gocrash> bt -e -a", "gocrash> foreach bt"},
		Results:  []Result{&BTResult{}, &BTCPUStacks{}},
		Run:      linesNeedDWARF(runBT),
	}
}

// btOptions are bt's options.
type btOptions struct {
	all, panic, frames, symbolic, symOff, hex, text, textAll, raw, lines, eframes bool
	cpus                                                                          []int
	args                                                                          []string
}

// btOptionsOf reads bt's parsed options.
func btOptionsOf(a *Args) (btOptions, error) {
	o := btOptions{
		all: a.Has("a"), panic: a.Has("p"),
		frames: a.Has("f") || a.Has("F"), symbolic: a.Has("F"),
		symOff: a.Has("s"), hex: a.Last("x", "d") == "x",
		text: a.Has("t") || a.Has("T"), textAll: a.Has("T"),
		raw: a.Has("r"), lines: a.Has("l"), eframes: a.Has("e"),
		args: a.Words,
	}
	for _, v := range a.Values("c") {
		cpus, err := parseCPUList(v)
		if err != nil {
			return o, err
		}
		o.cpus = append(o.cpus, cpus...)
	}
	return o, nil
}

// parseCPUList reads "1", "0,2", "0-3".
func parseCPUList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, &UsageError{"invalid CPU list: " + s}
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, &UsageError{"invalid CPU list: " + s}
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

func runBT(ctx context.Context, s *Session, a *Args) (Result, error) {
	o, err := btOptionsOf(a)
	if err != nil {
		return nil, err
	}
	k := s.Kernel
	if a.Has("E") {
		// Not about a task: the CPUs' own stacks.
		return btCPUStacks(k, o)
	}
	var chosen []kernel.Task
	if !o.all && len(o.cpus) == 0 && len(o.args) == 0 {
		// The current context's task (or with -p the panic task): a
		// task the kernel or 'set' named, read alone.
		var addr uint64
		if o.panic {
			addr, err = k.PanicTask()
		} else {
			addr, err = s.ContextTask()
		}
		if err != nil {
			return nil, err
		}
		t, err := k.TaskAt(addr)
		if err != nil {
			return nil, fmt.Errorf("invalid task or pid value: %#x", addr)
		}
		return btTasks(ctx, s, append(chosen, t), o)
	}
	tasks, err := lookupTasks(k)
	if err != nil {
		return nil, err
	}
	switch {
	case o.all || len(o.cpus) > 0:
		want := map[int]bool{}
		for _, c := range o.cpus {
			want[c] = true
		}
		for _, t := range activeByCPU(tasks) {
			if o.all || want[t.CPU] {
				chosen = append(chosen, t)
			}
		}
		if len(chosen) == 0 {
			return nil, fmt.Errorf("no task was running on CPU %v", o.cpus)
		}
	default:
		for _, w := range o.args {
			t, err := oneTask(tasks, w)
			if err != nil {
				return nil, err
			}
			chosen = append(chosen, t)
		}
	}
	return btTasks(ctx, s, chosen, o)
}

// activeByCPU returns the task running on each CPU, in CPU order.
func activeByCPU(tasks []kernel.Task) []kernel.Task {
	var out []kernel.Task
	for _, t := range tasks {
		if t.Active {
			out = append(out, t)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].CPU < out[j-1].CPU; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// BTResult is bt's answer: one trace per task.
type BTResult struct {
	Traces []*BTTrace `json:"traces"`
}

// BTTrace is one task's backtrace (or, with -e, -r, -t, what bt shows of
// its stack instead).
type BTTrace struct {
	PID     int32  `json:"pid"`
	Task    Hex    `json:"task"`
	CPU     int    `json:"cpu"`
	Command string `json:"command"`
	// Frames are the trace's frames, innermost first.
	Frames []BTFrame `json:"frames,omitempty"`
	// UserRegisters: the task was in user mode on its CPU, and these
	// registers are the whole trace.
	UserRegisters *Registers `json:"user_registers,omitempty"`
	// Running: on a live system, the CPU the task is running on (its stack
	// cannot be unwound).
	Running *int `json:"running_on_cpu,omitempty"`
	NoStack bool `json:"no_stack,omitempty"` // the task has exited
	// Error says why the unwind stopped before the end of the stack.
	Error string `json:"error,omitempty"`

	EFrames []BTEFrame  `json:"exception_frames,omitempty"` // -e
	Raw     []StackWord `json:"raw,omitempty"`              // -r
	Text    *BTText     `json:"text_symbols,omitempty"`     // -t, -T

	view btView // what the text shows: the mode and how names are written
}

// btView is how bt's text is laid out for one trace.
type btView struct {
	mode       byte // 0: frames, 'e', 'r', 't'
	ownEFrames bool // -e in the layout of an architecture with its own block (arm64)
	regs       func([]uint64) []string
	// layout: the architecture lays bt out its own way (ppc64, s390x);
	// cpuBlock is then what it prints above an active task's frames.
	layout   *arch.BTFormat
	cpuBlock []string
}

// BTFrame is one frame of a trace.
type BTFrame struct {
	Level    int    `json:"level"`
	SP       Hex    `json:"sp"` // where the frame's return address lies
	Function string `json:"function,omitempty"`
	Offset   uint64 `json:"offset"`
	PC       Hex    `json:"pc"`
	Module   string `json:"module,omitempty"`
	// Stack is the stack the frame lies on when it is not the task's own
	// ("IRQ stack").
	Stack string `json:"stack,omitempty"`
	// Source is the file and line of the call (-l).
	Source *SourceLine `json:"source,omitempty"`
	// Words are the frame's stack words (-f, -F).
	Words []StackWord `json:"words,omitempty"`
	// Exception: the registers the kernel saved when this frame's function
	// was entered from an exception, interrupt or system call.
	Exception *Registers `json:"exception,omitempty"`
	// ExceptionSource is the file and line of the interrupted kernel
	// address (-l), which crash prints after the exception's registers.
	ExceptionSource *SourceLine `json:"exception_source,omitempty"`

	// Hidden: the text leaves the frame out (s390x's layout, for a task on
	// a CPU: crash shows the interrupted function's PC in the lowcore's
	// block or the exception frame's instead).
	Hidden bool `json:"hidden,omitempty"`

	name     string // as the text shows it: with -s, with the offset
	stackRaw kernel.StackKind
}

// SourceLine is a source file and line.
type SourceLine struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// StackWord is a word of a stack. Symbol names a kernel text address (-F).
type StackWord struct {
	Addr   Hex    `json:"addr"`
	Value  Hex    `json:"value"`
	Symbol string `json:"symbol,omitempty"`
}

// Registers is a register set saved on a stack or in a dump's note.
type Registers struct {
	// Addr is where it lies on the stack (0 for a note's).
	Addr Hex  `json:"addr,omitempty"`
	User bool `json:"user"` // taken in user mode
	// Function names the interrupted kernel address ("exception RIP").
	Function  string         `json:"function,omitempty"`
	Registers map[string]Hex `json:"registers"`

	regs  []uint64 // in NT_PRSTATUS order, for the text
	block []string // the architecture's own layout of a kernel-mode frame, if it has one
}

// BTEFrame is an exception frame a search of the stack found (-e, -E).
type BTEFrame struct {
	Registers
	Source *SourceLine `json:"source,omitempty"`
	block  []string    // the register block, as the architecture lays it out
	whole  bool        // block is the frame's whole text, its header included (arch.BTLayout)
}

// BTText is bt -t/-T: every kernel text address on the stack.
type BTText struct {
	Start *BTFrame     `json:"start,omitempty"` // the first frame
	Refs  []BTTextWord `json:"refs"`
}

// BTTextWord is a word of the stack holding a kernel text address.
type BTTextWord struct {
	SP       Hex    `json:"sp"`
	Function string `json:"function"`
	PC       Hex    `json:"pc"`
	Module   string `json:"module,omitempty"`
}

func (r *BTResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, t := range r.Traces {
		if i > 0 {
			tw.println("")
		}
		t.text(tw)
	}
	return tw.err
}

func (t *BTTrace) text(tw *textWriter) {
	tw.println(taskRef(kernel.Task{PID: t.PID, Addr: uint64(t.Task), CPU: t.CPU, Comm: t.Command}).Header())
	block := func(lines []string) {
		for _, ln := range lines {
			tw.printf("    %s\n", ln)
		}
	}
	source := func(sl *SourceLine) {
		if sl != nil {
			tw.printf("    %s: %d\n", sl.File, sl.Line)
		}
	}
	switch {
	case t.Running != nil:
		tw.printf("(active on CPU %d: a running task's stack cannot be unwound on a live system)\n", *t.Running)
		return
	case t.NoStack:
		tw.println("(no stack)") // as crash words it
		return
	}
	switch t.view.mode {
	case 'e':
		writeEFrames(tw, t.EFrames, t.view.ownEFrames)
		return
	case 'r':
		for i := 0; i+1 < len(t.Raw); i += 2 {
			tw.printf("%016x:  %016x %016x\n", uint64(t.Raw[i].Addr), uint64(t.Raw[i].Value), uint64(t.Raw[i+1].Value))
		}
		return
	case 't':
		if f := t.Text.Start; f != nil {
			tw.printf("%19s: %s at %016x\n", "START", f.name, uint64(f.PC))
		}
		for _, x := range t.Text.Refs {
			tw.printf("  [%016x] %s at %016x%s\n", uint64(x.SP), x.Function, uint64(x.PC), moduleText(x.Module))
		}
		return
	}
	if t.view.layout != nil {
		writeLayoutFrames(tw, t)
		if t.Error != "" {
			tw.printf("bt: cannot unwind further: %s\n", t.Error)
		}
		return
	}
	for i, f := range t.Frames {
		if i > 0 {
			prev := t.Frames[i-1].stackRaw
			if prev != f.stackRaw && prev != kernel.StackTask && prev != kernel.StackUnknown {
				tw.printf("--- <%s> ---\n", prev)
			}
		}
		tw.printf("%3s [%016x] %s at %016x%s\n", "#"+strconv.Itoa(i), uint64(f.SP), f.name, uint64(f.PC), moduleText(f.Module))
		source(f.Source)
		writeFrameWords(tw, f.Words)
		if e := f.Exception; e != nil && e.block != nil {
			// The architecture's own layout (arm64's: PC and LR named).
			block(e.block)
			source(f.ExceptionSource)
		} else if e != nil && t.view.regs != nil {
			if !e.User {
				tw.printf("    [exception RIP: %s]\n", e.Function)
			}
			block(t.view.regs(e.regs))
			source(f.ExceptionSource)
		}
	}
	if t.UserRegisters != nil && t.view.regs != nil {
		block(t.view.regs(t.UserRegisters.regs))
	}
	if t.Error != "" {
		tw.printf("bt: cannot unwind further: %s\n", t.Error)
	}
}

// writeFrameWords prints a frame's stack words (-f, -F), two to a line.
func writeFrameWords(tw *textWriter, words []StackWord) {
	for j := 0; j < len(words); j += 2 {
		line := fmt.Sprintf("    %016x: ", uint64(words[j].Addr))
		for _, wd := range words[j:min(j+2, len(words))] {
			if wd.Symbol != "" {
				line += fmt.Sprintf("%-16s ", wd.Symbol)
			} else {
				line += fmt.Sprintf("%016x ", uint64(wd.Value))
			}
		}
		tw.println(line)
	}
}

func moduleText(m string) string {
	if m != "" {
		return " [" + m + "]"
	}
	return ""
}

// btTasks gathers the traces of tasks.
func btTasks(ctx context.Context, s *Session, tasks []kernel.Task, o btOptions) (*BTResult, error) {
	r := &BTResult{Traces: make([]*BTTrace, 0, len(tasks))}
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		tr, err := btTask(s, t, o)
		if tr != nil {
			r.Traces = append(r.Traces, tr)
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// registersOf gathers a register set, named by the architecture.
func registersOf(k *kernel.Kernel, regs []uint64, addr uint64, user bool) *Registers {
	r := &Registers{Addr: Hex(addr), User: user, Registers: map[string]Hex{}, regs: regs}
	for i, name := range k.Arch.Registers() {
		if i < len(regs) {
			r.Registers[strings.ToLower(name)] = Hex(regs[i])
		}
	}
	return r
}

// btTask gathers one task's trace.
func btTask(s *Session, t kernel.Task, o btOptions) (*BTTrace, error) {
	k := s.Kernel
	bt := &BTTrace{PID: t.PID, Task: Hex(t.Addr), CPU: t.CPU, Command: t.Comm}
	ua, _ := k.Arch.(arch.Unwinding)
	if ua != nil {
		bt.view.regs = func(r []uint64) []string { return registerBlock(ua, r) }
	}
	if o.eframes {
		return bt, btEFrames(k, t, bt, o)
	}
	tr, err := k.Backtrace(t)
	if err != nil {
		var running *kernel.RunningError
		if errors.As(err, &running) {
			bt.Running = &running.CPU
			return bt, nil
		}
		return bt, err
	}
	switch {
	case o.raw:
		return bt, btRaw(k, tr, bt)
	case o.text:
		return bt, btText(k, tr, o, bt)
	}
	for i, f := range tr.Frames {
		bf := BTFrame{Level: i, SP: Hex(f.SP), PC: Hex(f.PC), Module: k.ModuleOf(f.PC), stackRaw: f.Stack}
		if f.Stack != kernel.StackTask && f.Stack != kernel.StackUnknown {
			bf.Stack = f.Stack.String()
		}
		bf.name = frameName(k, f, o)
		if name, off, ok := k.Symbolize(f.LookupPC()); ok {
			bf.Function, bf.Offset = name, off+f.PC-f.LookupPC()
		}
		if o.lines && (k.KernelText(f.PC) || s.modObject(bf.Module) != nil) {
			if file, line, err := s.sourceLine(f.LookupPC()); err == nil {
				bf.Source = &SourceLine{file, line}
			}
		}
		if o.frames && i+1 < len(tr.Frames) {
			bf.Words = btFrameData(k, f.SP+8, tr.Frames[i+1].SP, o.symbolic)
		}
		if f.Regs != nil && ua != nil {
			bf.Exception = registersOf(k, f.Regs.Regs, f.Regs.Addr, f.Regs.User)
			if !f.Regs.User {
				pc := f.Regs.Regs[ua.RegIndex().PC]
				bf.Exception.Function = symOffset(k, pc, o.hex)
				if eb, own := k.Arch.(arch.EFrameRows); own {
					bf.Exception.block = eframeBlock(k, eb, kernel.EFrame{Addr: f.Regs.Addr, Regs: f.Regs.Regs}, o.hex)
				}
				if _, _, named := k.Symbolize(pc); o.lines && named {
					if file, line, err := s.sourceLine(pc); err == nil {
						bf.ExceptionSource = &SourceLine{file, line}
					}
				}
			}
		}
		bt.Frames = append(bt.Frames, bf)
	}
	if len(tr.Frames) == 0 && tr.Regs != nil && ua != nil {
		// The CPU was in user mode: its registers are the whole story.
		bt.UserRegisters = registersOf(k, tr.Regs, 0, true)
	}
	if bl := btLayoutOf(k); bl != nil {
		btLayoutTrace(k, bl, t, tr, bt)
	}
	var noStack *kernel.NoStackError
	switch {
	case errors.As(tr.Err, &noStack):
		bt.NoStack = true
	case tr.Err != nil:
		bt.Error = tr.Err.Error()
	}
	return bt, nil
}

// frameName is the frame's function, with its offset under -s.
func frameName(k *kernel.Kernel, f kernel.Frame, o btOptions) string {
	name, off, ok := k.Symbolize(f.LookupPC())
	if !ok {
		return fmt.Sprintf("%x", f.PC)
	}
	if !o.symOff {
		return name
	}
	off += f.PC - f.LookupPC()
	if o.hex {
		return fmt.Sprintf("%s+%#x", name, off)
	}
	return fmt.Sprintf("%s+%d", name, off)
}

// symOffset names an exact address as crash's [exception RIP: ...] does.
func symOffset(k *kernel.Kernel, addr uint64, hex bool) string {
	name, off, ok := k.Symbolize(addr)
	switch {
	case !ok:
		return "unknown or invalid address"
	case off == 0:
		return name
	case hex:
		return fmt.Sprintf("%s+%#x", name, off)
	}
	return fmt.Sprintf("%s+%d", name, off)
}

// btFrameData reads the stack words in [from, to), as crash's bt -f
// shows them; with symbolic (-F), words that are kernel text addresses
// are named.
func btFrameData(k *kernel.Kernel, from, to uint64, symbolic bool) []StackWord {
	if to <= from || to-from > 1<<16 {
		return nil
	}
	var out []StackWord
	for a := from; a < to; a += 8 {
		v, err := k.ReadU64(a)
		if err != nil {
			// crash stops the line, and the frame's words, at a word it
			// cannot read.
			return out[:len(out)&^1]
		}
		wd := StackWord{Addr: Hex(a), Value: Hex(v)}
		if symbolic {
			if name, off, ok := k.Symbolize(v); ok && k.IsText(v) {
				wd.Symbol = name
				if off != 0 {
					wd.Symbol = fmt.Sprintf("%s+%d", name, off)
				}
			}
		}
		out = append(out, wd)
	}
	return out
}

// btRaw reads the task's whole stack, word by word.
func btRaw(k *kernel.Kernel, tr *kernel.Trace, bt *BTTrace) error {
	bt.view.mode = 'r'
	lo, hi, err := k.TaskStack(tr.Task)
	if err != nil {
		return err
	}
	for a := lo; a+16 <= hi; a += 16 {
		w, err := k.ReadU64(a)
		if err != nil {
			return err
		}
		w2, err := k.ReadU64(a + 8)
		if err != nil {
			return err
		}
		bt.Raw = append(bt.Raw, StackWord{Addr: Hex(a), Value: Hex(w)}, StackWord{Addr: Hex(a + 8), Value: Hex(w2)})
	}
	return nil
}

// btText finds every kernel text address on the stack: from the first
// frame's stack address up (-t), or from the bottom of the stack (-T), as
// crash's bt -t does.
func btText(k *kernel.Kernel, tr *kernel.Trace, o btOptions, bt *BTTrace) error {
	bt.view.mode = 't'
	bt.Text = &BTText{Refs: []BTTextWord{}}
	lo, hi, err := k.TaskStack(tr.Task)
	if err != nil {
		return err
	}
	from := lo
	if len(tr.Frames) > 0 {
		f := tr.Frames[0]
		start := &BTFrame{SP: Hex(f.SP), PC: Hex(f.PC), name: frameName(k, f, o)}
		if name, off, ok := k.Symbolize(f.LookupPC()); ok {
			start.Function, start.Offset = name, off+f.PC-f.LookupPC()
		}
		bt.Text.Start = start
		if !o.textAll && f.SP >= lo && f.SP < hi {
			from = f.SP + 8
			// A first frame read from the stack (the crash path's
			// machine_kexec) is listed at its own slot, as crash does.
			if v, err := k.ReadU64(f.SP); err == nil && v == f.PC && !f.Exact {
				from = f.SP
			}
		}
	}
	for a := from; a < hi; a += 8 {
		v, err := k.ReadU64(a)
		if err != nil {
			return err
		}
		if !k.IsText(v) {
			continue
		}
		name, _, _ := k.Symbolize(v - 1)
		bt.Text.Refs = append(bt.Text.Refs, BTTextWord{SP: Hex(a), Function: name, PC: Hex(v), Module: k.ModuleOf(v)})
	}
	return nil
}

// btEFrames finds the exception frames a search of the task's stack
// finds (bt -e), for crash's layout of the architecture.
func btEFrames(k *kernel.Kernel, t kernel.Task, bt *BTTrace, o btOptions) error {
	bt.view.mode = 'e'
	frames, err := k.SearchEFrames(t)
	var noStack *kernel.NoStackError
	if errors.As(err, &noStack) {
		bt.NoStack = true
		return nil
	}
	if err != nil {
		return err
	}
	bt.EFrames, bt.view.ownEFrames, err = gatherEFrames(k, frames, o)
	return err
}

// gatherEFrames names the exception frames a stack search found and lays
// out their register blocks; own reports that the architecture has a
// block of its own (arm64's layout) rather than bt's register block.
func gatherEFrames(k *kernel.Kernel, frames []kernel.EFrame, o btOptions) (out []BTEFrame, own bool, err error) {
	ua, ok := k.Arch.(arch.Unwinding)
	if !ok {
		return nil, false, fmt.Errorf("bt -e is not supported on %s", k.Arch.Name())
	}
	pcIdx := ua.RegIndex().PC
	eb, own := k.Arch.(arch.EFrameRows)
	for _, f := range frames {
		ef := BTEFrame{Registers: *registersOf(k, f.Regs, f.Addr, f.User)}
		pc := f.Regs[pcIdx]
		if !f.User {
			ef.Function = symOffset(k, pc, o.hex)
			if _, _, ok := k.Symbolize(pc); !ok && f.PCMapped {
				ef.Function = "no symbolic reference"
			}
		}
		if o.lines && k.IsText(pc) && (!f.User || own) {
			if file, line, err := k.SourceLine(pc); err == nil {
				ef.Source = &SourceLine{file, line}
			}
		}
		if bl := btLayoutOf(k); bl != nil {
			ef.block, ef.whole = layoutEFrame(k, bl, f), true
		} else if own {
			ef.block = eframeBlock(k, eb, f, o.hex)
		} else {
			ef.block = registerBlock(ua, f.Regs)
		}
		out = append(out, ef)
	}
	return out, own, nil
}

// writeEFrames prints exception frames as crash's bt -e and -E do, each
// after a blank line, or in the architecture's own layout (own: arm64's,
// where the blank line comes before each kernel frame, and before the user
// frame only when kernel frames precede it).
func writeEFrames(tw *textWriter, frames []BTEFrame, own bool) {
	const sep = "\n"
	for i, f := range frames {
		mode := "KERNEL"
		if f.User {
			mode = "USER"
		}
		switch {
		case f.whole:
			tw.printf("%s", sep)
			for _, ln := range f.block {
				tw.println(ln)
			}
			if f.Source != nil {
				tw.printf("    %s: %d\n", f.Source.File, f.Source.Line)
			}
			continue
		case !own:
			tw.printf("%s  %s-MODE EXCEPTION FRAME AT: %x\n", sep, mode, uint64(f.Addr))
			if !f.User {
				tw.printf("    [exception RIP: %s]\n", f.Function)
			}
		case f.User && i > 0 || !f.User:
			tw.printf("%s%s-MODE EXCEPTION FRAME AT: %x\n", sep, mode, uint64(f.Addr))
		default:
			tw.printf("%s-MODE EXCEPTION FRAME AT: %x\n", mode, uint64(f.Addr))
		}
		for _, ln := range f.block {
			tw.printf("    %s\n", ln)
		}
		if f.Source != nil {
			tw.printf("    %s: %d\n", f.Source.File, f.Source.Line)
		}
	}
}

// BTCPUStacks is bt -E: the exception frames a search of each CPU's IRQ
// and exception stacks found.
type BTCPUStacks struct {
	Stacks []BTCPUStack `json:"stacks"`
	own    bool
}

// BTCPUStack is one CPU's IRQ or exception stack and what its search
// found.
type BTCPUStack struct {
	CPU    int        `json:"cpu"`
	Stack  string     `json:"stack"` // "IRQ stack", "NMI exception stack", ...
	Base   Hex        `json:"base"`
	Top    Hex        `json:"top"`
	Frames []BTEFrame `json:"exception_frames"`
	Error  string     `json:"error,omitempty"`
}

func (r *BTCPUStacks) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, st := range r.Stacks {
		tw.printf("CPU %d %s:\n", st.CPU, strings.ToUpper(st.Stack))
		switch {
		case st.Error != "":
			tw.printf("bt: %s\n", st.Error)
		case len(st.Frames) == 0:
			tw.println("(none found)")
		default:
			writeEFrames(tw, st.Frames, r.own)
		}
		tw.println("")
	}
	return tw.err
}

// btCPUStacks gathers bt -E for the CPUs given (all when none).
func btCPUStacks(k *kernel.Kernel, o btOptions) (*BTCPUStacks, error) {
	found, err := k.SearchCPUEFrames(o.cpus)
	if err != nil {
		return nil, err
	}
	r := &BTCPUStacks{Stacks: []BTCPUStack{}}
	for _, c := range found {
		st := BTCPUStack{CPU: c.CPU, Stack: c.Kind.String(), Base: Hex(c.Lo), Top: Hex(c.Hi), Frames: []BTEFrame{}}
		if c.Err != nil {
			st.Error = c.Err.Error()
		} else if frames, own, err := gatherEFrames(k, c.Frames, o); err != nil {
			return nil, err
		} else if len(frames) > 0 {
			st.Frames, r.own = frames, own
		}
		r.Stacks = append(r.Stacks, st)
	}
	return r, nil
}
