package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/symbols"
)

func triageCommand() *Command {
	return &Command{
		Name:     "triage",
		Synopsis: "triage",
		Summary:  "a first-look report of the crash",
		Help: `Prints what a first look at a dump answers, in one report, each section
saying what it could not read and why instead of stopping:

CRASH: the kind of crash, from the report the kernel printed in its log
(oops: "BUG: kernel NULL pointer dereference", "BUG: unable to handle page
fault", "general protection fault"; bug: "kernel BUG at"; warn: "WARNING:
CPU:" under panic_on_warn; softlockup: "watchdog: BUG: soft lockup";
hardlockup; hungtask: "INFO: task ... blocked for more than"; rcu-stall;
sysrq: "sysrq triggered crash"; oom-panic: "Out of memory"; else panic),
the panic message (as sys's PANIC), the taint flags decoded by name
(tainted_mask's bits, with the kernel's letters), the faulting function:
the interrupted address of the first kernel-mode exception frame of the
panicking task's trace past panic() (the exception RIP, or PC on arm64), or,
where the crash was a call to panic() with no exception, the function that
called it; the instructions around that address (as dis prints them, the
faulting instruction or the call to panic() marked "=>"); the panicking task's trace (as bt prints it); and the
kernel log's reports (warnings, Oopses, BUGs, lockup, hung-task, RCU-stall
and OOM lines) and its last lines, repeated lines folded ("(xN)").

BLOCKED: the tasks in uninterruptible sleep (D state, ps's UN), the longest
waiting first: how long since each last ran, by its CPU's runqueue clock
less the task's sched_info.last_arrival (or the member LastRun probes), or
the hung-task detector's last_switch_time in jiffies; each with its trace.
A task whose trace passes through a mutex's slow path (__mutex_lock,
mutex_lock) is shown with the mutex and its owner (mutex.owner with its
flag bits masked), the owner's trace, and the chain of owners waiting in
turn, a cycle reported as a deadlock.

SUSPECT CODE: the modules with frames in the panic trace and those that
taint the kernel (proprietary P, forced F, out-of-tree O, unsigned E,
staging C), with their version and srcversion where the module has them.

SIGNATURE: a stable hash (the first 16 hexadecimal digits of a sha256) of
the kind, the faulting function and the names of the top 5 functions of
the panic trace past the faulting frame (no offsets, addresses, CPU or
PIDs): the same crash has the same signature across machines, KASLR and
reboots. It is printed as "SIGNATURE: HASH  KIND in FUNC <- F1 <- F2 ...",
ready to paste in a bug report.

Run queues and memory (load, kmem -i, the largest slab caches) are not in
this report yet. From the shell, "gocrash triage DUMPFILE [VMLINUX]"
prints the report and exits (1 when the crash's kind or faulting function
could not be read); --json prints it as JSON.`,
		Examples: []string{"gocrash> triage", "$ gocrash triage /var/crash/vmcore", "$ gocrash triage --json vmcore vmlinux | jq -r .data.signature.hash"},
		Results:  []Result{&TriageResult{}},
		Run:      runTriage,
	}
}

// TriageResult is the triage report.
type TriageResult struct {
	Crash     TriageCrash     `json:"crash"`
	Blocked   TriageBlocked   `json:"blocked"`
	Load      TriageLoad      `json:"load"`
	Suspects  TriageSuspects  `json:"suspects"`
	Signature TriageSignature `json:"signature"`
	// NotYet names the sections this report does not have yet.
	NotYet []string `json:"not_in_this_report_yet"`
}

