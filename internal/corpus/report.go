package corpus

import (
	"regexp"
	"strconv"
	"strings"
)

// Report is one crash report the crashed kernel printed on its console
// after the guest's crash marker: an Oops ("BUG: kernel NULL pointer
// dereference, ..."; arm64's "Unable to handle kernel NULL pointer
// dereference at ..."), "kernel BUG at ...", "WARNING: ...", a watchdog's
// "watchdog: BUG: soft lockup - ..." or "INFO: task ... blocked ...", or
// a "Kernel panic - not syncing: ..." (which starts a report of its own:
// a WARN with panic_on_warn prints the WARN report, then the panic's; an
// Oops with no kdump kernel loaded, its report, then die()'s panic).
type Report struct {
	// Title is the report's first line, the kernel's message for it.
	Title string
	// Lines are the report's console lines, Title first, timestamps removed.
	Lines []string
	// Oops is the die() line of an Oops or BUG ("Oops: 0002 [#1] PREEMPT
	// SMP NOPTI", "invalid opcode: 0000 [#1] ..."; 6.12 prefixes both with
	// "Oops: "; arm64's "Internal error: Oops: 0000000096000045 [#1] SMP",
	// "Internal error: Oops - BUG: 00000000f2000800 [#1] SMP"): crash
	// 8.0.2's sys shows it as PANIC for an Oops, where Title is the
	// kernel's first line.
	Oops string
	// CPU, PID and Comm come from the report's "CPU: N PID: N Comm: X"
	// line (6.12: "CPU: N UID: N PID: N Comm: X"), or (CPU -1) from a
	// "task:X ... pid:N" line.
	CPU  int
	PID  int
	Comm string
	// Regs is the register block printed before the Call Trace: the
	// registers at the fault (nil when the report has none, as a panic's
	// dump_stack).
	Regs *Regs
	// Trace is the "Call Trace:" (arm64: "Call trace:") as printed: frames,
	// stack markers and the register blocks of the exception frames the
	// unwinder crossed (arm64 6.1 prints neither markers nor blocks).
	Trace []ReportFrame
	// ModulesLinkedIn is the "Modules linked in:" line's list, as printed
	// ("gocrash_test(OE) loop dummy qemu_fw_cfg"); "" if not printed.
	ModulesLinkedIn string
}

// Regs is a register block of a report: x86_64's ("RIP: ...", "RSP: ...
// EFLAGS: ...", "RAX: ..." ...) or arm64's ("pc : ...", "lr : ...", "sp :
// ...", "x29: ..." ... "x0 : ...", "pstate: ...").
type Regs struct {
	// RIP is where the registers were: the "RIP: 0010:func+0xc/0x20 [mod]"
	// line's location (for a user-mode RIP, "RIP: 0033:0x47b7a0", only
	// Addr); on arm64 the "pc : func+0x1c/0x30 [mod]" line's.
	RIP Location
	// LR is arm64's "lr : func+0x24/0x40 [mod]" (the link register, as a
	// location); empty on x86_64.
	LR Location
	// Values holds every other register printed, by the kernel's name:
	// RSP, EFLAGS, RAX ... R15, ORIG_RAX, FS, GS, knlGS (the bases, without
	// the selectors), CS, DS, ES, CR0, CR2, CR3, CR4; CS and SS also come
	// from the selector before RIP's and RSP's values. arm64: sp, x0 ...
	// x29, pstate.
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
	reportStartRE = regexp.MustCompile(`^(BUG: |kernel BUG at |WARNING: |watchdog: BUG: |INFO: task |Kernel panic - not syncing: |Unable to handle kernel )`)
	reportOopsRE  = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z -]*: )+[0-9a-f]{4,16} \[#\d+\]`)
	reportCPURE   = regexp.MustCompile(`^CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+)`)
	reportFrameRE = regexp.MustCompile(`^\s+(\? )?(?:([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)|0x([0-9a-f]+))(?: \[([^\]]+)\])?$`)
	reportMarkRE  = regexp.MustCompile(`^\s+<(/?)([A-Z#0-9]+)>$`)
	reportRIPRE   = regexp.MustCompile(`^RIP: ([0-9a-f]{4}):(?:([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([^\]]+)\])?|0x([0-9a-f]+))$`)
	reportRegRE   = regexp.MustCompile(`([A-Za-z][A-Za-z0-9_]*): ?\s*(?:([0-9a-f]{4}):)?([0-9a-f]+)(?:\([0-9a-f]+\))?(?:\s+|$)`)
	// arm64: "pc : func+0x1c/0x30 [mod]" and "lr : ..." (or a bare
	// address), "sp : <hex>", "x29: <hex> x28: <hex> ...", "x2 : <hex> ...",
	// "pstate: 60400005 (nZCv daif ...)".
	reportA64LocRE    = regexp.MustCompile(`^(pc|lr) : (?:([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([^\]]+)\])?|0x([0-9a-f]+)|([0-9a-f]{16}))$`)
	reportA64RegRE    = regexp.MustCompile(`^(?:(?:x\d+|sp) ?: [0-9a-f]{16} ?)+$`)
	reportA64RegOneRE = regexp.MustCompile(`(x\d+|sp) ?: ([0-9a-f]{16})`)
	reportA64PstateRE = regexp.MustCompile(`^pstate: ([0-9a-f]+) \(`)
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
		if text == "Call Trace:" || text == "Call trace:" {
			inTrace, regs = true, nil
			continue
		}
		// arm64's block: "pstate: ..." first, then "pc : ...", "lr : ...",
		// "sp : ..." and the x29 ... x0 lines.
		if m := reportA64PstateRE.FindStringSubmatch(text); m != nil && !inTrace {
			regs = &Regs{Values: map[string]uint64{"pstate": hex(m[1])}}
			if cur.Regs == nil {
				cur.Regs = regs
			}
			continue
		}
		if m := reportA64LocRE.FindStringSubmatch(text); m != nil && !inTrace {
			loc := Location{Func: m[2], Off: hex(m[3]), Len: hex(m[4]), Module: m[5], Addr: hex(m[6] + m[7])}
			if regs == nil { // (no pstate line)
				regs = &Regs{Values: map[string]uint64{}}
				if cur.Regs == nil {
					cur.Regs = regs
				}
			}
			if m[1] == "pc" {
				regs.RIP = loc
			} else {
				regs.LR = loc
			}
			continue
		}
		if regs != nil && reportA64RegRE.MatchString(text) {
			for _, m := range reportA64RegOneRE.FindAllStringSubmatch(text, -1) {
				regs.Values[m[1]] = hex(m[2])
			}
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
