package corpus

import (
	"regexp"
	"strconv"
	"strings"
)

// Report is one crash report the crashed kernel printed on its console
// after the guest's crash marker: an Oops ("BUG: kernel NULL pointer
// dereference, ..."), "kernel BUG at ...", "WARNING: ...", a watchdog's
// "watchdog: BUG: soft lockup - ..." or "INFO: task ... blocked ...", or
// a "Kernel panic - not syncing: ..." (which starts a report of its own:
// a WARN with panic_on_warn prints the WARN report, then the panic's).
type Report struct {
	// Title is the report's first line, the kernel's message for it.
	Title string
	// Lines are the report's console lines, Title first, timestamps removed.
	Lines []string
	// Oops is the die() line of an Oops or BUG ("Oops: 0002 [#1] PREEMPT
	// SMP NOPTI", "invalid opcode: 0000 [#1] ..."): crash 8.0.2's sys
	// shows it as PANIC for an Oops, where Title is the kernel's first line.
	Oops string
	// CPU, PID and Comm come from the report's "CPU: N PID: N Comm: X"
	// line, or (CPU -1) from a "task:X ... pid:N" line.
	CPU  int
	PID  int
	Comm string
	// Regs is the register block printed before the Call Trace: the
	// registers at the fault (nil when the report has none, as a panic's
	// dump_stack).
	Regs *Regs
	// Trace is the "Call Trace:" as printed: frames, stack markers and the
	// register blocks of the exception frames the unwinder crossed.
	Trace []ReportFrame
	// ModulesLinkedIn is the "Modules linked in:" line's list, as printed
	// ("gocrash_test(OE) loop dummy qemu_fw_cfg"); "" if not printed.
	ModulesLinkedIn string
}

// Regs is an x86_64 register block of a report.
type Regs struct {
	// RIP is where the registers were: the "RIP: 0010:func+0xc/0x20 [mod]"
	// line's location (for a user-mode RIP, "RIP: 0033:0x47b7a0", only Addr).
	RIP Location
	// Values holds every other register printed, by the kernel's name:
	// RSP, EFLAGS, RAX ... R15, ORIG_RAX, FS, GS, knlGS (the bases, without
	// the selectors), CS, DS, ES, CR0, CR2, CR3, CR4; CS and SS also come
	// from the selector before RIP's and RSP's values.
	Values map[string]uint64
}

// Location is a code address as a report prints it: func+off/len [module],
// or a bare 0x address.
type Location struct {
	Func     string
	Off, Len uint64
	Module   string // "" for the kernel itself
	Addr     uint64 // for a bare address
}

// ReportFrame is one line of a report's Call Trace: a frame, a stack
// marker, or a register block.
type ReportFrame struct {
	// Marker is a stack marker line ("<IRQ>", "</IRQ>", "<TASK>",
	// "</TASK>", "<NMI>", ...); the other fields are then empty.
	Marker string
	Location
	// Unreliable: the line began with "? " (an address the unwinder only
	// found on the stack).
	Unreliable bool
	// Stack is the stack the frame was on: the name of the open marker
	// ("IRQ", "TASK"), or "" before any.
	Stack string
	// Regs: this entry is a register block the unwinder printed at an
	// exception frame (an interrupt's or a system call's pt_regs).
	Regs *Regs
}

// Reliable returns the trace's frames without markers, register blocks and
// "?" lines: the frames the kernel's unwinder trusted.
func (r *Report) Reliable() []ReportFrame {
	var out []ReportFrame
	for _, f := range r.Trace {
		if f.Marker == "" && f.Regs == nil && !f.Unreliable {
			out = append(out, f)
		}
	}
	return out
}

var (
	reportStartRE = regexp.MustCompile(`^(BUG: |kernel BUG at |WARNING: |watchdog: BUG: |INFO: task |Kernel panic - not syncing: )`)
	reportOopsRE  = regexp.MustCompile(`^[A-Za-z][a-z ]*: [0-9a-f]{4} \[#\d+\]`)
	reportCPURE   = regexp.MustCompile(`^CPU: (\d+) PID: (\d+) Comm: (\S+)`)
	reportFrameRE = regexp.MustCompile(`^\s+(\? )?(?:([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)|0x([0-9a-f]+))(?: \[([^\]]+)\])?$`)
	reportMarkRE  = regexp.MustCompile(`^\s+<(/?)([A-Z#0-9]+)>$`)
	reportRIPRE   = regexp.MustCompile(`^RIP: ([0-9a-f]{4}):(?:([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([^\]]+)\])?|0x([0-9a-f]+))$`)
	reportRegRE   = regexp.MustCompile(`([A-Za-z][A-Za-z0-9_]*): ?\s*(?:([0-9a-f]{4}):)?([0-9a-f]+)(?:\([0-9a-f]+\))?(?:\s+|$)`)
)

