package commands_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// kmemTableCmds are the kmem options that read no tasks, so crash 8.0.2
// answers them on 6.1 too.
var kmemTableCmds = []string{"kmem -i", "kmem -v", "kmem -V", "kmem -f", "kmem -F", "kmem -z", "kmem -n", "kmem -o", "kmem -h", "kmem -g"}

// kmemRuns are the x86_64 kdump runs crash 8.0.2 opens: the sysrq runs
// and the test module's crash runs, but for 6.12's, which crash 8.0.2
// refuses ("... do not match!"; TestCorpusKmemTruth checks those).
func kmemRuns(t *testing.T) []*corpus.Run {
	var runs []*corpus.Run
	for _, r := range append(corpus.Runs(t), corpus.CrashRuns(t)...) {
		if r.Method == "kdump" && r.Arch == "x86_64" && !strings.HasPrefix(r.Release, "6.12.") {
			runs = append(runs, r)
		}
	}
	return runs
}

var (
	kmemInfoRowRE = regexp.MustCompile(`^ *([A-Z ]+?)  +(\d+)  +(\S+( [KMG]B)?)  +(----|\d+% of TOTAL \w+)$`)
)

// kmemInfoRow finds the row called label of kmem -i's text.
func kmemInfoRow(text, label string) (pages uint64, line string, ok bool) {
	for _, ln := range strings.Split(text, "\n") {
		if m := kmemInfoRowRE.FindStringSubmatch(ln); m != nil && m[1] == label {
			n, _ := strconv.ParseUint(m[2], 10, 64)
			return n, ln, true
		}
	}
	return 0, "", false
}

// TestCorpusKmemAgainstCrash compares kmem -i, -v, -V, -f, -F, -z, -n, -o,
// -h, -g, -g FLAGS, -p and -m (of addresses, and of the whole memory map on
// the sysrq runs) with crash 8.0.2's text on the x86_64
// kdump runs (5.10 and every 6.1 run; none of these walk tasks, so crash
// answers them on 6.1 too), line by line.
//
// Two rows of kmem -i differ from crash by design, and there each is checked
// against what crash computed instead:
//   - SLAB: crash 8.0.2 looks for vm_stat items NR_SLAB_RECLAIMABLE and
//     NR_SLAB_UNRECLAIMABLE, which 5.9 renamed with a _B suffix; not finding
//     them it counts the PG_slab pages of the memory map, which are only
//     the head pages of slabs (a fraction of what /proc/meminfo's Slab
//     says). gocrash reads the renamed counters; crash's row must equal the
//     PG_slab count gocrash's kernel.MemInfo also makes.
//   - COMMITTED: crash reads vm_committed_as.count alone, without the
//     per-CPU deltas that /proc/meminfo's Committed_AS sums (on 6.1 that
//     count is negative, which crash prints as 0). gocrash sums them; crash's
//     row must be max(count, 0).
//
// The text of every option on the filtered files (one of each format:
// kdump-compressed, flattened, split, ELF -d 31) must be the text on the unfiltered vmcore:
// makedumpfile keeps the memory map and the kernel's data. On the test
// module's crash runs (oops, bug, ...: the sysrq run's 6.1 kernel) -i, -v,
// -f, -z, -o and -g FLAGS are compared.
func TestCorpusKmemAgainstCrash(t *testing.T) {
	compared := 0
	for _, r := range kmemRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			k := s.Kernel
			banner, err := k.SymbolAddr("linux_banner")
			if err != nil {
				t.Fatal(err)
			}
			phys, err := k.VirtToPhys(banner)
			if err != nil {
				t.Fatal(err)
			}
			page, err := k.PageOf(phys)
			if err != nil {
				t.Fatal(err)
			}
			areas, err := k.VmapAreas()
			if err != nil || len(areas) == 0 {
				t.Fatalf("%d vmalloc areas: %v", len(areas), err)
			}
			var cmds []string
			if r.Crash == "sysrq" {
				cmds = append(cmds, kmemTableCmds...)
				cmds = append(cmds, fmt.Sprintf("kmem -g %x", page.Flags), "kmem -g 0",
					fmt.Sprintf("kmem -p %x", phys), fmt.Sprintf("kmem -m flags,_refcount,_mapcount,mapping,index,private -p %x", phys),
					fmt.Sprintf("kmem -m lru,flags %x", page.Addr), fmt.Sprintf("kmem -v %x", areas[len(areas)/2].Start+1),
					// the whole memory map, one line a struct page
					"kmem -m flags,_refcount,mapping,index")
			} else {
				// The crash runs are the 6.1 kernel of the sysrq run: the
				// options whose answers differ from run to run (crash's page
				// walks and -F's listing cost it a minute on a loaded machine).
				cmds = []string{"kmem -i", "kmem -v", "kmem -f", "kmem -z", "kmem -o", fmt.Sprintf("kmem -g %x", page.Flags)}
			}
			want := crashAnswers(t, r, f, cmds)
			mi, err := k.MemInfo()
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range cmds {
				w := crashText(want[i])
				got := strings.Trim(run(t, s, c), "\n")
				if c == "kmem -i" {
					checkCrashInfoRows(t, w, got, mi.SlabPages, mi.CommittedCount)
					w, got = dropRows(w, "SLAB", "COMMITTED"), dropRows(got, "SLAB", "COMMITTED")
				}
				compared++
				if got != w {
					t.Errorf("%s:\n%s\n--- crash 8.0.2:\n%s", c, firstDiff(got, w), firstDiff(w, got))
				}
			}
			// The filtered files give the same text (on the sysrq runs: the
			// crash runs' files are made the same way).
			if r.Crash != "sysrq" {
				return
			}
			seen := map[string]bool{}
			for _, ff := range r.Files[1:] {
				// one file of each format: the others decode the same way
				if kind := fmt.Sprint(ff.Format, ff.Filtered, len(ff.Parts) > 0); seen[kind] {
					continue
				} else {
					seen[kind] = true
				}
				fs := openSession(t, r, ff)
				for _, c := range kmemTableCmds {
					if a, b := run(t, s, c), run(t, fs, c); a != b {
						t.Errorf("%s on %s:\n%s\n--- on %s:\n%s", c, ff.Name, firstDiff(b, a), f.Name, firstDiff(a, b))
					}
				}
			}
		})
	}
	t.Logf("%d kmem outputs compared with crash 8.0.2's", compared)
}

