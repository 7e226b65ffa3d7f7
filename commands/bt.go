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
		Synopsis: "bt [-a|-c cpu(s)|-p] [-f|-F] [-l] [-s [-x|-d]] [-t|-T] [-r] [-e] [pid | task] ...",
		Summary:  "backtrace",
		Help: `Displays a task's kernel stack trace, as the kernel's own unwinder would print
it: ORC on x86_64, frame records on arm64, with the kernel's ELF symbol names.
A task that was running when the dump was taken is unwound from its CPU's
registers (the dump's NT_PRSTATUS note or the kernel's crash_notes); any other
task from the context it saved when it was switched out. With no argument, the
current context (see set) is shown, at start the task that panicked.

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
exception stacks.`,
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
			{"pid | task", "the task with this PID, or whose task_struct is at this address"},
		},
		Examples: []string{"gocrash> bt", "gocrash> bt -a", "gocrash> bt 95", "gocrash> bt -sx 1", "gocrash> bt -f ffff8bad4258c800", "gocrash> bt -e 95", "gocrash> bt -e -a", "gocrash> foreach bt"},
		Run:      runBT,
	}
}

// btOptions are bt's options.
type btOptions struct {
	all, panic, frames, symbolic, symOff, hex, text, textAll, raw, lines, eframes bool
	cpus                                                                          []int
	args                                                                          []string
}

func parseBTOptions(args []string) (btOptions, error) {
	var o btOptions
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			o.args = append(o.args, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'a':
				o.all = true
			case 'p':
				o.panic = true
			case 'f':
				o.frames = true
			case 'F':
				o.frames, o.symbolic = true, true
			case 's':
				o.symOff = true
			case 'x':
				o.hex = true
			case 'd':
				o.hex = false
			case 't':
				o.text = true
			case 'T':
				o.text, o.textAll = true, true
			case 'r':
				o.raw = true
			case 'l':
				o.lines = true
			case 'e':
				o.eframes = true
			case 'c':
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return o, &UsageError{"-c needs a CPU list"}
					}
					i++
					v = args[i]
				}
				cpus, err := parseCPUList(v)
				if err != nil {
					return o, err
				}
				o.cpus = append(o.cpus, cpus...)
				j = len(a)
			default:
				return o, &UsageError{"invalid option: -" + string(a[j])}
			}
		}
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

func runBT(ctx context.Context, s *Session, args []string, out io.Writer) error {
	o, err := parseBTOptions(args)
	if err != nil {
		return err
	}
	k := s.Kernel
	tasks, err := k.Tasks()
	if err != nil {
		return err
	}
	var chosen []kernel.Task
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
			return fmt.Errorf("no task was running on CPU %v", o.cpus)
		}
	case len(o.args) > 0:
		for _, a := range o.args {
			t, err := findTaskArg(tasks, a)
			if err != nil {
				return err
			}
			chosen = append(chosen, t)
		}
	default:
		var addr uint64
		if o.panic {
			addr, err = k.PanicTask()
		} else {
			addr, err = s.ContextTask()
		}
		if err != nil {
			return err
		}
		t, err := findTaskArg(tasks, fmt.Sprintf("%#x", addr))
		if err != nil {
			return err
		}
		chosen = append(chosen, t)
	}
	return btTasks(ctx, s, chosen, o, out)
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

// findTaskArg finds a task by PID (decimal) or task_struct address (hex).
func findTaskArg(tasks []kernel.Task, arg string) (kernel.Task, error) {
	if pid, err := strconv.ParseInt(arg, 10, 32); err == nil {
		for _, t := range tasks {
			if int64(t.PID) == pid && (t.PID == t.TGID || t.PID == 0) {
				return t, nil
			}
		}
		for _, t := range tasks {
			if int64(t.PID) == pid {
				return t, nil
			}
		}
	}
	if a, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64); err == nil {
		for _, t := range tasks {
			if t.Addr == a {
				return t, nil
			}
		}
	}
	return kernel.Task{}, fmt.Errorf("invalid task or pid value: %s", arg)
}

