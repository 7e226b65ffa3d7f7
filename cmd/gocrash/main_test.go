package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/memory"
)

// runGocrash runs the command in-process with stdin holding input.
func runGocrash(t *testing.T, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb bytes.Buffer
	code = run(args, f, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	if code, _, errs := runGocrash(t, "", "only-one-arg"); code == 0 || !strings.Contains(errs, "only-one-arg") {
		t.Errorf("one argument: code %d, %q", code, errs)
	}
	if code, _, _ := runGocrash(t, "", "--no-such-flag"); code != 2 {
		t.Errorf("bad flag: code %d", code)
	}
	if code, out, _ := runGocrash(t, "", "--version"); code != 0 || !strings.HasPrefix(out, "gocrash ") {
		t.Errorf("--version: %d %q", code, out)
	}
	if code, out, _ := runGocrash(t, "", "--help"); code != 0 || !strings.Contains(out, "usage: gocrash") {
		t.Errorf("--help: %d %q", code, out)
	}
	// gen-docs writes the reference from the registry.
	doc := filepath.Join(t.TempDir(), "commands.md")
	if code, _, _ := runGocrash(t, "", "--gen-docs", doc); code != 0 {
		t.Fatalf("--gen-docs failed")
	}
	if b, _ := os.ReadFile(doc); !bytes.Contains(b, []byte("## sys")) {
		t.Errorf("reference lacks sys: %q", b)
	}
}

// TestDocsUpToDate keeps docs/commands.md and docs/json.md equal to what
// the registry generates.
func TestDocsUpToDate(t *testing.T) {
	for flag, name := range map[string]string{"--gen-docs": "commands.md", "--gen-json-docs": "json.md"} {
		doc := filepath.Join(t.TempDir(), name)
		if code, _, errs := runGocrash(t, "", flag, doc); code != 0 {
			t.Fatal(errs)
		}
		want, _ := os.ReadFile(doc)
		got, err := os.ReadFile("../../docs/" + name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("docs/%s is stale: run 'make docs' (%v)", name, err)
		}
	}
}

// TestCorpusSys runs 'sys' in batch mode on every corpus dump and checks
// the fields the guest can vouch for.
func TestCorpusSys(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		// Dump first, vmlinux second: the order is found by content.
		code, out, errs := runGocrash(t, "sys\nhelp -D\n", append(append([]string{"-s"}, f.Paths()...), r.Vmlinux)...)
		if code != 0 || errs != "" {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
		// crash marks filtered kdump-compressed files, not ELF ones, with two
		// spaces before the mark, or one in a split dump's list.
		mark := ""
		if f.Filtered && f.Format != "elf" {
			mark = "  [PARTIAL DUMP]"
			if len(f.Parts) > 0 {
				mark = " [PARTIAL DUMP]"
			}
		}
		// crash marks a tainted kernel; the guest's kernel said whether it was.
		tainted := ""
		if truth.Tainted {
			tainted = "  [TAINTED]"
		}
		for _, want := range []string{
			"      KERNEL: " + r.Vmlinux + tainted + "\n",
			f.Paths()[len(f.Paths())-1] + mark + "\n",
			"     RELEASE: " + truth.Uname.Release + "\n",
			"    NODENAME: " + truth.Uname.Nodename + "\n",
			"     MACHINE: " + truth.Uname.Machine + "  (",
			fmt.Sprintf("        CPUS: %d", truth.NProc),
			fmt.Sprintf("       PANIC: %q\n", truth.Panic),
		} {
			if !strings.Contains(out, want) {
				t.Errorf("sys output lacks %q:\n%s", want, out)
			}
		}
		partial := strings.Contains(out, "[PARTIAL DUMP]")
		if f.Format != "elf" && partial != f.Filtered {
			t.Errorf("[PARTIAL DUMP] shown %v, dump filtered %v", partial, f.Filtered)
		}
		// help -D: the dump's headers.
		wantHeaders := []string{"format: ELF", "PT_LOAD[0]", "note 0: CORE type 1"}
		if f.Format != "elf" {
			wantHeaders = []string{"kdump-compressed", "compression: zlib", "dump_level: ", "pages: "}
			if strings.Contains(f.How, " -l ") {
				wantHeaders[1] = "compression: lzo"
			}
		}
		for _, h := range wantHeaders {
			if !strings.Contains(out, h) {
				t.Errorf("help -D lacks %q", h)
			}
		}
		if strings.Contains(out, "unavailable") {
			t.Errorf("sys has unavailable fields:\n%s", out)
		}
	})
}