// checkCrashInfoRows checks crash's SLAB and COMMITTED rows of kmem -i
// against the values crash computes them from, and gocrash's against its
// counters.
func checkCrashInfoRows(t *testing.T, crash, got string, slabPages uint64, committedCount int64) {
	t.Helper()
	if n, ln, ok := kmemInfoRow(crash, "SLAB"); !ok || n != slabPages {
		t.Errorf("crash's SLAB row %q: want the %d PG_slab pages", ln, slabPages)
	}
	if n, ln, ok := kmemInfoRow(crash, "COMMITTED"); !ok || int64(n) != max(committedCount, 0) {
		t.Errorf("crash's COMMITTED row %q: want vm_committed_as.count %d", ln, committedCount)
	}
	for _, l := range []string{"SLAB", "COMMITTED"} {
		if _, ln, ok := kmemInfoRow(got, l); !ok {
			t.Errorf("kmem -i has no %s row: %q", l, ln)
		}
	}
}

// dropRows removes kmem -i's rows with these labels.
func dropRows(text string, labels ...string) string {
	var keep []string
	for _, ln := range strings.Split(text, "\n") {
		drop := false
		for _, l := range labels {
			if m := kmemInfoRowRE.FindStringSubmatch(ln); m != nil && m[1] == l {
				drop = true
			}
		}
		if !drop {
			keep = append(keep, ln)
		}
	}
	return strings.Join(keep, "\n")
}

// firstDiff is a's text from a few lines before the first line where it
// differs from b, at most 12 lines.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	from, to := max(0, i-3), min(len(al), i+9)
	return fmt.Sprintf("(line %d of %d)\n%s", i+1, len(al), strings.Join(al[from:to], "\n"))
}

