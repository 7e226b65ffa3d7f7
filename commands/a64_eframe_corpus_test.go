package commands_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// a64Report is an arm64 crash report's register block and Call trace, as
// the kernel's __show_regs and dump_backtrace print them.
type a64Report struct {
	pc, lr string // "gocrash_oops_inner+0x20"
	regs   map[string]uint64
	trace  []string // "gocrash_oops_inner [gocrash_test]"
}

var (
	a64LocRE   = regexp.MustCompile(`^(pc|lr) : ([^ +]+)\+(0x[0-9a-f]+)/0x[0-9a-f]+`)
	a64RegRE   = regexp.MustCompile(`(x\d+|sp) ?: ([0-9a-f]{16})`)
	a64PStRE   = regexp.MustCompile(`^pstate: ([0-9a-f]{8})`)
	a64TraceRE = regexp.MustCompile(`^ *([^ +]+)\+0x[0-9a-f]+/0x[0-9a-f]+( \[[^\]]+\])?$`)
	a64BlockRE = regexp.MustCompile(`^ +(PC|LR): ([0-9a-f]{16})  \[([^\]]+)\]$`)
	a64ValsRE  = regexp.MustCompile(`(X\d+|SP|PSTATE): ([0-9a-f]+)`)
	a64FrameRE = regexp.MustCompile(`^ *#\d+ \[[0-9a-f]{16}\] (\S+) at [0-9a-f]{16}( \[[^\]]+\])?$`)
)

// parseA64Report reads the first register block and Call trace the kernel
// printed after the guest's crash marker.
func parseA64Report(lines []corpus.ConsoleLine) (*a64Report, bool) {
	rep := &a64Report{regs: map[string]uint64{}}
	started, inTrace := false, false
	for _, c := range lines {
		text := c.Text
		if text == "@@GOCRASH-BEGIN crash@@" {
			started = true
			continue
		}
		if !started {
			continue
		}
		if inTrace {
			m := a64TraceRE.FindStringSubmatch(text)
			if m == nil {
				break
			}
			rep.trace = append(rep.trace, m[1]+m[2])
			continue
		}
		if m := a64LocRE.FindStringSubmatch(text); m != nil && rep.regs["pstate"] != 0 || m != nil && len(rep.regs) == 0 {
			off, _ := strconv.ParseUint(m[3][2:], 16, 64)
			loc := m[2] + "+" + strconv.FormatUint(off, 10)
			if m[1] == "pc" && rep.pc == "" {
				rep.pc = loc
			} else if m[1] == "lr" && rep.lr == "" {
				rep.lr = loc
			}
			continue
		}
		if m := a64PStRE.FindStringSubmatch(text); m != nil && rep.pc == "" {
			v, _ := strconv.ParseUint(m[1], 16, 64)
			rep.regs["pstate"] = v
			continue
		}
		if rep.pc != "" && (strings.HasPrefix(text, "x") || strings.HasPrefix(text, "sp ")) {
			for _, m := range a64RegRE.FindAllStringSubmatch(text, -1) {
				v, _ := strconv.ParseUint(m[2], 16, 64)
				if _, dup := rep.regs[m[1]]; !dup {
					rep.regs[m[1]] = v
				}
			}
			continue
		}
		if text == "Call trace:" && rep.pc != "" {
			inTrace = true
		}
	}
	return rep, rep.pc != "" && len(rep.trace) > 0 && len(rep.regs) >= 32
}

// TestCorpusA64ExceptionBT: on the arm64 crash-kind runs whose report has
// the registers at the fault (an Oops, BUG, WARN, or the soft lockup's
// interrupted spinner), the panic task's bt prints crash's arm64 exception
// frame after the exception entry's frame (el1h_64_sync, el1h_64_irq):
// PC and LR naming the report's pc and lr, SP, PSTATE and X0-X29 equal to
// the report's, and then the interrupted frames, equal to the kernel's
// own Call trace from the faulting function on (module tags included).
func TestCorpusA64ExceptionBT(t *testing.T) {
	checked := 0
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "arm64" {
			return // x86_64: TestCorpusCrashKindsPanicBT
		}
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		rep, ok := parseA64Report(truth.Console)
		if !ok {
			if r.Crash == "hungtask" {
				return // khungtaskd's panic: a report without fault registers
			}
			t.Fatalf("%s: the console has no arm64 register block and Call trace", r.Crash)
		}
		for _, f := range r.Files {
			s := openSession(t, r, f)
			out := run(t, s, "bt")
			lines := strings.Split(out, "\n")
			found := false
			for i := 0; i < len(lines); i++ {
				m := a64BlockRE.FindStringSubmatch(lines[i])
				if m == nil || m[1] != "PC" || m[3] != rep.pc {
					continue
				}
				found = true
				if i+1 >= len(lines) {
					t.Fatalf("%s: exception block cut short", f.Name)
				}
				if lm := a64BlockRE.FindStringSubmatch(lines[i+1]); lm == nil || lm[1] != "LR" || lm[3] != rep.lr {
					t.Errorf("%s: LR line %q, want [%s]", f.Name, lines[i+1], rep.lr)
				}
				got := map[string]uint64{}
				j := i + 2
				for ; j < len(lines) && !a64FrameRE.MatchString(lines[j]) && strings.HasPrefix(lines[j], "    "); j++ {
					for _, v := range a64ValsRE.FindAllStringSubmatch(lines[j], -1) {
						x, _ := strconv.ParseUint(v[2], 16, 64)
						got[strings.ToLower(v[1])] = x
					}
				}
				for name, want := range rep.regs {
					if g, ok := got[name]; !ok || g != want {
						t.Errorf("%s: %s = %x, the report's %x", f.Name, name, g, want)
					}
				}
				var frames []string
				for ; j < len(lines); j++ {
					if fm := a64FrameRE.FindStringSubmatch(lines[j]); fm != nil {
						frames = append(frames, fm[1]+fm[2])
					} else if strings.HasPrefix(lines[j], "     PC: ") {
						break // the user-mode registers at the end
					}
				}
				if strings.Join(frames, "\n") != strings.Join(rep.trace, "\n") {
					t.Errorf("%s: frames after the exception:\n%s\nthe kernel's Call trace:\n%s", f.Name, strings.Join(frames, "\n"), strings.Join(rep.trace, "\n"))
				}
				checked++
				break
			}
			if !found {
				t.Errorf("%s: bt has no exception frame with PC [%s]:\n%s", f.Name, rep.pc, out)
			}
		}
	})
	if checked == 0 {
		t.Error("no arm64 exception frame was checked")
	}
}