// TriageCrash is the report's CRASH section.
type TriageCrash struct {
	Kind string `json:"kind"` // oops, bug, warn, softlockup, hungtask, sysrq, oom-panic, panic, ...
	// Report is the kernel's log line the kind was read from.
	Report string `json:"report,omitempty"`
	Panic  string `json:"panic,omitempty"` // the panic message, as sys's PANIC
	// TaintedMask is the kernel's tainted_mask; Taints its bits by name.
	TaintedMask Hex          `json:"tainted_mask"`
	Taints      []TaintFlag  `json:"taints"`
	Task        *TaskRef     `json:"task,omitempty"` // the task that panicked
	Fault       *TriageFault `json:"fault,omitempty"`
	// Trace is the panicking task's backtrace.
	Trace *BTTrace `json:"trace,omitempty"`
	// Events are the log's report lines (warnings, Oopses, lockups, hung
	// tasks, RCU stalls, OOM), identical lines folded; LastLines the log's
	// last lines, runs of identical lines folded.
	Events    []TriageLogLine `json:"events"`
	LastLines []TriageLogLine `json:"last_lines"`
	// Unavailable says, by field, what could not be read and why.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// TaintFlag is one taint bit that is set.
type TaintFlag struct {
	Bit    int    `json:"bit"`
	Letter string `json:"letter"`
	Name   string `json:"name"` // TAINT_ name without the prefix: "OOT_MODULE"
}

// TriageFault is the faulting function.
type TriageFault struct {
	Function string `json:"function"`
	Offset   uint64 `json:"offset"`
	Module   string `json:"module,omitempty"`
	PC       Hex    `json:"pc"`
	// Exception: PC is a kernel-mode exception frame's interrupted
	// address; false: the crash was a call to panic() and PC is its return
	// address in the caller.
	Exception bool `json:"exception"`
	// Disassembly are the instructions around PC; Marked is the address of
	// the faulting instruction, or of the call to panic().
	Disassembly []DisInstruction `json:"disassembly"`
	Marked      Hex              `json:"marked"`
	// DisError says why the disassembly is short or missing.
	DisError string `json:"dis_error,omitempty"`
}

// TriageLogLine is a log line, folded with its repeats.
type TriageLogLine struct {
	Text       string `json:"text"`
	Count      int    `json:"count"`        // how many times it was printed (1: once)
	TsNsec     uint64 `json:"ts_nsec"`      // when it was printed first
	LastTsNsec uint64 `json:"last_ts_nsec"` // when last
}

// TriageBlocked is the BLOCKED section.
type TriageBlocked struct {
	// Clock is how the wait was measured: the task_struct member read
	// ("sched_info.last_arrival", "last_switch_time").
	Clock       string              `json:"clock,omitempty"`
	Tasks       []TriageBlockedTask `json:"tasks"`
	Unavailable string              `json:"unavailable,omitempty"`
}

// TriageBlockedTask is a task in D state.
type TriageBlockedTask struct {
	TaskRef
	// WaitedNsec is how long since it last ran (nil when unreadable).
	WaitedNsec *uint64  `json:"waited_nsec,omitempty"`
	WaitError  string   `json:"wait_error,omitempty"`
	Trace      *BTTrace `json:"trace,omitempty"`
	// Lock is the mutex it waits on and its owner, when its trace is in a
	// mutex's slow path and the mutex was found on its stack.
	Lock *TriageLock `json:"lock,omitempty"`
}

// TriageLock is the sleeping lock a blocked task waits for: a mutex, an
// rw_semaphore or an rt_mutex, and its owner as the lock records it.
type TriageLock struct {
	Kind  string   `json:"kind"` // "mutex", "rw_semaphore", "rt_mutex"
	Addr  Hex      `json:"addr"`
	Owner *TaskRef `json:"owner,omitempty"`
	// Flags are the owner word's flag bits (an rw_semaphore's
	// RWSEM_READER_OWNED and NONSPINNABLE bits, an rt_mutex's
	// RT_MUTEX_HAS_WAITERS).
	Flags Hex `json:"flags"`
	// An rw_semaphore's count: held for writing, or by Readers readers;
	// ReaderOwned: the owner is only the last reader to take it, which
	// may have released it since (Note says so).
	Writer      bool   `json:"writer,omitempty"`
	Readers     uint64 `json:"readers,omitempty"`
	ReaderOwned bool   `json:"reader_owned,omitempty"`
	Note        string `json:"note,omitempty"`
	// OwnerTrace is the owner's backtrace.
	OwnerTrace *BTTrace `json:"owner_trace,omitempty"`
	// Chain is the owners in turn, from this lock's owner on, each waiting
	// for a lock the next holds; Deadlock: the chain comes back to a task
	// already in it.
	Chain    []TaskRef `json:"chain,omitempty"`
	Deadlock bool      `json:"deadlock,omitempty"`
	// Error says why the owner is not known.
	Error string `json:"error,omitempty"`

	owner uint64 // the owner's task_struct, while the report is made
}

// TriageLoad is the load and memory at the crash: the load averages, the
// run queues' lengths, kmem -i's totals, the largest slab caches and the
// log's OOM reports. Unavailable says, by field, what could not be read.
type TriageLoad struct {
	LoadAverage [3]float64        `json:"load_average"`
	RunQueues   []TriageRunQueue  `json:"run_queues"`
	Memory      *KmemInfo         `json:"memory,omitempty"`
	Slabs       []*SlabCacheInfo  `json:"largest_slab_caches"` // by memory (slabs x slab size), the largest first
	OOM         []TriageLogLine   `json:"oom_events"`
	Unavailable map[string]string `json:"unavailable,omitempty"`

	loadRaw [3]uint64
}

// TriageRunQueue is one CPU's run queue: its current task and how many
// tasks wait on it (RT and CFS, the current one not counted).
type TriageRunQueue struct {
	CPU     int      `json:"cpu"`
	Current *TaskRef `json:"current,omitempty"`
	RT      int      `json:"rt"`
	CFS     int      `json:"cfs"`
	Error   string   `json:"error,omitempty"`
}

// bad records why field could not be read.
func (l *TriageLoad) bad(field string, err error) {
	if l.Unavailable == nil {
		l.Unavailable = map[string]string{}
	}
	l.Unavailable[field] = err.Error()
}

// triageSlabCaches is how many of the largest slab caches the report names.
const triageSlabCaches = 5

// triageLoad gathers the load and memory section; oom are the log's OOM
// reports.
func triageLoad(ctx context.Context, s *Session, oom []TriageLogLine) TriageLoad {
	k := s.Kernel
	l := TriageLoad{RunQueues: []TriageRunQueue{}, Slabs: []*SlabCacheInfo{}, OOM: oom}
	bad := l.bad
	if avg, err := k.LoadAverage(); err != nil {
		bad("load_average", err)
	} else {
		l.loadRaw = avg
		for i, v := range avg {
			l.LoadAverage[i] = float64(v) / (1 << 11)
		}
	}
	if cpus, err := sessionCPUs(s, ""); err != nil {
		bad("run_queues", err)
	} else {
		active, aerr := k.ActiveTasks()
		sch := k.Scheduler()
		for _, c := range cpus {
			rq := TriageRunQueue{CPU: c}
			if aerr == nil && c < len(active) {
				if t, err := k.ReadTask(active[c]); err == nil {
					ref := taskRef(t)
					rq.Current = &ref
				}
			}
			if q, err := sch.RunQueue(c); err != nil {
				rq.Error = err.Error()
			} else {
				rq.RT, rq.CFS = len(q.RT), len(q.CFS)
			}
			l.RunQueues = append(l.RunQueues, rq)
		}
	}
	if m, err := kmemInfo(s); err != nil {
		bad("memory", err)
	} else {
		l.Memory = m.(*KmemInfo)
	}
	sl := k.Slabs()
	caches, err := sl.Caches()
	if err != nil {
		bad("largest_slab_caches", err)
	}
	var infos []*SlabCacheInfo
	for _, c := range caches {
		if ctx.Err() != nil {
			break
		}
		if info := gatherCache(sl, c, false, false); info.GatherError == "" {
			infos = append(infos, info)
		}
	}
	sort.SliceStable(infos, func(i, j int) bool {
		return infos[i].Slabs*infos[i].SlabSize > infos[j].Slabs*infos[j].SlabSize
	})
	l.Slabs = append(l.Slabs, infos[:min(len(infos), triageSlabCaches)]...)
	return l
}

// isOOM: a line of an OOM report.
func isOOM(s string) bool {
	return strings.Contains(s, "invoked oom-killer") || strings.HasPrefix(s, "Out of memory") ||
		strings.Contains(s, "Memory cgroup out of memory") || strings.HasPrefix(s, "oom-kill:") ||
		strings.HasPrefix(s, "Kernel panic - not syncing: Out of memory") || strings.HasPrefix(s, "Kernel panic - not syncing: System is deadlocked on memory")
}

// TriageSuspects is the SUSPECT CODE section.
type TriageSuspects struct {
	Modules     []TriageModule `json:"modules"`
	Unavailable string         `json:"unavailable,omitempty"`
}

// TriageModule is a module in the panic trace or tainting the kernel.
type TriageModule struct {
	Name       string `json:"name"`
	Taints     string `json:"taints,omitempty"` // the taint letters ("OE")
	Version    string `json:"version,omitempty"`
	SrcVersion string `json:"srcversion,omitempty"`
	InTrace    bool   `json:"in_panic_trace"`
	Error      string `json:"error,omitempty"`
}

// TriageSignature is the crash signature.
type TriageSignature struct {
	Hash     string   `json:"hash"` // sha256's first 16 hex digits
	Kind     string   `json:"kind"`
	Function string   `json:"function"`
	Frames   []string `json:"frames"` // up to 5 callers, innermost first
}

// taintNames are the kernel's TAINT_* bits: its taint_flags letters (when
// set) and names.
var taintNames = [...]struct{ letter, name string }{
	{"P", "PROPRIETARY_MODULE"}, {"F", "FORCED_MODULE"}, {"S", "CPU_OUT_OF_SPEC"},
	{"R", "FORCED_RMMOD"}, {"M", "MACHINE_CHECK"}, {"B", "BAD_PAGE"}, {"U", "USER"},
	{"D", "DIE"}, {"A", "OVERRIDDEN_ACPI_TABLE"}, {"W", "WARN"}, {"C", "CRAP"},
	{"I", "FIRMWARE_WORKAROUND"}, {"O", "OOT_MODULE"}, {"E", "UNSIGNED_MODULE"},
	{"L", "SOFTLOCKUP"}, {"K", "LIVEPATCH"}, {"X", "AUX"}, {"T", "RANDSTRUCT"}, {"N", "TEST"},
}

// DecodeTaints names the set bits of a tainted_mask.
func DecodeTaints(mask uint64) []TaintFlag {
	out := []TaintFlag{}
	for b := 0; b < 64; b++ {
		if mask&(1<<b) == 0 {
			continue
		}
		f := TaintFlag{Bit: b, Letter: "?", Name: fmt.Sprintf("BIT_%d", b)}
		if b < len(taintNames) {
			f.Letter, f.Name = taintNames[b].letter, taintNames[b].name
		}
		out = append(out, f)
	}
	return out
}

// taintLetters is the letters of a module's taints, in bit order.
func taintLetters(mask uint64) string {
	var b strings.Builder
	for _, f := range DecodeTaints(mask) {
		b.WriteString(f.Letter)
	}
	return b.String()
}

// moduleSuspectTaints are the module taints that make it a suspect:
// proprietary, forced, staging, out-of-tree, unsigned.
const moduleSuspectTaints = 1<<0 | 1<<1 | 1<<10 | 1<<12 | 1<<13

// CrashSignature hashes the kind, the faulting function and the callers'
// names (up to 5 are used), each as signatureName gives it, so that one
// crash signs the same across builds whose compilers split or specialize
// its functions differently; Function and Frames keep the names as the
// trace shows them.
func CrashSignature(kind, function string, callers []string) TriageSignature {
	shown := callers
	if len(shown) > 5 {
		shown = shown[:5]
	}
	sig := TriageSignature{Kind: kind, Function: function, Frames: append([]string{}, shown...)}
	// The callers' names, a frame that names the same function as the
	// one inside it (a function's .cold part, an entry stub) left out.
	names := []string{signatureName(function)}
	for _, c := range callers {
		if n := signatureName(c); n != names[len(names)-1] {
			names = append(names, n)
		}
	}
	if len(names) > 6 {
		names = names[:6]
	}
	h := sha256.Sum256([]byte(kind + "\n" + strings.Join(names, "\n")))
	sig.Hash = hex.EncodeToString(h[:])[:16]
	return sig
}

// signatureName is a function's name without what its build adds: the
// compiler's suffixes for the parts and copies it makes of a function
// (.cold, .part.N, .isra.N, .constprop.N, .llvm.N, .lto_priv.N, in any
// sequence), and the "_asm" of an assembly entry stub named after the C
// function it hands over to (x86's ret_from_fork_asm since 6.2).
func signatureName(name string) string {
	base, rest, found := strings.Cut(name, ".")
	if found && compilerSuffix(rest) {
		name = base
	}
	return strings.TrimSuffix(name, "_asm")
}

// compilerSuffix says whether s (what follows a function name's first
// dot) is a sequence of the compiler's suffixes and their numbers.
func compilerSuffix(s string) bool {
	for _, w := range strings.Split(s, ".") {
		switch {
		case w == "cold" || w == "part" || w == "isra" || w == "constprop" || w == "llvm" || w == "lto_priv":
		case w != "" && strings.Trim(w, "0123456789") == "":
		default:
			return false
		}
	}
	return true
}

// String is the signature as printed: "HASH  KIND in FUNC <- F1 <- ...".
func (s TriageSignature) String() string {
	line := fmt.Sprintf("%s  %s in %s", s.Hash, s.Kind, s.Function)
	for _, f := range s.Frames {
		line += " <- " + f
	}
	return line
}

// logLine is one line of the kernel log.
type logLine struct {
	text string
	ts   uint64
}

// crashKinds maps a panic message's text to the kind it names.
var panicKinds = []struct{ sub, kind string }{
	{"sysrq triggered crash", "sysrq"},
	{"panic_on_warn", "warn"},
	{"softlockup: hung tasks", "softlockup"},
	{"Hard LOCKUP", "hardlockup"},
	{"hung_task: blocked tasks", "hungtask"},
	{"RCU Stall", "rcu-stall"},
	{"Out of memory", "oom-panic"},
	{"System is deadlocked on memory", "oom-panic"},
	{"Attempted to kill init", "init-exit"},
}

// reportKinds maps the first line of a kernel report to its kind.
var reportKinds = []struct{ prefix, kind string }{
	{"BUG: kernel NULL pointer dereference", "oops"},
	{"BUG: unable to handle ", "oops"},
	{"Unable to handle kernel ", "oops"},
	{"general protection fault", "oops"},
	{"kernel BUG at", "bug"},
	{"WARNING: CPU:", "warn"},
	{"watchdog: BUG: soft lockup", "softlockup"},
	{"BUG: soft lockup", "softlockup"},
	{"Watchdog detected hard LOCKUP", "hardlockup"},
	{"INFO: task ", "hungtask"},
	{"sysrq: Trigger a crash", "sysrq"},
	{"SysRq : Trigger a crash", "sysrq"},
	{"Out of memory", "oom"},
}

// classifyCrash reads the crash's kind from the log: the panic's message
// where it names one, else the last report the kernel began before the
// panic (or before the end of the log, when kdump took over in oops_end
// before any panic). It returns the line read.
func classifyCrash(lines []logLine) (kind, line string) {
	end := len(lines)
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i].text, "Kernel panic - not syncing: ") {
			end = i
			msg := lines[i].text
			for _, p := range panicKinds {
				if strings.Contains(msg, p.sub) {
					return p.kind, msg
				}
			}
			kind, line = "panic", msg
			break
		}
	}
	for i := end - 1; i >= 0; i-- {
		for _, r := range reportKinds {
			if strings.HasPrefix(lines[i].text, r.prefix) {
				if r.kind == "oom" {
					continue // an OOM kill that did not panic is an event
				}
				if kind == "panic" && !strings.Contains(line, "Fatal exception") && !strings.Contains(line, "Fatal") {
					return kind, line
				}
				return r.kind, lines[i].text
			}
		}
	}
	return kind, line
}