// registerNames are the names a register line may start with.
var registerNames = map[string]bool{"RSP": true, "RAX": true, "RDX": true, "RBP": true, "R10": true,
	"R13": true, "FS": true, "CS": true, "CR2": true}

// parseRegLine decodes a register line ("RAX: 0000000000000000 RBX: ...")
// into vals; false if the line is not one.
func parseRegLine(line string, vals map[string]uint64) bool {
	ms := reportRegRE.FindAllStringSubmatchIndex(line, -1)
	if len(ms) == 0 || ms[0][0] != 0 || !registerNames[line[ms[0][2]:ms[0][3]]] {
		return false
	}
	end := 0
	for _, m := range ms {
		if m[0] != end {
			return false
		}
		end = m[1]
	}
	if end != len(line) {
		return false
	}
	for _, m := range ms {
		name := line[m[2]:m[3]]
		v, err := strconv.ParseUint(line[m[6]:m[7]], 16, 64)
		if err != nil {
			return false
		}
		vals[name] = v
		if m[4] >= 0 && name == "RSP" {
			sel, _ := strconv.ParseUint(line[m[4]:m[5]], 16, 64)
			vals["SS"] = sel
		}
	}
	return true
}

func hex(s string) uint64 {
	v, _ := strconv.ParseUint(s, 16, 64)
	return v
}

// ParseReports splits console text lines (timestamps removed) into the
// crash reports they hold.
func ParseReports(lines []string) []Report {
	var out []Report
	var cur *Report
	var regs *Regs // the register block being read
	inTrace := false
	var stack []string
	for _, text := range lines {
		if reportStartRE.MatchString(text) {
			out = append(out, Report{Title: strings.TrimSpace(text), CPU: -1})
			cur, regs, inTrace, stack = &out[len(out)-1], nil, false, nil
			cur.Lines = append(cur.Lines, text)
			continue
		}
		if cur == nil {
			continue
		}
		cur.Lines = append(cur.Lines, text)
		if strings.HasPrefix(text, "---[ end ") {
			cur = nil
			continue
		}
		if reportOopsRE.MatchString(text) && cur.Oops == "" {
			cur.Oops = strings.TrimSpace(text)
			continue
		}
		if m := reportCPURE.FindStringSubmatch(text); m != nil && cur.Comm == "" {
			cur.CPU, _ = strconv.Atoi(m[1])
			cur.PID, _ = strconv.Atoi(m[2])
			cur.Comm = m[3]
			continue
		}
		if m := taskLineRE.FindStringSubmatch(text); m != nil && cur.Comm == "" {
			cur.Comm = m[1]
			cur.PID, _ = strconv.Atoi(m[3])
			continue
		}
		if ml, ok := strings.CutPrefix(text, "Modules linked in:"); ok {
			cur.ModulesLinkedIn = strings.TrimSpace(ml)
			continue
		}
		if text == "Call Trace:" {
			inTrace, regs = true, nil
			continue
		}
		if m := reportRIPRE.FindStringSubmatch(text); m != nil {
			regs = &Regs{Values: map[string]uint64{"CS": hex(m[1])}}
			if m[2] != "" {
				regs.RIP = Location{Func: m[2], Off: hex(m[3]), Len: hex(m[4]), Module: m[5]}
			} else {
				regs.RIP = Location{Addr: hex(m[6])}
			}
			if !inTrace {
				if cur.Regs == nil {
					cur.Regs = regs
				}
			} else {
				cur.Trace = append(cur.Trace, ReportFrame{Regs: regs, Stack: top(stack)})
			}
			continue
		}
		if regs != nil && parseRegLine(strings.TrimSpace(text), regs.Values) {
			continue
		}
		if !inTrace {
			continue
		}
		if m := reportMarkRE.FindStringSubmatch(text); m != nil {
			regs = nil
			if m[1] == "" {
				stack = append(stack, m[2])
			} else if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			cur.Trace = append(cur.Trace, ReportFrame{Marker: strings.TrimSpace(text)})
			continue
		}
		if m := reportFrameRE.FindStringSubmatch(text); m != nil {
			regs = nil
			f := ReportFrame{Unreliable: m[1] != "", Stack: top(stack)}
			if m[2] != "" {
				f.Location = Location{Func: m[2], Off: hex(m[3]), Len: hex(m[4]), Module: m[6]}
			} else {
				f.Location = Location{Addr: hex(m[5]), Module: m[6]}
			}
			cur.Trace = append(cur.Trace, f)
		}
	}
	return out
}

func top(stack []string) string {
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1]
}
