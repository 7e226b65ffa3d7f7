package corpus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Truth is what the guest printed about itself before it crashed.
type Truth struct {
	Uname   Uname
	NProc   int
	PS      []PSEntry
	Modules []Module
	// SysrqT is the kernel's sysrq-t output: every task's backtrace as the
	// kernel's own unwinder printed it (console lines, timestamps removed).
	SysrqT []string
	// Console is every line the crashed kernel printed on the console with
	// a printk timestamp, in order: the lines its log must hold.
	Console []ConsoleLine
	// Panic is the text of the "Kernel panic - not syncing: ..." line.
	Panic string
	// Tainted: the kernel said "Tainted: ..." rather than "Not tainted" in
	// the last "CPU: N PID: N Comm: ..." line it printed (the panic's).
	Tainted bool
	// Sections are the guest's own output, by section name, one string a
	// line: "uname", "ps", "modules", and the kernel's files the guest
	// printed before the crash: "meminfo", "slabinfo", "vmallocinfo",
	// "buddyinfo", "zoneinfo", "interrupts", "devices", "partitions",
	// "swaps", "timer_list" (those of /proc the kernel has), "mountinfo"
	// (/proc/self/mountinfo), "netdev" (/proc/net/dev), "ipaddr" (ip addr),
	// "ipcs" (/proc/sysvipc/shm, sem and msg, each after a "== NAME" line),
	// "sched_debug" (where debugfs or /proc has it), and for init
	// and each test task "maps-PID", "fd-PID" (ls -l /proc/PID/fd) and
	// "status-PID". Runs built before these sections existed have only the
	// first three.
	Sections map[string][]string
	// Reports are the crash reports the kernel printed after the guest's
	// crash marker (after every console line when there is none), in order:
	// one for sysrq-c (its panic), the Oops for an oops, the WARN's and then
	// the panic's for a WARN with panic_on_warn, and so on.
	Reports []Report
}

// Report returns the first crash report: the one whose Title is the
// crash's message (what sys's PANIC line should show).
func (t *Truth) Report() (*Report, bool) {
	if len(t.Reports) == 0 {
		return nil, false
	}
	return &t.Reports[0], true
}

// PanicReport returns the last report that names its task (a "CPU: N PID:
// N Comm: X" or "task:X ... pid:N" line): the report of the task the dump's
// panic is in. That is the last report, but for a panic that prints no
// stack of its own: arm64's die() panics with "Kernel panic - not syncing:
// Oops: Fatal exception" and no dump_stack (an Oops is in progress), its
// task being the Oops report's.
func (t *Truth) PanicReport() (*Report, bool) {
	for i := len(t.Reports) - 1; i >= 0; i-- {
		if t.Reports[i].Comm != "" {
			return &t.Reports[i], true
		}
	}
	return nil, false
}

// Section returns the lines of the guest's section name, and whether the
// guest printed it.
func (t *Truth) Section(name string) ([]string, bool) {
	lines, ok := t.Sections[name]
	return lines, ok
}

// Uname is the guest's uname -r, -n, -v, -m.
type Uname struct{ Release, Nodename, Version, Machine string }

// PSEntry is one line of the guest's ps -o pid,ppid,stat,vsz,rss,comm.
type PSEntry struct {
	PID, PPID int
	Stat      string
	VSZ, RSS  string
	Comm      string
}

// Module is one line of /proc/modules.
type Module struct {
	Name string
	Size int
}

// ConsoleLine is a console line with its printk timestamp.
type ConsoleLine struct {
	Stamp string // "   12.345678"
	Text  string
}

var (
	stampRE = regexp.MustCompile(`^\[\s*(\d+\.\d+)\] ?(.*)$`)
	taintRE = regexp.MustCompile(`^CPU: \d+ PID: \d+ Comm: .* (Not tainted|Tainted: )`)
)