// eventPrefixes mark the log lines the report lists as events.
var eventPrefixes = []string{"BUG: ", "WARNING: ", "kernel BUG at", "watchdog: ", "INFO: task ",
	"rcu: INFO: ", "INFO: rcu_", "Out of memory", "general protection fault", "Oops: ",
	"Kernel panic - ", "sysrq: Trigger", "Unable to handle kernel"}

func isEvent(s string) bool {
	for _, p := range eventPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return strings.Contains(s, "invoked oom-killer") || strings.Contains(s, "Killed process ") ||
		strings.Contains(s, "rcu_preempt detected stalls") || strings.Contains(s, "rcu_sched detected stalls")
}

// foldEvents keeps the event lines, identical ones folded into the first.
func foldEvents(lines []logLine) []TriageLogLine {
	out := []TriageLogLine{}
	at := map[string]int{}
	for _, l := range lines {
		if !isEvent(l.text) {
			continue
		}
		if i, ok := at[l.text]; ok {
			out[i].Count++
			out[i].LastTsNsec = l.ts
			continue
		}
		at[l.text] = len(out)
		out = append(out, TriageLogLine{Text: l.text, Count: 1, TsNsec: l.ts, LastTsNsec: l.ts})
	}
	return out
}

// foldRuns folds runs of identical lines.
func foldRuns(lines []logLine) []TriageLogLine {
	out := []TriageLogLine{}
	for _, l := range lines {
		if n := len(out); n > 0 && out[n-1].Text == l.text {
			out[n-1].Count++
			out[n-1].LastTsNsec = l.ts
			continue
		}
		out = append(out, TriageLogLine{Text: l.text, Count: 1, TsNsec: l.ts, LastTsNsec: l.ts})
	}
	return out
}

