package commands_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// initTask finds PID 1 and its mm and VMAs.
func initTask(t *testing.T, s *commands.Session) (uint64, []kernel.VMA) {
	t.Helper()
	tasks, err := s.Kernel.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.PID != 1 {
			continue
		}
		mm, err := s.Kernel.TaskMM(tk.Addr)
		if err != nil || mm == 0 {
			t.Fatalf("pid 1 mm %x: %v", mm, err)
		}
		vmas, err := s.Kernel.VMAs(mm)
		if err != nil || len(vmas) == 0 {
			t.Fatalf("pid 1 VMAs: %v", err)
		}
		return mm, vmas
	}
	t.Fatal("no pid 1")
	return 0, nil
}

// fileMapping is the address_space of the first file-backed VMA's file.
func fileMapping(t *testing.T, s *commands.Session, vmas []kernel.VMA) uint64 {
	t.Helper()
	for _, v := range vmas {
		if v.File != 0 {
			return readU64(t, s, v.File+offsetOf(t, s, "file", "f_mapping"))
		}
	}
	t.Fatal("no file-backed VMA")
	return 0
}

// TestCorpusTreeAgainstCrash: tree's text equals crash 8.0.2's on the 5.10
// and 6.1 kdump runs: the vmap_area red-black tree in crash's order, in
// linear order and with positions; the page-cache XArray of PID 1's
// program file, with -p positions and -s/-S members; on 5.10 the VMA tree
// of PID 1's mm_struct (mm_rb) by -r, and by -N from its first node.
func TestCorpusTreeAgainstCrash(t *testing.T) {
	for _, rel := range []string{"5.10", "6.1"} {
		t.Run(rel, func(t *testing.T) {
			r := kdumpRun(t, rel)
			f := r.Files[0]
			s := openSession(t, r, f)
			mm, vmas := initTask(t, s)
			mapping := fileMapping(t, s, vmas)
			cmds := []string{
				"tree -t rbtree -o vmap_area.rb_node vmap_area_root",
				"tree -o vmap_area.rb_node -p vmap_area_root",
				"tree -l -o vmap_area.rb_node vmap_area_root -S vmap_area.va_start,va_end",
				fmt.Sprintf("tree -t xarray -r address_space.i_pages %x -p", mapping),
				fmt.Sprintf("tree -t x -r address_space.i_pages %x -S page.flags,_refcount -x", mapping),
				fmt.Sprintf("tree -t xarray -N %x -S page.flags,index", readU64(t, s, mapping+offsetOf(t, s, "address_space", "i_pages")+offsetOf(t, s, "xarray", "xa_head"))),
			}
			if rel == "5.10" {
				// (crash takes minutes for -s of every page of 6.1's.)
				cmds = append(cmds, fmt.Sprintf("tree -t x -r address_space.i_pages %x -s page.flags,_refcount -x", mapping))
				root := readU64(t, s, mm+offsetOf(t, s, "mm_struct", "mm_rb"))
				cmds = append(cmds,
					fmt.Sprintf("tree -t rbtree -r mm_struct.mm_rb %x -o vm_area_struct.vm_rb -p", mm),
					fmt.Sprintf("tree -ls vm_area_struct.vm_start -o vm_area_struct.vm_rb -r mm_struct.mm_rb %x", mm),
					fmt.Sprintf("tree -N %x -o vm_area_struct.vm_rb -s vm_area_struct.vm_start,vm_end -d", root),
				)
			}
			n := compareWithCrash(t, r, f, s, nil, cmds)
			t.Logf("%s: %d tree commands equal crash 8.0.2's", r.Name, n)

			// The page cache XArray's JSON: the pages and indexes -p prints.
			line := cmds[3]
			var res struct {
				Type    string `json:"type"`
				Entries []struct {
					Address  string `json:"address"`
					Position string `json:"position"`
					Index    uint64 `json:"index"`
				} `json:"entries"`
			}
			jsonData(t, s, line, &res)
			var text []string
			for _, e := range res.Entries {
				text = append(text, e.Address[0:16], fmt.Sprintf("  index: %d  position: %s", e.Index, e.Position))
			}
			if got := run(t, s, line); res.Type != "xarray" || len(res.Entries) == 0 || got != strings.Join(text, "\n")+"\n" {
				t.Errorf("%s: JSON %+v, text:\n%s", line, res, got)
			}
		})
	}
}

