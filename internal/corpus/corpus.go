// Package corpus finds the project's corpus of real kernel dumps (built by
// testdata/corpus/build.sh under $XDG_CACHE_HOME/gocrash/corpus) and parses
// the ground truth each guest printed before it crashed, so that any
// package's integration test can say "for every corpus dump, check X against
// the guest's own answer".
//
// Besides the runs under dumps/, the corpus has busy runs (BusyRuns, built
// by testdata/corpus/build-busy.sh: a guest with a mounted disk doing I/O,
// sockets and ARP entries) and a large-machine run (LargeRun, built by
// testdata/corpus/build-large.sh: 8 GiB, 4 CPUs, thousands of tasks),
// which Runs, ForEachRun and ForEachFile leave out.
//
// When the corpus is missing, tests skip with a message saying how to build
// it, unless GOCRASH_CORPUS_REQUIRED=1 (set by 'make test', which builds the
// corpus first), where a missing corpus fails the test.
package corpus

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// File is one dump file of a run.
type File struct {
	Path     string   // absolute
	Parts    []string // absolute paths of every file of a split dump (Path is the first), else nil
	Name     string   // file name, e.g. "vmcore.zlib"
	Format   string   // "elf", "kdump", "flattened"
	Filtered bool
	How      string
}

// Run is one guest boot and crash, with the dump files made from it.
type Run struct {
	Name           string
	Arch           string // "x86_64", "arm64"
	Release        string
	PackageVersion string
	Method         string // "kdump", "qemu"
	CPUs           int
	MemoryMiB      int
	Dir            string
	Vmlinux        string // absolute path of the debug vmlinux
	// VMCoreInfo: the dumps carry a VMCOREINFO note (false for QEMU dumps
	// taken without -device vmcoreinfo).
	VMCoreInfo bool
	// Crash is how the guest crashed: "sysrq" (echo c > /proc/sysrq-trigger;
	// manifests from before crash kinds say nothing and mean it), or a kind
	// of the corpus's test module gocrash_test: "oops", "oops-timer", "bug",
	// "warn", "softlockup", "hungtask".
	Crash string
	// Modules are the out-of-tree module files (with their DWARF) the guest
	// loaded, kept with the run: the test module's gocrash_test.ko.
	Modules []string
	// Tasks is how many tasks the large run's workload made (0 elsewhere).
	Tasks     int
	Files     []File
	truthOnce sync.Once
	truth     *Truth
	truthErr  error
}

type manifest struct {
	Name           string   `json:"name"`
	Arch           string   `json:"arch"`
	Release        string   `json:"release"`
	PackageVersion string   `json:"package_version"`
	Method         string   `json:"method"`
	CPUs           int      `json:"cpus"`
	MemoryMiB      int      `json:"memory_mib"`
	Vmlinux        string   `json:"vmlinux"`
	VMCoreInfo     *bool    `json:"vmcoreinfo"`
	Crash          string   `json:"crash"`
	Modules        []string `json:"modules"`
	Tasks          int      `json:"tasks"`
	Dumps          []struct {
		File     string   `json:"file"`
		Parts    []string `json:"parts"`
		Format   string   `json:"format"`
		Filtered bool     `json:"filtered"`
		How      string   `json:"how"`
	} `json:"dumps"`
}

// Root is where the corpus lives: $GOCRASH_CORPUS, else
// $XDG_CACHE_HOME/gocrash/corpus, else ~/.cache/gocrash/corpus.
func Root() string {
	if r := os.Getenv("GOCRASH_CORPUS"); r != "" {
		return r
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "gocrash", "corpus")
}

// Load reads every run's manifest under root/dumps: every run, whatever its
// crash (Runs and CrashRuns each give tests their share).
func Load(root string) ([]*Run, error) {
	return loadRuns(filepath.Join(root, "dumps"))
}