// triageLastLines is how many (folded) last log lines the report shows.
const triageLastLines = 25

func runTriage(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	k := s.Kernel
	r := &TriageResult{NotYet: []string{}}
	oom := []TriageLogLine{}
	var logErr error
	c := &r.Crash
	c.Taints, c.Events, c.LastLines = []TaintFlag{}, []TriageLogLine{}, []TriageLogLine{}
	bad := func(field string, err error) {
		if c.Unavailable == nil {
			c.Unavailable = map[string]string{}
		}
		c.Unavailable[field] = err.Error()
	}

	// The log: the kind, the panic message, the events.
	if recs, err := k.Log(); err != nil {
		bad("log", err)
		logErr = err
	} else {
		var lines []logLine
		for _, rec := range recs {
			for _, t := range strings.Split(rec.Text, "\n") {
				if t = strings.TrimRight(t, " "); t != "" {
					lines = append(lines, logLine{text: t, ts: rec.TsNsec})
				}
			}
		}
		c.Panic = kernel.PanicMessage(recs)
		c.Kind, c.Report = classifyCrash(lines)
		c.Events = foldEvents(lines)
		var oomLines []logLine
		for _, l := range lines {
			if isOOM(l.text) {
				oomLines = append(oomLines, l)
			}
		}
		oom = append(oom, foldRuns(oomLines)...)
		last := foldRuns(lines)
		c.LastLines = last[max(0, len(last)-triageLastLines):]
		if c.Kind == "" {
			bad("kind", fmt.Errorf("the log holds no crash report or panic message"))
		}
	}
	if m, err := k.Tainted(); err != nil {
		bad("taints", err)
	} else {
		c.TaintedMask, c.Taints = Hex(m), DecodeTaints(m)
	}

	tasks, missing, terr := readTasks(k)
	if terr != nil {
		bad("task", terr)
	} else if missing != nil {
		bad("tasks", missing)
	}

	// The panic task's trace and the faulting function.
	var callers []string
	if terr == nil {
		if addr, err := k.PanicTask(); err != nil {
			bad("task", err)
		} else if t, err := taskByAddr(tasks, addr); err != nil {
			bad("task", fmt.Errorf("the panic task %x is not in the task list", addr))
		} else {
			ref := taskRef(t)
			c.Task = &ref
			tr, err := btTask(s, t, btOptions{})
			if tr != nil {
				c.Trace = tr
			}
			if err != nil {
				bad("trace", err)
			} else {
				var ferr error
				c.Fault, callers, ferr = triageFault(ctx, s, tr)
				if ferr != nil {
					bad("fault", ferr)
				}
			}
		}
	}

	r.Blocked = triageBlocked(s, tasks, terr)
	r.Load = triageLoad(ctx, s, oom)
	if logErr != nil {
		r.Load.bad("oom_events", logErr)
	}
	r.Suspects = triageSuspects(k, c.Trace)

	if c.Kind != "" && c.Fault != nil {
		r.Signature = CrashSignature(c.Kind, c.Fault.Function, callers)
	} else {
		r.Signature.Frames = []string{}
		return r, fmt.Errorf("triage: no crash signature: the crash's kind or faulting function is unknown")
	}
	return r, nil
}

