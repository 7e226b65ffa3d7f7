package kernel_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
)

// TestCorpusVMAsAndPages checks the VMAs and struct pages of every corpus
// dump (crash 8.0.2 cannot read 6.1's VMAs, so this is the check there):
// each user task's VMAs are ordered and disjoint, as many as mm->map_count
// says; the static /bin/busybox the guest runs is mapped at 0x400000; the
// stack VMA holds the arguments and grows down; FindVMA (a maple tree
// descent from 6.1) finds each VMA by its first and last byte and nothing
// in the gaps. The struct page of a kernel text page is reserved and
// referenced, the one of the
// busybox page at 0x400000 is a file page at the right index; each page
// address maps back to its frame, and agrees with the architecture's
// vmemmap (vmemmap_base on x86_64, VMCOREINFO's VMEMMAP_START less
// PHYS_OFFSET's frames on arm64). Each flag name is the PG_ enumerator of
// its bit.
func TestCorpusVMAsAndPages(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		k := openKernel(t, r, f)
		ps := k.Arch.PageSize()
		pageSize, err := k.Size("page")
		if err != nil {
			t.Fatal(err)
		}
		countOff, err1 := k.Offset("mm_struct", "map_count")
		argOff, err2 := k.Offset("mm_struct", "arg_start")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		flags, err := k.PageFlags()
		if err != nil || len(flags) < 20 {
			t.Fatalf("%d page flags, %v", len(flags), err)
		}
		for _, fl := range flags {
			v, err := k.Vmlinux.Layouts().Enumerator("PG_" + fl.Name)
			if err != nil || fl.Mask != 1<<uint64(v) {
				t.Errorf("flag %s mask %x, PG_%s = %d (%v)", fl.Name, fl.Mask, fl.Name, v, err)
			}
		}

		// The memory map agrees with the architecture's vmemmap.
		vmemmap := k.VmemmapBase()
		if r.Arch == "arm64" {
			start, ok1 := k.Dump.VMCoreInfo.String("NUMBER(VMEMMAP_START)")
			phys, ok2 := k.Dump.VMCoreInfo.String("NUMBER(PHYS_OFFSET)")
			s, err1 := strconv.ParseUint(strings.TrimPrefix(start, "0x"), 16, 64)
			p, err2 := strconv.ParseUint(strings.TrimPrefix(phys, "0x"), 16, 64)
			if !ok1 || !ok2 || err1 != nil || err2 != nil {
				t.Fatalf("VMEMMAP_START %q PHYS_OFFSET %q", start, phys)
			}
			vmemmap = s - p/ps*uint64(pageSize)
		}
		if vmemmap == 0 {
			t.Fatal("no vmemmap to check the memory map against")
		}
		checkPage := func(what string, phys uint64, inUse bool) kernel.Page {
			t.Helper()
			p, err := k.PageOf(phys)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			back, err := k.PageAddr(p.PFN)
			if p.PFN != phys/ps || back != p.Addr || err != nil {
				t.Errorf("%s: page %x of pfn %x maps back to %x (%v)", what, p.Addr, p.PFN, back, err)
			}
			if want := vmemmap + p.PFN*uint64(pageSize); p.Addr != want {
				t.Errorf("%s: page %x, vmemmap gives %x", what, p.Addr, want)
			}
			if inUse && p.Count <= 0 {
				t.Errorf("%s: page %x has count %d", what, p.Addr, p.Count)
			}
			return p
		}
		banner, err := k.SymbolAddr("linux_banner")
		if err != nil {
			t.Fatal(err)
		}
		phys, err := k.VirtToPhys(banner)
		if err != nil {
			t.Fatal(err)
		}
		if p := checkPage("linux_banner", phys, true); !slices.Contains(p.FlagNames, "reserved") {
			t.Errorf("linux_banner's page %x flags %x %v: not reserved", p.Addr, p.Flags, p.FlagNames)
		}

		tasks, err := k.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		users, busybox := 0, 0
		// Where the static busybox's text is linked: 0x400000 on x86_64
		// and arm64, 0x10000000 on ppc64le, 0x1000000 on s390x.
		text := map[string]uint64{"ppc64le": 0x10000000, "s390x": 0x1000000}[r.Arch]
		if text == 0 {
			text = 0x400000
		}
		for _, tk := range tasks {
			// A task_struct's page: often a tail page of a slab, with
			// no count or flags of its own.
			if phys, err := k.VirtToPhys(tk.Addr); err != nil {
				t.Fatal(err)
			} else {
				checkPage("task_struct", phys, false)
			}
			mm, err := k.TaskMM(tk.Addr)
			if err != nil {
				t.Fatal(err)
			}
			if mm == 0 {
				continue
			}
			users++
			vmas, err := k.VMAs(mm)
			if err != nil {
				t.Fatalf("pid %d: %v", tk.PID, err)
			}
			count, err1 := k.ReadU32(mm + uint64(countOff))
			args, err2 := k.ReadU64(mm + uint64(argOff))
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if len(vmas) != int(count) || count == 0 {
				t.Errorf("pid %d: %d VMAs, map_count %d", tk.PID, len(vmas), count)
			}
			find := func(a uint64) (kernel.VMA, bool) {
				v, ok, err := k.FindVMA(tk.Addr, a)
				if err != nil {
					t.Fatalf("pid %d: FindVMA %x: %v", tk.PID, a, err)
				}
				return v, ok
			}
			for i, v := range vmas {
				if v.Start%ps != 0 || v.End%ps != 0 || i > 0 && v.Start < vmas[i-1].End {
					t.Errorf("pid %d: VMA %x %x-%x after %x-%x", tk.PID, v.Addr, v.Start, v.End, vmas[i-1].Start, vmas[i-1].End)
				}
				for _, a := range []uint64{v.Start, v.End - 1} {
					if got, ok := find(a); !ok || got != v {
						t.Errorf("pid %d: FindVMA %x: %+v %v, want %+v", tk.PID, a, got, ok, v)
					}
				}
				if i+1 < len(vmas) && vmas[i+1].Start > v.End {
					if got, ok := find(v.End); ok {
						t.Errorf("pid %d: FindVMA %x in a gap: %+v", tk.PID, v.End, got)
					}
				}
			}
			if v, ok := find(0); ok {
				t.Errorf("pid %d: FindVMA 0: %+v", tk.PID, v)
			}
			if v, ok := find(args); !ok || v.Path != "" || v.Flags&0x100 == 0 { // VM_GROWSDOWN
				t.Errorf("pid %d: arguments at %x in %+v (%v), want the stack", tk.PID, args, v, ok)
			}
			v, ok := find(text)
			if !ok || v.Path != "/bin/busybox" {
				t.Errorf("pid %d (%s): %#x in %+v (%v), want /bin/busybox", tk.PID, tk.Comm, text, v, ok)
				continue
			}
			busybox++
			tr, err := k.UserWalk(tk.Addr, text)
			if err != nil {
				continue // not faulted in, or the page table left out of a filtered dump
			}
			p := checkPage("busybox page", tr.Phys, true)
			if want := (text-v.Start)/ps + v.PgOff; p.Mapping == 0 || p.Mapping&1 != 0 || p.Index != want || !slices.Contains(p.FlagNames, "uptodate") {
				t.Errorf("pid %d: busybox page %x: mapping %x index %x (want %x) flags %v", tk.PID, p.Addr, p.Mapping, p.Index, want, p.FlagNames)
			}
		}
		if users < 5 || busybox != users {
			t.Errorf("%d user tasks, %d with busybox at %#x", users, busybox, text)
		}
	})
}
