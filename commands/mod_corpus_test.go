package commands_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusMod: on every dump, mod lists the modules of the guest's
// /proc/modules with their sizes (crash's core size equals /proc/modules'
// size once init memory is freed); on the x86_64 kdump runs the text equals
// crash 8.0.2's.
func TestCorpusMod(t *testing.T) {
	compared := 0
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		s := openSession(t, r, r.Files[0])
		var out bytes.Buffer
		if err := s.Registry.Run(context.Background(), s, []string{"mod"}, &out); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if len(truth.Modules) == 0 {
			t.Fatal("the guest listed no modules")
		}
		if len(lines) != len(truth.Modules)+1 {
			t.Errorf("%d lines for %d modules:\n%s", len(lines), len(truth.Modules), out.String())
		}
		got := map[string]string{}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) < 5 {
				t.Fatalf("short line %q", l)
			}
			got[f[1]] = f[3]
		}
		for _, m := range truth.Modules {
			if got[m.Name] != strconv.Itoa(m.Size) {
				t.Errorf("module %s: size %q, the guest's /proc/modules said %d", m.Name, got[m.Name], m.Size)
			}
		}
		if r.Arch != "x86_64" || r.Method != "kdump" {
			return
		}
		want := crashAnswers(t, r, r.Files[0], []string{"mod"})[0]
		if !strings.Contains(want, "OBJECT FILE") {
			t.Fatalf("crash printed no module list: %q", want)
		}
		var wl []string
		for _, l := range strings.Split(want, "\n") {
			if l != "" && !strings.HasPrefix(l, "WARNING") {
				wl = append(wl, l)
			}
		}
		if strings.Join(wl, "\n") != strings.Join(lines, "\n") {
			t.Errorf("mod differs from crash 8.0.2's:\ncrash:\n%s\ngocrash:\n%s", strings.Join(wl, "\n"), out.String())
		}
		compared++
	})
	if compared == 0 {
		t.Error("no run was compared with crash")
	}
}
