package kernel_test

import (
	"bytes"
	"debug/elf"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

func openKernel(t *testing.T, r *corpus.Run, f corpus.File) *kernel.Kernel {
	t.Helper()
	d, err := memory.OpenFiles(f.Paths()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	v, err := symbols.Open(r.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	k, err := kernel.New(d, v)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCorpusIdentity checks the kernel's identity against what the guest
// said about itself: utsname, CPU count, the panic line, the task count.
func TestCorpusIdentity(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		k := openKernel(t, r, f)
		uts, err := k.UTS()
		if err != nil {
			t.Fatal(err)
		}
		want := truth.Uname
		if uts.Release != want.Release || uts.Nodename != want.Nodename || uts.Machine != want.Machine || !strings.HasPrefix(want.Version, uts.Version) {
			t.Errorf("utsname %+v, guest said %+v", uts, want)
		}
		// A kdump capture keeps the other CPUs online; a plain panic (QEMU
		// dumps) takes them offline in smp_send_stop.
		// s390x's smp_send_stop stops the others by SIGP without taking
		// them out of cpu_online_mask.
		wantOff := 0
		if r.Method == "qemu" && r.Arch != "s390x" {
			wantOff = truth.NProc - 1
		}
		if n, off, err := k.CPUs(); err != nil || n != truth.NProc || off != wantOff {
			t.Errorf("CPUs %d offline %d (%v), guest had %d, want %d offline", n, off, err, truth.NProc, wantOff)
		}
		recs, err := k.Log()
		if err != nil {
			t.Fatal(err)
		}
		if got := kernel.PanicMessage(recs); got != truth.Panic {
			t.Errorf("panic message %q, console said %q", got, truth.Panic)
		}
		tasks, err := k.TaskAddrs()
		if err != nil {
			t.Fatal(err)
		}
		// sys's count, from the PID idr, is the walk's.
		if n, err := k.CountTasks(); err != nil || n != len(tasks) {
			t.Errorf("CountTasks %d (%v), the task walk found %d", n, err, len(tasks))
		}
		// The guest's ps lists every process (not threads, not the idle
		// tasks); ps itself and its shell may have gone since.
		if min := len(truth.PS) + truth.NProc - 3; len(tasks) < min {
			t.Errorf("%d tasks, want at least %d (guest ps listed %d)", len(tasks), min, len(truth.PS))
		}
		if _, err := k.Uptime(); err != nil {
			t.Errorf("uptime: %v", err)
		}
		if m, err := k.MemorySize(); err != nil || m == 0 || m > uint64(r.MemoryMiB)<<20 {
			t.Errorf("memory %d (%v), guest had %d MiB", m, err, r.MemoryMiB)
		}
	})
}

// TestCorpusLogHoldsConsole checks that the dump's printk log holds every
// line the crashed kernel printed on its console, with the same timestamp.
func TestCorpusLogHoldsConsole(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		k := openKernel(t, r, f)
		recs, err := k.Log()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, rec := range recs {
			// The console prints every line of a multi-line record with the
			// record's stamp.
			stamp := fmt.Sprintf("[%5d.%06d] ", rec.TsNsec/1e9, rec.TsNsec%1e9/1e3)
			for _, line := range strings.Split(rec.Text, "\n") {
				have[strings.TrimSpace(stamp+line)] = true
			}
		}
		missing := 0
		for _, c := range truth.Console {
			line := strings.TrimSpace("[" + pad(c.Stamp) + "] " + c.Text)
			if !have[line] {
				if missing < 5 {
					t.Errorf("console line not in the log: %q", line)
				}
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%d of %d console lines missing from the log (%d records)", missing, len(truth.Console), len(recs))
		}
	})
}

// pad right-aligns the seconds of a console stamp as printk does ("%5lu").
func pad(stamp string) string {
	sec, frac, _ := strings.Cut(strings.TrimSpace(stamp), ".")
	for len(sec) < 5 {
		sec = " " + sec
	}
	return sec + "." + frac
}

// psLetter maps crash's state names to the letter ps prints first.
var psLetter = map[string]string{"RU": "R", "IN": "S", "UN": "D", "ST": "T", "TR": "t", "ZO": "Z", "DE": "X", "ID": "I", "PA": "P"}

// TestCorpusTasks checks the task list against the guest's own ps: every
// process it listed (but ps itself) is there with the same parent and
// command, and user tasks in the same state.
func TestCorpusTasks(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		k := openKernel(t, r, f)
		tasks, err := k.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		byPID := map[int32]kernel.Task{}
		for _, tk := range tasks {
			if tk.PID == tk.TGID && tk.PID != 0 {
				byPID[tk.PID] = tk
			}
		}
		idle := 0
		for _, tk := range tasks {
			if tk.PID == 0 {
				idle++
			}
		}
		if idle != truth.NProc {
			t.Errorf("%d idle tasks, want one per CPU (%d)", idle, truth.NProc)
		}
		checked := 0
		for _, p := range truth.PS {
			if p.Comm == "ps" {
				continue // gone by the time of the crash
			}
			tk, ok := byPID[int32(p.PID)]
			if !ok {
				t.Errorf("guest ps lists pid %d %q; not in the dump", p.PID, p.Comm)
				continue
			}
			// busybox ps prints /proc's comm, which for a kworker adds its
			// workqueue ("kworker/0:0-rcu"); it starts with the task's comm.
			if int(tk.PPID) != p.PPID || !strings.HasPrefix(p.Comm, tk.Comm) {
				t.Errorf("pid %d: ppid %d comm %q; guest said ppid %d comm %q", p.PID, tk.PPID, tk.Comm, p.PPID, p.Comm)
			}
			if kthread := strings.Contains(p.Stat, "W"); kthread != tk.Kthread() {
				t.Errorf("pid %d %q: kernel thread %v, guest ps says %q", p.PID, p.Comm, tk.Kthread(), p.Stat)
			}
			// A task on a CPU at the crash (init writing sysrq-c) has moved
			// on since ps ran; the others sleep, stopped, in their states.
			if !tk.Kthread() && !tk.Active {
				if psLetter[string(tk.StateName())] != p.Stat[:1] {
					t.Errorf("pid %d %q: state %s, guest said %s", p.PID, p.Comm, tk.StateName(), p.Stat)
				}
				// busybox prints VSZ and RSS in KiB.
				ps := k.Arch.PageSize() / 1024
				if vsz, rss := fmt.Sprint(tk.TotalVM*ps), fmt.Sprint(tk.RSS*ps); vsz != p.VSZ || rss != p.RSS {
					t.Errorf("pid %d %q: VSZ %s RSS %s, guest said %s %s", p.PID, p.Comm, vsz, rss, p.VSZ, p.RSS)
				}
			}
			checked++
		}
		if checked < len(truth.PS)-2 {
			t.Errorf("checked %d of %d ps entries", checked, len(truth.PS))
		}
	})
}

