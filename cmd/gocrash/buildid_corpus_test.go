package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols/debuginfod"
)

// TestCorpusDumpAloneDebuginfod: "gocrash DUMPFILE" with no vmlinux named
// reads the kernel's build-id from the dump's VMCOREINFO and gets the
// vmlinux from a debuginfod server (one started here on 127.0.0.1, serving
// the corpus's vmlinuxes by build-id as debuginfod does): the first server
// asked has nothing, the second has it; the download reports its progress
// on stderr, lands in elfutils' cache layout, and sys then answers as with
// the vmlinux named. A second start is served from the cache, with no
// request, and elfutils' debuginfod-find finds the file there too; and a
// dump whose build-id no server has gets one line naming it.
func TestCorpusDumpAloneDebuginfod(t *testing.T) {
	findBin, err := exec.LookPath("debuginfod-find")
	if err != nil {
		t.Fatal("debuginfod-find is not installed: make corpus installs Debian's debuginfod")
	}
	byID := map[string]string{}
	var x86, arm *corpus.Run
	for _, r := range corpus.Runs(t) {
		id, err := debuginfod.ELFBuildID(r.Vmlinux)
		if err != nil {
			t.Fatalf("%s: %v", r.Vmlinux, err)
		}
		byID[id] = r.Vmlinux
		switch {
		case r.VMCoreInfo && r.Method == "kdump" && r.Arch == "x86_64" && x86 == nil:
			x86 = r
		case r.VMCoreInfo && r.Arch == "arm64" && arm == nil:
			arm = r
		}
	}
	if x86 == nil || arm == nil {
		t.Fatal("want an x86_64 kdump run and an arm64 run with VMCOREINFO")
	}
	runs := []*corpus.Run{x86, arm}
	var hits, misses atomic.Int32
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		misses.Add(1)
		http.NotFound(w, r)
	}))
	defer empty.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		id, ok := strings.CutPrefix(r.URL.Path, "/buildid/")
		id, ok2 := strings.CutSuffix(id, "/debuginfo")
		if p, have := byID[id]; ok && ok2 && have {
			http.ServeFile(w, r, p)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	cache := t.TempDir()
	t.Setenv("DEBUGINFOD_URLS", empty.URL+" "+srv.URL)
	t.Setenv("DEBUGINFOD_CACHE_PATH", cache)
	for _, r := range runs {
		t.Run(r.Name, func(t *testing.T) {
			dump := r.Files[0].Path
			_, want, _ := runGocrash(t, "sys\n", "-s", r.Vmlinux, dump)
			before := hits.Load()
			code, got, errs := runGocrash(t, "sys\n", "-s", dump)
			if code != 0 {
				t.Fatalf("gocrash %s: exit %d: %s", dump, code, errs)
			}
			if hits.Load() != before+1 {
				t.Errorf("%d requests to the server that has it, want 1", hits.Load()-before)
			}
			if !strings.Contains(errs, "gocrash: downloading the vmlinux (build-id ") || !strings.Contains(errs, srv.URL) || !strings.Contains(errs, "MiB/s") {
				t.Errorf("no progress line on stderr: %q", errs)
			}
			id, _ := debuginfod.ELFBuildID(r.Vmlinux)
			cached := filepath.Join(cache, id, "debuginfo")
			if fi, err := os.Stat(cached); err != nil || fi.Size() == 0 {
				t.Fatalf("not in the cache at %s: %v", cached, err)
			}
			// sys names the vmlinux it opened: the cached file.
			want = strings.Replace(want, r.Vmlinux, cached, 1)
			if got != want {
				t.Errorf("sys by build-id:\n%s\nwith the vmlinux named:\n%s", got, want)
			}
			// elfutils' own client finds gocrash's download in the shared
			// cache, asking no server (the one named is closed).
			find := exec.Command(findBin, "debuginfo", id)
			find.Env = append(os.Environ(), "DEBUGINFOD_CACHE_PATH="+cache, "DEBUGINFOD_URLS=http://127.0.0.1:9")
			if out, err := find.Output(); err != nil || strings.TrimSpace(string(out)) != cached {
				t.Errorf("debuginfod-find debuginfo %s: %q %v, want %s", id, out, err, cached)
			}
			before, beforeMiss := hits.Load(), misses.Load()
			if code, got2, errs := runGocrash(t, "sys\n", "-s", dump); code != 0 || got2 != got || hits.Load() != before || misses.Load() != beforeMiss || errs != "" {
				t.Errorf("from the cache: exit %d, %d+%d requests, stderr %q", code, hits.Load()-before, misses.Load()-beforeMiss, errs)
			}
		})
	}
	// A server that has nothing: one line with the build-id and the
	// server, and gocrash goes on from the dump alone (issue 18).
	t.Setenv("DEBUGINFOD_URLS", empty.URL)
	t.Setenv("DEBUGINFOD_CACHE_PATH", t.TempDir())
	dump := runs[0].Files[0].Path
	code, _, errs := runGocrash(t, "sys\n", "-s", dump)
	id, _ := debuginfod.ELFBuildID(runs[0].Vmlinux)
	if code != 0 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, id) || !strings.Contains(errs, empty.URL) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
