package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusTerminal drives the interactive prompt through tmux on a corpus
// dump: Tab completes a command and a symbol, Up recalls history, a pipe
// works, Ctrl-C at the prompt leaves the session answering, history is
// kept in its file.
func TestCorpusTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed (testdata/corpus/build.sh installs it)")
	}
	// The x86_64 6.1 kdump's unfiltered ELF vmcore: physical memory from
	// 16 MiB on is all there for the long rd below.
	var r *corpus.Run
	for _, run := range corpus.Runs(t) {
		if run.Arch == "x86_64" && strings.HasPrefix(run.Release, "6.1.") && run.Method == "kdump" {
			r = run
			break
		}
	}
	if r == nil {
		t.Fatal("no x86_64 6.1 kdump run in the corpus")
	}
	f := r.Files[0]
	dir := t.TempDir()
	bin := filepath.Join(dir, "gocrash")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		c := exec.Command("tmux", append([]string{"-S", sock}, args...)...)
		c.Env = append(os.Environ(), "TERM=xterm") // CI may have none
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	state := filepath.Join(dir, "state")
	cmdline := "PAGER= XDG_STATE_HOME=" + state + " XDG_CACHE_HOME=" + filepath.Join(dir, "cache") + " " + bin + " -s " + strings.Join(f.Paths(), " ") + " " + r.Vmlinux
	tmux("new-session", "-d", "-s", "g", "-x", "200", "-y", "50", cmdline)
	defer exec.Command("tmux", "-S", sock, "kill-server").Run()
	screen := func() string { return tmux("capture-pane", "-p", "-t", "g") }
	waitFor := func(what string) {
		t.Helper()
		for i := 0; i < 100; i++ {
			if strings.Contains(screen(), what) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the screen never showed %q:\n%s", what, screen())
	}
	keys := func(k ...string) { tmux(append([]string{"send-keys", "-t", "g"}, k...)...) }
	waitFor("gocrash>") // capture-pane drops trailing spaces
	keys("vto", "Tab")
	waitFor("gocrash> vtop")
	keys("C-u", "sys", "Enter")
	waitFor("     RELEASE: ")
	keys("rd -a linux_ban", "Tab")
	waitFor("rd -a linux_banner")
	keys("Enter")
	waitFor(":  Linux version ")
	// Type names complete after struct, and members after the dot.
	keys("struct task_stru", "Tab")
	waitFor("gocrash> struct task_struct")
	keys("BSpace", ".real_cr", "Tab")
	waitFor("struct task_struct.real_cred")
	keys(" init_task", "Enter")
	waitFor("  real_cred = 0x")
	keys("whatis jiff", "Tab", "Tab")
	waitFor("jiffies_64")
	keys("C-u", "whatis jiffies", "Enter")
	waitFor("volatile unsigned long jiffies;")
	keys("ps | grep -c renamed-task", "Enter")
	waitFor("\n1\n")
	keys("C-c")
	// Ctrl-C during a command stops the command; the session goes on.
	keys("!sleep 30; echo not-interrupted", "Enter")
	time.Sleep(500 * time.Millisecond)
	keys("C-c")
	// And a gocrash command (reading 80 MB takes seconds) stops too.
	keys("rd -p 1000000 10000000 > /dev/null", "Enter")
	time.Sleep(700 * time.Millisecond)
	keys("C-c")
	waitFor("rd: interrupted")
	keys("sys", "Enter")
	waitFor("    NODENAME: ")
	if sc := screen(); strings.Contains(sc, "\nnot-interrupted\n") || !strings.Contains(sc, "not-interrupted: interrupted") {
		t.Errorf("Ctrl-C did not stop the shell command:\n%s", screen())
	}
	keys("Up", "Up", "Up", "Up", "Up", "Up", "Up", "Enter") // the rd -a line again
	time.Sleep(300 * time.Millisecond)
	if n := strings.Count(screen(), ":  Linux version "); n != 2 {
		t.Errorf("history recall: the banner shows %d times:\n%s", n, screen())
	}
	// Long output goes through the pager (less -F -X): its ':' prompt
	// waits at the bottom until q, then the session goes on.
	keys("C-l", "log", "Enter")
	waitFor("\n:")
	if sc := strings.TrimRight(screen(), "\n"); !strings.HasSuffix(sc, "\n:") || strings.Count(sc, "\n") < 45 {
		t.Errorf("log was not paged:\n%s", sc)
	}
	keys("q")
	keys("set scroll", "Enter")
	waitFor("scroll: on (less -F -X)")
	keys("q", "Enter")
	time.Sleep(300 * time.Millisecond)
	hist, err := os.ReadFile(filepath.Join(state, "gocrash", "history"))
	if err != nil || !strings.Contains(string(hist), "ps | grep -c renamed-task") {
		t.Errorf("history file: %q, %v", hist, err)
	}
}
