package commands_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

var (
	// A PCI device as the kernel announces it at enumeration:
	// "pci 0000:00:01.1: [8086:7010] type 00 class 0x010180".
	pciConsoleRE = regexp.MustCompile(`^pci ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]): \[([0-9a-f]{4}):([0-9a-f]{4})\] type ([0-9a-f]{2}) class 0x([0-9a-f]{6})`)
	// An open file of ls -l /proc/PID/fd: "... 3 -> socket:[1234]".
	fdLinkRE = regexp.MustCompile(` (\d+) -> (.*)$`)
	// Any console line about a PCI device (ppc64le's Open Firmware probe
	// announces no IDs).
	pciNameRE = regexp.MustCompile(`^pci ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]): `)
)

// TestCorpusDevPCIAgainstConsole: on every run with PCI, dev -p lists the
// devices the guest's kernel named on its console, each with the same
// vendor:device and class where the console announced its enumeration
// (ppc64le's does not); s390x (no PCI
// bus in the guest) refuses -p as crash does.
func TestCorpusDevPCIAgainstConsole(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		if r.Arch == "s390x" {
			if got := runText(t, s, "dev -p"); !strings.HasPrefix(got, "dev: -p option not supported") {
				t.Fatalf("dev -p on s390x: %q", got)
			}
			return
		}
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, l := range truth.Console {
			if m := pciNameRE.FindStringSubmatch(l.Text); m != nil && want[m[1]] == "" {
				want[m[1]] = "?"
			}
			if m := pciConsoleRE.FindStringSubmatch(l.Text); m != nil {
				v, _ := strconv.ParseUint(m[2], 16, 16)
				d, _ := strconv.ParseUint(m[3], 16, 16)
				want[m[1]] = fmt.Sprintf("%s %x:%x", m[5][:4], v, d)
			}
		}
		if len(want) == 0 {
			t.Fatal("the console announces no PCI device")
		}
		var data struct {
			RootBuses []pciBusJSON `json:"root_buses"`
		}
		jsonData(t, s, "dev -p", &data)
		got := map[string]string{}
		var walk func(b pciBusJSON)
		walk = func(b pciBusJSON) {
			for _, d := range b.Devices {
				got[d.Name] = d.Class + " " + d.ID
			}
			for _, c := range b.Children {
				walk(c)
			}
		}
		for _, b := range data.RootBuses {
			walk(b)
		}
		for name, w := range want {
			if _, ok := got[name]; !ok || w != "?" && got[name] != w {
				t.Errorf("%s: dev -p has %q, the console %q", name, got[name], w)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("dev -p lists %s, which the console never announced", name)
			}
		}
		text := runText(t, s, "dev -p")
		for name := range want {
			if !strings.Contains(text, " "+name+" ") {
				t.Errorf("dev -p's text has no %s:\n%s", name, text)
			}
		}
		t.Logf("%d PCI devices as the console announced them", len(want))
	})
}

type pciBusJSON struct {
	Name    string `json:"name"`
	Devices []struct {
		Name  string `json:"name"`
		Class string `json:"class"`
		ID    string `json:"pci_id"`
	} `json:"devices"`
	Children []pciBusJSON `json:"children"`
}

// TestCorpusNetSocketsAgainstTruth: on every run, net -s PID of each test
// task whose open files the guest listed (ls -l /proc/PID/fd) shows a
// socket for each descriptor that links to socket:[inode] and no other,
// and "No open sockets." for a task without one.
func TestCorpusNetSocketsAgainstTruth(t *testing.T) {
	forEachTaskSection(t, "fd-", "the guest listed no task's open files", func(t *testing.T, s *commands.Session, pid string, lines []string) bool {
		var want []int
		for _, l := range lines {
			if m := fdLinkRE.FindStringSubmatch(l); m != nil && strings.HasPrefix(m[2], "socket:[") {
				fd, _ := strconv.Atoi(m[1])
				want = append(want, fd)
			}
		}
		var data struct {
			Tasks []struct {
				PID     int `json:"pid"`
				Sockets []struct {
					FD int `json:"fd"`
				} `json:"sockets"`
			} `json:"tasks"`
		}
		jsonData(t, s, "net -s "+pid, &data)
		if len(data.Tasks) != 1 || strconv.Itoa(data.Tasks[0].PID) != pid {
			t.Fatalf("net -s %s: %+v", pid, data)
		}
		var got []int
		for _, so := range data.Tasks[0].Sockets {
			got = append(got, so.FD)
		}
		sort.Ints(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pid %s: net -s finds sockets on fds %v, the guest %v", pid, got, want)
		}
		text := runText(t, s, "net -s "+pid)
		if len(want) == 0 && !strings.HasSuffix(text, "\nNo open sockets.\n") {
			t.Errorf("net -s %s:\n%s", pid, text)
		}
		return true
	})
}

// forEachTaskSection calls fn on every run with each of the guest's
// sections named prefix+PID (fd-, status-, maps-) and the run's session;
// fn says whether it checked the task, and a run where it checked none
// fails with none.
func forEachTaskSection(t *testing.T, prefix, none string, fn func(t *testing.T, s *commands.Session, pid string, lines []string) bool) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		s := openSession(t, r, r.Files[0])
		checked := 0
		for name, lines := range truth.Sections {
			if pid, ok := strings.CutPrefix(name, prefix); ok && fn(t, s, pid, lines) {
				checked++
			}
		}
		if checked == 0 {
			t.Fatal(none)
		}
		t.Logf("%d tasks' %s sections checked", checked, strings.TrimSuffix(prefix, "-"))
	})
}

