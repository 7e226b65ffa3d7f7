package main

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"github.com/gocrash/gocrash/symbols"
	"golang.org/x/sys/unix"
)

// Live systems: "gocrash" with no dump reads the running kernel through
// /proc/kcore, and with no vmlinux named finds the running kernel's debug
// vmlinux by its build-id where distributions install it.

// notesPath holds the running kernel's ELF notes (its build-id among them).
const notesPath = "/sys/kernel/notes"

// runningBuildID reads the running kernel's GNU build-id note.
func runningBuildID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	id := buildIDFromNotes(b)
	if id == "" {
		return "", fmt.Errorf("%s holds no build-id note", path)
	}
	return id, nil
}

// buildIDFromNotes finds the build-id in the running kernel's notes
// (native byte order).
func buildIDFromNotes(b []byte) string { return symbols.NoteBuildID(b, binary.NativeEndian) }

// vmlinuxCandidates are the places a debug vmlinux for release (with
// build-id id) is looked for, in order.
func vmlinuxCandidates(release, id string) []string {
	c := []string{
		"/usr/lib/debug/boot/vmlinux-" + release,
		"/usr/lib/debug/lib/modules/" + release + "/vmlinux",
		"/boot/vmlinux-" + release,
		"/lib/modules/" + release + "/build/vmlinux",
	}
	if len(id) > 2 {
		c = append(c, "/usr/lib/debug/.build-id/"+id[:2]+"/"+id[2:]+".debug")
	}
	return c
}

// fileBuildID reads the build-id of an ELF file (or a block device
// holding one).
func fileBuildID(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return symbols.ELFBuildID(f)
}

// findRunningVmlinux finds the debug vmlinux whose build-id is the running
// kernel's.
func findRunningVmlinux() (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", err
	}
	release := unix.ByteSliceToString(uts.Release[:])
	id, err := runningBuildID(notesPath)
	if err != nil {
		return "", fmt.Errorf("cannot read the running kernel's build-id: %v", err)
	}
	return pickVmlinux(vmlinuxCandidates(release, id), "the running kernel", release, id)
}

// pickVmlinux returns the first candidate with build-id id, the kernel's
// (whose: "the running kernel", "the dump's kernel"); when none has it,
// the error names what was found and what was needed.
func pickVmlinux(candidates []string, whose, release, id string) (string, error) {
	var wrong []string
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		got, err := fileBuildID(p)
		switch {
		case err != nil:
			wrong = append(wrong, fmt.Sprintf("%s is not a readable ELF file (%v)", p, err))
		case got == id:
			return p, nil
		case got == "":
			wrong = append(wrong, p+" has no build-id")
		default:
			wrong = append(wrong, fmt.Sprintf("%s has build-id %s", p, got))
		}
	}
	if len(wrong) > 0 {
		return "", fmt.Errorf("no vmlinux with %s's build-id %s: %s", whose, id, strings.Join(wrong, "; "))
	}
	return "", fmt.Errorf("no debug vmlinux for %s %s (build-id %s) in %s; install its -dbg package or name the vmlinux",
		whose, release, id, strings.Join(candidates, ", "))
}
