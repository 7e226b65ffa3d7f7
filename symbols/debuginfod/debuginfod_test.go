package debuginfod

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// elfWithBuildID builds a small ELF executable with a build-id and returns
// its path and build-id.
func elfWithBuildID(t *testing.T, dir, name, style string) (string, string) {
	t.Helper()
	src := filepath.Join(dir, name+".c")
	if err := os.WriteFile(src, []byte("int main(void) { return "+string(rune('0'+len(name)%10))+"; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if o, err := exec.Command("gcc", "-Wl,--build-id="+style, "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, o)
	}
	id, err := ELFBuildID(out)
	if err != nil || len(id) < 16 {
		t.Fatalf("build-id of %s: %q %v", out, id, err)
	}
	return out, id
}

// server serves files by build-id as a debuginfod does, counting requests.
func server(t *testing.T, files map[string]string, hits *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		id, ok := strings.CutPrefix(r.URL.Path, "/buildid/")
		id, ok2 := strings.CutSuffix(id, "/debuginfo")
		if p, have := files[id]; ok && ok2 && have {
			http.ServeFile(w, r, p)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	a, idA := elfWithBuildID(t, dir, "a", "sha1")
	b, idB := elfWithBuildID(t, dir, "bb", "md5")
	var hits1, hits2 atomic.Int32
	empty := server(t, map[string]string{}, &hits1)
	// The second server has a, and serves b's file for a third id (a
	// server that sends the wrong file).
	wrongID := strings.Repeat("ab", 20)
	full := server(t, map[string]string{idA: a, wrongID: b}, &hits2)
	var progress []string
	c := &Client{URLs: []string{empty.URL, full.URL}, CacheDir: filepath.Join(dir, "cache"), Timeout: 5 * time.Second,
		Progress: func(url string, got, total int64, rate float64, done bool) {
			if done {
				progress = append(progress, url)
			}
			if got > total && total >= 0 || rate < 0 {
				t.Errorf("progress %d of %d at %f", got, total, rate)
			}
		}}
	p, err := c.Find(context.Background(), strings.ToUpper(idA))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "cache", idA, "debuginfo"); p != want {
		t.Errorf("path %s, want elfutils' layout %s", p, want)
	}
	if got, _ := ELFBuildID(p); got != idA {
		t.Errorf("cached file's build-id %s, want %s", got, idA)
	}
	if len(progress) != 1 || progress[0] != full.URL {
		t.Errorf("progress reports %v", progress)
	}
	// From the cache: no request.
	n1, n2 := hits1.Load(), hits2.Load()
	if p2, err := c.Find(context.Background(), idA); err != nil || p2 != p || hits1.Load() != n1 || hits2.Load() != n2 {
		t.Errorf("second find: %s %v, requests %d %d -> %d %d", p2, err, n1, n2, hits1.Load(), hits2.Load())
	}
	// A file of another build-id is refused and not cached.
	if _, err := c.Find(context.Background(), wrongID); err == nil || !strings.Contains(err.Error(), "has build-id \""+idB+"\"") {
		t.Errorf("wrong file: %v", err)
	}
	if _, ok := c.Cached(wrongID); ok {
		t.Error("the wrong file was cached")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "cache", wrongID)); len(ents) != 0 {
		t.Errorf("left in the cache: %v", ents)
	}
	// Nobody has it: one line naming the build-id and each server.
	missing := strings.Repeat("cd", 20)
	_, err = c.Find(context.Background(), missing)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), empty.URL) ||
		!strings.Contains(err.Error(), full.URL) || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing: %v", err)
	}
	if _, err := c.Find(context.Background(), "xyz"); err == nil {
		t.Error("a bad build-id was looked up")
	}
}

// TestFindTimeout: a server that never answers is given up after the
// timeout, and one that stops sending mid-file too.
func TestFindTimeout(t *testing.T) {
	dir := t.TempDir()
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer stuck.Close()
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer stall.Close()
	id := strings.Repeat("ef", 20)
	for _, u := range []string{stuck.URL, stall.URL} {
		c := &Client{URLs: []string{u}, CacheDir: dir, Timeout: 300 * time.Millisecond}
		start := time.Now()
		_, err := c.Find(context.Background(), id)
		if err == nil || !strings.Contains(err.Error(), "DEBUGINFOD_TIMEOUT") || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %v after %v", u, err, time.Since(start))
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", " http://a.example  https://b.example/ ")
	t.Setenv("DEBUGINFOD_CACHE_PATH", "")
	t.Setenv("XDG_CACHE_HOME", "/x")
	t.Setenv("DEBUGINFOD_TIMEOUT", "7")
	c := FromEnv()
	if strings.Join(c.URLs, ",") != "http://a.example,https://b.example/" || c.CacheDir != "/x/debuginfod_client" || c.Timeout != 7*time.Second {
		t.Errorf("%+v", c)
	}
	t.Setenv("DEBUGINFOD_CACHE_PATH", "/y")
	if c := FromEnv(); c.CacheDir != "/y" {
		t.Errorf("cache %s", c.CacheDir)
	}
}