// btTasks prints the traces of tasks, separated by blank lines.
func btTasks(ctx context.Context, s *Session, tasks []kernel.Task, o btOptions, out io.Writer) error {
	for i, t := range tasks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(out)
		}
		if err := btTask(s, t, o, out); err != nil {
			return err
		}
	}
	return nil
}

// btTask prints one task's trace.
func btTask(s *Session, t kernel.Task, o btOptions, out io.Writer) error {
	k := s.Kernel
	fmt.Fprintln(out, TaskHeader(t))
	if o.eframes {
		return btEFrames(k, t, o, out)
	}
	tr, err := k.Backtrace(t)
	if err != nil {
		var running *kernel.RunningError
		if errors.As(err, &running) {
			fmt.Fprintf(out, "(active on CPU %d: a running task's stack cannot be unwound on a live system)\n", running.CPU)
			return nil
		}
		return err
	}
	ua, _ := k.Arch.(arch.Unwinding)
	switch {
	case o.raw:
		return btRaw(k, tr, out)
	case o.text:
		return btText(k, tr, o, out)
	}
	for i, f := range tr.Frames {
		if i > 0 {
			prev := tr.Frames[i-1].Stack
			if prev != f.Stack && prev != kernel.StackTask && prev != kernel.StackUnknown {
				fmt.Fprintf(out, "--- <%s> ---\n", prev)
			}
		}
		fmt.Fprintf(out, "%3s [%016x] %s at %016x%s\n", "#"+strconv.Itoa(i), f.SP, frameName(k, f, o), f.PC, moduleSuffix(k, f.PC))
		if o.lines && k.KernelText(f.PC) {
			if file, line, err := k.SourceLine(f.LookupPC()); err == nil {
				fmt.Fprintf(out, "    %s: %d\n", file, line)
			}
		}
		if o.frames && i+1 < len(tr.Frames) {
			btFrameData(k, f.SP+8, tr.Frames[i+1].SP, o.symbolic, out)
		}
		if f.Regs != nil && ua != nil {
			if !f.Regs.User {
				pc := f.Regs.Regs[ua.RegIndex().PC]
				fmt.Fprintf(out, "    [exception RIP: %s]\n", symOffset(k, pc, o.hex))
			}
			for _, ln := range registerBlock(ua, f.Regs.Regs) {
				fmt.Fprintf(out, "    %s\n", ln)
			}
		}
	}
	if len(tr.Frames) == 0 && tr.Regs != nil && ua != nil {
		// The CPU was in user mode: its registers are the whole story.
		for _, ln := range registerBlock(ua, tr.Regs) {
			fmt.Fprintf(out, "    %s\n", ln)
		}
	}
	var noStack *kernel.NoStackError
	switch {
	case errors.As(tr.Err, &noStack):
		fmt.Fprintln(out, "(no stack)") // as crash words it
	case tr.Err != nil:
		fmt.Fprintf(out, "bt: cannot unwind further: %v\n", tr.Err)
	}
	return nil
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
		return fmt.Sprintf("unknown or invalid address")
	case off == 0:
		return name
	case hex:
		return fmt.Sprintf("%s+%#x", name, off)
	}
	return fmt.Sprintf("%s+%d", name, off)
}

// moduleSuffix is " [modname]" for an address in a module.
func moduleSuffix(k *kernel.Kernel, addr uint64) string {
	if m := k.ModuleOf(addr); m != "" {
		return " [" + m + "]"
	}
	return ""
}

// btFrameData prints the stack words in [from, to), two to a line, as
// crash's bt -f does.
func btFrameData(k *kernel.Kernel, from, to uint64, symbolic bool, out io.Writer) {
	if to <= from || to-from > 1<<16 {
		return
	}
	for a := from; a < to; a += 16 {
		line := fmt.Sprintf("    %016x: ", a)
		for w := a; w < a+16 && w < to; w += 8 {
			v, err := k.ReadU64(w)
			if err != nil {
				return
			}
			if symbolic {
				if name, off, ok := k.Symbolize(v); ok && k.IsText(v) {
					s := name
					if off != 0 {
						s = fmt.Sprintf("%s+%d", name, off)
					}
					line += fmt.Sprintf("%-16s ", s)
					continue
				}
			}
			line += fmt.Sprintf("%016x ", v)
		}
		fmt.Fprintln(out, line)
	}
}