// panicNames are the kernel's panic entry points: the frames inside the
// innermost of them (and it, and the panic functions calling it) are
// panic's own.
var panicNames = map[string]bool{"panic": true, "vpanic": true, "nmi_panic": true}

// triageFault finds the faulting function in the panic task's trace: the
// first kernel-mode exception frame past panic()'s frames, else the
// function that called panic(); callers are the names of the frames past
// it (markers and unnamed addresses left out).
func triageFault(ctx context.Context, s *Session, tr *BTTrace) (*TriageFault, []string, error) {
	k := s.Kernel
	ua, _ := k.Arch.(arch.Unwinding)
	// Past the innermost panic() (and the panic functions that called
	// it): an exception below it (a timer interrupt taken in panic's own
	// delay loop) is panic's, not the crash's.
	start := 0
	for i, f := range tr.Frames {
		if panicNames[f.Function] {
			for start = i + 1; start < len(tr.Frames) && panicNames[tr.Frames[start].Function]; start++ {
			}
			break
		}
	}
	if len(tr.Frames) == 0 || start >= len(tr.Frames) {
		return nil, nil, fmt.Errorf("the panic task's trace has no frames past panic()")
	}
	var fault *TriageFault
	next := -1
	for i := start; i < len(tr.Frames) && ua != nil; i++ {
		e := tr.Frames[i].Exception
		if e == nil || e.User || len(e.regs) <= ua.RegIndex().PC {
			continue
		}
		pc := e.regs[ua.RegIndex().PC]
		fault = &TriageFault{PC: Hex(pc), Exception: true, Module: k.ModuleOf(pc)}
		if name, off, ok := k.Symbolize(pc); ok {
			fault.Function, fault.Offset = name, off
		} else {
			fault.Function = fmt.Sprintf("%x", pc)
		}
		next = i + 1
		break
	}
	if fault == nil {
		// panic()'s caller: the frame's PC is the return address of its
		// call, named by the call's last byte (a call to a noreturn
		// function may end its caller).
		f := tr.Frames[start]
		fault = &TriageFault{Module: f.Module, PC: f.PC, Function: fmt.Sprintf("%x", uint64(f.PC))}
		if name, off, ok := k.Symbolize(uint64(f.PC) - 1); ok {
			fault.Function, fault.Offset = name, off+1
		}
		next = start + 1
	}
	var callers []string
	for i, f := range tr.Frames[next:] {
		if i == 0 && fault.Exception && f.PC == fault.PC {
			continue // the faulting function's own frame (arm64 lists it)
		}
		if name, _, ok := k.Symbolize(uint64(f.PC) - 1); ok && len(callers) < 5 {
			callers = append(callers, name)
		}
	}
	// The instructions around the address: up to the marked one (dis -r),
	// then after it within its function. The marked instruction is the
	// faulting one, or for a call to panic the call (the one holding the
	// return address's last byte).
	pc := uint64(fault.PC)
	upTo := pc
	if !fault.Exception {
		upTo = pc - 1
	}
	fault.Disassembly = []DisInstruction{}
	before, err := disKernel(ctx, s, disRequest{addr: upTo, count: 6, reverse: true})
	if before != nil {
		for _, in := range before.Instructions {
			if uint64(in.Address) <= upTo {
				fault.Disassembly = append(fault.Disassembly, in)
				fault.Marked = in.Address
			}
		}
	}
	if err == nil {
		after, aerr := disKernel(ctx, s, disRequest{addr: upTo, count: 5, forward: true})
		if after != nil {
			for _, in := range after.Instructions {
				if in.Address > fault.Marked && in.Function == fault.Function {
					fault.Disassembly = append(fault.Disassembly, in)
				}
			}
		}
		err = aerr
	}
	if err != nil {
		fault.DisError = err.Error()
	}
	return fault, callers, nil
}

// triageBlocked lists the tasks in D state, the longest waiting first.
func triageBlocked(s *Session, tasks []kernel.Task, terr error) TriageBlocked {
	k := s.Kernel
	b := TriageBlocked{Tasks: []TriageBlockedTask{}}
	if terr != nil {
		b.Unavailable = terr.Error()
		return b
	}
	waited, clock, werr := waitClock(k)
	b.Clock = clock
	byAddr := map[uint64]kernel.Task{}
	for _, t := range tasks {
		byAddr[t.Addr] = t
	}
	for _, t := range tasks {
		if t.StateName() != kernel.StateUninterruptible {
			continue
		}
		bt := TriageBlockedTask{TaskRef: taskRef(t)}
		if werr != nil {
			bt.WaitError = werr.Error()
		} else if w, err := waited(t); err != nil {
			bt.WaitError = err.Error()
		} else {
			bt.WaitedNsec = &w
		}
		tr, err := btTask(s, t, btOptions{})
		bt.Trace = tr
		if err != nil && tr != nil && tr.Error == "" {
			tr.Error = err.Error()
		}
		if tr != nil {
			bt.Lock = lockWait(s, t, tr, byAddr)
		}
		b.Tasks = append(b.Tasks, bt)
	}
	sort.SliceStable(b.Tasks, func(i, j int) bool {
		wi, wj := b.Tasks[i].WaitedNsec, b.Tasks[j].WaitedNsec
		switch {
		case wi == nil || wj == nil:
			return wi != nil && wj == nil
		}
		return *wi > *wj
	})
	return b
}

