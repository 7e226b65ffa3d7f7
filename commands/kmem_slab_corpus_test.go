package commands_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// kmemSlabJSON is what the tests read of kmem -s/-S's JSON.
type kmemSlabJSON struct {
	Caches []struct {
		Cache       string `json:"cache"`
		Name        string `json:"name"`
		ObjSize     uint64 `json:"objsize"`
		Allocated   uint64 `json:"allocated"`
		Total       uint64 `json:"total"`
		Slabs       uint64 `json:"slabs"`
		PartialFree uint64 `json:"partial_free"`
		CPUs        []struct {
			Slab *struct {
				Slab    string `json:"slab"`
				Objects []struct {
					Addr string `json:"addr"`
					Free bool   `json:"free"`
				} `json:"objects"`
			} `json:"slab"`
		} `json:"cpus"`
	} `json:"caches"`
}

// TestCorpusKmemSlabAgainstCrash runs kmem -s, kmem -S for a few caches
// and kmem ADDR for a slab object (allocated and free), a struct slab, a
// page, a vmalloc address, a task's stack, kernel text and a kernel data
// symbol in crash 8.0.2 and gocrash on the kdump runs, and wants crash's
// text, every line. crash 8.0.2 reads 6.1's struct slab, so the 6.1 runs
// are compared too (their addresses are of the task that panicked, which
// crash finds on 6.1).
func TestCorpusKmemSlabAgainstCrash(t *testing.T) {
	compared := 0
	for _, r := range crashRuns(t) {
		f := r.Files[0]
		t.Run(r.Name, func(t *testing.T) {
			s := openSession(t, r, f)
			k := s.Kernel
			cmds := []string{"kmem -s", "kmem -S kmalloc-64", "kmem -S task_struct", "kmem -S pid", "kmem -s pid", "kmem -s -I kmalloc-64,dentry"}
			panicTask, err := k.PanicTask()
			if err != nil {
				t.Fatal(err)
			}
			var ts kmemSlabJSON
			jsonData(t, s, "kmem -S task_struct", &ts)
			if len(ts.Caches) != 1 {
				t.Fatalf("kmem -S task_struct: %d caches", len(ts.Caches))
			}
			var slab, free string
			for _, c := range ts.Caches[0].CPUs {
				if c.Slab == nil {
					continue
				}
				slab = c.Slab.Slab
				for _, o := range c.Slab.Objects {
					if o.Free && free == "" {
						free = o.Addr
					}
				}
			}
			if slab == "" {
				t.Fatal("no CPU holds a task_struct slab")
			}
			addrs := []string{fmt.Sprintf("%x", panicTask), fmt.Sprintf("%x", panicTask+0x10), slab}
			if free != "" {
				addrs = append(addrs, free)
			}
			page1, err := k.PageAddr(1)
			if err != nil {
				t.Fatal(err)
			}
			addrs = append(addrs, fmt.Sprintf("%x", page1))
			task, err := k.FindTask(panicTask)
			if err != nil {
				t.Fatal(err)
			}
			lo, _, err := k.TaskStack(task)
			if err != nil {
				t.Fatal(err)
			}
			addrs = append(addrs, fmt.Sprintf("%x", lo+0x100))
			areas, err := k.VmapAreas()
			if err != nil || len(areas) == 0 {
				t.Fatalf("vmap areas: %v (%d)", err, len(areas))
			}
			addrs = append(addrs, fmt.Sprintf("%x", areas[0].Start+0x100))
			for _, sym := range []string{"schedule", "init_task"} {
				a, err := k.SymbolAddr(sym)
				if err != nil {
					t.Fatal(err)
				}
				addrs = append(addrs, fmt.Sprintf("%x", a))
			}
			for _, a := range addrs {
				cmds = append(cmds, "kmem "+a)
			}
			cmds = append(cmds, fmt.Sprintf("kmem -s %x", panicTask+0x10), "kmem -S "+slab)
			want := crashAnswers(t, r, f, cmds)
			for i, c := range cmds {
				got := run(t, s, c)
				w := want[i]
				for strings.HasPrefix(w, "WARNING") || strings.HasPrefix(w, "\n") {
					_, w, _ = strings.Cut(w, "\n")
				}
				if got != w {
					t.Errorf("%s: differs from crash 8.0.2\n%s", c, lineDiff(w, got))
					continue
				}
				compared++
			}
		})
	}
	if compared == 0 {
		t.Fatal("no kmem output was compared with crash")
	}
}