// btRaw prints the task's whole stack, word by word.
func btRaw(k *kernel.Kernel, tr *kernel.Trace, out io.Writer) error {
	lo, hi, err := k.TaskStack(tr.Task)
	if err != nil {
		return err
	}
	for a := lo; a < hi; a += 16 {
		w, err := k.ReadU64(a)
		if err != nil {
			return err
		}
		w2, err := k.ReadU64(a + 8)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%016x:  %016x %016x\n", a, w, w2)
	}
	return nil
}

// btText prints every kernel text address found on the stack: from the
// first frame's stack address up (-t), or from the bottom of the stack
// (-T), as crash's bt -t does.
func btText(k *kernel.Kernel, tr *kernel.Trace, o btOptions, out io.Writer) error {
	lo, hi, err := k.TaskStack(tr.Task)
	if err != nil {
		return err
	}
	from := lo
	if len(tr.Frames) > 0 {
		f := tr.Frames[0]
		fmt.Fprintf(out, "%19s: %s at %016x\n", "START", frameName(k, f, o), f.PC)
		if !o.textAll && f.SP >= lo && f.SP < hi {
			from = f.SP + 8
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
		fmt.Fprintf(out, "  [%016x] %s at %016x%s\n", a, name, v, moduleSuffix(k, v))
	}
	return nil
}

// btEFrames prints the exception frames a search of the task's stack
// finds (bt -e), in crash's layout for the architecture.
func btEFrames(k *kernel.Kernel, t kernel.Task, o btOptions, out io.Writer) error {
	frames, err := k.SearchEFrames(t)
	var noStack *kernel.NoStackError
	if errors.As(err, &noStack) {
		fmt.Fprintln(out, "(no stack)")
		return nil
	}
	if err != nil {
		return err
	}
	ua, ok := k.Arch.(arch.Unwinding)
	if !ok {
		return fmt.Errorf("bt -e is not supported on %s", k.Arch.Name())
	}
	printLines := func(lines []string) {
		for _, ln := range lines {
			fmt.Fprintf(out, "    %s\n", ln)
		}
	}
	sourceLine := func(pc uint64) {
		if !o.lines || !k.IsText(pc) {
			return
		}
		if file, line, err := k.SourceLine(pc); err == nil {
			fmt.Fprintf(out, "    %s: %d\n", file, line)
		}
	}
	pcIdx := ua.RegIndex().PC
	eb, ownBlock := k.Arch.(arch.EFrameRows)
	if !ownBlock {
		for _, f := range frames {
			mode := "KERNEL"
			if f.User {
				mode = "USER"
			}
			fmt.Fprintf(out, "\n  %s-MODE EXCEPTION FRAME AT: %x\n", mode, f.Addr)
			pc := f.Regs[pcIdx]
			if !f.User {
				name := symOffset(k, pc, o.hex)
				if _, _, ok := k.Symbolize(pc); !ok && f.PCMapped {
					name = "no symbolic reference"
				}
				fmt.Fprintf(out, "    [exception RIP: %s]\n", name)
			}
			printLines(registerBlock(ua, f.Regs))
			if !f.User {
				sourceLine(pc)
			}
		}
		return nil
	}
	// arm64's layout: a blank line before each kernel frame, and before
	// the user frame only when kernel frames precede it.
	for i, f := range frames {
		if f.User {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "USER-MODE EXCEPTION FRAME AT: %x\n", f.Addr)
		} else {
			fmt.Fprintf(out, "\nKERNEL-MODE EXCEPTION FRAME AT: %x\n", f.Addr)
		}
		printLines(eframeBlock(k, eb, f, o.hex))
		sourceLine(f.Regs[pcIdx])
	}
	return nil
}