// TestCorpusBadInput checks that wrong or damaged input gives one clear
// line on stderr and a non-zero status.
func TestCorpusBadInput(t *testing.T) {
	runs := corpus.Runs(t)
	var x86, other *corpus.Run
	for _, r := range runs {
		if r.Arch == "x86_64" && x86 == nil {
			x86 = r
		} else if r.Arch != "x86_64" && other == nil {
			other = r
		}
	}
	if x86 == nil {
		t.Fatal("corpus has no x86_64 run")
	}
	dump := ""
	for _, f := range x86.Files {
		if f.Format == "kdump" {
			dump = f.Path
			break
		}
	}
	if dump == "" {
		t.Fatal("x86_64 run has no kdump-compressed file")
	}
	dir := t.TempDir()
	notDump := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDump, []byte("this is not a dump\n"), 0o644)
	cut := filepath.Join(dir, "cut.kdump")
	corpus.CopyPrefix(t, dump, cut, 64<<10)

	oneLine := func(name string, wantCode int, wantSub, input string, args ...string) {
		t.Run(name, func(t *testing.T) {
			code, _, errs := runGocrash(t, input, args...)
			lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
			if code != wantCode || len(lines) != 1 || !strings.Contains(errs, wantSub) {
				t.Errorf("exit %d, stderr %q; want exit %d and one line containing %q", code, errs, wantCode, wantSub)
			}
			if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic:") {
				t.Errorf("Go panic trace: %s", errs)
			}
		})
	}
	oneLine("not-a-dump", 1, "not a crash dump", "", "-s", x86.Vmlinux, notDump)
	oneLine("truncated", 1, "truncated", "", "-s", x86.Vmlinux, cut)
	oneLine("missing-file", 1, "no such file", "", "-s", x86.Vmlinux, filepath.Join(dir, "nope"))
	// No vmlinux named, none installed, no debuginfod server: the line
	// names the build-id the dump needs, and gocrash goes on from the
	// dump alone (issue 18).
	t.Setenv("DEBUGINFOD_URLS", "")
	t.Setenv("DEBUGINFOD_CACHE_PATH", t.TempDir())
	oneLine("no-kernel", 0, "no debug vmlinux for the dump's kernel", "", "-s", dump)
	oneLine("two-kernels", 1, "both", "", "-s", x86.Vmlinux, x86.Vmlinux)
	// A FIFO anywhere a file is read is refused at once (opening it would
	// wait for a writer); an unknown option, a task that is not there and
	// a line too long each get their one line.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	oneLine("fifo-dump", 1, "is a FIFO", "", "-s", x86.Vmlinux, fifo)
	oneLine("fifo-vmlinux", 1, "is a FIFO", "", "-s", fifo, dump)
	oneLine("fifo-input", 1, "not a regular file", "", "-s", "-i", fifo, x86.Vmlinux, dump)
	oneLine("unknown-option", 2, "unknown flag: --nosuch", "", "--nosuch")
	oneLine("task-not-there", 1, "task: invalid task or pid value: 99999", "task 99999\n", "-s", x86.Vmlinux, dump)
	oneLine("line-too-long", 1, "longer than 1048576 bytes: not run", "p "+strings.Repeat("x", 2<<20)+"\n", "-s", x86.Vmlinux, dump)
	oneLine("unknown-command", 1, "nosuch: command not found", "nosuch\n", "-s", x86.Vmlinux, dump)
	if other != nil {
		oneLine("mismatched-vmlinux", 1, "does not match", "", "-s", other.Vmlinux, dump)
	}
	// Another x86_64 kernel's vmlinux: told apart by the build-id.
	for _, r := range runs {
		if r.Arch == "x86_64" && r.Vmlinux != x86.Vmlinux {
			oneLine("other-x86_64-kernel", 1, "does not match the dump", "", "-s", r.Vmlinux, dump)
			break
		}
	}
}

