package commands_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// btEntry is one frame of bt's text, or a "--- <stack> ---" line.
type btEntry struct {
	marker  string // the stack left, for a "--- <IRQ stack> ---" line
	sp, pc  uint64
	fn, mod string
	// exception is the "[exception RIP: F+off]" below the frame, regs its
	// register block (or a user-mode entry's, without exception).
	exception string
	regs      map[string]uint64
}

func (e btEntry) String() string {
	switch {
	case e.marker != "":
		return "--- <" + e.marker + "> ---"
	case e.mod != "":
		return e.fn + " [" + e.mod + "]"
	}
	return e.fn
}

var (
	btTextFrameRE = regexp.MustCompile(`^ ?#\d+ \[([0-9a-f]{16})\] (\S+) at ([0-9a-f]{16})(?: \[(\S+)\])?$`)
	btMarkerRE    = regexp.MustCompile(`^--- <(.*)> ---$`)
	btExcRE       = regexp.MustCompile(`^    \[exception RIP: (\S+)\]$`)
	btRegRE       = regexp.MustCompile(`([A-Z][A-Z0-9_]*): ([0-9a-f]+)`)
)

// parseBT reads one task's bt text into its entries.
func parseBT(t *testing.T, out string) []btEntry {
	t.Helper()
	var es []btEntry
	last := func() *btEntry {
		if len(es) == 0 || es[len(es)-1].marker != "" {
			t.Fatalf("register line before any frame:\n%s", out)
		}
		return &es[len(es)-1]
	}
	for _, ln := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:] {
		if m := btTextFrameRE.FindStringSubmatch(ln); m != nil {
			sp, _ := strconv.ParseUint(m[1], 16, 64)
			pc, _ := strconv.ParseUint(m[3], 16, 64)
			es = append(es, btEntry{sp: sp, pc: pc, fn: m[2], mod: m[4]})
			continue
		}
		if m := btMarkerRE.FindStringSubmatch(ln); m != nil {
			es = append(es, btEntry{marker: m[1]})
			continue
		}
		if m := btExcRE.FindStringSubmatch(ln); m != nil {
			last().exception = m[1]
			continue
		}
		if ms := btRegRE.FindAllStringSubmatch(ln, -1); ms != nil && strings.HasPrefix(ln, "    ") {
			e := last()
			if e.regs == nil {
				e.regs = map[string]uint64{}
			}
			for _, m := range ms {
				e.regs[m[1]], _ = strconv.ParseUint(m[2], 16, 64)
			}
			continue
		}
		t.Fatalf("bt line %q", ln)
	}
	return es
}

// btRegName is the name bt prints for a register a kernel report names.
func btRegName(report string) string {
	switch report {
	case "EFLAGS":
		return "RFLAGS"
	case "R08":
		return "R8"
	case "R09":
		return "R9"
	}
	return report
}

// btRegsMatch checks a bt register block against a report's: every
// register the report printed that bt prints too (RIP by value for a user
// RIP), equal; at least RSP, the flags and RAX..R15 compared.
func btRegsMatch(t *testing.T, what string, got map[string]uint64, want *corpus.Regs) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: bt prints no registers", what)
		return
	}
	compared := 0
	for name, v := range want.Values {
		g, ok := got[btRegName(name)]
		if !ok {
			continue
		}
		compared++
		if g != v {
			t.Errorf("%s: %s %016x, the kernel printed %016x", what, btRegName(name), g, v)
		}
	}
	if want.RIP.Func == "" {
		compared++
		if got["RIP"] != want.RIP.Addr {
			t.Errorf("%s: RIP %016x, the kernel printed %#x", what, got["RIP"], want.RIP.Addr)
		}
	}
	if compared < 17 {
		t.Errorf("%s: only %d registers compared: bt %v, kernel %v", what, compared, got, want.Values)
	}
}

// reportTokens are a report's Call Trace as bt would print it: the frames
// that are not "?" lines, "--- <IRQ stack> ---" where the trace leaves the
// IRQ stack, and the register blocks (as the frames they follow).
func reportTokens(tr []corpus.ReportFrame) (names []string, blocks map[int]*corpus.Regs) {
	blocks = map[int]*corpus.Regs{}
	prev := ""
	for _, f := range tr {
		switch {
		case f.Marker != "":
			continue
		case f.Regs != nil:
			blocks[len(names)-1] = f.Regs
			continue
		case f.Unreliable:
			continue
		}
		if prev == "IRQ" && f.Stack != "IRQ" {
			names = append(names, "--- <IRQ stack> ---")
		}
		prev = f.Stack
		n := f.Func
		if f.Module != "" {
			n += " [" + f.Module + "]"
		}
		names = append(names, n)
	}
	return names, blocks
}

