package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols/debuginfod"
)

var triageSignatureRE = regexp.MustCompile(`(?m)^SIGNATURE: ([0-9a-f]{16})  (\S+) in \S+`)

// TestCorpusTriageCommandLine: gocrash triage DUMPFILE VMLINUX on the first
// dump file of every crash-kind run prints the report and exits 0; with
// --json it prints one JSON line with the same signature; with the dump
// alone it finds the vmlinux by the dump's build-id (here in a debuginfod
// client cache) and gives the same signature; with no dump it exits 2.
func TestCorpusTriageCommandLine(t *testing.T) {
	if code, _, errs := runGocrash(t, "", "triage"); code != 2 || !strings.Contains(errs, "triage needs a dump file") {
		t.Errorf("triage alone: exit %d, %q", code, errs)
	}
	corpus.ForEachCrashRun(t, func(t *testing.T, r *corpus.Run) {
		f := r.Files[0]
		code, out, errs := runGocrash(t, "", append([]string{"triage"}, append(f.Paths(), r.Vmlinux)...)...)
		m := triageSignatureRE.FindStringSubmatch(out)
		if code != 0 || m == nil || !strings.HasPrefix(out, "CRASH\n") {
			t.Fatalf("exit %d, stderr %q, output:\n%s", code, errs, out)
		}
		code, js, errs := runGocrash(t, "", append([]string{"--json", "triage", r.Vmlinux}, f.Paths()...)...)
		var env struct {
			Command string
			Data    struct {
				Crash struct {
					Kind string `json:"kind"`
				} `json:"crash"`
				Signature struct {
					Hash string `json:"hash"`
				} `json:"signature"`
			} `json:"data"`
		}
		if code != 0 || strings.Count(js, "\n") != 1 || errs != "" {
			t.Fatalf("--json: exit %d, stderr %q, %d lines", code, errs, strings.Count(js, "\n"))
		}
		if err := json.Unmarshal([]byte(js), &env); err != nil {
			t.Fatal(err)
		}
		if env.Data.Signature.Hash != m[1] || env.Data.Crash.Kind != m[2] {
			t.Errorf("--json: signature %s kind %s, text %s %s", env.Data.Signature.Hash, env.Data.Crash.Kind, m[1], m[2])
		}
		if !r.VMCoreInfo {
			return
		}
		id, err := debuginfod.ELFBuildID(r.Vmlinux)
		if err != nil {
			t.Fatal(err)
		}
		cache := t.TempDir()
		if err := os.MkdirAll(filepath.Join(cache, id), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(r.Vmlinux, filepath.Join(cache, id, "debuginfo")); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DEBUGINFOD_CACHE_PATH", cache)
		t.Setenv("DEBUGINFOD_URLS", "")
		code, out2, errs := runGocrash(t, "", append([]string{"triage"}, f.Paths()...)...)
		if m2 := triageSignatureRE.FindStringSubmatch(out2); code != 0 || m2 == nil || m2[1] != m[1] {
			t.Errorf("by build-id: exit %d, stderr %q, signature %q, want %s", code, errs, m2, m[1])
		}
	})
}