// loadRuns reads the manifest of every run directory under dir.
func loadRuns(dir string) ([]*Run, error) {
	manifests, err := filepath.Glob(filepath.Join(dir, "*", "manifest.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(manifests)
	var runs []*Run
	for _, mpath := range manifests {
		b, err := os.ReadFile(mpath)
		if err != nil {
			return nil, err
		}
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %v", mpath, err)
		}
		dir := filepath.Dir(mpath)
		r := &Run{Name: m.Name, Arch: m.Arch, Release: m.Release, PackageVersion: m.PackageVersion,
			Method: m.Method, CPUs: m.CPUs, MemoryMiB: m.MemoryMiB, Dir: dir, Vmlinux: abs(dir, m.Vmlinux),
			VMCoreInfo: m.VMCoreInfo == nil || *m.VMCoreInfo, Crash: m.Crash, Tasks: m.Tasks}
		if r.Crash == "" {
			r.Crash = "sysrq"
		}
		for _, p := range m.Modules {
			r.Modules = append(r.Modules, abs(dir, p))
		}
		for _, d := range m.Dumps {
			f := File{Path: abs(dir, d.File), Name: d.File, Format: d.Format, Filtered: d.Filtered, How: d.How}
			for _, p := range d.Parts {
				f.Parts = append(f.Parts, abs(dir, p))
			}
			r.Files = append(r.Files, f)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// Truth parses the run's console log (once).
func (r *Run) Truth() (*Truth, error) {
	r.truthOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(r.Dir, "console.log"))
		if err != nil {
			r.truthErr = err
			return
		}
		r.truth, r.truthErr = ParseConsole(string(b))
	})
	return r.truth, r.truthErr
}

// Runs returns the corpus's sysrq-c runs for a test (the runs every test
// written before crash kinds assumes: a panic through sysrq's handler and
// the system call it came from): it skips the test when there is no
// corpus, or fails it when GOCRASH_CORPUS_REQUIRED=1.
func Runs(t testing.TB) []*Run {
	t.Helper()
	return selectRuns(t, "sysrq", func(r *Run) bool { return r.Crash == "sysrq" })
}

// CrashRuns returns the runs crashed by the test module (Crash other than
// "sysrq"), skipping or failing the test as Runs does when there are none.
func CrashRuns(t testing.TB) []*Run {
	t.Helper()
	return selectRuns(t, "crash-kind", func(r *Run) bool { return r.Crash != "sysrq" })
}

func selectRuns(t testing.TB, what string, keep func(*Run) bool) []*Run {
	t.Helper()
	root := Root()
	all, err := Load(root)
	if err != nil {
		t.Fatalf("corpus at %s: %v", root, err)
	}
	var runs []*Run
	for _, r := range all {
		if keep(r) {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		msg := fmt.Sprintf("no %s corpus dumps under %s; build them with 'make corpus' (root, ~10 minutes)", what, root)
		if os.Getenv("GOCRASH_CORPUS_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return runs
}

// ForEachFile runs fn as a subtest for every dump file of every sysrq run.
func ForEachFile(t *testing.T, fn func(t *testing.T, r *Run, f File)) {
	for _, r := range Runs(t) {
		for _, f := range r.Files {
			t.Run(r.Name+"/"+f.Name, func(t *testing.T) { fn(t, r, f) })
		}
	}
}

// ForEachRun runs fn as a subtest for every sysrq run.
func ForEachRun(t *testing.T, fn func(t *testing.T, r *Run)) {
	for _, r := range Runs(t) {
		t.Run(r.Name, func(t *testing.T) { fn(t, r) })
	}
}

// ForEachVmlinux runs fn as a subtest for one sysrq run of each corpus
// vmlinux (the first in Runs' order that has a dump file).
func ForEachVmlinux(t *testing.T, fn func(t *testing.T, r *Run)) {
	seen := map[string]bool{}
	for _, r := range Runs(t) {
		if !seen[r.Vmlinux] && len(r.Files) > 0 {
			seen[r.Vmlinux] = true
			t.Run(r.Name, func(t *testing.T) { fn(t, r) })
		}
	}
}

// ForEachCrashRun runs fn as a subtest for every run the test module
// crashed (see Run.Crash).
func ForEachCrashRun(t *testing.T, fn func(t *testing.T, r *Run)) {
	for _, r := range CrashRuns(t) {
		t.Run(r.Name, func(t *testing.T) { fn(t, r) })
	}
}

// Paths returns the file's path, or every part of a split dump.
func (f File) Paths() []string {
	if len(f.Parts) > 0 {
		return f.Parts
	}
	return []string{f.Path}
}

// CopyPrefix copies the first n bytes of src to dst: a dump cut short.
func CopyPrefix(t testing.TB, src, dst string, n int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.CopyN(out, in, n); err != nil {
		t.Fatal(err)
	}
}

// OldFilterName is the damaged dump build.sh keeps beside one 6.12 kdump
// run's files: its raw vmcore filtered by Debian 12's makedumpfile 1.7.2
// (-c -d 31), which predates 6.12's page types and leaves out live slab
// pages (task_structs among them). It is not in the run's manifest, so
// ForEachFile and the tests over a run's files do not see it.
const OldFilterName = "vmcore.mdf172"

// OldFilterDump returns the run that holds the damaged dump and the dump
// (see OldFilterName), skipping the test when the corpus has none, or
// failing it when GOCRASH_CORPUS_REQUIRED=1.
func OldFilterDump(t testing.TB) (*Run, File) {
	t.Helper()
	for _, r := range CrashRuns(t) {
		p := filepath.Join(r.Dir, OldFilterName)
		if _, err := os.Stat(p); err == nil {
			return r, File{Path: p, Name: OldFilterName, Format: "kdump", Filtered: true,
				How: "makedumpfile 1.7.2 -c -d 31 (Debian 12's, older than the kernel)"}
		}
	}
	msg := fmt.Sprintf("no %s under %s; build.sh makes it (bash testdata/corpus/build.sh)", OldFilterName, Root())
	if os.Getenv("GOCRASH_CORPUS_REQUIRED") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil, File{}
}
