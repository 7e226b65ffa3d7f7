package commands_test

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// forEachTruthRun runs fn on every corpus run: the sysrq runs and the
// runs the test module crashed (the guests print the same sections).
func forEachTruthRun(t *testing.T, fn func(t *testing.T, r *corpus.Run)) {
	corpus.ForEachRun(t, fn)
	corpus.ForEachCrashRun(t, fn)
}

// truthOf is the run's guest truth, failing the test when the run has none
// of the sections these tests read (a run built before them).
func truthOf(t *testing.T, r *corpus.Run) *corpus.Truth {
	t.Helper()
	tr, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Section("mountinfo"); !ok {
		t.Fatalf("%s: the guest truth has no mountinfo section: rebuild the corpus", r.Name)
	}
	return tr
}

// taskSections gives the PIDs the guest printed a section prefix-PID for.
func taskSections(tr *corpus.Truth, prefix string) []int {
	var pids []int
	for name := range tr.Sections {
		if p, ok := strings.CutPrefix(name, prefix); ok {
			if pid, err := strconv.Atoi(p); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	sort.Ints(pids)
	return pids
}

type vmJSON []struct {
	Task struct {
		PID int `json:"pid"`
	} `json:"task"`
	RSS  uint64 `json:"rss"`
	VMAs []struct {
		Start string `json:"start"`
		End   string `json:"end"`
		Flags string `json:"flags"`
		PgOff uint64 `json:"pgoff"`
		Path  string `json:"path"`
	} `json:"vmas"`
}

var mapsRE = regexp.MustCompile(`^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][sp]) ([0-9a-f]+) \S+ \d+ *(.*)$`)

// TestCorpusVMMapsTruth checks vm against the guest's /proc/PID/maps of
// init and each test task, on every run (crash 8.0.2's vm fails on 6.1's
// maple tree and cannot open 6.12 or arm64 dumps): every VMA's range, its
// read/write/exec/shared bits (vm_flags 0x1, 0x2, 0x4, 0x8), its file
// offset and, for a file mapping, its path; an anonymous VMA ([heap],
// [stack], [vdso], ...) has none. The tasks sleep while the guest prints
// and crashes, so their address spaces are the same at the crash; vm's RSS
// is the guest ps's.
func TestCorpusVMMapsTruth(t *testing.T) {
	checked := 0
	forEachTruthRun(t, func(t *testing.T, r *corpus.Run) {
		tr := truthOf(t, r)
		s := openSession(t, r, r.Files[0])
		pids := taskSections(tr, "maps-")
		if len(pids) < 2 {
			t.Fatalf("maps sections for %v only", pids)
		}
		ps := map[int]corpus.PSEntry{}
		for _, p := range tr.PS {
			ps[p.PID] = p
		}
		for _, pid := range pids {
			maps, _ := tr.Section(fmt.Sprintf("maps-%d", pid))
			line := fmt.Sprintf("vm %d", pid)
			var vm vmJSON
			jsonData(t, s, line, &vm)
			if len(vm) != 1 {
				t.Fatalf("%s: %d results", line, len(vm))
			}
			if p, ok := ps[pid]; ok && pid != 1 && strconv.FormatUint(vm[0].RSS, 10) != p.RSS {
				t.Errorf("%s: RSS %dk, the guest's ps said %sk", line, vm[0].RSS, p.RSS)
			}
			var want, got []string
			for _, m := range maps {
				f := mapsRE.FindStringSubmatch(strings.TrimRight(m, " "))
				if f == nil {
					t.Fatalf("maps-%d: unexpected line %q", pid, m)
				}
				start, _ := strconv.ParseUint(f[1], 16, 64)
				end, _ := strconv.ParseUint(f[2], 16, 64)
				off, _ := strconv.ParseUint(f[4], 16, 64)
				path := f[5]
				if !strings.HasPrefix(path, "/") {
					path, off = "", 0 // anonymous: no file, and no offset to check
				}
				want = append(want, fmt.Sprintf("%x-%x %s %x %s", start, end, f[3], off, path))
			}
			ps := s.Kernel.Arch.PageSize()
			for _, v := range vm[0].VMAs {
				start, _ := strconv.ParseUint(v.Start, 16, 64)
				end, _ := strconv.ParseUint(v.End, 16, 64)
				flags, _ := strconv.ParseUint(v.Flags, 16, 64)
				perm := []byte("---p")
				for i, c := range "rwx" {
					if flags&(1<<i) != 0 {
						perm[i] = byte(c)
					}
				}
				if flags&0x8 != 0 {
					perm[3] = 's'
				}
				off := v.PgOff * ps
				if v.Path == "" {
					off = 0
				}
				got = append(got, fmt.Sprintf("%x-%x %s %x %s", start, end, perm, off, v.Path))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s:\n%s\n--- the guest's maps:\n%s", line, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			checked++
		}
	})
	t.Logf("%d address spaces checked against /proc/PID/maps", checked)
}

var fdRE = regexp.MustCompile(` (\d+) -> (.*)$`)

// TestCorpusFilesTruth checks files against the guest's ls -l /proc/PID/fd
// for init and each test task on every run: the same descriptors, and for
// each that is a path the same path. The guest lists init's while init's
// output is redirected to /tmp/section.out (and its shell has a descriptor
// more open), so for init only the descriptors both show, other than that
// redirection, are compared. fdholder holds /init, /tmp/fdholder.out and
// /dev/null as 3, 4 and 5, with its working directory the root of the tmpfs
// on /tmp ("/tmp/", as crash writes a mount's root); fuser finds it.
func TestCorpusFilesTruth(t *testing.T) {
	checked := 0
	forEachTruthRun(t, func(t *testing.T, r *corpus.Run) {
		tr := truthOf(t, r)
		s := openSession(t, r, r.Files[0])
		pids := taskSections(tr, "fd-")
		fdholder := 0
		for _, p := range tr.PS {
			if p.Comm == "fdholder" {
				fdholder = p.PID
			}
		}
		if fdholder == 0 || len(pids) < 2 {
			t.Fatalf("no fdholder in the guest's ps, or fd sections for %v only", pids)
		}
		for _, pid := range pids {
			lines, _ := tr.Section(fmt.Sprintf("fd-%d", pid))
			want := map[int]string{}
			for _, l := range lines {
				if m := fdRE.FindStringSubmatch(l); m != nil {
					fd, _ := strconv.Atoi(m[1])
					want[fd] = m[2]
				}
			}
			line := fmt.Sprintf("files %d", pid)
			var files []struct {
				Cwd   string `json:"cwd"`
				Files []struct {
					FD   int    `json:"fd"`
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"files"`
			}
			jsonData(t, s, line, &files)
			if len(files) != 1 {
				t.Fatalf("%s: %d results", line, len(files))
			}
			got := map[int]string{}
			for _, f := range files[0].Files {
				got[f.FD] = f.Path
			}
			for fd, w := range want {
				g, ok := got[fd]
				switch {
				case pid == 1 && (!ok || w == "/tmp/section.out"):
				case !ok:
					t.Errorf("%s: no fd %d (the guest: %s)", line, fd, w)
				case strings.HasPrefix(w, "/") && g != w:
					t.Errorf("%s: fd %d is %q, the guest said %q", line, fd, g, w)
				}
			}
			for fd := range got {
				if _, ok := want[fd]; !ok && pid != 1 {
					t.Errorf("%s: fd %d %q, which the guest did not list", line, fd, got[fd])
				}
			}
			if pid == fdholder {
				for fd, w := range map[int]string{3: "/init", 4: "/tmp/fdholder.out", 5: "/dev/null"} {
					if got[fd] != w {
						t.Errorf("%s: fdholder's fd %d is %q, want %q", line, fd, got[fd], w)
					}
				}
				if files[0].Cwd != "/tmp/" {
					t.Errorf("%s: fdholder's cwd %q, want /tmp/", line, files[0].Cwd)
				}
				// (the task's address right-aligned in 16 columns: s390x's
				// are short)
				fu := run(t, s, "fuser /tmp/fdholder.out")
				if !regexp.MustCompile(fmt.Sprintf(`(?m)^ *%d  [ 0-9a-f]{15}[0-9a-f]  "fdholder" +fd $`, pid)).MatchString(fu) {
					t.Errorf("fuser /tmp/fdholder.out:\n%s", fu)
				}
			}
			checked++
		}
	})
	t.Logf("%d tasks' files checked against /proc/PID/fd", checked)
}

// TestCorpusMountTruth checks mount against the guest's
// /proc/self/mountinfo on every run (crash cannot open the 6.12 and arm64
// dumps): the same mounts, in the same order, with the same file system
// type, device name and mount point; mount with an argument chooses the
// mount of that directory, device name or super block.
func TestCorpusMountTruth(t *testing.T) {
	forEachTruthRun(t, func(t *testing.T, r *corpus.Run) {
		tr := truthOf(t, r)
		s := openSession(t, r, r.Files[0])
		mi, _ := tr.Section("mountinfo")
		var want []string
		for _, l := range mi {
			pre, post, ok := strings.Cut(l, " - ")
			f, g := strings.Fields(pre), strings.Fields(post)
			if !ok || len(f) < 5 || len(g) < 2 {
				t.Fatalf("mountinfo: unexpected line %q", l)
			}
			want = append(want, fmt.Sprintf("%s %s %s", g[0], g[1], f[4]))
		}
		var m struct {
			Mounts []struct {
				Mount      string `json:"mount"`
				SuperBlock string `json:"superblock"`
				Type       string `json:"type"`
				DevName    string `json:"devname"`
				DirName    string `json:"dirname"`
			} `json:"mounts"`
		}
		jsonData(t, s, "mount", &m)
		var got []string
		for _, x := range m.Mounts {
			got = append(got, fmt.Sprintf("%s %s %s", x.Type, x.DevName, x.DirName))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("mount:\n%s\n--- the guest's mountinfo:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		all := strings.Split(run(t, s, "mount"), "\n")
		for i, x := range m.Mounts {
			for _, arg := range []string{x.DirName, strings.TrimLeft(x.SuperBlock, "0")} {
				out := run(t, s, "mount "+arg)
				if want := all[0] + "\n" + all[i+1] + "\n"; !strings.Contains(out, all[i+1]+"\n") || !strings.HasPrefix(out, all[0]+"\n") {
					t.Errorf("mount %s:\n%s--- want it to hold:\n%s", arg, out, want)
				}
			}
		}
	})
}

// TestCorpusSwapTruth checks swap against the guest's /proc/swaps: the
// corpus guests have no swap, so the header alone, as crash prints it.
func TestCorpusSwapTruth(t *testing.T) {
	forEachTruthRun(t, func(t *testing.T, r *corpus.Run) {
		tr := truthOf(t, r)
		s := openSession(t, r, r.Files[0])
		sw, ok := tr.Section("swaps")
		if !ok || len(sw) == 0 || !strings.HasPrefix(sw[0], "Filename") {
			t.Fatalf("swaps section %q", sw)
		}
		var res struct {
			Devices []struct {
				Filename string `json:"filename"`
			} `json:"devices"`
		}
		jsonData(t, s, "swap", &res)
		if len(res.Devices) != len(sw)-1 {
			t.Errorf("swap: %d devices, the guest's /proc/swaps %d", len(res.Devices), len(sw)-1)
		}
		for i, d := range res.Devices {
			if i+1 < len(sw) && strings.Fields(sw[i+1])[0] != d.Filename {
				t.Errorf("swap device %d %q, the guest: %q", i, d.Filename, sw[i+1])
			}
		}
		if got := run(t, s, "swap"); len(sw) == 1 && got != "SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n" {
			t.Errorf("swap:\n%s", got)
		}
	})
}
