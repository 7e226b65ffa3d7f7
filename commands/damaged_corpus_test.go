package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// TestCorpusOldFilterDump: on a 6.12 dump filtered by makedumpfile 1.7.2
// (live slab pages left out, task_structs among them) an unreadable task
// costs that task: ps shows every task whose task_struct the dump holds,
// names each one it does not (its address and the excluded page) and
// fails; foreach bt likewise; log reads the whole log; kmem -s lists every
// cache and names those whose name it cannot read.
func TestCorpusOldFilterDump(t *testing.T) {
	r, f := corpus.OldFilterDump(t)
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	// The same run filtered right (makedumpfile 1.7.6): every task.
	good := filteredRight(t, r)
	gs, ds := openSession(t, r, good), openSession(t, r, f)
	all, err := gs.Kernel.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(line string) (commands.Result, string, error) {
		res, err := ds.Registry.Exec(context.Background(), ds, strings.Fields(line))
		var b strings.Builder
		if res != nil {
			if werr := res.Text(&b); werr != nil {
				t.Fatal(werr)
			}
		}
		return res, b.String(), err
	}

	res, _, err := exec("ps")
	if err == nil {
		t.Fatal("ps on the damaged dump succeeded: the tasks it could not read are not reported")
	}
	ps := res.(*commands.PSResult)
	shown := map[uint64]commands.PSRow{}
	for _, row := range ps.Tasks {
		shown[uint64(row.Task)] = row
	}
	inTruth := map[int]bool{}
	for _, p := range truth.PS {
		inTruth[p.PID] = true
	}
	byPID := map[int32]uint64{}
	known := map[uint64]bool{}
	for _, tk := range all {
		known[tk.Addr] = true
		if tk.PID == tk.TGID {
			byPID[tk.PID] = tk.Addr
		}
	}
	// Every task shown is one of the guest's (the guest's ps ran before
	// the crash: the task that crashed it, and the idle tasks, are only
	// in the dump).
	notInTruth := 0
	for addr, row := range shown {
		if !known[addr] {
			t.Errorf("ps shows task %x (PID %d), which the dump filtered right does not have", addr, row.PID)
		}
		if row.PID != 0 && !inTruth[int(row.PID)] {
			notInTruth++
		}
	}
	if notInTruth > 2 {
		t.Errorf("%d tasks shown are not in the guest's ps", notInTruth)
	}
	// Every task of the guest's whose task_struct is in the damaged dump
	// is shown; every other is named in the error with its page.
	lines := strings.Split(err.Error(), "\n")
	missing, present := 0, 0
	for _, p := range truth.PS {
		addr, ok := byPID[int32(p.PID)]
		if !ok {
			continue // exited before the crash (the guest's ps itself)
		}
		if _, rerr := ds.Kernel.ReadTask(addr); rerr != nil {
			missing++
			want := fmt.Sprintf("ps: cannot read task_struct %x: ", addr)
			found := false
			for _, l := range lines {
				if strings.HasPrefix(l, want) && strings.Contains(l, "page excluded: physical address: ") {
					found = true
					t.Logf("missing: PID %d %s: %s", p.PID, p.Comm, strings.TrimPrefix(l, want))
				}
			}
			if !found {
				t.Errorf("PID %d (task %x) cannot be read, and ps's error does not name it: %q", p.PID, addr, err)
			}
			continue
		}
		present++
		if _, ok := shown[addr]; !ok {
			t.Errorf("PID %d %q (task %x) is in the dump, and ps does not show it", p.PID, p.Comm, addr)
		}
	}
	if missing == 0 {
		t.Errorf("no task of the guest's is missing from %s: it is not the damaged dump the test needs", f.Name)
	}
	t.Logf("%s: %d tasks shown (%d in the dump filtered right), %d of the guest's tasks present, %d missing, %d error lines",
		f.Name, len(ps.Tasks), len(all), present, missing, len(lines))

	// foreach bt: a trace for every task shown.
	_, text, err := exec("foreach bt")
	if err == nil || !strings.Contains(err.Error(), "foreach: cannot read task_struct ") {
		t.Errorf("foreach bt: error %v, want the unreadable tasks named", err)
	}
	if n := strings.Count(text, "\nPID: ") + 1; n != len(ps.Tasks) {
		t.Errorf("foreach bt traced %d tasks, ps shows %d", n, len(ps.Tasks))
	}

	// log: the log buffer is not slab memory: all of it.
	_, text, err = exec("log")
	if err != nil {
		t.Errorf("log: %v", err)
	}
	var want strings.Builder
	if err := gs.Registry.Run(context.Background(), gs, []string{"log"}, &want); err != nil {
		t.Fatal(err)
	}
	if text != want.String() {
		t.Errorf("log on the damaged dump differs from the dump filtered right")
	}

	// kmem -s: every cache, the ones whose names are lost named.
	res, _, err = exec("kmem -s")
	ks := res.(*commands.KmemSlabResult)
	wantRes, werr := gs.Registry.Exec(context.Background(), gs, []string{"kmem", "-s"})
	if werr != nil {
		t.Fatal(werr)
	}
	if n, w := len(ks.Caches), len(wantRes.(*commands.KmemSlabResult).Caches); n != w {
		t.Errorf("kmem -s lists %d caches, %d in the dump filtered right", n, w)
	}
	unknown := 0
	for _, c := range ks.Caches {
		if c.Name == "(unknown)" {
			unknown++
		}
	}
	if unknown > 0 && (err == nil || strings.Count(err.Error(), "cannot read its name") != unknown) {
		t.Errorf("kmem -s: %d caches are (unknown), error %v", unknown, err)
	}
	t.Logf("kmem -s: %d caches, %d without a name", len(ks.Caches), unknown)
}

