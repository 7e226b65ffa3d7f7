// Package debuginfod finds debuginfo by build-id: in the client cache that
// elfutils' debuginfod-find keeps, else from the debuginfod servers of
// DEBUGINFOD_URLS (GET /buildid/ID/debuginfo). It owns the download: a
// timeout on a silent server, progress reports, the check that what came
// is the build-id asked for, and elfutils' cache layout
// (CACHE/BUILDID/debuginfo), so that the two tools share what they fetch.
package debuginfod

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocrash/gocrash/symbols"
)

// DefaultTimeout is how long a server may stay silent (no response, or no
// bytes of it) before it is given up: elfutils' DEBUGINFOD_TIMEOUT default.
const DefaultTimeout = 90 * time.Second

// Client fetches debuginfo files.
type Client struct {
	// URLs are the servers, asked in order.
	URLs []string
	// CacheDir is the client cache (elfutils' layout).
	CacheDir string
	// Timeout gives up a server that sends nothing for this long.
	Timeout time.Duration
	// MaxTime, when not zero, bounds a whole download (DEBUGINFOD_MAXTIME).
	MaxTime time.Duration
	// HTTP does the requests (http.DefaultClient's transport when nil).
	HTTP *http.Client
	// Progress, when set, is told how a download goes: the server, bytes
	// so far, the total (-1 when the server does not say) and the rate in
	// bytes a second; done is true on the last call.
	Progress func(url string, got, total int64, rate float64, done bool)
	// BuildID reads the build-id of a downloaded file, to check it
	// (ELFBuildID when nil: the GNU build-id note of an ELF file).
	BuildID func(path string) (string, error)
}

// FromEnv is a client configured as elfutils reads its environment:
// DEBUGINFOD_URLS (servers separated by spaces), DEBUGINFOD_CACHE_PATH
// (else $XDG_CACHE_HOME/debuginfod_client, else ~/.cache/debuginfod_client),
// DEBUGINFOD_TIMEOUT and DEBUGINFOD_MAXTIME (seconds).
func FromEnv() *Client {
	c := &Client{URLs: strings.Fields(os.Getenv("DEBUGINFOD_URLS")), Timeout: DefaultTimeout}
	c.CacheDir = os.Getenv("DEBUGINFOD_CACHE_PATH")
	if c.CacheDir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			if home, err := os.UserHomeDir(); err == nil {
				cache = filepath.Join(home, ".cache")
			}
		}
		if cache != "" {
			c.CacheDir = filepath.Join(cache, "debuginfod_client")
		}
	}
	if s, err := strconv.Atoi(os.Getenv("DEBUGINFOD_TIMEOUT")); err == nil && s > 0 {
		c.Timeout = time.Duration(s) * time.Second
	}
	if s, err := strconv.Atoi(os.Getenv("DEBUGINFOD_MAXTIME")); err == nil && s > 0 {
		c.MaxTime = time.Duration(s) * time.Second
	}
	return c
}

// ErrNotFound is wrapped by Find's error when no server has the build-id.
var ErrNotFound = errors.New("not found")

// CachePath is where the cache keeps the debuginfo of build-id id.
func (c *Client) CachePath(id string) string {
	return filepath.Join(c.CacheDir, id, "debuginfo")
}

// Cached returns the cached debuginfo of id, if the cache has it.
func (c *Client) Cached(id string) (string, bool) {
	if c.CacheDir == "" || !validID(id) {
		return "", false
	}
	p := c.CachePath(id)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		return p, true
	}
	return "", false
}

// Find returns the path of the debuginfo with build-id id: the cached
// file, else one downloaded from the first server that has it (checked
// against id, then cached). Its error names the build-id and every server
// tried, with what each answered.
func (c *Client) Find(ctx context.Context, id string) (string, error) {
	id = strings.ToLower(id)
	if !validID(id) {
		return "", fmt.Errorf("debuginfod: %q is not a build-id", id)
	}
	if p, ok := c.Cached(id); ok {
		return p, nil
	}
	if len(c.URLs) == 0 {
		return "", fmt.Errorf("no debuginfo for build-id %s: %w (no servers: DEBUGINFOD_URLS is empty)", id, ErrNotFound)
	}
	if c.CacheDir == "" {
		return "", fmt.Errorf("debuginfod: no cache directory (set DEBUGINFOD_CACHE_PATH)")
	}
	var tried []string
	notFound := true
	for _, base := range c.URLs {
		p, err := c.fetch(ctx, base, id)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, ErrNotFound) {
			notFound = false
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", base, err))
		if ctx.Err() != nil {
			break
		}
	}
	if notFound {
		return "", fmt.Errorf("no debuginfo for build-id %s: %w on %s", id, ErrNotFound, strings.Join(tried, ", "))
	}
	return "", fmt.Errorf("no debuginfo for build-id %s: tried %s", id, strings.Join(tried, ", "))
}

func validID(id string) bool {
	if len(id) < 8 || len(id)%2 != 0 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// fetch downloads base's debuginfo of id into the cache.
func (c *Client) fetch(ctx context.Context, base, id string) (string, error) {
	url := strings.TrimSuffix(base, "/") + "/buildid/" + id + "/debuginfo"
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if c.MaxTime > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, c.MaxTime, fmt.Errorf("download took more than %v (DEBUGINFOD_MAXTIME)", c.MaxTime))
		defer stop()
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// A watchdog gives up a server that stays silent for timeout: before
	// it answers, and between the bytes of its answer.
	silent := fmt.Errorf("no answer for %v (DEBUGINFOD_TIMEOUT)", timeout)
	watchdog := time.AfterFunc(timeout, func() { cancel(silent) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return "", cause
		}
		return "", err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("%w: %s", ErrNotFound, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return "", errors.New(resp.Status)
	}
	dir := filepath.Join(c.CacheDir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".debuginfo.*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	start := time.Now()
	var got int64
	report := func(done bool) {
		if c.Progress != nil {
			rate := float64(got) / max(time.Since(start).Seconds(), 1e-3)
			c.Progress(base, got, resp.ContentLength, rate, done)
		}
	}
	buf := make([]byte, 1<<20)
	last := time.Now()
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			watchdog.Reset(timeout)
			if _, err := tmp.Write(buf[:n]); err != nil {
				tmp.Close()
				return "", err
			}
			got += int64(n)
			if time.Since(last) > 250*time.Millisecond {
				report(false)
				last = time.Now()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			tmp.Close()
			if cause := context.Cause(ctx); cause != nil {
				return "", cause
			}
			return "", rerr
		}
	}
	report(true)
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if resp.ContentLength >= 0 && got != resp.ContentLength {
		return "", fmt.Errorf("download cut short: %d of %d bytes", got, resp.ContentLength)
	}
	readID := c.BuildID
	if readID == nil {
		readID = ELFBuildID
	}
	gotID, err := readID(tmp.Name())
	switch {
	case err != nil:
		return "", fmt.Errorf("what it sent is not debuginfo: %v", err)
	case gotID != id:
		return "", fmt.Errorf("what it sent has build-id %q", gotID)
	}
	final := c.CachePath(id)
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	return final, nil
}

// ELFBuildID reads the GNU build-id note of an ELF file, in hex.
func ELFBuildID(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	id, err := symbols.ELFBuildID(f)
	if err == nil && id == "" {
		err = errors.New("no build-id note")
	}
	return id, err
}
