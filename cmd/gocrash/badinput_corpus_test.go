package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocrash/gocrash/internal/corpus"
)

// The bad-input campaign (issue 19), kept bounded: damaged dumps,
// damaged vmlinuxes and bad arguments against corpus dumps, each run as
// its own gocrash process under a timeout, asserting no Go panic, no hang,
// bounded memory, one-line errors and a non-zero exit where the input is
// bad. About 300 runs; GOCRASH_BADINPUT_RUNS caps them lower.

const (
	badRunTimeout = 30 * time.Second
	badRunMaxRSS  = 1 << 30 // bytes
)

// badRun is one campaign run's outcome.
type badRun struct {
	name           string
	code           int
	stdout, stderr string
	maxRSS         int64
}

var goTraceRE = regexp.MustCompile(`(?m)^(panic: |goroutine \d+ |fatal error: |runtime: )|internal error`)

// campaign runs the gocrash binary and checks what every run must hold.
type campaign struct {
	t    *testing.T
	bin  string
	runs int
	max  int
}

func (c *campaign) run(name, input string, args ...string) *badRun {
	c.t.Helper()
	if c.runs >= c.max {
		return nil
	}
	c.runs++
	ctx, cancel := context.WithTimeout(context.Background(), badRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Stdin = strings.NewReader(input)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "HOME="+c.t.TempDir(), "NO_COLOR=1")
	err := cmd.Run()
	r := &badRun{name: name, stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = int64(ru.Maxrss) * 1024
	}
	switch {
	case ctx.Err() != nil:
		c.t.Errorf("%s: no answer in %v (a hang)", name, badRunTimeout)
	case err != nil && r.code < 0:
		c.t.Errorf("%s: %v", name, err)
	}
	if m := goTraceRE.FindString(r.stderr); m != "" {
		c.t.Errorf("%s: a Go panic or internal error (%q):\n%.2000s", name, m, r.stderr)
	}
	if r.maxRSS > badRunMaxRSS {
		c.t.Errorf("%s: %d MiB of memory", name, r.maxRSS>>20)
	}
	for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		if l != "" && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
			c.t.Errorf("%s: an error that is not one line: %q", name, r.stderr)
			break
		}
	}
	return r
}

// bad runs input that must fail: a non-zero exit with a message.
func (c *campaign) bad(name, input, wantErr string, args ...string) {
	c.t.Helper()
	r := c.run(name, input, args...)
	if r == nil {
		return
	}
	if r.code == 0 || r.stderr == "" {
		c.t.Errorf("%s: exit %d, stderr %q: want a failure", name, r.code, r.stderr)
	}
	if wantErr != "" && !strings.Contains(r.stderr, wantErr) {
		c.t.Errorf("%s: stderr %q lacks %q", name, r.stderr, wantErr)
	}
}