// TestCorpusKmemJSON checks each option's JSON against its text on every
// sysrq run: the rows, addresses and counts the text shows are the JSON's.
func TestCorpusKmemJSON(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		var info commands.KmemInfo
		jsonData(t, s, "kmem -i", &info)
		text := run(t, s, "kmem -i")
		for _, c := range []struct {
			label string
			v     uint64
		}{{"TOTAL MEM", info.TotalMem}, {"FREE", info.Free}, {"USED", info.Used}, {"SHARED", info.Shared}, {"BUFFERS", info.Buffers},
			{"CACHED", info.Cached}, {"SLAB", info.Slab}, {"TOTAL HUGE", info.TotalHuge}, {"HUGE FREE", info.HugeFree},
			{"TOTAL SWAP", info.TotalSwap}, {"SWAP USED", info.SwapUsed}, {"SWAP FREE", info.SwapFree},
			{"COMMIT LIMIT", info.CommitLimit}, {"COMMITTED", info.Committed}} {
			if n, ln, ok := kmemInfoRow(text, c.label); !ok || n != c.v {
				t.Errorf("kmem -i %s: JSON %d, text %q", c.label, c.v, ln)
			}
		}
		if info.TotalMem == 0 || info.Free == 0 || info.Free > info.TotalMem {
			t.Errorf("kmem -i: total %d free %d", info.TotalMem, info.Free)
		}

		var va commands.KmemVmalloc
		jsonData(t, s, "kmem -v", &va)
		lines := strings.Split(strings.TrimRight(run(t, s, "kmem -v"), "\n"), "\n")
		if len(va.Areas) == 0 || len(lines) != len(va.Areas)+1 {
			t.Fatalf("kmem -v: %d areas in JSON, %d lines", len(va.Areas), len(lines))
		}
		for i, a := range va.Areas {
			// The same numbers: addresses are centred or right-aligned in
			// their columns as crash pads them, so s390x's short ones have
			// spaces where an x86_64 address has digits.
			want := fmt.Sprintf("%x %x %x - %x %d", uint64(a.VmapArea), uint64(a.VMStruct), uint64(a.Start), uint64(a.End), a.Size)
			if strings.Join(strings.Fields(lines[i+1]), " ") != want || a.Size != uint64(a.End-a.Start) ||
				uint64(a.VmapArea) >= 1<<48 && lines[i+1] != fmt.Sprintf("%016x  %016x  %016x - %016x  %7d", uint64(a.VmapArea), uint64(a.VMStruct), uint64(a.Start), uint64(a.End), a.Size) {
				t.Errorf("kmem -v area %d: text %q, JSON %q", i, lines[i+1], want)
			}
		}

		var fa commands.KmemFreeAreas
		jsonData(t, s, "kmem -f", &fa)
		ftext := run(t, s, "kmem -f")
		var ftextFields string
		for _, ln := range strings.Split(ftext, "\n") {
			ftextFields += " " + strings.Join(strings.Fields(ln), " ") + "\n"
		}
		var sum int64
		var found uint64
		for _, z := range fa.Zones {
			sum += z.Free
			for _, l := range z.Lists {
				found += l.Pages
				if l.Pages != uint64(l.Blocks)<<l.Order {
					t.Errorf("kmem -f %s order %d: %d blocks, %d pages", z.Name, l.Order, l.Blocks, l.Pages)
				}
				// The row's last three fields (columns are padded as crash
				// pads them: s390x's short addresses are centred).
				row := fmt.Sprintf(" %x %d %d\n", uint64(l.Head), l.Blocks, l.Pages)
				if !strings.Contains(ftextFields, row) {
					t.Errorf("kmem -f: no row %q", row)
				}
			}
		}
		if sum != fa.NrFreePages || found != fa.Found || !strings.Contains(ftext, fmt.Sprintf("nr_free_pages: %d  ", sum)) {
			t.Errorf("kmem -f: zones' free %d, nr_free_pages %d, found %d of %d", sum, fa.NrFreePages, found, fa.Found)
		}

		var zs commands.KmemZones
		jsonData(t, s, "kmem -z", &zs)
		ztext := run(t, s, "kmem -z")
		for _, z := range zs.Zones {
			hdr := fmt.Sprintf("NODE: %d  ZONE: %d  ADDR: %x  NAME: \"%s\"\n", z.Node, z.Zone, uint64(z.Addr), z.Name)
			if !strings.Contains(ztext, hdr) {
				t.Errorf("kmem -z: no %q", hdr)
			}
			if z.Size != 0 && !strings.Contains(ztext, fmt.Sprintf("MIN/LOW/HIGH: %d/%d/%d\n", z.Min, z.Low, z.High)) {
				t.Errorf("kmem -z %s: no watermarks %d/%d/%d", z.Name, z.Min, z.Low, z.High)
			}
		}

		var ns commands.KmemNodes
		jsonData(t, s, "kmem -n", &ns)
		ntext := run(t, s, "kmem -n")
		// Without VMCOREINFO the section table's geometry (SECTION_SIZE_BITS,
		// MAX_PHYSMEM_BITS) is unknown: nodes only.
		if len(ns.Nodes) == 0 || (len(ns.Sections) == 0) == r.VMCoreInfo {
			t.Fatalf("kmem -n: %d nodes, %d sections", len(ns.Nodes), len(ns.Sections))
		}
		for _, sc := range ns.Sections {
			row := fmt.Sprintf("%2d  %016x  %016x  %016x  %s ", sc.Nr, uint64(sc.Section), uint64(sc.CodedMemMap), uint64(sc.MemMap), commandsCenter(5, sc.State))
			if !strings.Contains(ntext, row) {
				t.Errorf("kmem -n: no section row %q", row)
			}
		}
		for _, b := range ns.Blocks {
			if !strings.Contains(ntext, fmt.Sprintf(" %016x ", uint64(b.MemBlock))) || b.State != "ONLINE" {
				t.Errorf("kmem -n: block %x %s %s", uint64(b.MemBlock), b.Name, b.State)
			}
		}

		var vs commands.KmemVMStat
		jsonData(t, s, "kmem -V", &vs)
		vtext := run(t, s, "kmem -V")
		vlines := map[string]bool{}
		for _, ln := range strings.Split(vtext, "\n") {
			vlines[strings.TrimLeft(ln, " ")] = true
		}
		for _, g := range [][]commands.KmemCounter{vs.Zone, vs.Node, vs.Numa} {
			for _, c := range g {
				if !vlines[fmt.Sprintf("%s: %d", c.Name, c.Value)] {
					t.Errorf("kmem -V: no %s: %d", c.Name, c.Value)
				}
			}
		}
		if len(vs.Zone) == 0 || len(vs.Events) == 0 {
			t.Errorf("kmem -V: %d zone counters, %d events", len(vs.Zone), len(vs.Events))
		}

		var pc commands.KmemPerCPU
		jsonData(t, s, "kmem -o", &pc)
		otext := run(t, s, "kmem -o")
		for _, c := range pc.CPUs {
			// a panic (not a kdump) takes the other CPUs offline: crash
			// marks them so
			off := ""
			if c.Offline {
				off = " [OFFLINE]"
			}
			if !strings.Contains(otext, fmt.Sprintf("CPU %d: %x%s\n", c.CPU, uint64(c.Offset), off)) {
				t.Errorf("kmem -o: no CPU %d: %x", c.CPU, uint64(c.Offset))
			}
		}
		if len(pc.CPUs) != r.CPUs {
			t.Errorf("kmem -o: %d CPUs, the guest had %d", len(pc.CPUs), r.CPUs)
		}

		var hs commands.KmemHstates
		jsonData(t, s, "kmem -h", &hs)
		htext := run(t, s, "kmem -h")
		for _, h := range hs.Hstates {
			if !strings.Contains(htext, fmt.Sprintf("%x  ", uint64(h.Hstate))) || !strings.HasSuffix(strings.TrimRight(htext, "\n"), h.Name) && len(hs.Hstates) == 1 {
				t.Errorf("kmem -h: %+v not in %q", h, htext)
			}
		}

		// kmem -m of the page of linux_banner: the flags and the reference
		// count the text shows are the JSON's and the kernel's.
		banner, err := s.Kernel.SymbolAddr("linux_banner")
		if err != nil {
			t.Fatal(err)
		}
		bphys, err := s.Kernel.VirtToPhys(banner)
		if err != nil {
			t.Fatal(err)
		}
		bpage, err := s.Kernel.PageOf(bphys)
		if err != nil {
			t.Fatal(err)
		}
		mline := fmt.Sprintf("kmem -m flags,_refcount %x", bphys)
		var pm commands.KmemPageMembers
		jsonData(t, s, mline, &pm)
		mtext := run(t, s, mline)
		if len(pm.Pages) != 1 || len(pm.Members) != 2 || len(pm.Pages[0].Values) != 2 ||
			uint64(pm.Pages[0].Page) != bpage.Addr || uint64(pm.Pages[0].Values[0][0]) != bpage.Flags ||
			int32(pm.Pages[0].Values[1][0]) != bpage.Count || pm.Members[1].Kind != "struct" {
			t.Errorf("%s: JSON %+v, the page %+v", mline, pm, bpage)
		} else if want := fmt.Sprintf("%x  %016x  %08x\n", bpage.Addr, bpage.Flags, uint32(bpage.Count)); !strings.HasSuffix(mtext, want) {
			t.Errorf("%s: %q, want %q", mline, mtext, want)
		}

		var pf commands.KmemPageFlags
		jsonData(t, s, "kmem -g", &pf)
		gtext := run(t, s, "kmem -g")
		if len(pf.Flags) == 0 || strings.Count(gtext, "\n") != len(pf.Flags)+1 {
			t.Errorf("kmem -g: %d flags, %d lines", len(pf.Flags), strings.Count(gtext, "\n"))
		}
	})
}