// TestCorpusUserMemory reads the first code page of a sleeping busybox
// task through its own page tables and compares it with the busybox binary
// the guest ran (the static busybox of the corpus build). Filtered dumps
// (-d 31) leave user pages out: they must say so.
func TestCorpusUserMemory(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		bbPath := "/bin/busybox"
		if r.Arch != "x86_64" { // the foreign guests' busybox-static, kept by the build
			bbPath = filepath.Join(corpus.Root(), "kernels", "busybox-"+r.Arch)
		}
		bb, err := elf.Open(bbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer bb.Close()
		k := openKernel(t, r, f)
		tasks, err := k.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		off, err := k.Offset("mm_struct", "start_code")
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, tk := range tasks {
			if tk.Comm != "sleep" || tk.MM == 0 || tk.Active {
				continue
			}
			start, err := k.ReadU64(tk.MM + uint64(off))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 256)
			err = k.ReadUser(tk.Addr, got, start)
			if strings.Contains(f.How, "-d 31") {
				// makedumpfile -E writes excluded pages inside a kept
				// segment as zeros; an ELF core cannot say "excluded".
				if f.Format == "elf" && err == nil && bytes.Equal(got, make([]byte, len(got))) {
					checked++
					continue
				}
				if !memory.IsExcluded(err) {
					t.Errorf("pid %d: user page of a -d 31 dump: %v, want excluded", tk.PID, err)
				}
				checked++
				continue
			}
			if err != nil {
				t.Fatalf("pid %d start_code %#x: %v", tk.PID, start, err)
			}
			want := make([]byte, 256)
			for _, p := range bb.Progs {
				if p.Type == elf.PT_LOAD && start >= p.Vaddr && start+256 <= p.Vaddr+p.Filesz {
					p.ReadAt(want, int64(start-p.Vaddr))
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("pid %d: code at %#x differs from %s", tk.PID, start, bbPath)
			}
			checked++
		}
		if checked == 0 {
			t.Error("no sleeping busybox task to read")
		}
	})
}