// TestCorpusTreeVMAs: on every run, the VMA tree of each of the guest's
// test tasks walked by tree (the maple tree mm_struct.mm_mt on 6.1 and
// later, on both architectures; the red-black tree mm_rb in linear order
// on 5.10) gives the ranges of the guest's own /proc/PID/maps, in order
// (less [vsyscall], which no mm holds); for PID 1, the vm_area_structs of
// the kernel model's VMA walk, and with -p (maple) their ordinals from 1.
// crash 8.0.2 has no maple tree support.
func TestCorpusTreeVMAs(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		_, mtErr := s.Kernel.Offset("mm_struct", "mm_mt")
		walk := func(mm uint64, pos bool) string {
			if mtErr == nil {
				p := ""
				if pos {
					p = " -p"
				}
				return run(t, s, fmt.Sprintf("tree -t maple -r mm_struct.mm_mt %x%s -S vm_area_struct.vm_start,vm_end -x", mm, p))
			}
			return run(t, s, fmt.Sprintf("tree -l -r mm_struct.mm_rb %x -o vm_area_struct.vm_rb -S vm_area_struct.vm_start,vm_end -x", mm))
		}
		tasks, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for name, lines := range truth.Sections {
			pidStr, ok := strings.CutPrefix(name, "maps-")
			if !ok {
				continue
			}
			var mm uint64
			for _, tk := range tasks {
				if fmt.Sprint(tk.PID) == pidStr {
					mm, _ = s.Kernel.TaskMM(tk.Addr)
				}
			}
			if mm == 0 {
				t.Errorf("maps-%s: no such task with an mm", pidStr)
				continue
			}
			var want []string
			for _, ln := range lines {
				if f := strings.Fields(ln); len(f) > 0 && !strings.HasSuffix(ln, "[vsyscall]") {
					lo, hi, _ := strings.Cut(f[0], "-")
					want = append(want, fmt.Sprintf("  vm_start = 0x%s", strings.TrimLeft(lo, "0")), fmt.Sprintf("  vm_end = 0x%s", strings.TrimLeft(hi, "0")))
				}
			}
			var got []string
			for _, ln := range strings.Split(walk(mm, false), "\n") {
				if strings.HasPrefix(ln, "  vm_") {
					got = append(got, ln)
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) == 0 {
				t.Errorf("pid %s: tree gives\n%s\nthe guest's maps\n%s", pidStr, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			checked++
		}
		if checked < 4 {
			t.Errorf("%d test tasks' maps checked", checked)
		}

		// PID 1 against the kernel model's VMA walk.
		mm, vmas := initTask(t, s)
		out := walk(mm, true)
		var want []string
		for i, v := range vmas {
			want = append(want, fmt.Sprintf("%x", v.Addr))
			if mtErr == nil {
				want = append(want, fmt.Sprintf("  index: %d  position: root/", i+1))
			}
			want = append(want, fmt.Sprintf("  vm_start = 0x%x", v.Start), fmt.Sprintf("  vm_end = 0x%x", v.End))
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines for %d VMAs:\n%s", len(lines), len(vmas), out)
		}
		for i := range lines {
			if !strings.HasPrefix(lines[i], want[i]) || !strings.HasPrefix(want[i], "  index") && lines[i] != want[i] {
				t.Errorf("line %d: %q, want %q", i, lines[i], want[i])
			}
		}
		t.Logf("%s: %d test tasks' VMA trees equal their maps; pid 1's %d VMAs equal the kernel's walk", r.Name, checked, len(vmas))
	})
}

// TestCorpusTreeModuleNodes: on every x86_64 crash-kind run (6.1, 6.12), the test module's
// gocrash_tree (5 gocrash_tnodes keyed 10..50, magic
// 0x6763726173680100+key) walked with -l is in key order with each node's
// magic; crash's order (root, left, right) has every node once, each
// after its parent by position; on the oops run the text equals crash
// 8.0.2's.
func TestCorpusTreeModuleNodes(t *testing.T) {
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		if r.Arch != "x86_64" {
			// arm64's kallsyms holds no module data symbols and mod -s
			// does not yet add the object's: gocrash_tree has no address there.
			return
		}
		f := r.Files[0]
		s := openSession(t, r, f)
		load := "mod -s gocrash_test " + filepath.Join(r.Dir, "gocrash_test.ko")
		run(t, s, load)
		lin := "tree -l -o gocrash_tnode.node gocrash_tree -s gocrash_tnode.key,magic"
		out := run(t, s, lin)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 15 {
			t.Fatalf("%s:\n%s", lin, out)
		}
		for i := range 5 {
			key := uint64(10 * (i + 1))
			if len(lines[3*i]) != 16 || lines[3*i+1] != fmt.Sprintf("  key = %d,", key) || lines[3*i+2] != fmt.Sprintf("  magic = %d", uint64(0x6763726173680100)+key) {
				t.Errorf("node %d:\n%s", i, strings.Join(lines[3*i:3*i+3], "\n"))
			}
		}
		pre := "tree -o gocrash_tnode.node -p gocrash_tree -S gocrash_tnode.key"
		out = run(t, s, pre)
		lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		seen := map[string]bool{}
		keys := map[string]bool{}
		for i := 0; i+2 < len(lines)+1 && i < len(lines); i += 3 {
			pos := strings.TrimPrefix(lines[i+1], "  position: ")
			if parent := pos[:max(strings.LastIndex(pos, "/"), 0)]; pos != "root" && !seen[parent] {
				t.Errorf("%s: %s before its parent", pre, pos)
			}
			seen[pos] = true
			keys[lines[i+2]] = true
		}
		if len(lines) != 15 || len(keys) != 5 || !seen["root"] {
			t.Errorf("%s:\n%s", pre, out)
		}
		if r.Crash == "oops" && strings.HasPrefix(r.Release, "6.1.") {
			n := compareWithCrash(t, r, f, s, []string{load}, []string{lin, pre, "tree -t rbtree -o gocrash_tnode.node -l -p -S gocrash_tnode.key,magic -x gocrash_tree"})
			t.Logf("%s: %d gocrash_tree commands equal crash 8.0.2's", r.Name, n)
		}
	})
}