// TestCorpusSysMatchesCrash compares 'sys' with crash 8.0.2's on each
// x86_64 run (Debian's crash reads only x86_64 dumps). Every line must be
// equal but TASKS: crash 8.0.2 loses most tasks on Debian 12's 6.1 kernel
// (it counts 4), where gocrash's count is checked against the guest's own ps
// in the kernel package's tests.
func TestCorpusSysMatchesCrash(t *testing.T) {
	crashBin, err := exec.LookPath("crash")
	if err != nil {
		t.Fatal("crash is not installed (testdata/corpus/build.sh installs it)")
	}
	compared := 0
	for _, r := range corpus.Runs(t) {
		if r.Arch != "x86_64" {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			if compareSysWithCrash(t, crashBin, r) {
				compared++
			}
		})
	}
	if compared == 0 {
		t.Fatal("crash opened no dump of the corpus")
	}
}

// compareSysWithCrash reports whether crash could open the run's dump at
// all: crash 8.0.2 does not start on 6.12 kernels, where gocrash's answers
// are checked against the guest's own (TestCorpusSys and kernel's tests).
func compareSysWithCrash(t *testing.T, crashBin string, r *corpus.Run) bool {
	{
		f := r.Files[len(r.Files)-1]
		cmd := exec.Command(crashBin, "-s", r.Vmlinux, f.Path)
		cmd.Stdin = strings.NewReader("sys\n")
		// crash's exit status means nothing (1 at the end of input).
		want, err := cmd.Output()
		if len(sysLines(string(want))) == 0 {
			t.Logf("crash 8.0.2 cannot open this dump (%v); nothing to compare", err)
			return false
		}
		_, got, errs := runGocrash(t, "sys\n", "-s", r.Vmlinux, f.Path)
		if errs != "" {
			t.Fatal(errs)
		}
		wantLines := sysLines(string(want))
		gotLines := sysLines(got)
		if len(wantLines) != len(gotLines) {
			t.Fatalf("crash printed %d sys lines, gocrash %d:\n%s\n---\n%s", len(wantLines), len(gotLines), want, got)
		}
		for i := range wantLines {
			if strings.HasPrefix(wantLines[i], "       TASKS:") {
				continue
			}
			if wantLines[i] != gotLines[i] {
				t.Errorf("line %d:\ncrash:   %q\ngocrash: %q", i, wantLines[i], gotLines[i])
			}
		}
	}
	return true
}