// crashPathFrames are the frames bt shows above the interrupted function
// for each crash kind: the kdump path (machine_kexec and on, found on the
// stack below the fault's registers for an Oops or BUG; from __crash_kexec's
// own registers for a panic), then the exception handler and its entry.
var crashPathFrames = map[string]string{
	"oops":       "machine_kexec __crash_kexec crash_kexec oops_end page_fault_oops exc_page_fault asm_exc_page_fault",
	"oops-timer": "machine_kexec __crash_kexec crash_kexec oops_end page_fault_oops exc_page_fault asm_exc_page_fault",
	"bug":        "machine_kexec __crash_kexec crash_kexec oops_end do_trap do_error_trap exc_invalid_op asm_exc_invalid_op",
	"warn":       "__crash_kexec panic check_panic_on_warn.cold __warn report_bug handle_bug exc_invalid_op asm_exc_invalid_op",
	"softlockup": "__crash_kexec panic watchdog_timer_fn.cold __hrtimer_run_queues hrtimer_interrupt __sysvec_apic_timer_interrupt sysvec_apic_timer_interrupt --- <IRQ stack> --- asm_sysvec_apic_timer_interrupt",
	"hungtask":   "__crash_kexec panic watchdog.cold kthread ret_from_fork ret_from_fork_asm?",
}

// kernelPath returns a crashPathFrames path as this kernel has it: each
// "F.cold" frame named F where the kernel has no such symbol (GCC split
// those functions' unlikely paths into a .cold part in Debian's 6.1 build,
// not in its 6.12 one), and each "F?" frame left out where the kernel has
// no F (6.12's ret_from_fork_asm, the entry code that calls ret_from_fork).
func kernelPath(s *commands.Session, path string) string {
	var names []string
	for _, n := range strings.Fields(path) {
		_, err := s.Kernel.SymbolAddr(strings.TrimSuffix(n, "?"))
		switch base, cold := strings.CutSuffix(n, ".cold"); {
		case strings.HasSuffix(n, "?"):
			if err == nil {
				names = append(names, strings.TrimSuffix(n, "?"))
			}
		case cold && err != nil:
			names = append(names, base)
		default:
			names = append(names, n)
		}
	}
	return strings.Join(names, " ")
}