// commandsCenter centres s in n columns as crash's mkstring(CENTER).
func commandsCenter(n int, s string) string {
	extra := n - len(s)
	if extra <= 0 {
		return s
	}
	return strings.Repeat(" ", extra/2) + s + strings.Repeat(" ", extra-extra/2)
}

// procKB reads "Name:  N kB" (or a bare count) from a /proc/meminfo section.
func procKB(lines []string, name string) (uint64, bool) {
	for _, ln := range lines {
		if k, v, ok := strings.Cut(ln, ":"); ok && strings.TrimSpace(k) == name {
			f := strings.Fields(v)
			if len(f) == 0 {
				return 0, false
			}
			n, err := strconv.ParseUint(f[0], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// near reports whether got is within tol of want.
func near(got, want, tol uint64) bool {
	if got > want {
		return got-want <= tol
	}
	return want-got <= tol
}

// Counters move between the guest printing its /proc files and the crash
// (the guest then prints every task's backtrace with sysrq-t, sleeps 2 s
// and forks the shell that crashes it; the per-CPU page lists hand pages
// back and forth), so those are compared within these tolerances, in
// pages: free pages and the free blocks of an order, slab pages and
// committed memory, and the page cache.
const (
	// measured on the corpus: up to 444 free pages (1,316 on the 6.12
	// runs of the corpus built on 1 December 2026: 5 MiB freed between
	// the guest's meminfo and its crash), 59 slab pages, 83 committed
	// pages, 1 page of cache, 2 vmalloc areas
	kmemFreeTol   = 2048 // 8 MiB of 4 KiB pages
	kmemSlabTol   = 256
	kmemCommitTol = 512
	kmemCacheTol  = 64
	kmemBuddyTol  = 32 // blocks of one order (measured: up to 11)
	kmemVmapTol   = 6  // vmalloc areas created or freed (task stacks, sysrq-t)
)

// TestCorpusKmemTruth checks kmem -i, -f, -z and -v on every run, sysrq and
// crash kinds, QEMU and kdump, 5.10, 6.1, 6.12 and arm64, against what the
// guest's kernel said of itself just before the crash: /proc/meminfo,
// /proc/buddyinfo, /proc/zoneinfo and /proc/vmallocinfo. What cannot move
// (total memory, the commit limit, huge pages and swap totals, each
// zone's span, present pages, watermarks and start) must be equal; the
// counters within the tolerances above.
func TestCorpusKmemTruth(t *testing.T) {
	runs := append(corpus.Runs(t), corpus.CrashRuns(t)...)
	checked := 0
	for _, r := range runs {
		t.Run(r.Name, func(t *testing.T) {
			kmemTruth(t, r)
			checked++
		})
	}
	t.Logf("%d runs checked against the guest's /proc", checked)
}

// kmemTruth is TestCorpusKmemTruth's check of one run.
func kmemTruth(t *testing.T, r *corpus.Run) {
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	meminfo, ok := truth.Section("meminfo")
	if !ok {
		t.Fatal("the run has no meminfo section: rebuild the corpus")
	}
	s := openSession(t, r, r.Files[0])
	ps := s.Kernel.Arch.PageSize()
	kb := func(pages uint64) uint64 { return pages * ps / 1024 }
	var info commands.KmemInfo
	jsonData(t, s, "kmem -i", &info)
	mi := func(name string) uint64 {
		n, ok := procKB(meminfo, name)
		if !ok {
			t.Fatalf("meminfo has no %s", name)
		}
		return n
	}
	rows := []struct {
		name     string
		got, tol uint64
	}{
		{"MemTotal", kb(info.TotalMem), 0},
		{"CommitLimit", kb(info.CommitLimit), 0},
		{"SwapTotal", kb(info.TotalSwap), 0},
		{"SwapFree", kb(info.SwapFree), 0},
		{"Buffers", kb(info.Buffers), kb(kmemCacheTol)},
		{"Cached", kb(info.Cached), kb(kmemCacheTol)},
		{"MemFree", kb(info.Free), kb(kmemFreeTol)},
		{"Slab", kb(info.Slab), kb(kmemSlabTol)},
		{"Committed_AS", kb(info.Committed), kb(kmemCommitTol)},
	}
	if hsize, ok := procKB(meminfo, "Hugepagesize"); ok {
		rows = append(rows, []struct {
			name     string
			got, tol uint64
		}{
			{"HugePages_Total", info.TotalHuge * ps / (hsize * 1024), 0},
			{"HugePages_Free", info.HugeFree * ps / (hsize * 1024), 0},
		}...)
	} else if info.TotalHuge != 0 || info.HugeFree != 0 {
		// No huge page size (s390x under TCG, without EDAT): none.
		t.Errorf("kmem -i: %d huge pages (%d free), where the guest has no huge page size", info.TotalHuge, info.HugeFree)
	}
	for _, c := range rows {
		want := mi(c.name)
		if !near(c.got, want, c.tol) {
			t.Errorf("kmem -i %s: %d, the guest's /proc/meminfo %d (tolerance %d)", c.name, c.got, want, c.tol)
		}
		t.Logf("%s: %d, guest %d", c.name, c.got, want)
	}

	// buddyinfo: "Node N, zone NAME  n0 n1 ...": free blocks per order.
	var fa commands.KmemFreeAreas
	jsonData(t, s, "kmem -f", &fa)
	buddy, _ := truth.Section("buddyinfo")
	if len(buddy) == 0 {
		t.Error("no buddyinfo section")
	}
	var maxBuddy int64
	defer func() { t.Logf("buddyinfo: free blocks of an order differ by up to %d", maxBuddy) }()
	for _, ln := range buddy {
		f := strings.Fields(strings.NewReplacer(",", " ").Replace(ln))
		if len(f) < 5 || f[0] != "Node" || f[2] != "zone" {
			t.Errorf("buddyinfo line %q", ln)
			continue
		}
		node, _ := strconv.Atoi(f[1])
		var z *commands.KmemFreeZone
		for i := range fa.Zones {
			if fa.Zones[i].Node == node && fa.Zones[i].Name == f[3] {
				z = &fa.Zones[i]
			}
		}
		if z == nil {
			t.Errorf("buddyinfo zone %s of node %d: not in kmem -f", f[3], node)
			continue
		}
		blocks := map[int]uint64{}
		for _, l := range z.Lists {
			blocks[l.Order] += uint64(l.Blocks)
		}
		for o, v := range f[4:] {
			want, _ := strconv.ParseUint(v, 10, 64)
			if d := int64(blocks[o]) - int64(want); d > maxBuddy || -d > maxBuddy {
				maxBuddy = max(d, -d)
			}
			if !near(blocks[o], want, kmemBuddyTol) {
				t.Errorf("kmem -f %s order %d: %d free blocks, the guest's buddyinfo %d", z.Name, o, blocks[o], want)
			}
		}
		if len(f[4:]) > 0 && z.Free != 0 && len(z.Lists) == 0 {
			t.Errorf("kmem -f %s: no free lists", z.Name)
		}
	}

	// zoneinfo: each zone's fixed facts and its free pages.
	var zs commands.KmemZones
	jsonData(t, s, "kmem -z", &zs)
	zi, _ := truth.Section("zoneinfo")
	zones := parseZoneinfo(zi)
	if len(zones) == 0 {
		t.Error("no zones in the zoneinfo section")
	}
	for _, z := range zs.Zones {
		want, ok := zones[fmt.Sprintf("%d %s", z.Node, z.Name)]
		if !ok {
			t.Errorf("kmem -z zone %s of node %d: not in the guest's zoneinfo", z.Name, z.Node)
			continue
		}
		for _, c := range []struct {
			name string
			got  uint64
		}{{"spanned", z.Size}, {"present", z.Present}, {"min", z.Min}, {"low", z.Low}, {"high", z.High}} {
			if want[c.name] != c.got {
				t.Errorf("kmem -z %s %s: %d, the guest's zoneinfo %d", z.Name, c.name, c.got, want[c.name])
			}
		}
		var free int64
		for _, c := range z.VMStat {
			if c.Name == "NR_FREE_PAGES" {
				free = c.Value
			}
		}
		if !near(uint64(free), want["free"], kmemFreeTol) {
			t.Errorf("kmem -z %s NR_FREE_PAGES: %d, the guest's zoneinfo %d", z.Name, free, want["free"])
		}
	}

	// vmallocinfo: the guest hides the addresses (kptr_restrict), so
	// the areas with a vm_struct are compared by size, allowing a
	// few created or freed since; sorted, as 6.9's vmallocinfo lists
	// each vmap_node's areas in turn, not in address order.
	var va commands.KmemVmalloc
	jsonData(t, s, "kmem -v", &va)
	vi, _ := truth.Section("vmallocinfo")
	var want, got []uint64
	for _, ln := range vi {
		f := strings.Fields(ln)
		if len(f) < 3 || strings.Contains(ln, "vm_map_ram") || strings.Contains(ln, "unpurged") {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Errorf("vmallocinfo line %q", ln)
			continue
		}
		want = append(want, n)
	}
	for _, a := range va.Areas {
		got = append(got, a.Size)
	}
	slices.Sort(got)
	slices.Sort(want)
	if d := editDistance(got, want); len(want) == 0 || d > kmemVmapTol {
		t.Errorf("kmem -v: %d areas, the guest's vmallocinfo %d; %d differ (tolerance %d)", len(got), len(want), d, kmemVmapTol)
	} else {
		t.Logf("kmem -v: %d areas, vmallocinfo %d, %d differ", len(got), len(want), d)
	}
}

// parseZoneinfo reads /proc/zoneinfo: for "NODE NAME", the zone's "free"
// (pages free), spanned, present, min, low, high.
func parseZoneinfo(lines []string) map[string]map[string]uint64 {
	out := map[string]map[string]uint64{}
	var cur map[string]uint64
	for _, ln := range lines {
		f := strings.Fields(strings.NewReplacer(",", " ").Replace(ln))
		switch {
		case len(f) == 4 && f[0] == "Node" && f[2] == "zone":
			cur = map[string]uint64{}
			out[f[1]+" "+f[3]] = cur
		case cur != nil && len(f) == 3 && f[0] == "pages" && f[1] == "free":
			cur["free"], _ = strconv.ParseUint(f[2], 10, 64)
		case cur != nil && len(f) == 2:
			switch f[0] {
			case "spanned", "present", "min", "low", "high":
				cur[f[0]], _ = strconv.ParseUint(f[1], 10, 64)
			}
		}
	}
	return out
}

// editDistance is the number of insertions and deletions that make a into b.
func editDistance(a, b []uint64) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cur[j] = min(prev[j], cur[j-1]) + 1
			if a[i-1] == b[j-1] {
				cur[j] = min(cur[j], prev[j-1])
			}
		}
		prev = cur
	}
	return prev[len(b)]
}