// sysLines keeps the "KEY: value" lines of sys output (crash adds warnings
// and blank lines).
func sysLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if k, _, ok := strings.Cut(l, ": "); ok && strings.TrimSpace(k) != "" && strings.ToUpper(k) == k && !strings.HasPrefix(l, "WARNING") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestCorpusLogWithoutVmlinux checks gocrash --log DUMP (no vmlinux: the
// ring buffer's layout from VMCOREINFO) against 'log' with the vmlinux, on
// every corpus dump.
func TestCorpusLogWithoutVmlinux(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		code, got, errs := runGocrash(t, "", append([]string{"--log"}, f.Paths()...)...)
		if !r.VMCoreInfo {
			// Without VMCOREINFO there is no layout to read the log by.
			if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "VMCOREINFO") {
				t.Errorf("--log without VMCOREINFO: exit %d, %q", code, errs)
			}
			return
		}
		if code != 0 || errs != "" {
			t.Fatalf("--log: exit %d, %s", code, errs)
		}
		code, want, errs := runGocrash(t, "log\n", append(append([]string{"-s"}, f.Paths()...), r.Vmlinux)...)
		if code != 0 || errs != "" {
			t.Fatalf("log: exit %d, %s", code, errs)
		}
		if got != want || !strings.Contains(got, "Kernel panic - not syncing") {
			t.Errorf("--log output (%d bytes) differs from log's (%d bytes)", len(got), len(want))
		}
		// --log --json: the same records, one JSON line.
		code, js, errs := runGocrash(t, "", append([]string{"--log", "--json"}, f.Paths()...)...)
		var env struct {
			Command string `json:"command"`
			Data    struct {
				Records []struct {
					Text string `json:"text"`
				} `json:"records"`
			} `json:"data"`
		}
		if code != 0 || errs != "" || strings.Count(js, "\n") != 1 || json.Unmarshal([]byte(js), &env) != nil || env.Command != "log" {
			t.Fatalf("--log --json: exit %d, %q, %.200q", code, errs, js)
		}
		n := 0
		for _, rec := range env.Data.Records {
			first, _, _ := strings.Cut(rec.Text, "\n")
			if first != "" && !strings.Contains(got, first) {
				t.Errorf("--log --json: record %q is not in the text", first)
			}
			n += strings.Count(strings.TrimRight(rec.Text, "\n"), "\n") + 1
		}
		if lines := strings.Count(got, "\n"); n != lines {
			t.Errorf("--log --json: records of %d lines, the text has %d", n, lines)
		}
	})
}

// TestCorpusAddressCommands checks rd, vtop and ptov on every corpus dump:
// the banner reads as the console printed it, a physical read of the
// address vtop gives equals the virtual read, ptov inverts vtop in the
// direct map, and an excluded page is reported as crash reports it.
func TestCorpusAddressCommands(t *testing.T) {
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{"-s"}, f.Paths()...), r.Vmlinux)
		gc := func(input string) (string, string) {
			_, out, errs := runGocrash(t, input, args...)
			return out, errs
		}
		// rd -a linux_banner: the console's "Linux version" line.
		out, errs := gc("rd -a linux_banner\n")
		var banner strings.Builder
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			_, text, _ := strings.Cut(l, ":  ")
			banner.WriteString(text)
		}
		var want string
		for _, c := range truth.Console {
			if strings.HasPrefix(c.Text, "Linux version ") {
				want = c.Text
				break
			}
		}
		if got := strings.TrimSuffix(banner.String(), "\\n"); want == "" || got != want {
			t.Errorf("rd -a linux_banner = %q (%s), console said %q", got, errs, want)
		}
		// vtop, then rd -p at the physical address.
		out, errs = gc("vtop linux_banner\n")
		lines := strings.Split(out, "\n")
		if len(lines) < 2 || errs != "" {
			t.Fatalf("vtop: %q %q", out, errs)
		}
		fields := strings.Fields(lines[1])
		if len(fields) != 2 {
			t.Fatalf("vtop line %q", lines[1])
		}
		virt, _ := gc("rd linux_banner 4\n")
		phys, errs := gc("rd -p " + fields[1] + " 4\n")
		if wordsOf(virt) != wordsOf(phys) || errs != "" {
			t.Errorf("rd -p %s = %q (%s), rd linux_banner = %q", fields[1], phys, errs, virt)
		}
		// ptov inverts vtop for a direct-map address (a task_struct).
		ps, _ := gc("ps 1\n")
		pl := strings.Split(strings.TrimSpace(ps), "\n")
		task := strings.Fields(pl[len(pl)-1])[4]
		out, _ = gc("vtop " + task + "\n")
		p := strings.Fields(strings.Split(out, "\n")[1])[1]
		out, _ = gc("ptov " + p + "\n")
		// (compared as numbers: ps pads the task's address to 16 digits,
		// ptov does not, and s390x's direct map is low)
		got := strings.Fields(strings.Split(out, "\n")[1])[0]
		if g, err1 := strconv.ParseUint(got, 16, 64); err1 != nil || g != hexValue(task) {
			t.Errorf("ptov(vtop(%s)) = %s", task, got)
		}
		// An excluded page, as crash words it.
		if strings.Contains(f.How, "-d 31") && f.Format != "elf" {
			d, err := memory.OpenFiles(f.Paths()...)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var excluded uint64
			for _, rg := range d.Ranges() {
				for a := rg.Start; a < rg.End && excluded == 0; a += 4096 {
					if memory.IsExcluded(d.ReadPhys(make([]byte, 8), a)) {
						excluded = a
					}
				}
			}
			_, errs = gc(fmt.Sprintf("rd -p %x\n", excluded))
			if wantErr := fmt.Sprintf("rd: page excluded: physical address: %x", excluded); !strings.HasPrefix(errs, wantErr) {
				t.Errorf("rd -p of an excluded page: %q, want %q", errs, wantErr)
			}
			out, _ = gc(fmt.Sprintf("ptov %x\n", excluded))
			v := strings.Fields(strings.Split(out, "\n")[1])[0]
			_, errs = gc("rd " + v + "\n")
			if wantErr := fmt.Sprintf("rd: page excluded: kernel virtual address: %s  type: \"64-bit KVADDR\"\n", v); errs != wantErr {
				t.Errorf("rd of an excluded page: %q, want %q", errs, wantErr)
			}
		}
	})
}

