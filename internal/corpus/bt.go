package corpus

import (
	"regexp"
	"strconv"
	"strings"
)

// KernelTrace is one backtrace the guest's kernel printed (sysrq-t or the
// panic): the functions its unwinder trusted, in order, without the
// "? "-marked addresses it only found lying on the stack.
type KernelTrace struct {
	Comm   string
	PID    int
	State  string // sysrq-t's state letter ("S", "D", "I", "R", ...)
	Frames []TraceFrame
}

// TraceFrame is one trusted frame of a kernel trace.
type TraceFrame struct {
	Func   string
	Module string // "" for the kernel itself
}

// Names returns the frames' function names.
func (t KernelTrace) Names() []string {
	out := make([]string, len(t.Frames))
	for i, f := range t.Frames {
		out[i] = f.Func
	}
	return out
}

var (
	taskLineRE  = regexp.MustCompile(`^task:(.*?)\s+state:(\S+).*\spid:\s*(\d+)`)
	frameLineRE = regexp.MustCompile(`^ (\? )?([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[([^\]]+)\])?$`)
	// ppc64: "[sp] [pc] func+0x1/0x2 [mod]", " (unreliable)" after a
	// frame the kernel found but does not trust.
	ppcFrameLineRE = regexp.MustCompile(`^\[[0-9a-f]+\] \[[0-9a-f]+\] ([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[([^\]]+)\])?( \(unreliable\))?$`)
	// s390x: " [<pc>] func+0x1/0x2 [mod]", in parentheses when unreliable.
	s390FrameLineRE = regexp.MustCompile(`^ (\()?\[<[0-9a-f]+>\] ([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[([^\]]+)\])?\)? *$`)
)

// parseFrame decodes a call-trace line (" func+0x1/0x2 [mod]", and the
// ppc64 and s390x shapes); ok is false for other lines and for the frames
// the kernel marks unreliable ("? ", "(unreliable)", parentheses).
func parseFrame(line string) (TraceFrame, bool) {
	if m := ppcFrameLineRE.FindStringSubmatch(line); m != nil {
		return TraceFrame{Func: m[1], Module: m[2]}, m[3] == ""
	}
	if m := s390FrameLineRE.FindStringSubmatch(line); m != nil {
		return TraceFrame{Func: m[2], Module: m[3]}, m[1] == ""
	}
	m := frameLineRE.FindStringSubmatch(line)
	if m == nil || m[1] != "" {
		return TraceFrame{}, false
	}
	return TraceFrame{Func: m[2], Module: m[3]}, true
}

// SysrqTraces splits the guest's sysrq-t output into one trace per task.
func (t *Truth) SysrqTraces() []KernelTrace {
	var out []KernelTrace
	for _, ln := range t.SysrqT {
		if m := taskLineRE.FindStringSubmatch(ln); m != nil {
			pid, _ := strconv.Atoi(m[3])
			out = append(out, KernelTrace{Comm: m[1], State: m[2], PID: pid})
			continue
		}
		if len(out) == 0 {
			continue
		}
		if f, ok := parseFrame(ln); ok {
			cur := &out[len(out)-1]
			cur.Frames = append(cur.Frames, f)
		}
	}
	return out
}

// PanicTrace is the backtrace the kernel printed with its panic message:
// the call-trace lines after "Kernel panic - not syncing" up to the end of
// the task's stack ("</TASK>" on x86_64) or of the panic ("---[ end Kernel
// panic").
func (t *Truth) PanicTrace() (KernelTrace, bool) {
	var tr KernelTrace
	in, found := false, false
	for _, c := range t.Console {
		text := c.Text
		switch {
		case strings.HasPrefix(text, "Kernel panic - not syncing"):
			in, found = true, true
		case !in:
		case strings.TrimSpace(text) == "</TASK>" || strings.HasPrefix(text, "---[ end Kernel panic"):
			return tr, true
		case strings.HasPrefix(text, "CPU: ") && tr.Comm == "":
			// "CPU: 1 PID: 1 Comm: init ..."
			f := strings.Fields(text)
			for i := 0; i+1 < len(f); i++ {
				switch f[i] {
				case "PID:":
					tr.PID, _ = strconv.Atoi(f[i+1])
				case "Comm:":
					tr.Comm = f[i+1]
				}
			}
		default:
			if fr, ok := parseFrame(text); ok {
				tr.Frames = append(tr.Frames, fr)
			}
		}
	}
	return tr, found && len(tr.Frames) > 0
}