// waitClock returns how to measure how long a task has waited: its CPU's
// runqueue clock less its last-run timestamp (nanoseconds), or the
// hung-task detector's last_switch_time (jiffies) against jiffies.
func waitClock(k *kernel.Kernel) (func(kernel.Task) (uint64, error), string, error) {
	if m, err := k.LastRunMember(); err == nil && m != "last_run" && m != "timestamp" {
		return func(t kernel.Task) (uint64, error) {
			last, err := k.LastRun(t.Addr)
			if err != nil {
				return 0, err
			}
			now, err := k.RQClock(t.CPU)
			if err != nil {
				return 0, err
			}
			if now < last {
				return 0, nil
			}
			return now - last, nil
		}, m, nil
	}
	off, err := k.Offset("task_struct", "last_switch_time")
	if err != nil {
		return nil, "", fmt.Errorf("no last-run timestamp (sched_info.last_arrival, last_switch_time) in this kernel")
	}
	hz, err := k.HZ()
	if err != nil {
		return nil, "last_switch_time", err
	}
	return func(t kernel.Task) (uint64, error) {
		last, err := k.ReadU64(t.Addr + uint64(off))
		if err != nil {
			return 0, err
		}
		now, err := k.UptimeJiffies()
		if err != nil {
			return 0, err
		}
		if now < last {
			return 0, nil
		}
		return (now - last) * (1_000_000_000 / hz), nil
	}, "last_switch_time", nil
}

// inMutexWait: the trace passes through a mutex's slow path.
func inMutexWait(tr *BTTrace) bool {
	for _, f := range tr.Frames {
		name, _, _ := strings.Cut(f.Function, ".") // __mutex_lock.constprop.0
		switch name {
		case "__mutex_lock", "__mutex_lock_slowpath", "mutex_lock", "__mutex_lock_interruptible_slowpath",
			"__mutex_lock_killable_slowpath", "mutex_lock_interruptible", "mutex_lock_killable":
			return true
		}
	}
	return false
}

// mutexOffsets are the offsets of struct mutex_waiter's and struct mutex's
// members a waiter's mutex is found by.
type mutexOffsets struct{ waiterTask, waiterList, waitList, owner uint64 }

// mutexWaiterOf finds the mutex a task waits on and the mutex's owner.
func mutexWaiterOf(k *kernel.Kernel, t kernel.Task, byAddr map[uint64]kernel.Task) (mutex uint64, owner uint64, err error) {
	lo, hi, err := k.TaskStack(t)
	if err != nil {
		return 0, 0, err
	}
	var o mutexOffsets
	for _, f := range []struct {
		s, m string
		dst  *uint64
	}{{"mutex_waiter", "task", &o.waiterTask}, {"mutex_waiter", "list", &o.waiterList},
		{"mutex", "wait_list", &o.waitList}, {"mutex", "owner", &o.owner}} {
		off, err := k.Offset(f.s, f.m)
		if err != nil {
			return 0, 0, err
		}
		*f.dst = uint64(off)
	}
	isTask := func(a uint64) bool { _, ok := byAddr[a]; return ok }
	m, own, ok := findMutexWaited(k.ReadU64, lo, hi, t.Addr, o, isTask)
	if !ok {
		return 0, 0, fmt.Errorf("no mutex waiter found on its stack")
	}
	return m, own, nil
}

// findMutexWaited finds, on the stack [lo, hi) of task, its struct
// mutex_waiter ({list, task == the task}) linked into a mutex's wait_list:
// walking the waiter's list, the mutex is the node whose owner, its flag
// bits (MUTEX_FLAGS, the low 3) masked, is another task.
func findMutexWaited(read func(uint64) (uint64, error), lo, hi, task uint64, o mutexOffsets, isTask func(uint64) bool) (mutex, owner uint64, ok bool) {
	head, ok := kernel.FindLockWaiter(read, lo, hi, task, o.waiterTask, o.waiterList, func(node uint64) bool {
		own, err := read(node - o.waitList + o.owner)
		if err == nil && isTask(own&^7) && own&^7 != task {
			owner = own &^ 7
			return true
		}
		return false
	})
	if !ok {
		return 0, 0, false
	}
	return head - o.waitList, owner, true
}

// inRWSemWait: the trace passes through an rw_semaphore's slow path.
func inRWSemWait(tr *BTTrace) bool {
	for _, f := range tr.Frames {
		name, _, _ := strings.Cut(f.Function, ".")
		switch name {
		case "rwsem_down_read_slowpath", "rwsem_down_write_slowpath", "__down_read_common", "__down_write_common",
			"down_read", "down_write", "down_read_killable", "down_write_killable", "__rwsem_down_read_failed_common",
			"__rwsem_down_write_failed_common", "rwsem_down_read_failed", "rwsem_down_write_failed":
			return true
		}
	}
	return false
}

// lockWaited finds the sleeping lock t waits on (nil: none known): an
// rt_mutex it is blocked on (pi_blocked_on), else the rw_semaphore or the
// mutex whose slow path its trace is in (tr nil: its trace is made here).
func lockWaited(s *Session, t kernel.Task, tr *BTTrace, byAddr map[uint64]kernel.Task) *TriageLock {
	k := s.Kernel
	isTask := func(a uint64) bool { _, ok := byAddr[a]; return ok }
	if lw, ok, err := kernel.RTMutexWaited(k, k, t.Addr); err != nil && !symbols.IsMissing(err) {
		return &TriageLock{Kind: kernel.LockRTMutex, Error: err.Error()}
	} else if ok {
		return lockOf(lw, isTask)
	}
	if tr == nil {
		tr, _ = btTask(s, t, btOptions{})
	}
	switch {
	case tr == nil:
		return nil
	case inRWSemWait(tr):
		lo, hi, err := k.TaskStack(t)
		if err != nil {
			return &TriageLock{Kind: kernel.LockRWSem, Error: err.Error()}
		}
		lw, err := kernel.RWSemWaited(k, k, t.Addr, lo, hi, isTask)
		if err != nil {
			return &TriageLock{Kind: kernel.LockRWSem, Error: err.Error()}
		}
		return lockOf(lw, isTask)
	case inMutexWait(tr):
		m, o, err := mutexWaiterOf(k, t, byAddr)
		if err != nil {
			return &TriageLock{Kind: kernel.LockMutex, Error: err.Error()}
		}
		return &TriageLock{Kind: kernel.LockMutex, Addr: Hex(m), owner: o}
	}
	return nil
}