// wordsOf keeps the values of rd output, without the addresses.
func wordsOf(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if _, v, ok := strings.Cut(l, ":  "); ok {
			b.WriteString(v + "\n")
		}
	}
	return b.String()
}

// TestCorpusPSOptions checks ps's selections against the guests' own ps:
// init's children, a task's parentage, the state summary, the active tasks
// and a regular expression.
func TestCorpusPSOptions(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		f := r.Files[len(r.Files)-1]
		args := append(append([]string{"-s"}, f.Paths()...), r.Vmlinux)
		var renamed, inner corpus.PSEntry
		initKids := map[int]bool{}
		for _, p := range truth.PS {
			if p.Comm == "renamed-task" {
				renamed = p
			}
			if p.PPID == 1 && p.Comm != "ps" {
				initKids[p.PID] = true
			}
		}
		for _, p := range truth.PS {
			if p.PPID == renamed.PID && p.Comm == "sleep" {
				inner = p
			}
		}
		if renamed.PID == 0 || inner.PID == 0 {
			t.Fatal("the guest's ps lacks the renamed task and its child")
		}
		input := fmt.Sprintf("ps -c 1\nps -p %d\nps -S\nps -A\nps 'renamed.*'\nsys\n", inner.PID)
		code, out, errs := runGocrash(t, input, args...)
		if code != 0 || errs != "" {
			t.Fatalf("exit %d: %s", code, errs)
		}
		pidsIn := func(block string) map[int]bool {
			m := map[int]bool{}
			for _, l := range strings.Split(block, "\n") {
				var pid int
				if _, err := fmt.Sscanf(strings.TrimSpace(l), "PID: %d", &pid); err == nil {
					m[pid] = true
				}
			}
			return m
		}
		kids := pidsIn(out)
		for pid := range initKids {
			if !kids[pid] {
				t.Errorf("ps -c 1 lacks pid %d, a child of init in the guest", pid)
			}
		}
		chain := "PID: 0 "
		for _, want := range []string{chain, "\n PID: 1 ", fmt.Sprintf("\n  PID: %-7d", renamed.PID), fmt.Sprintf("\n   PID: %-7d", inner.PID)} {
			if !strings.Contains(out, want) {
				t.Errorf("ps -p %d lacks %q:\n%s", inner.PID, want, out)
			}
		}
		total, active := 0, 0
		var tasks int
		for _, l := range strings.Split(out, "\n") {
			var st string
			var n int
			if _, err := fmt.Sscanf(l, "  %2s: %d", &st, &n); err == nil && len(st) == 2 {
				total += n
			}
			if strings.HasPrefix(l, "> ") {
				active++
			}
			fmt.Sscanf(strings.TrimSpace(l), "TASKS: %d", &tasks)
		}
		if total == 0 || total != tasks {
			t.Errorf("ps -S counts %d tasks, sys says %d", total, tasks)
		}
		if active != truth.NProc {
			t.Errorf("ps -A shows %d active tasks, want one per CPU (%d)", active, truth.NProc)
		}
		if !strings.Contains(out, "  renamed-task\n") {
			t.Errorf("ps 'renamed.*' did not find the renamed task")
		}
	})
}

