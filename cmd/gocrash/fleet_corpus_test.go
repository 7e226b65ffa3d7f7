package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols/debuginfod"
)

// fleetRecipe returns the shell code of docs/fleet.md's block marked
// "<!-- recipe: NAME -->".
func fleetRecipe(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- recipe: " + regexp.QuoteMeta(name) + " -->\n```sh\n(.*?)```")
	m := re.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("docs/fleet.md has no recipe %q", name)
	}
	return string(m[1])
}

// triageJSON is what the fleet test compares of a report.
type triageJSON struct {
	Command string `json:"command"`
	Data    struct {
		Crash struct {
			Kind string `json:"kind"`
		} `json:"crash"`
		Signature TriageSignatureJSON `json:"signature"`
	} `json:"data"`
}

// TriageSignatureJSON is the signature's JSON.
type TriageSignatureJSON struct {
	Hash     string `json:"hash"`
	Kind     string `json:"kind"`
	Function string `json:"function"`
}

// TestCorpusFleetRecipe runs docs/fleet.md's recipe (GNU parallel, or
// xargs -P where it is not installed) over a directory of corpus dumps laid
// out as kdump leaves them (NAME/vmcore), the vmlinuxes found by build-id
// in a debuginfod cache, with the gocrash binary built here; then its jq
// grouping. Each report must be the one JSON line, with the kind and
// signature, of a single gocrash --json triage DUMP VMLINUX, every status
// 0, and the grouping must count each signature's dumps.
func TestCorpusFleetRecipe(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Fatal("jq is not installed (apt-get install jq)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "gocrash")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dumps, cache := filepath.Join(dir, "dumps"), filepath.Join(dir, "debuginfo")
	for _, d := range []string{dumps, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Each run with VMCOREINFO (a build-id) lends its first single-file
	// dump; the single-process answer is the reference.
	want := map[string]triageJSON{}
	for _, r := range append(corpus.Runs(t), corpus.CrashRuns(t)...) {
		if !r.VMCoreInfo {
			continue
		}
		var f *corpus.File
		for i := range r.Files {
			if r.Files[i].Parts == nil {
				f = &r.Files[i]
				break
			}
		}
		if f == nil {
			continue
		}
		id, err := debuginfod.ELFBuildID(r.Vmlinux)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(cache, id), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(r.Vmlinux, filepath.Join(cache, id, "debuginfo")); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dumps, r.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(f.Path, filepath.Join(dumps, r.Name, "vmcore")); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--json", "triage", f.Path, r.Vmlinux)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache1"))
		js, _ := cmd.Output()
		var one triageJSON
		if err := json.Unmarshal(js, &one); err != nil {
			t.Fatalf("%s: single triage: %v\n%s", r.Name, err, js)
		}
		want[r.Name] = one
	}
	if len(want) < 4 {
		t.Fatalf("only %d corpus runs to triage", len(want))
	}
	recipes := []string{"xargs"}
	if _, err := exec.LookPath("parallel"); err == nil {
		recipes = append(recipes, "parallel")
	} else if os.Getenv("GOCRASH_CORPUS_REQUIRED") != "" {
		// The corpus build (ensure_tools) installs it with the other tools.
		t.Fatalf("GNU parallel is not installed: testdata/corpus/build.sh installs it")
	} else {
		t.Logf("GNU parallel is not installed: the xargs -P recipe only")
	}
	for _, recipe := range recipes {
		t.Run(recipe, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+recipe)
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			fleetRun(t, recipe, bin, dumps, out, cache, filepath.Join(dir, "cache-"+recipe), want)
		})
	}
}

// fleetRun runs one recipe and checks its reports against want.
func fleetRun(t *testing.T, recipe, bin, dumps, out, cache, xdg string, want map[string]triageJSON) {
	sh := exec.Command("sh", "-ec", fleetRecipe(t, recipe))
	sh.Env = append(os.Environ(), "DUMPS="+dumps, "OUT="+out, "JOBS=2", "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"),
		"DEBUGINFOD_CACHE_PATH="+cache, "DEBUGINFOD_URLS=", "XDG_CACHE_HOME="+xdg)
	if o, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the %s recipe: %v\n%s", recipe, err, o)
	}
	status, err := os.ReadFile(filepath.Join(out, "status"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(status)), "\n")
	sort.Strings(lines)
	if len(lines) != len(want) {
		t.Errorf("%d status lines for %d dumps:\n%s", len(lines), len(want), status)
	}
	for _, l := range lines {
		code, name, _ := strings.Cut(l, " ")
		w, ok := want[name]
		if !ok {
			t.Errorf("status of an unknown dump: %q", l)
			continue
		}
		js, err := os.ReadFile(filepath.Join(out, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var got triageJSON
		if strings.Count(string(js), "\n") != 1 || json.Unmarshal(js, &got) != nil {
			t.Errorf("%s: stdout is not one JSON line:\n%s", name, js)
			continue
		}
		if code != "0" || got.Command != "triage" || got.Data.Crash.Kind != w.Data.Crash.Kind || got.Data.Signature != w.Data.Signature {
			errs, _ := os.ReadFile(filepath.Join(out, name+".err"))
			t.Errorf("%s: exit %s, kind %q signature %+v; alone: kind %q signature %+v; stderr %q",
				name, code, got.Data.Crash.Kind, got.Data.Signature, w.Data.Crash.Kind, w.Data.Signature, errs)
		}
	}
	// The grouping: one line per signature, its count, kind and function,
	// and the dumps that have it.
	group := exec.Command("sh", "-ec", fleetRecipe(t, "group"))
	group.Env = append(os.Environ(), "OUT="+out)
	g, err := group.Output()
	if err != nil {
		t.Fatalf("the group recipe: %v", err)
	}
	bySig := map[string][]string{}
	for name, w := range want {
		bySig[w.Data.Signature.Hash] = append(bySig[w.Data.Signature.Hash], name)
	}
	glines := strings.Split(strings.TrimSpace(string(g)), "\n")
	if len(glines) != len(bySig) {
		t.Errorf("%d groups, want %d:\n%s", len(glines), len(bySig), g)
	}
	for _, l := range glines {
		f := strings.Fields(l)
		if len(f) < 5 {
			t.Errorf("group line %q", l)
			continue
		}
		names := bySig[f[1]]
		if f[0] != strconv.Itoa(len(names)) || len(f)-4 != len(names) {
			t.Errorf("group %q: want %d dumps %v", l, len(names), names)
		}
	}
	t.Logf("%d dumps, %d signatures, by %s:\n%s", len(want), len(bySig), recipe, g)
}
