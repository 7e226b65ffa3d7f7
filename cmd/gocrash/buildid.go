package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols/debuginfod"
)

// dumpVmlinux finds the debug vmlinux of the kernel that wrote the dump, by
// the build-id its VMCOREINFO carries (else the build-id note of the
// kernel image in its memory): in the places distributions install
// it, then through debuginfod (the client cache, then the servers of
// DEBUGINFOD_URLS), with a progress line on stderr while it downloads.
//
// When the build-id had to be read from the kernel's memory, that reading
// is returned too (dk, holding the open dump), so that the session does
// not read the image again: open uses its dump, and without a vmlinux
// makes the kernel image from it. The caller closes dk's dump when it
// does not use it.
func dumpVmlinux(ctx context.Context, dumpPaths []string, stderr io.Writer) (path string, dk *kernel.DumpKernel, err error) {
	d, err := memory.OpenFiles(dumpPaths...)
	if err != nil {
		return "", nil, err
	}
	vi := d.VMCoreInfo
	var id, release string
	if vi != nil {
		id, release = strings.ToLower(vi.BuildID()), vi.OSRelease()
	}
	if id == "" {
		// No VMCOREINFO BUILD-ID: the build-id note of the kernel image
		// in the dump's memory, found through its kallsyms.
		var rel string
		var err error
		if dk, err = kernel.ReadDumpKernel(d); err == nil {
			id, rel = dk.ID()
		}
		if id == "" {
			d.Close()
			why := "no build-id note among the kernel's notes in its memory"
			if err != nil {
				why = err.Error()
			}
			return "", nil, fmt.Errorf("%s carries no kernel build-id (no VMCOREINFO BUILD-ID; %s): name the vmlinux too (gocrash DUMPFILE VMLINUX)", dumpPaths[0], why)
		}
		if release == "" {
			release = rel
		}
	} else {
		d.Close()
	}
	local, lerr := pickVmlinux(vmlinuxCandidates(release, id), "the dump's kernel", release, id)
	if lerr == nil {
		return local, dk, nil
	}
	c := debuginfod.FromEnv()
	c.Progress = downloadProgress(stderr, id)
	p, err := c.Find(ctx, id)
	if err == nil {
		return p, dk, nil
	}
	if errors.Is(err, debuginfod.ErrNotFound) && len(c.URLs) == 0 {
		return "", dk, fmt.Errorf("%v; no debuginfod servers to ask (DEBUGINFOD_URLS is empty)", lerr)
	}
	return "", dk, fmt.Errorf("no debug vmlinux for the dump's kernel %s (build-id %s): not installed, and debuginfod: %v", release, id, err)
}

// downloadProgress reports a download on stderr: one line rewritten in
// place at a terminal, else a line every few seconds, and the total at the
// end.
func downloadProgress(stderr io.Writer, id string) func(url string, got, total int64, rate float64, done bool) {
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	var last time.Time
	return func(url string, got, total int64, rate float64, done bool) {
		size := mib(got)
		if total >= 0 {
			size += " of " + mib(total)
		}
		line := fmt.Sprintf("gocrash: downloading the vmlinux (build-id %s) from %s: %s, %s/s", id, url, size, mib(int64(rate)))
		switch {
		case tty && done:
			fmt.Fprintf(stderr, "\r%s\n", line)
		case tty:
			fmt.Fprintf(stderr, "\r%s", line)
		case done || time.Since(last) >= 5*time.Second:
			fmt.Fprintln(stderr, line)
			last = time.Now()
		}
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
