package commands_test

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// triageKinds: the kind triage must name for each kind of corpus run.
var triageKinds = map[string]string{
	"sysrq": "sysrq", "oops": "oops", "oops-timer": "oops", "bug": "bug",
	"warn": "warn", "softlockup": "softlockup", "hungtask": "hungtask",
}

var (
	arm64PCRE = regexp.MustCompile(`^pc : ([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+`)
	// A trace line: x86_64's and arm64's "  func+0x1/0x2", ppc64's
	// "[sp] [pc] func+0x1/0x2", s390x's "  [<pc>] func+0x1/0x2".
	consoleFuncRE = regexp.MustCompile(`^\s*(?:\[[0-9a-f]+\] \[[0-9a-f]+\] |\[<[0-9a-f]+>\] )?([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x[0-9a-f]+`)
	hungSecsRE    = regexp.MustCompile(`blocked for more than (\d+) seconds`)
	taintLetterRE = regexp.MustCompile(`\[([A-Z])\]=`)
)

// reportFault is the faulting function by the kernel's own report: the
// register block's RIP (x86_64) of the first report, or the last "pc :" line
// (arm64) before the panic, else (a call to panic, as sysrq-c's and the
// hung-task detector's) the caller of panic in the panic's trace. atZero:
// the kernel named that caller at offset 0, the return address past a call
// to panic ending its function (arm64), so the function is the one before.
func reportFault(t *testing.T, truth *corpus.Truth) (fn string, atZero bool) {
	t.Helper()
	rep, ok := truth.Report()
	if !ok {
		t.Fatal("the guest's console has no crash report")
	}
	if rep.Regs != nil && rep.Regs.RIP.Func != "" {
		return rep.Regs.RIP.Func, false
	}
	last := -1
	for i, l := range truth.Console {
		if strings.HasPrefix(l.Text, "Kernel panic - not syncing: ") {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("the guest's console has no panic line")
	}
	for i := last; i >= 0 && i > last-200; i-- {
		if m := arm64PCRE.FindStringSubmatch(truth.Console[i].Text); m != nil {
			return m[1], false
		}
	}
	sawPanic := false
	for _, l := range truth.Console[last+1:] {
		m := consoleFuncRE.FindStringSubmatch(l.Text)
		switch {
		case m == nil || strings.HasPrefix(strings.TrimSpace(l.Text), "?") || strings.Contains(l.Text, "(unreliable)"):
		case m[1] == "panic" || m[1] == "vpanic":
			sawPanic = true
		case sawPanic:
			return m[1], m[2] == "0"
		}
	}
	t.Fatalf("no faulting function in the kernel's report %q", rep.Title)
	return "", false
}

// consoleTaints are the taint letters the kernel printed last ("Tainted:
// G           OE" or 6.12's "Tainted: [O]=OOT_MODULE, ..."), "" for "Not
// tainted".
func consoleTaints(truth *corpus.Truth) string {
	out := ""
	for _, l := range truth.Console {
		switch _, after, ok := strings.Cut(l.Text, "Tainted: "); {
		case strings.Contains(l.Text, "Not tainted"):
			out = ""
		case !ok:
		case strings.HasPrefix(after, "["):
			out = ""
			for _, m := range taintLetterRE.FindAllStringSubmatch(after, -1) {
				out += m[1]
			}
		default:
			field := after
			if rel := truth.Uname.Release; rel != "" {
				field, _, _ = strings.Cut(after, rel)
			}
			out = strings.Map(func(r rune) rune {
				if r >= 'A' && r <= 'Z' {
					return r
				}
				return -1
			}, strings.TrimPrefix(strings.TrimPrefix(field, "G"), "P"))
			if strings.HasPrefix(after, "P") {
				out = "P" + out
			}
		}
	}
	return out
}

var (
	triageKindRE  = regexp.MustCompile(`(?m)^  KIND: (\S+)$`)
	triageFaultRE = regexp.MustCompile(`(?m)^  FAULT: (?:exception at|called panic\(\) from) (\S+)\+(\d+)(?: \[(\S+)\])? \(([0-9a-f]{16})\)$`)
	triageSigRE   = regexp.MustCompile(`(?m)^SIGNATURE: ([0-9a-f]{16})  (\S+) in (\S+)((?: <- \S+)*)$`)
	triagePIDRE   = regexp.MustCompile(`(?m)^PID: (\d+) `)
	triageModRE   = regexp.MustCompile(`(?m)^  (\w+)(?:\(([A-Z]+)\))?( in the panic trace)?`)
)

// checkTriage runs triage on one dump file and checks it against the
// run's truth; it returns the signature.
func checkTriage(t *testing.T, r *corpus.Run, f corpus.File, truth *corpus.Truth, wantFault string, atZero bool) string {
	s := openSession(t, r, f)
	if atZero {
		a, err := s.Kernel.SymbolAddr(wantFault)
		if err != nil {
			t.Fatal(err)
		}
		name, _, ok := s.Kernel.Symbolize(a - 1)
		if !ok {
			t.Fatalf("no function before %s", wantFault)
		}
		wantFault = name
	}
	var res commands.TriageResult
	jsonData(t, s, "triage", &res)
	text := run(t, s, "triage")
	c := res.Crash
	if want := triageKinds[r.Crash]; c.Kind != want {
		t.Errorf("kind %q (report %q), want %q", c.Kind, c.Report, want)
	}
	if c.Fault == nil {
		t.Fatalf("no faulting function: %v", c.Unavailable)
	}
	if c.Fault.Function != wantFault {
		t.Errorf("faulting function %s, the kernel's report says %s", c.Fault.Function, wantFault)
	}
	// The marked instruction: the faulting one (at the exception's PC), or
	// the call to panic (ending at the return address).
	var marked int
	for _, in := range c.Fault.Disassembly {
		if in.Address != c.Fault.Marked {
			continue
		}
		marked++
		end := uint64(in.Address) + uint64(len(in.Bytes)/2)
		if c.Fault.Exception && in.Address != c.Fault.PC || !c.Fault.Exception && end != uint64(c.Fault.PC) {
			t.Errorf("marked instruction %+v, the fault's PC %x (exception %v)", in, uint64(c.Fault.PC), c.Fault.Exception)
		}
		// x86_64 call, arm64 bl/blr, ppc64 bl/bctrl, s390x brasl/basr.
		if !c.Fault.Exception && !strings.HasPrefix(in.Text, "call") && !strings.HasPrefix(in.Text, "bl") &&
			!strings.HasPrefix(in.Text, "bctrl") && !strings.HasPrefix(in.Text, "bras") && !strings.HasPrefix(in.Text, "basr") {
			t.Errorf("marked instruction %q is not a call", in.Text)
		}
		if in.Function != c.Fault.Function {
			t.Errorf("marked instruction in %s, the fault in %s", in.Function, c.Fault.Function)
		}
	}
	if marked != 1 || c.Fault.DisError != "" {
		t.Errorf("the disassembly has %d instructions at the marked %x (%s): %+v", marked, uint64(c.Fault.Marked), c.Fault.DisError, c.Fault.Disassembly)
	}
	if c.Task == nil || c.Trace == nil || len(c.Trace.Frames) == 0 {
		t.Errorf("no panic task trace: %v", c.Unavailable)
	} else if panicRep := truth.Reports[len(truth.Reports)-1]; panicRep.PID >= 0 && int(c.Task.PID) != panicRep.PID && panicRep.CPU >= 0 {
		t.Errorf("panic task %d, the kernel's report names %d", c.Task.PID, panicRep.PID)
	}
	if len(c.Unavailable) != 0 {
		t.Errorf("unavailable: %v", c.Unavailable)
	}
	letters := ""
	for _, tf := range c.Taints {
		letters += tf.Letter
	}
	// The dump's mask may have more than the kernel's last printed line:
	// the taints it adds as it reports the crash (die's D, a WARN's W, the
	// soft-lockup detector's L), after printing the line.
	want := consoleTaints(truth)
	for _, l := range want {
		if !strings.ContainsRune(letters, l) {
			t.Errorf("taints %v, the kernel printed %q", c.Taints, want)
		}
	}
	for _, l := range letters {
		if !strings.ContainsRune(want, l) && !strings.ContainsRune("DWL", l) {
			t.Errorf("taints %v, the kernel printed %q", c.Taints, want)
		}
	}
	if res.Signature.Kind != c.Kind || res.Signature.Function != c.Fault.Function || len(res.Signature.Frames) == 0 {
		t.Errorf("signature %+v", res.Signature)
	}
	for _, fr := range res.Signature.Frames {
		if strings.ContainsAny(fr, "+ []") {
			t.Errorf("signature frame %q is not a bare function name", fr)
		}
	}
	if r.Crash != "sysrq" {
		found := false
		for _, m := range res.Suspects.Modules {
			if m.Name == "gocrash_test" {
				found = true
				if !strings.Contains(m.Taints, "O") || !strings.Contains(m.Taints, "E") {
					t.Errorf("gocrash_test's taints %q, want O and E", m.Taints)
				}
				if wantIn := r.Crash != "hungtask"; m.InTrace != wantIn {
					t.Errorf("gocrash_test in the panic trace: %v, want %v", m.InTrace, wantIn)
				}
			}
		}
		if !found {
			t.Errorf("gocrash_test is not a suspect: %+v", res.Suspects)
		}
	}
	if r.Crash == "hungtask" {
		rep, _ := truth.Report()
		found := false
		for _, b := range res.Blocked.Tasks {
			if int(b.PID) == rep.PID {
				found = true
				// The test module's hung thread waits in
				// wait_for_completion(): no lock, so no owner.
				if b.Lock != nil {
					t.Errorf("blocked task %d waits on a completion, the report says a %s: %+v", b.PID, b.Lock.Kind, b.Lock)
				}
				if b.Trace != nil && !traceHas(b.Trace, "__wait_for_common", "wait_for_completion") {
					t.Errorf("blocked task %d: no wait_for_completion in its trace", b.PID)
				}
				if b.Trace == nil || len(b.Trace.Frames) == 0 {
					t.Errorf("blocked task %d has no trace", b.PID)
				}
				// The detector said "blocked for more than N seconds".
				var secs uint64
				if m := hungSecsRE.FindStringSubmatch(rep.Title); m != nil {
					secs, _ = strconv.ParseUint(m[1], 10, 64)
				}
				if b.WaitedNsec == nil || secs == 0 || *b.WaitedNsec < secs*1e9 {
					t.Errorf("blocked task %d: waited %v ns (%s), the kernel said more than %d s (%q)", b.PID, b.WaitedNsec, b.WaitError, secs, rep.Title)
				}
			}
		}
		if !found {
			t.Errorf("the hung task %d (%s) is not among the blocked: %+v", rep.PID, rep.Comm, res.Blocked)
		}
	}

	// The text states the same facts.
	if m := triageKindRE.FindStringSubmatch(text); m == nil || m[1] != c.Kind {
		t.Errorf("text kind %q, JSON %q", m, c.Kind)
	}
	if m := triageFaultRE.FindStringSubmatch(text); m == nil || m[1] != c.Fault.Function || m[2] != itoa(c.Fault.Offset) || m[3] != c.Fault.Module || m[4] != hex16(uint64(c.Fault.PC)) {
		t.Errorf("text fault %q, JSON %+v", m, c.Fault)
	}
	if m := triageSigRE.FindStringSubmatch(text); m == nil || m[1] != res.Signature.Hash || m[2] != c.Kind || m[3] != c.Fault.Function ||
		strings.TrimPrefix(m[4], " <- ") != strings.Join(res.Signature.Frames, " <- ") {
		t.Errorf("text signature %q, JSON %+v", m, res.Signature)
	}
	_, sect, _ := strings.Cut(text, "\nSUSPECT CODE\n")
	sect, _, _ = strings.Cut(sect, "\n\n")
	var textMods []string
	for _, m := range triageModRE.FindAllStringSubmatch(sect, -1) {
		if strings.HasPrefix(sect, "  no module ") {
			break
		}
		textMods = append(textMods, m[1]+"/"+m[2]+"/"+m[3])
	}
	var jsonMods []string
	for _, m := range res.Suspects.Modules {
		in := ""
		if m.InTrace {
			in = " in the panic trace"
		}
		jsonMods = append(jsonMods, m.Name+"/"+m.Taints+"/"+in)
	}
	if strings.Join(textMods, ",") != strings.Join(jsonMods, ",") {
		t.Errorf("text suspects %v, JSON %v", textMods, jsonMods)
	}
	_, blocked, _ := strings.Cut(text, "\nBLOCKED\n")
	blocked, _, _ = strings.Cut(blocked, "\nLOAD AND MEMORY\n")
	var textPIDs, jsonPIDs []string
	for _, m := range triagePIDRE.FindAllStringSubmatch(blocked, -1) {
		textPIDs = append(textPIDs, m[1])
	}
	for _, b := range res.Blocked.Tasks {
		jsonPIDs = append(jsonPIDs, strconv.Itoa(int(b.PID)))
		if b.Lock != nil && b.Lock.Owner != nil {
			jsonPIDs = append(jsonPIDs, strconv.Itoa(int(b.Lock.Owner.PID)))
		}
	}
	if strings.Join(textPIDs, ",") != strings.Join(jsonPIDs, ",") {
		t.Errorf("text blocked tasks %v, JSON %v", textPIDs, jsonPIDs)
	}
	checkTriageLoad(t, s, res.Load, text, truth)
	return res.Signature.Hash
}

func itoa(v uint64) string { return hexOrDec(v) }

func hexOrDec(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// triageRuns checks every dump file of every run fn selects: the report's
// facts, one signature per run, and (by architecture and release) a
// different signature for each kind of crash.
func triageRuns(t *testing.T, each func(*testing.T, func(*testing.T, *corpus.Run))) {
	var mu sync.Mutex
	byGroup := map[string]map[string]string{} // arch release -> kind -> signature
	each(t, func(t *testing.T, r *corpus.Run) {
		truth, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		want, atZero := reportFault(t, truth)
		sigs := map[string][]string{}
		for _, f := range r.Files {
			t.Run(f.Name, func(t *testing.T) {
				sig := checkTriage(t, r, f, truth, want, atZero)
				sigs[sig] = append(sigs[sig], f.Name)
			})
		}
		if len(sigs) > 1 {
			t.Errorf("signatures differ across the run's dump files: %v", sigs)
		}
		mu.Lock()
		defer mu.Unlock()
		g := r.Arch + " " + r.Release
		if byGroup[g] == nil {
			byGroup[g] = map[string]string{}
		}
		for sig := range sigs {
			for kind, other := range byGroup[g] {
				if other == sig && kind != r.Crash {
					t.Errorf("%s has the signature %s of %s", r.Crash, sig, kind)
				}
			}
			byGroup[g][r.Crash] = sig
		}
	})
}

// TestCorpusTriageSysrq: triage on every dump file of the sysrq runs.
func TestCorpusTriageSysrq(t *testing.T) { triageRuns(t, corpus.ForEachRun) }

// TestCorpusTriageCrashKinds: triage on every dump file of the test
// module's crash runs (oops, oops-timer, bug, warn, softlockup, hungtask).
func TestCorpusTriageCrashKinds(t *testing.T) { triageRuns(t, corpus.ForEachCrashRun) }

// traceHas says whether a trace has a frame of one of the functions.
func traceHas(tr *commands.BTTrace, names ...string) bool {
	for _, f := range tr.Frames {
		for _, n := range names {
			if f.Function == n {
				return true
			}
		}
	}
	return false
}

// checkTriageLoad checks the load and memory section against the guest's
// /proc: the memory total is MemTotal, each largest slab cache is one
// /proc/slabinfo lists, one run queue per CPU with its current task; no
// OOM report (no corpus run ran out of memory); the text shows it.
func checkTriageLoad(t *testing.T, s *commands.Session, l commands.TriageLoad, text string, truth *corpus.Truth) {
	t.Helper()
	if len(l.Unavailable) > 0 {
		t.Errorf("load and memory unavailable: %v", l.Unavailable)
	}
	cpus, _, err := s.Kernel.CPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.RunQueues) != cpus {
		t.Errorf("%d run queues, %d CPUs", len(l.RunQueues), cpus)
	}
	for _, q := range l.RunQueues {
		if q.Error != "" || q.Current == nil {
			t.Errorf("run queue %+v", q)
		}
	}
	if meminfo, ok := truth.Section("meminfo"); !ok {
		t.Error("the run has no meminfo section")
	} else if total, ok := procKB(meminfo, "MemTotal"); !ok || l.Memory == nil || l.Memory.TotalMem*l.Memory.PageSize/1024 != total {
		t.Errorf("memory %+v, MemTotal %d kB", l.Memory, total)
	}
	slabinfo, ok := truth.Section("slabinfo")
	if !ok {
		t.Error("the run has no slabinfo section")
	}
	names := map[string]bool{}
	for _, line := range slabinfo {
		if f := strings.Fields(line); len(f) > 0 {
			names[f[0]] = true
		}
	}
	if len(l.Slabs) != 5 {
		t.Errorf("%d largest slab caches", len(l.Slabs))
	}
	for i, c := range l.Slabs {
		if !names[c.Name] || c.Slabs == 0 || i > 0 && c.Slabs*c.SlabSize > l.Slabs[i-1].Slabs*l.Slabs[i-1].SlabSize {
			t.Errorf("largest slab cache %d: %+v (in /proc/slabinfo: %v)", i, c, names[c.Name])
		}
		if !strings.Contains(text, "  "+strings.TrimSpace(c.Name)+"\n") {
			t.Errorf("the text does not name slab cache %s", c.Name)
		}
	}
	if len(l.OOM) != 0 {
		t.Errorf("OOM events %+v", l.OOM)
	}
	for _, w := range []string{"\nLOAD AND MEMORY\n  LOAD AVERAGE: ", "\n  RUN QUEUES:\n", "\n  MEMORY:\n", "\n  LARGEST SLAB CACHES:\n", "\n  OOM EVENTS:\n    (none)\n"} {
		if !strings.Contains(text, w) {
			t.Errorf("the text has no %q", w)
		}
	}
}