// filteredRight is the dump of r that makedumpfile 1.7.6 filtered
// (vmcore.zlib), beside the damaged one.
func filteredRight(t *testing.T, r *corpus.Run) corpus.File {
	t.Helper()
	for _, g := range r.Files {
		if g.Name == "vmcore.zlib" {
			return g
		}
	}
	t.Fatalf("%s has no vmcore.zlib", r.Name)
	return corpus.File{}
}

// TestCorpusBrokenPACMaskNoSymbols: with VMCOREINFO's KERNELPACMASK
// broken (0: return addresses keep their pointer-authentication bits),
// bt names no address outside the kernel's text and modules as a symbol:
// each frame is either a text address with its function or a bare
// address.
func TestCorpusBrokenPACMaskNoSymbols(t *testing.T) {
	for _, r := range corpus.Runs(t) {
		if r.Arch != "arm64" {
			continue
		}
		for _, f := range r.Files {
			if f.Format != "elf" {
				continue
			}
			t.Run(r.Name+"/"+f.Name, func(t *testing.T) {
				s := openSession(t, r, f)
				if _, ok := s.Kernel.Dump.VMCoreInfo.Keys["NUMBER(KERNELPACMASK)"]; !ok {
					t.Skip("no KERNELPACMASK in this dump")
				}
				good := run(t, s, "bt -a")
				s.Kernel.Dump.VMCoreInfo.Keys["NUMBER(KERNELPACMASK)"] = "0x0"
				broken := openSessionOver(t, r, s)
				res, err := broken.Registry.Exec(context.Background(), broken, []string{"foreach", "bt"})
				if res == nil {
					t.Fatalf("foreach bt: %v", err)
				}
				var b strings.Builder
				res.Text(&b)
				named, bare := 0, 0
				for _, l := range strings.Split(b.String(), "\n") {
					m := btFrameRE.FindString(l)
					if m == "" {
						continue
					}
					fl := strings.Fields(l)
					name, pc := fl[len(fl)-3], fl[len(fl)-1]
					if fl[len(fl)-1][0] == '[' {
						name, pc = fl[len(fl)-4], fl[len(fl)-2]
					}
					var addr uint64
					fmt.Sscanf(pc, "%x", &addr)
					if strings.TrimLeft(name, "0") == strings.TrimLeft(pc, "0") {
						bare++
						continue
					}
					named++
					if !s.Kernel.IsText(addr) {
						t.Errorf("frame %q names %x, outside kernel text and modules", l, addr)
					}
				}
				if bare == 0 {
					t.Errorf("no frame kept its PAC bits: the mask was not broken (bt -a before:\n%s)", good)
				}
				t.Logf("%d frames named (kernel text), %d bare addresses", named, bare)
			})
		}
	}
}

// openSessionOver opens a new kernel over s's dump and vmlinux (after a
// test changed what the dump says).
func openSessionOver(t *testing.T, r *corpus.Run, s *commands.Session) *commands.Session {
	t.Helper()
	k, err := kernel.New(s.Kernel.Dump, s.Kernel.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	return &commands.Session{Kernel: k, VmlinuxPath: r.Vmlinux, DumpPaths: s.DumpPaths, Registry: commands.NewRegistry()}
}
