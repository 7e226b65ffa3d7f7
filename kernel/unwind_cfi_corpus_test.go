package kernel_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// agreement counts how far one unwinder's traces equal bt's.
type agreement struct {
	tasks, tasksEqual   int
	frames, framesEqual int // bt's frames, and those the other gives at the same place
	wrong               int // frames the other gives that differ from bt's at that place
}

func (a *agreement) add(primary, other *kernel.Trace) bool {
	a.tasks++
	a.frames += len(primary.Frames)
	same := len(primary.Frames) == len(other.Frames)
	for i, f := range primary.Frames {
		if i < len(other.Frames) && other.Frames[i].PC == f.PC && other.Frames[i].SP == f.SP {
			a.framesEqual++
		} else {
			same = false
			if i < len(other.Frames) {
				a.wrong++
			}
		}
	}
	if len(other.Frames) > len(primary.Frames) {
		a.wrong += len(other.Frames) - len(primary.Frames)
	}
	if same {
		a.tasksEqual++
	}
	return same
}

func (a *agreement) String() string {
	return fmt.Sprintf("%d of %d tasks (%.1f%%), %d of %d frames (%.1f%%), %d frames differing", a.tasksEqual, a.tasks, a.taskPct(), a.framesEqual, a.frames, a.framePct(), a.wrong)
}

func (a *agreement) taskPct() float64 { return 100 * float64(a.tasksEqual) / float64(max(a.tasks, 1)) }
func (a *agreement) framePct() float64 {
	return 100 * float64(a.framesEqual) / float64(max(a.frames, 1))
}

func frameList(tr *kernel.Trace) string {
	var s []string
	for _, f := range tr.Frames {
		s = append(s, fmt.Sprintf("%x@%x", f.PC, f.SP))
	}
	return strings.Join(s, " ")
}

// TestCorpusCFIUnwind unwinds every switched-out task of every corpus dump
// by the vmlinux's CFI alone, and compares the frames (PC and SP) with
// bt's (ORC on x86_64, frame records on arm64): at least 95% of the tasks
// and of the frames must agree. On x86_64 it also walks the frame-pointer
// chain alone: Debian's kernels are built without frame pointers, so it
// agrees only where a function happens to keep one; the fraction is
// logged, and every frame it gives must pass its checks (on a stack,
// moving up, returning into kernel text).
func TestCorpusCFIUnwind(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		k := openKernel(t, r, r.Files[0])
		if _, ok := k.Arch.(arch.DWARFUnwinding); !ok {
			// ppc64le and s390x unwind by the back chain alone: no CFI
			// walk to compare.
			t.Logf("%s has no CFI unwinder", k.Arch.Name())
			return
		}
		tasks, err := k.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		var cfi, fp agreement
		shown := 0
		ua, _ := k.Arch.(arch.Unwinding)
		x86 := ua != nil && ua.Unwinder() == arch.UnwindORC // frame pointers are walked beside ORC
		for _, tk := range tasks {
			if tk.Active {
				continue
			}
			prim, err := k.Backtrace(tk)
			if err != nil {
				t.Errorf("pid %d: %v", tk.PID, err)
				continue
			}
			if len(prim.Frames) == 0 {
				continue // exited
			}
			tr, err := k.BacktraceCFIOnly(tk)
			if err != nil {
				t.Errorf("pid %d: CFI: %v", tk.PID, err)
				continue
			}
			if !cfi.add(prim, tr) && shown < 5 {
				shown++
				t.Logf("pid %d %s:\n  bt:  %s\n  cfi: %s (%v)", tk.PID, tk.Comm, frameList(prim), frameList(tr), tr.Err)
			}
			if !x86 {
				continue
			}
			ft, err := k.BacktraceFPOnly(tk)
			if err != nil {
				t.Errorf("pid %d: frame pointers: %v", tk.PID, err)
				continue
			}
			fp.add(prim, ft)
			lo, hi, err := k.TaskStack(tk)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(ft.Frames); i++ {
				f, prev := ft.Frames[i], ft.Frames[i-1]
				if f.SP < lo || f.SP >= hi || f.SP <= prev.SP || !k.IsText(f.PC) {
					t.Errorf("pid %d: frame-pointer frame %d %x@%x fails the checks (stack %x-%x, previous at %x)", tk.PID, i, f.PC, f.SP, lo, hi, prev.SP)
				}
			}
		}
		if cfi.tasks == 0 {
			t.Fatal("no switched-out task")
		}
		t.Logf("%s: CFI alone equals bt on %s", r.Name, &cfi)
		if cfi.taskPct() < 95 || cfi.framePct() < 95 {
			t.Errorf("CFI alone agrees on %s, want 95%%", &cfi)
		}
		if x86 {
			t.Logf("%s: frame pointers alone equal bt on %s", r.Name, &fp)
		}
	})
}