// TestCorpusSetPanicTask checks that the starting context ('set') is the
// task the kernel's own panic message names ("CPU: n PID: p Comm: c").
func TestCorpusSetPanicTask(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		// "CPU: 0 PID: 1 Comm: init ..." (6.12 adds "UID: 0") after the
		// panic line.
		re := regexp.MustCompile(`^CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+)`)
		var cpu, pid int
		var comm string
		found, afterPanic := false, false
		for _, c := range truth.Console {
			if strings.HasPrefix(c.Text, "Kernel panic - not syncing") {
				afterPanic = true
			}
			if m := re.FindStringSubmatch(c.Text); afterPanic && m != nil {
				cpu, _ = strconv.Atoi(m[1])
				pid, _ = strconv.Atoi(m[2])
				comm, found = m[3], true
				break
			}
		}
		if !found {
			t.Fatal("no panic CPU/PID line on the console")
		}
		f := r.Files[0]
		_, out, errs := runGocrash(t, "set\n", append(append([]string{"-s"}, f.Paths()...), r.Vmlinux)...)
		want := fmt.Sprintf("    PID: %d\nCOMMAND: %q\n", pid, comm)
		if !strings.HasPrefix(out, want) || !strings.Contains(out, fmt.Sprintf("    CPU: %d\n  STATE: TASK_RUNNING (PANIC)\n", cpu)) {
			t.Errorf("set:\n%s%s\nwant PID %d %q on CPU %d, (PANIC)", out, errs, pid, comm, cpu)
		}
	})
}

// TestCorpusLogMatchesCrash compares 'log -m -d' (levels and device
// dictionaries) with crash 8.0.2's on each x86_64 kdump run, line for line.
func TestCorpusLogMatchesCrash(t *testing.T) {
	compared := 0
	for _, r := range corpus.Runs(t) {
		if r.Arch != "x86_64" || r.Method != "kdump" {
			continue
		}
		compared++
		f := r.Files[0]
		cmd := exec.Command("crash", "-s", r.Vmlinux, f.Path)
		cmd.Stdin = strings.NewReader("log -m -d\n")
		want, _ := cmd.Output()
		_, got, errs := runGocrash(t, "log -m -d\n", "-s", r.Vmlinux, f.Path)
		if errs != "" {
			t.Fatal(errs)
		}
		var wl []string
		for _, l := range strings.Split(string(want), "\n") {
			if !strings.HasPrefix(l, "WARNING") && l != "" {
				wl = append(wl, l)
			}
		}
		gl := strings.Split(strings.TrimRight(got, "\n"), "\n")
		var nonEmpty []string
		for _, l := range gl {
			if l != "" {
				nonEmpty = append(nonEmpty, l)
			}
		}
		if len(wl) < 100 || strings.Join(wl, "\n") != strings.Join(nonEmpty, "\n") {
			t.Errorf("%s: log -m -d differs from crash's (%d lines vs %d)", r.Name, len(nonEmpty), len(wl))
		}
	}
	if compared == 0 {
		t.Fatal("no x86_64 kdump run in the corpus")
	}
}

// hexValue is s read as hexadecimal (0 if it is not).
func hexValue(s string) uint64 {
	v, _ := strconv.ParseUint(s, 16, 64)
	return v
}