// lockOf is the report of a lock the kernel package found.
func lockOf(lw kernel.LockWait, isTask func(uint64) bool) *TriageLock {
	l := &TriageLock{Kind: lw.Kind, Addr: Hex(lw.Lock), Flags: Hex(lw.Flags)}
	if lw.Kind == kernel.LockRWSem {
		l.Writer, l.Readers, l.ReaderOwned = lw.Writer, lw.Readers, lw.ReaderOwned
		if lw.ReaderOwned {
			l.Note = fmt.Sprintf("held by %d reader(s); the owner is the last reader to take it, which may have released it (readers are not tracked)", lw.Readers)
		}
	}
	switch {
	case lw.Owner == 0:
		l.Error = "the lock records no owner"
	case !isTask(lw.Owner):
		l.Error = fmt.Sprintf("the owner %x is not in the task list", lw.Owner)
	default:
		l.owner = lw.Owner
	}
	return l
}

// lockWait finds the lock t waits on (nil: none), its owner, the owner's
// trace and the owner chain: each owner in D state waiting on a lock in
// turn, until one is not, or one comes back (a deadlock).
func lockWait(s *Session, t kernel.Task, tr *BTTrace, byAddr map[uint64]kernel.Task) *TriageLock {
	l := lockWaited(s, t, tr, byAddr)
	if l == nil || l.owner == 0 {
		return l
	}
	ot := byAddr[l.owner]
	ref := taskRef(ot)
	l.Owner = &ref
	l.OwnerTrace, _ = btTask(s, ot, btOptions{})
	seen := map[uint64]bool{t.Addr: true}
	cur := ot
	for n := 0; n < 32; n++ {
		if seen[cur.Addr] {
			l.Deadlock = true
			break
		}
		seen[cur.Addr] = true
		l.Chain = append(l.Chain, taskRef(cur))
		if cur.StateName() != kernel.StateUninterruptible {
			break
		}
		var ctr *BTTrace
		if cur.Addr == ot.Addr {
			ctr = l.OwnerTrace
		}
		next := lockWaited(s, cur, ctr, byAddr)
		if next == nil || next.owner == 0 {
			break
		}
		cur = byAddr[next.owner]
	}
	if l.Deadlock {
		l.Chain = append(l.Chain, taskRef(cur))
	}
	return l
}

// triageSuspects lists the modules in the panic trace or tainting the
// kernel.
func triageSuspects(k *kernel.Kernel, tr *BTTrace) TriageSuspects {
	out := TriageSuspects{Modules: []TriageModule{}}
	inTrace := map[string]bool{}
	if tr != nil {
		for _, f := range tr.Frames {
			if f.Module != "" {
				inTrace[f.Module] = true
			}
			if e := f.Exception; e != nil && !e.User {
				if ua, ok := k.Arch.(arch.Unwinding); ok && len(e.regs) > ua.RegIndex().PC {
					if m := k.ModuleOf(e.regs[ua.RegIndex().PC]); m != "" {
						inTrace[m] = true
					}
				}
			}
		}
	}
	mods, err := k.Modules()
	if err != nil {
		out.Unavailable = err.Error()
	}
	for _, m := range mods {
		tm := TriageModule{Name: m.Name, InTrace: inTrace[m.Name]}
		mi, err := k.ModuleInfo(m)
		if err != nil {
			tm.Error = err.Error()
		}
		tm.Taints, tm.Version, tm.SrcVersion = taintLetters(mi.Taints), mi.Version, mi.SrcVersion
		if tm.InTrace || mi.Taints&moduleSuspectTaints != 0 || err != nil && tm.InTrace {
			out.Modules = append(out.Modules, tm)
		}
	}
	return out
}