func TestCorpusBadInputCampaign(t *testing.T) {
	var x86, arm *corpus.Run
	for _, r := range corpus.Runs(t) {
		if r.Arch == "x86_64" && r.Method == "kdump" && strings.Contains(r.Release, "6.1.0") && !strings.HasSuffix(r.Name, "-la57") {
			x86 = r
		}
		if r.Arch == "arm64" && arm == nil {
			arm = r
		}
	}
	if x86 == nil || arm == nil {
		t.Fatal("the campaign needs the x86_64 6.1 kdump and an arm64 run")
	}
	file := func(r *corpus.Run, name string) string {
		for _, f := range r.Files {
			if f.Name == name {
				return f.Path
			}
		}
		t.Fatalf("%s has no %s", r.Name, name)
		return ""
	}
	bin := filepath.Join(t.TempDir(), "gocrash")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := &campaign{t: t, bin: bin, max: 400}
	if n := os.Getenv("GOCRASH_BADINPUT_RUNS"); n != "" {
		fmt.Sscan(n, &c.max)
	}
	start := time.Now()
	dir := t.TempDir()
	zlib, flat, elf := file(x86, "vmcore.zlib"), file(x86, "vmcore.flat"), file(x86, "vmcore")
	const probe = "sys\nps\nbt\nlog\nkmem -i\nforeach bt\nfiles\nmod\nrunq\n"

	// Damaged dumps: cut short at many lengths, header bytes flipped.
	for _, src := range []string{zlib, flat, elf, file(arm, "vmcore.elf"), file(arm, "vmcore.kdump-zlib")} {
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		vml := x86.Vmlinux
		if strings.Contains(src, "arm64") {
			vml = arm.Vmlinux
		}
		sizes := []int64{0, 8, 100, 4096, 65536}
		for _, pct := range []int64{1, 20, 50, 80, 99} {
			sizes = append(sizes, min(fi.Size()*pct/100, 96<<20))
		}
		for _, n := range sizes {
			cut := filepath.Join(dir, fmt.Sprintf("cut-%d-%s", n, filepath.Base(src)))
			corpus.CopyPrefix(t, src, cut, n)
			r := c.run(fmt.Sprintf("%s cut to %d bytes", filepath.Base(src), n), probe, "-s", vml, cut)
			if r != nil && r.code == 0 {
				t.Errorf("%s cut to %d bytes: exit 0: %.300s", filepath.Base(src), n, r.stderr)
			}
			os.Remove(cut)
		}
		// Flipped bytes in the first 8 KiB (headers, notes, bitmaps).
		head := make([]byte, 8192)
		in, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		in.ReadAt(head, 0)
		in.Close()
		for i, off := range []int{0, 5, 16, 24, 32, 40, 56, 64, 200, 1024, 4096, 4104, 6000} {
			damaged := filepath.Join(dir, fmt.Sprintf("flip-%d-%s", i, filepath.Base(src)))
			corpus.CopyPrefix(t, src, damaged, min(fi.Size(), 24<<20))
			f, err := os.OpenFile(damaged, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte{head[off] ^ 0xff}, int64(off))
			f.Close()
			c.run(fmt.Sprintf("%s byte %d flipped", filepath.Base(src), off), probe, "-s", vml, damaged)
			os.Remove(damaged)
		}
	}

	// Damaged vmlinuxes: said what is wrong, never taken for a dump.
	vfi, _ := os.Stat(x86.Vmlinux)
	for _, n := range []int64{0, 10, 64, 4096, vfi.Size() / 3, vfi.Size() - 1} {
		v := filepath.Join(dir, fmt.Sprintf("vmlinux-cut-%d", n))
		corpus.CopyPrefix(t, x86.Vmlinux, v, n)
		want := "kernel image truncated"
		if n < 64 {
			want = "" // too short to tell: an empty file, or an ELF header cut short
		}
		c.bad(fmt.Sprintf("vmlinux cut to %d bytes", n), "sys\n", want, "-s", v, zlib)
		os.Remove(v)
	}
	{
		v := filepath.Join(dir, "vmlinux-shoff")
		os.Symlink(x86.Vmlinux, v+".orig")
		copyFile(t, x86.Vmlinux, v)
		f, _ := os.OpenFile(v, os.O_WRONLY, 0)
		f.WriteAt(bytes.Repeat([]byte{0xff}, 8), 0x28) // e_shoff
		f.Close()
		c.bad("vmlinux with a corrupt section table offset", "sys\n", "corrupt ELF header or section table", "-s", v, zlib)
		os.Remove(v)
	}
	if os.Geteuid() != 0 {
		v := filepath.Join(dir, "vmlinux-noperm")
		corpus.CopyPrefix(t, x86.Vmlinux, v, 4096)
		os.Chmod(v, 0)
		c.bad("vmlinux without read permission", "sys\n", "permission denied", "-s", v, zlib)
	}

	// Bad arguments, each run on its own.
	type arg struct{ line, want string }
	args := []arg{
		{"p cpu_number:2", "p: invalid cpu number: system has only 2 cpus"},
		{"struct rq.cpu runqueues:7", "invalid cpu number"},
		{"rd runqueues:2", "invalid cpu number"},
		{"set 92000", "set: invalid task or pid value: 92000"},
		{"task 92000", "task: "},
		{"ps 92000", ""}, {"ps -p 999999", ""}, {"bt -Z", "bt: "}, {"bt 99999", "bt: "},
		{"rd", "rd: "}, {"rd -p ffffffffffffffff", "rd: "}, {"rd 0", "rd: "}, {"rd -64 1 -1", "rd: "},
		{"struct nosuch_struct", "struct: "}, {"struct task_struct 0", "struct: "}, {"whatis nosuch_symbol", "whatis: "},
		{"p nosuch_symbol", "p: "}, {"p 1/0", "p: "}, {"sym 0", "sym: "}, {"dis 0", "dis: "}, {"dis -l nosuch", "dis: "},
		{"list -H 0", "list: "}, {"list 1", "list: "}, {"vtop 0", ""}, {"ptov -1", ""}, {"kmem -s nosuch", "kmem: "},
		{"kmem -p ffffffffffffffff", ""}, {"foreach bt -Z", "foreach: "}, {"foreach nosuch", "foreach: "},
		{"search -s 0 -e 10 0", ""}, {"tree -t rbtree 0", "tree: "}, {"waitq 0", "waitq: "}, {"sig 99999", "sig: "},
		{"files 99999", "files: "}, {"vm 99999", "vm: "}, {"irq 99999", "irq: "}, {"net -s 99999", "net: "},
		{"mod -s nosuch", "mod: "}, {"log -Z", "log: "}, {"sys -c 99999", ""}, {"eval 1 +", "eval: "},
		{"alias", ""}, {"nosuchcommand", "nosuchcommand: command not found"}, {"< /nonexistent", "/nonexistent"},
		{"ps > /dev/full", "ps: write error"}, {"log > /dev/full", "log: write error"}, {"sys > /dev/full", "sys: write error"},
		{"struct task_struct > /dev/full", "struct: write error"}, {"bt -a > /dev/full", "bt: write error"},
		{"help > /dev/full", "help: write error"}, {"kmem -i > /dev/full", "kmem: write error"},
		{"p " + strings.Repeat("(", 10000) + "1", ""}, {strings.Repeat("x", 2<<20), "longer than"},
		{"'unterminated", ""},
	}
	for _, a := range args {
		name := a.line
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		r := c.run("argument "+name, a.line+"\n", "-s", x86.Vmlinux, zlib)
		if r == nil {
			break
		}
		if a.want != "" && (r.code == 0 || !strings.Contains(r.stderr, a.want)) {
			t.Errorf("%s: exit %d, stderr %.300q; want a failure with %q", name, r.code, r.stderr, a.want)
		}
	}
	// Command-line options.
	c.bad("unknown option", "", "--no-such-option", "--no-such-option", x86.Vmlinux, zlib)
	c.bad("a missing file", "", "no such file", x86.Vmlinux, filepath.Join(dir, "nosuch"))
	c.bad("two vmlinuxes", "", "both", x86.Vmlinux, x86.Vmlinux)
	// A start-up file's error names the file and line.
	if c.runs < c.max {
		home := t.TempDir()
		rc := filepath.Join(home, ".gocrashrc")
		os.WriteFile(rc, []byte("sys -t\nnosuchcommand\n"), 0o644)
		cmd := exec.Command(bin, "-s", x86.Vmlinux, zlib)
		cmd.Env = append(os.Environ(), "HOME="+home)
		cmd.Stdin = strings.NewReader("")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		cmd.Run()
		c.runs++
		if want := rc + ":2: nosuchcommand: command not found"; !strings.Contains(errb.String(), want) || cmd.ProcessState.ExitCode() == 0 {
			t.Errorf(".gocrashrc error: exit %d, stderr %q; want %q", cmd.ProcessState.ExitCode(), errb.String(), want)
		}
	}
	t.Logf("%d runs in %v", c.runs, time.Since(start).Round(time.Second))
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	corpus.CopyPrefix(t, src, dst, fi.Size())
}