// ParseConsole parses a run's serial console log. The guest's init wrote its
// own output through /dev/kmsg as "@@GOCRASH name: line" records (so kernel
// lines cannot cut into them), and "@@GOCRASH-BEGIN name@@" /
// "@@GOCRASH-END name@@" records around kernel output (sysrq-t).
func ParseConsole(log string) (*Truth, error) {
	log = strings.ReplaceAll(log, "\r", "")
	lines := strings.Split(log, "\n")
	t := &Truth{}
	// The crashed kernel's console ends where a second kernel (kdump's
	// capture kernel) starts booting.
	kernelStarts := 0
	var section string
	var user, kern = map[string][]string{}, map[string][]string{}
	for _, ln := range lines {
		m := stampRE.FindStringSubmatch(ln)
		if m != nil && strings.HasPrefix(m[2], "Linux version ") {
			kernelStarts++
		}
		if kernelStarts > 1 {
			break
		}
		text := ln
		if m != nil {
			text = m[2]
			t.Console = append(t.Console, ConsoleLine{Stamp: m[1], Text: m[2]})
			if strings.HasPrefix(text, "Kernel panic - not syncing: ") && t.Panic == "" {
				t.Panic = strings.TrimSpace(text)
			}
			if m := taintRE.FindStringSubmatch(text); m != nil {
				t.Tainted = m[1] == "Tainted: "
			}
		}
		if m != nil && strings.HasPrefix(text, "@@GOCRASH ") {
			// "@@GOCRASH name: line": a line of the guest's own output,
			// written through /dev/kmsg.
			if name, line, ok := strings.Cut(strings.TrimPrefix(text, "@@GOCRASH "), ": "); ok {
				user[name] = append(user[name], line)
			}
			continue
		}
		if name, ok := marker(text, "@@GOCRASH-BEGIN "); ok {
			section = name
			continue
		}
		if name, ok := marker(text, "@@GOCRASH-END "); ok && name == section {
			section = ""
			continue
		}
		if section != "" && m != nil {
			kern[section] = append(kern[section], m[2])
		}
	}
	if kernelStarts == 0 {
		return nil, fmt.Errorf("console log has no kernel boot")
	}
	t.Sections = user
	u := user["uname"]
	if len(u) < 5 {
		return nil, fmt.Errorf("uname section has %d lines, want 5", len(u))
	}
	t.Uname = Uname{Release: u[1], Nodename: u[2], Version: u[3], Machine: u[4]}
	if n, ok := user["nproc"]; ok && len(n) > 0 {
		t.NProc, _ = strconv.Atoi(strings.TrimSpace(n[0]))
	}
	for i, ln := range user["ps"] {
		f := strings.Fields(ln)
		if i == 0 && len(f) > 0 && f[0] == "PID" {
			continue
		}
		if len(f) < 6 {
			return nil, fmt.Errorf("ps line %q: want 6 fields", ln)
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("ps line %q: bad pid", ln)
		}
		t.PS = append(t.PS, PSEntry{PID: pid, PPID: ppid, Stat: f[2], VSZ: f[3], RSS: f[4], Comm: strings.Join(f[5:], " ")})
	}
	if len(t.PS) == 0 {
		return nil, fmt.Errorf("console log has no ps section")
	}
	for _, ln := range user["modules"] {
		f := strings.Fields(ln)
		if len(f) >= 2 {
			size, _ := strconv.Atoi(f[1])
			t.Modules = append(t.Modules, Module{Name: f[0], Size: size})
		}
	}
	t.SysrqT = kern["sysrq-t"]
	var after []string
	for i, c := range t.Console {
		if c.Text == "@@GOCRASH-BEGIN crash@@" {
			after = nil
			for _, c := range t.Console[i+1:] {
				after = append(after, c.Text)
			}
			break
		}
		after = append(after, c.Text)
	}
	t.Reports = ParseReports(after)
	return t, nil
}

// marker reports whether text is a "@@PREFIXname@@" marker line.
func marker(text, prefix string) (string, bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, prefix) || !strings.HasSuffix(text, "@@") {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(text, prefix), "@@"), true
}