func (r *TriageResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	c := &r.Crash
	un := func(field string) {
		if why, ok := c.Unavailable[field]; ok {
			tw.printf("  (%s unavailable: %s)\n", field, why)
		}
	}
	tw.println("CRASH")
	if c.Kind != "" {
		tw.printf("  KIND: %s\n", c.Kind)
	}
	un("kind")
	un("log")
	if c.Report != "" {
		tw.printf("  REPORT: %s\n", c.Report)
	}
	if c.Panic != "" {
		tw.printf("  PANIC: %q\n", c.Panic)
	}
	if _, ok := c.Unavailable["taints"]; ok {
		un("taints")
	} else if len(c.Taints) == 0 {
		tw.println("  TAINTED: no")
	} else {
		var names []string
		for _, f := range c.Taints {
			names = append(names, f.Letter+" "+f.Name)
		}
		tw.printf("  TAINTED: %x: %s\n", uint64(c.TaintedMask), strings.Join(names, ", "))
	}
	if c.Task != nil {
		tw.printf("  TASK: %s\n", c.Task.Header())
	}
	un("task")
	if f := c.Fault; f != nil {
		how := "exception at"
		if !f.Exception {
			how = "called panic() from"
		}
		tw.printf("  FAULT: %s %s+%d%s (%016x)\n", how, f.Function, f.Offset, moduleText(f.Module), uint64(f.PC))
		for _, in := range f.Disassembly {
			mark := "  "
			if in.Address == f.Marked {
				mark = "=>"
			}
			tw.printf("  %s %s\n", mark, disLine(in, false, false))
		}
		if f.DisError != "" {
			tw.printf("  (dis: %s)\n", f.DisError)
		}
	}
	un("fault")
	if c.Trace != nil {
		tw.println("")
		c.Trace.text(tw)
	}
	un("trace")
	tw.println("")
	tw.println("  LOG REPORTS:")
	if len(c.Events) == 0 {
		tw.println("    (none)")
	}
	for _, l := range c.Events {
		tw.printf("    %s\n", foldedText(l))
	}
	tw.println("  LAST LOG LINES:")
	for _, l := range c.LastLines {
		tw.printf("    %s\n", foldedText(l))
	}

	tw.println("")
	tw.println("BLOCKED")
	b := &r.Blocked
	if b.Unavailable != "" {
		tw.printf("  (unavailable: %s)\n", b.Unavailable)
	} else if len(b.Tasks) == 0 {
		tw.println("  no task in D state")
	} else {
		tw.printf("  %d task(s) in D state, the longest waiting first (by %s)\n", len(b.Tasks), b.Clock)
	}
	for _, t := range b.Tasks {
		tw.println("")
		if t.WaitedNsec != nil {
			tw.printf("  WAITED: %s\n", formatWait(*t.WaitedNsec))
		} else {
			tw.printf("  WAITED: (unavailable: %s)\n", t.WaitError)
		}
		if t.Trace != nil {
			t.Trace.text(tw)
		}
		if l := t.Lock; l != nil {
			what := strings.ToUpper(l.Kind)
			switch {
			case l.Error != "" && l.Addr != 0:
				tw.printf("  %s: %016x (owner unavailable: %s)\n", what, uint64(l.Addr), l.Error)
			case l.Error != "":
				tw.printf("  %s: (owner unavailable: %s)\n", what, l.Error)
			default:
				tw.printf("  %s: %016x OWNER: %s\n", what, uint64(l.Addr), l.Owner.Header())
				if l.Note != "" {
					tw.printf("  (%s)\n", l.Note)
				}
				if len(l.Chain) > 1 {
					var ps []string
					for _, o := range l.Chain {
						ps = append(ps, fmt.Sprint(o.PID))
					}
					tw.printf("  OWNER CHAIN: %s\n", strings.Join(ps, " -> "))
				}
				if l.Deadlock {
					tw.println("  DEADLOCK: the owner chain comes back to a task already in it")
				}
				if l.OwnerTrace != nil {
					l.OwnerTrace.text(tw)
				}
			}
		}
	}

	tw.println("")
	r.Load.text(tw)

	tw.println("")
	tw.println("SUSPECT CODE")
	sp := &r.Suspects
	if sp.Unavailable != "" {
		tw.printf("  (modules unavailable: %s)\n", sp.Unavailable)
	}
	if len(sp.Modules) == 0 && sp.Unavailable == "" {
		tw.println("  no module in the panic trace or tainting the kernel")
	}
	for _, m := range sp.Modules {
		line := "  " + m.Name
		if m.Taints != "" {
			line += "(" + m.Taints + ")"
		}
		if m.InTrace {
			line += " in the panic trace"
		}
		if m.Version != "" {
			line += " version " + m.Version
		}
		if m.SrcVersion != "" {
			line += " srcversion " + m.SrcVersion
		}
		if m.Error != "" {
			line += " (" + m.Error + ")"
		}
		tw.println(line)
	}

	for _, n := range r.NotYet {
		tw.println("")
		tw.printf("(not in this report yet: %s)\n", n)
	}
	tw.println("")
	if r.Signature.Hash != "" {
		tw.printf("SIGNATURE: %s\n", r.Signature)
	} else {
		tw.println("SIGNATURE: (unavailable: the crash's kind or faulting function is unknown)")
	}
	return tw.err
}

// text writes the load and memory section: kmem -i's table and kmem -s's
// lines of the largest caches, indented.
func (l *TriageLoad) text(tw *textWriter) {
	un := func(field string) bool {
		why, ok := l.Unavailable[field]
		if ok {
			tw.printf("  (%s unavailable: %s)\n", field, why)
		}
		return ok
	}
	indented := func(res Result) {
		var b strings.Builder
		res.Text(&b)
		for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			tw.println(strings.TrimRight("  "+line, " "))
		}
	}
	tw.println("LOAD AND MEMORY")
	if !un("load_average") {
		tw.printf("  LOAD AVERAGE: %s, %s, %s\n", loadavg(l.loadRaw[0]), loadavg(l.loadRaw[1]), loadavg(l.loadRaw[2]))
	}
	if !un("run_queues") {
		tw.println("  RUN QUEUES:")
		for _, q := range l.RunQueues {
			cur := "(unavailable)"
			if q.Current != nil {
				cur = q.Current.Header()
			}
			if q.Error != "" {
				tw.printf("    CPU %d: (queue unavailable: %s) CURRENT: %s\n", q.CPU, q.Error, cur)
			} else {
				tw.printf("    CPU %d: %d RT, %d CFS queued  CURRENT: %s\n", q.CPU, q.RT, q.CFS, cur)
			}
		}
	}
	if !un("memory") && l.Memory != nil {
		tw.println("  MEMORY:")
		indented(l.Memory)
	}
	un("largest_slab_caches")
	if len(l.Slabs) > 0 {
		tw.printf("  LARGEST SLAB CACHES:\n")
		indented(&KmemSlabResult{Caches: l.Slabs, header: true})
	}
	if !un("oom_events") {
		tw.println("  OOM EVENTS:")
		if len(l.OOM) == 0 {
			tw.println("    (none)")
		}
		for _, e := range l.OOM {
			tw.printf("    %s\n", foldedText(e))
		}
	}
}

func foldedText(l TriageLogLine) string {
	if l.Count > 1 {
		return fmt.Sprintf("[%5d.%06d] %s (x%d, last at %d.%06d)", l.TsNsec/1e9, l.TsNsec%1e9/1e3, l.Text, l.Count, l.LastTsNsec/1e9, l.LastTsNsec%1e9/1e3)
	}
	return fmt.Sprintf("[%5d.%06d] %s", l.TsNsec/1e9, l.TsNsec%1e9/1e3, l.Text)
}

// formatWait prints nanoseconds as seconds with milliseconds.
func formatWait(ns uint64) string {
	return fmt.Sprintf("%d.%03d s", ns/1e9, ns%1e9/1e6)
}