// TestCorpusCrashKindsPanicBT: on every crash-kind run, bt of the panic
// task is the kdump path, then the exception frame at the report's RIP
// with the report's registers, then the report's Call Trace (its reliable
// frames, its IRQ stack and its register blocks), and nothing else. The
// kdump path is also crash 8.0.2's on the Oops and BUG runs, where crash
// prints it; and the JSON has the same frames and exception registers.
func TestCorpusCrashKindsPanicBT(t *testing.T) {
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		rep, ok := truth.Report()
		if !ok {
			t.Fatal("no crash report")
		}
		panicRep, ok := truth.PanicReport() // (the last report, but on arm64 after an Oops)
		if !ok {
			t.Fatal("no report names the panic's task")
		}
		path, ok := crashPathFrames[r.Crash]
		if !ok {
			t.Fatalf("unknown crash kind %q", r.Crash)
		}
		for _, f := range crashKindFiles(t, r) {
			t.Run(f.Name, func(t *testing.T) {
				s := openSession(t, r, f)
				out := run(t, s, "bt")
				if !strings.HasPrefix(out, fmt.Sprintf("PID: %-8d ", panicRep.PID)) {
					t.Fatalf("bt is not of the panicking task %d:\n%s", panicRep.PID, out)
				}
				if r.Arch != "x86_64" {
					// What follows is x86_64's: the kdump path, the
					// "[exception RIP: ...]" frame and its register block,
					// the report's Call Trace with its <IRQ> stack, and the
					// JSON of those registers. arm64: see branch a64.
					return
				}
				path := kernelPath(s, path)
				es := parseBT(t, out)
				exc := -1
				for i, e := range es {
					if e.exception != "" && exc < 0 {
						exc = i
					}
				}
				var names []string
				for _, e := range es {
					names = append(names, e.String())
				}
				if rep.Regs == nil {
					// A hung task: khungtaskd panics in its own context.
					if got := strings.Join(names, " "); got != path || exc >= 0 {
						t.Errorf("bt:\n  want: %s\n  got:  %s\n%s", path, got, out)
					}
					return
				}
				if exc < 0 {
					t.Fatalf("no exception frame:\n%s", out)
				}
				if got := strings.Join(names[:exc+1], " "); got != path {
					t.Errorf("crash path:\n  want: %s\n  got:  %s\n%s", path, got, out)
				}
				// The exception frame: the report's RIP and registers.
				wantRIP := fmt.Sprintf("%s+%d", rep.Regs.RIP.Func, rep.Regs.RIP.Off)
				n := 0
				for _, e := range es {
					if strings.HasPrefix(e.exception, rep.Regs.RIP.Func+"+") {
						n++
					}
				}
				if es[exc].exception != wantRIP || n != 1 {
					t.Errorf("exception RIP %q (%d such frames), the kernel said %s", es[exc].exception, n, wantRIP)
				}
				btRegsMatch(t, "exception frame", es[exc].regs, rep.Regs)
				// Then the report's Call Trace.
				want, blocks := reportTokens(rep.Trace)
				got := names[exc+1:]
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("frames after the exception frame:\n  kernel: %s\n  bt:     %s\n%s", strings.Join(want, " "), strings.Join(got, " "), out)
				} else {
					for i, e := range es[exc+1:] {
						if b, ok := blocks[i]; ok {
							btRegsMatch(t, "registers after "+want[i], e.regs, b)
						} else if e.regs != nil {
							t.Errorf("bt prints registers after %s, the kernel did not", want[i])
						}
					}
				}
				for _, e := range es[exc+1:] {
					if strings.HasPrefix(e.fn, "gocrash_") && e.mod != "gocrash_test" {
						t.Errorf("module frame %s without [gocrash_test]", e.fn)
					}
				}

				// The JSON: the same frames, the exception's registers.
				data := runJSON(t, s, "bt")["data"].(map[string]any)
				tr := data["traces"].([]any)[0].(map[string]any)
				frames := tr["frames"].([]any)
				var frameEs []btEntry
				for _, e := range es {
					if e.marker == "" {
						frameEs = append(frameEs, e)
					}
				}
				if len(frames) != len(frameEs) {
					t.Fatalf("JSON has %d frames, the text %d", len(frames), len(frameEs))
				}
				for i, fr := range frames {
					fm := fr.(map[string]any)
					e := frameEs[i]
					if fm["function"] != e.fn || hexOf(t, fm["sp"]) != e.sp || hexOf(t, fm["pc"]) != e.pc {
						t.Errorf("JSON frame %d %v, text %s at %x [%x]", i, fm, e.fn, e.pc, e.sp)
					}
					x, _ := fm["exception"].(map[string]any)
					if (x != nil) != (e.regs != nil) {
						t.Errorf("JSON frame %d exception %v, text registers %v", i, x, e.regs)
						continue
					}
					if x == nil {
						continue
					}
					if e.exception != "" && x["function"] != e.exception {
						t.Errorf("JSON frame %d exception function %v, text %s", i, x["function"], e.exception)
					}
					regs := x["registers"].(map[string]any)
					for name, v := range e.regs {
						jn := strings.ToLower(name)
						if jn == "rflags" {
							jn = "eflags"
						}
						if hexOf(t, regs[jn]) != v {
							t.Errorf("JSON frame %d register %s %v, text %x", i, name, regs[jn], v)
						}
					}
				}

				// crash 8.0.2 prints the kdump path of an Oops or BUG too
				// (where it reads the dump: crashReads).
				if (r.Crash == "oops" || r.Crash == "bug") && crashReads(r) {
					ces := parseBT(t, crashAnswers(t, r, f, []string{"bt"})[0])
					for i := 0; i <= exc; i++ {
						if i >= len(ces) || ces[i].String() != es[i].String() || ces[i].sp != es[i].sp || ces[i].pc != es[i].pc {
							t.Errorf("frame %d: %s at %x [%x]; crash: %+v", i, es[i], es[i].pc, es[i].sp, ces[min(i, len(ces)-1)])
						}
					}
					if exc < len(ces) && ces[exc].exception != es[exc].exception {
						t.Errorf("crash's exception RIP %q", ces[exc].exception)
					}
				}
			})
		}
	})
}

// hexOf reads a JSON hex string ("0xffff...").
func hexOf(t *testing.T, v any) uint64 {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Errorf("JSON value %q", s)
	}
	return n
}
