package commands_test

import (
	"fmt"
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

// TestCorpusTreeMaple: on every run whose kernel keeps VMAs in a maple
// tree (6.1 and later, both architectures), tree -t maple of PID 1's
// mm_struct.mm_mt lists its vm_area_structs in address order, each VMA of
// the kernel's walk once, with -s vm_start,vm_end their ranges, and -p
// numbers them from 1. crash 8.0.2 has no maple tree support.
func TestCorpusTreeMaple(t *testing.T) {
	checked := 0
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		if _, err := s.Kernel.Offset("mm_struct", "mm_mt"); err != nil {
			if _, err := s.Kernel.Offset("mm_struct", "mm_rb"); err != nil {
				t.Fatalf("neither mm_mt nor mm_rb: %v", err)
			}
			return // a red-black VMA tree: compared with crash above
		}
		mm, vmas := initTask(t, s)
		out := run(t, s, fmt.Sprintf("tree -t maple -r mm_struct.mm_mt %x -p -S vm_area_struct.vm_start,vm_end -x", mm))
		var want []string
		for _, v := range vmas {
			want = append(want, fmt.Sprintf("%x", v.Addr), "", fmt.Sprintf("  vm_start = 0x%x", v.Start), fmt.Sprintf("  vm_end = 0x%x", v.End))
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%d lines for %d VMAs:\n%s", len(lines), len(vmas), out)
		}
		for i := range vmas {
			pos := lines[4*i+1]
			if !strings.HasPrefix(pos, fmt.Sprintf("  index: %d  position: root/", i+1)) {
				t.Errorf("VMA %d position %q", i, pos)
			}
			for j := 0; j < 4; j++ {
				if j != 1 && lines[4*i+j] != want[4*i+j] {
					t.Errorf("VMA %d line %d: %q, want %q", i, j, lines[4*i+j], want[4*i+j])
				}
			}
		}
		checked++
		t.Logf("%s: %d VMAs of pid 1 in mm_mt", r.Name, len(vmas))
	})
	if checked == 0 {
		t.Fatal("no run with a maple tree")
	}
}
