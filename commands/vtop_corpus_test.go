package commands_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/kernel"
)

// TestCorpusVtopAgainstCrash: vtop of kernel addresses (text, a
// task_struct in the direct map, a variable), of user addresses of the
// panic task and of a sleeping task (mapped pages, a page of the busybox
// text not read in yet, an address in no VMA) prints crash 8.0.2's whole
// text on the x86_64 kdump runs: the translation, the VMA of a user
// address, the FILE line of a page not mapped yet, and the kmem -p line of
// the page; and kmem -p of a physical address, a struct page and a kernel
// virtual address. crash 8.0.2 cannot read 6.1's VMAs nor find its tasks by PID
// (every vtop -u fails there): those commands are not compared. On 6.1 crash prints no page
// line for a kernel address: there the translation is compared and
// gocrash's page line is checked against the kernel's own answers.
func TestCorpusVtopAgainstCrash(t *testing.T) {
	total, whole := 0, 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			k := s.Kernel
			panicTask, err := k.PanicTask()
			if err != nil {
				t.Fatal(err)
			}
			banner, err1 := k.SymbolAddr("linux_banner")
			jiffies, err2 := k.SymbolAddr("jiffies")
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			sleeper := findTask(t, k, "sleep")
			// crash 8.0.2's vtop takes addresses only, no symbols.
			cmds := []string{fmt.Sprintf("vtop %x", banner), fmt.Sprintf("vtop %x", panicTask), "vtop -u 400000",
				fmt.Sprintf("vtop %x", jiffies), fmt.Sprintf("vtop -c %d -u 401000", sleeper.PID), "vtop -u 0"}
			// kmem -p of a physical address, a struct page and a kernel
			// virtual address.
			bannerPhys, err := k.VirtToPhys(banner)
			if err != nil {
				t.Fatal(err)
			}
			taskPhys, err := k.VirtToPhys(panicTask)
			if err != nil {
				t.Fatal(err)
			}
			taskPage, err := k.PageOf(taskPhys)
			if err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, fmt.Sprintf("kmem -p %x", bannerPhys), fmt.Sprintf("kmem -p %x", taskPage.Addr), fmt.Sprintf("kmem -p %x", panicTask))
			if a, ok := unmappedFilePage(t, k, sleeper.Addr); ok {
				cmds = append(cmds, fmt.Sprintf("vtop -c %d -u %x", sleeper.PID, a))
			}
			parts := crashAnswers(t, r, f, cmds)
			for i, c := range cmds {
				if strings.Contains(parts[i], "invalid structure member") || crashErrorRE.MatchString(parts[i]) {
					t.Logf("%s: crash failed, not compared", c)
					continue
				}
				want := crashText(parts[i])
				got := strings.Trim(run(t, s, c), "\n")
				total++
				if strings.Contains(want, "      PAGE ") || strings.Contains(c, "-u") {
					whole++
					if got != want {
						t.Errorf("%s:\n%s\n--- crash:\n%s", c, got, want)
					}
					continue
				}
				// crash printed no page line: compare up to gocrash's.
				tr, page, ok := strings.Cut(got, "\n\n      PAGE ")
				if !ok {
					t.Errorf("%s: no page line:\n%s", c, got)
				}
				if tr != want {
					t.Errorf("%s:\n%s\n--- crash:\n%s", c, tr, want)
				}
				checkPageLine(t, s, c, "      PAGE "+page)
			}
		})
	}
	if total < 22 || whole < 22 {
		t.Errorf("only %d commands compared with crash, %d of them whole", total, whole)
	}
}

// crashText is crash's output without its warnings and the blank lines
// around.
func crashText(text string) string {
	var keep []string
	for _, ln := range strings.Split(text, "\n") {
		if !strings.HasPrefix(ln, "WARNING") {
			keep = append(keep, ln)
		}
	}
	return strings.Trim(strings.Join(keep, "\n"), "\n")
}

// findTask returns the first user task named comm.
func findTask(t *testing.T, k *kernel.Kernel, comm string) kernel.Task {
	t.Helper()
	tasks, err := k.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.Comm == comm && tk.MM != 0 {
			return tk
		}
	}
	t.Fatalf("no %s task", comm)
	return kernel.Task{}
}

// unmappedFilePage finds a page of a /bin/busybox VMA of task that no page
// table entry maps yet.
func unmappedFilePage(t *testing.T, k *kernel.Kernel, task uint64) (uint64, bool) {
	mm, err := k.TaskMM(task)
	if err != nil {
		t.Fatal(err)
	}
	vmas, err := k.VMAs(mm)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vmas {
		if v.Path != "/bin/busybox" {
			continue
		}
		for a := v.Start; a < v.End; a += k.Arch.PageSize() {
			tr, err := k.UserWalk(task, a)
			var te *arch.TranslationError
			if errors.As(err, &te) && len(tr.Levels) > 0 && tr.Levels[len(tr.Levels)-1].Entry == 0 {
				return a, true
			}
		}
	}
	return 0, false
}

// crashErrorRE finds crash's error line for a command.
var crashErrorRE = regexp.MustCompile(`(^|\n)(vtop|kmem): `)

var pageLineRE = regexp.MustCompile(`^([0-9a-f]{16}) +([0-9a-f]+) +([0-9a-f]+) +([0-9a-f]+) +(-?\d+) ([0-9a-f]+)( [a-z0-9_,]+)?$`)

// checkPageLine checks a kmem -p table printed by command c: the struct
// page is the one of the physical address in the line, and the values are
// those of kernel.PageOf.
func checkPageLine(t *testing.T, s *commands.Session, c, table string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if len(lines) != 2 || lines[0] != "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS" {
		t.Errorf("%s: page table %q", c, table)
		return
	}
	m := pageLineRE.FindStringSubmatch(lines[1])
	if m == nil {
		t.Errorf("%s: page line %q", c, lines[1])
		return
	}
	var phys uint64
	fmt.Sscanf(m[2], "%x", &phys)
	p, err := s.Kernel.PageOf(phys)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%016x", p.Addr); m[1] != want {
		t.Errorf("%s: page %s, want %s", c, m[1], want)
	}
	if p.Count <= 0 {
		t.Errorf("%s: %s", c, lines[1])
	}
}