// TestCorpusMachOPAL: the ppc64le guests are pSeries machines (their
// console's hardware name says so), without OPAL firmware, and mach -o
// says so as crash does; on other architectures -o is refused.
func TestCorpusMachOPAL(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		got := runText(t, s, "mach -o")
		if r.Arch != "ppc64le" {
			if !strings.HasPrefix(got, "mach: -o option not supported") {
				t.Fatalf("mach -o on %s: %q", r.Arch, got)
			}
			return
		}
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		pseries := false
		for _, l := range truth.Console {
			pseries = pseries || strings.HasPrefix(l.Text, "Hardware name: IBM pSeries")
		}
		if !pseries {
			t.Skip("not a pSeries guest: its OPAL log is not known")
		}
		if got != "mach: dump was not captured on OPAL based system\n" {
			t.Errorf("mach -o: %q", got)
		}
	})
}

// TestCorpusMachArm64Areas: on the arm64 runs mach shows the module,
// vmalloc and vmemmap bases, and the kernel's own objects lie where they
// say: every vmap_area at or above the module base and below the vmemmap
// base, some in the vmalloc area proper, and the struct pages of memory at
// or above the vmemmap base.
func TestCorpusMachArm64Areas(t *testing.T) {
	n := 0
	for _, r := range corpus.Runs(t) {
		if r.Arch != "arm64" {
			continue
		}
		n++
		t.Run(r.Name, func(t *testing.T) { machArm64Areas(t, r) })
	}
	if n == 0 {
		t.Fatal("no arm64 run")
	}
}

func machArm64Areas(t *testing.T, r *corpus.Run) {
	s := openSession(t, r, r.Files[0])
	var m struct{ Modules, Vmalloc, Vmemmap uint64 }
	text := runText(t, s, "mach")
	for _, l := range strings.Split(text, "\n") {
		for label, to := range map[string]*uint64{"KERNEL MODULES BASE: ": &m.Modules, "KERNEL VMALLOC BASE: ": &m.Vmalloc, "KERNEL VMEMMAP BASE: ": &m.Vmemmap} {
			if v, ok := strings.CutPrefix(l, label); ok {
				*to, _ = strconv.ParseUint(v, 16, 64)
			}
		}
	}
	if m.Modules == 0 || m.Vmalloc <= m.Modules || m.Vmemmap <= m.Vmalloc {
		t.Fatalf("mach:\n%s", text)
	}
	vas, err := s.Kernel.VmapAreas()
	if err != nil || len(vas) == 0 {
		t.Fatal(len(vas), err)
	}
	inVmalloc := 0
	for _, va := range vas {
		if va.Start < m.Modules || va.End > m.Vmemmap {
			t.Errorf("vmap_area %x-%x outside %x-%x", va.Start, va.End, m.Modules, m.Vmemmap)
		}
		if va.Start >= m.Vmalloc {
			inVmalloc++
		}
	}
	if inVmalloc == 0 {
		t.Errorf("no vmap_area at or above the vmalloc base %x", m.Vmalloc)
	}
	phys, err := s.Kernel.VirtToPhys(vas[0].Start)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Kernel.PageAddr(phys / s.Kernel.Arch.PageSize())
	if err != nil || page < m.Vmemmap {
		t.Errorf("the struct page of %x is at %x (%v), below the vmemmap base %x", phys, page, err, m.Vmemmap)
	}
	t.Logf("%d vmap areas, %d in the vmalloc area", len(vas), inVmalloc)
}

// TestCorpusDevDisksAgainstPartitions: on every run dev -d lists the disks
// of the guest's /proc/partitions (RAM disks and loop devices left out, as
// crash leaves them out): each disk dev -d lists is in /proc/partitions,
// and each entry there is a listed disk or a partition of one. The dev -D
// listing is a subset of dev -d's.
func TestCorpusDevDisksAgainstPartitions(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		devDisksAgainstPartitions(t, r, openSession(t, r, r.Files[0]))
	})
}

// devDisksAgainstPartitions is TestCorpusDevDisksAgainstPartitions on one run.
func devDisksAgainstPartitions(t *testing.T, r *corpus.Run, s *commands.Session) {
	lines := truthSection(t, r, "partitions")
	var want []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 4 && f[0] != "major" && !strings.HasPrefix(f[3], "ram") && !strings.HasPrefix(f[3], "loop") {
			want = append(want, f[3])
		}
	}
	var got struct {
		Disks []struct {
			Name string `json:"name"`
		} `json:"disks"`
	}
	jsonData(t, s, "dev -d", &got)
	disks := map[string]bool{}
	for _, d := range got.Disks {
		disks[d.Name] = true
		if !slices.Contains(want, d.Name) {
			t.Errorf("dev -d lists %s, which /proc/partitions has not", d.Name)
		}
	}
	for _, w := range want {
		part := false
		for d := range disks {
			part = part || strings.HasPrefix(w, d)
		}
		if !part {
			t.Errorf("/proc/partitions has %s, which is no disk dev -d lists nor a partition of one", w)
		}
	}
	text := runText(t, s, "dev -d")
	if !strings.HasPrefix(text, "MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL ") || strings.Count(text, "\n") != 1+len(got.Disks) {
		t.Errorf("dev -d:\n%s", text)
	}
	if d := runText(t, s, "dev -D"); strings.Count(d, "\n") > strings.Count(text, "\n") {
		t.Errorf("dev -D lists more than dev -d:\n%s", d)
	}
	t.Logf("%d disks, %d partitions entries", len(got.Disks), len(want))
}