// lineDiff shows the first lines where two outputs differ.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 6; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d:\n  crash:   %q\n  gocrash: %q\n", i+1, w, g)
			shown++
		}
	}
	return b.String()
}

// slabinfoRow is a line of /proc/slabinfo.
type slabinfoRow struct{ active, total, objsize uint64 }

func parseSlabinfo(t *testing.T, lines []string) map[string]slabinfoRow {
	out := map[string]slabinfoRow{}
	for _, ln := range lines {
		f := strings.Fields(ln)
		if len(f) < 4 || strings.HasPrefix(ln, "#") || strings.HasPrefix(ln, "slabinfo") {
			continue
		}
		a, err1 := strconv.ParseUint(f[1], 10, 64)
		n, err2 := strconv.ParseUint(f[2], 10, 64)
		o, err3 := strconv.ParseUint(f[3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("slabinfo line %q", ln)
		}
		out[f[0]] = slabinfoRow{a, n, o}
	}
	return out
}

// TestCorpusKmemSlabTruth compares kmem -s with the guest's /proc/slabinfo,
// printed just before the crash, on every run. slabinfo's num_objs is the
// nodes' total_objects, kmem -s's TOTAL; its active_objs counts the
// objects of CPU slabs and per-CPU partial slabs as in use, so it is
// compared with TOTAL less the node partial lists' free objects
// (partial_free in the JSON). crash's ALLOCATED is lower: it also counts
// the CPU slabs' free objects as free, which slabinfo cannot see; both are
// right for what they count. Tolerance: the guest runs cat, the crash
// trigger and the kexec path after slabinfo is printed, which allocate;
// each cache may differ by 2% of its total or 128 objects (the /proc
// inodes and files the guest's later cat commands make), whichever is
// more, and at most a tenth of the caches may differ at all.
func TestCorpusKmemSlabTruth(t *testing.T) {
	corpus.ForEachRun(t, kmemSlabTruth)
}

// kmemSlabTruth is TestCorpusKmemSlabTruth's check of one run.
func kmemSlabTruth(t *testing.T, r *corpus.Run) {
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	lines, ok := truth.Section("slabinfo")
	if !ok {
		t.Fatal("the run's truth has no slabinfo section (rebuild the corpus)")
	}
	want := parseSlabinfo(t, lines)
	s := openSession(t, r, r.Files[0])
	var got kmemSlabJSON
	jsonData(t, s, "kmem -s", &got)
	if len(got.Caches) != len(want) {
		t.Errorf("kmem -s lists %d caches, slabinfo %d", len(got.Caches), len(want))
	}
	checked, differ := 0, 0
	for _, c := range got.Caches {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("cache %s is not in slabinfo", c.Name)
			continue
		}
		if c.Allocated > c.Total {
			t.Errorf("%s: allocated %d > total %d", c.Name, c.Allocated, c.Total)
		}
		// The guest printed slabinfo before its other sections, whose
		// cats of /proc files went on allocating (dentries, proc's
		// pde_openers), and a cache grows a slab at a time: a 64K slab
		// of ppc64le holds 1638 pde_openers. One slab's objects more
		// are within the tolerance.
		tol := max(128, w.total/50)
		if c.Slabs > 0 {
			tol = max(tol, c.Total/c.Slabs)
		}
		dt, da := diff(c.Total, w.total), diff(c.Total-c.PartialFree, w.active)
		if dt > tol || da > tol {
			t.Errorf("%s: total %d active %d, slabinfo %d %d (tolerance %d)", c.Name, c.Total, c.Total-c.PartialFree, w.total, w.active, tol)
		}
		if dt != 0 || da != 0 {
			differ++
		}
		checked++
	}
	if differ*10 > checked {
		t.Errorf("%d of %d caches differ from slabinfo", differ, checked)
	}
	t.Logf("%d caches checked against slabinfo, %d differ within tolerance", checked, differ)
}

func diff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}
