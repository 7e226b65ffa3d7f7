package symbols

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusLayoutCache: the layout answers a start got are remembered in
// the cache at Close and give the next start the same answers without
// indexing the BTF; a spoilt file is refused (the answers come from the
// BTF again) and rewritten.
func TestCorpusLayoutCache(t *testing.T) {
	type q struct{ kind, a, b string }
	qs := []q{{"S", "task_struct", ""}, {"O", "task_struct", "pid"}, {"O", "task_struct", "thread.sp"},
		{"O", "task_struct", "no_such_member"}, {"S", "no_such_struct", ""}, {"E", "PIDTYPE_PID", ""},
		{"E", "NO_SUCH_ENUMERATOR", ""}, {"O", "list_head", "next"}}
	ask := func(l *Layouts, x q) (int64, string) {
		var v int64
		var err error
		switch x.kind {
		case "S":
			v, err = l.Size(x.a)
		case "O":
			v, err = l.Offset(x.a, x.b)
		case "E":
			v, err = l.Enumerator(x.a)
		}
		if err != nil {
			return 0, err.Error()
		}
		return v, ""
	}
	seen := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		if seen[r.Vmlinux] {
			continue
		}
		seen[r.Vmlinux] = true
		t.Run(filepath.Base(filepath.Dir(r.Vmlinux)), func(t *testing.T) {
			dir := t.TempDir()
			open := func() *Vmlinux {
				v, err := OpenCached(r.Vmlinux, dir)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			v1 := open()
			want := map[q][2]any{}
			for _, x := range qs {
				val, msg := ask(v1.Layouts(), x)
				want[x] = [2]any{val, msg}
			}
			if v1.Layouts().memo.loaded {
				t.Fatal("a layout cache in an empty cache directory")
			}
			v1.Close()
			files, _ := filepath.Glob(filepath.Join(dir, "layouts-*.idx"))
			if len(files) != 1 {
				t.Fatalf("layout cache files: %v", files)
			}
			check := func(v *Vmlinux, fromCache bool) {
				t.Helper()
				l := v.Layouts()
				l.Preload()
				for _, x := range qs {
					val, msg := ask(l, x)
					if w := want[x]; w[0] != val || w[1] != msg {
						t.Errorf("%v: %d %q, want %v %q", x, val, msg, w[0], w[1])
					}
				}
				if l.memo.loaded != fromCache || fromCache && l.btf != nil {
					t.Errorf("answers from the cache: %v (BTF indexed: %v), want %v", l.memo.loaded, l.btf != nil, fromCache)
				}
			}
			v2 := open()
			check(v2, true)
			v2.Close()
			b, _ := os.ReadFile(files[0])
			b[len(b)-2] ^= 0x41
			os.WriteFile(files[0], b, 0o644)
			v3 := open()
			check(v3, false)
			v3.Close()
			v4 := open()
			check(v4, true)
			v4.Close()
		})
	}
}
