package corpus

import (
	"reflect"
	"strings"
	"testing"
)

// Real reports from the corpus runs (x86_64 6.1.0-57, kdump; "Hardware
// name" and "#PF" lines and one "Code:" line left out): the soft lockup
// (the watchdog's report, then the panic's, from its hrtimer on the IRQ
// stack) and the process-context Oops (a system call's user-mode registers
// inside the trace).
const softlockupConsole = `
[   10.831490] watchdog: BUG: soft lockup - CPU#1 stuck for 3s! [gocrash_spin:133]
[   10.831807] Modules linked in: gocrash_test(OE) loop dummy qemu_fw_cfg
[   10.832065] CPU: 1 PID: 133 Comm: gocrash_spin Kdump: loaded Tainted: G           OE      6.1.0-57-cloud-amd64 #1  Debian 6.1.192-3
[   10.832375] RIP: 0010:gocrash_spin_inner+0xc/0x40 [gocrash_test]
[   10.832503] Code: 8b 15 20 23 00 00 48 01 d0 48 89 05 16 23 00 00 c3 cc cc cc cc 66 0f 1f 84 00 00 00 00 00 0f 1f 44 00 00 b8 40 42 0f 00 f3 90 <48> 83 e8 01 75 f8 48 8b 15 ef 22 00 00 48 b8 e0 e6 4a 6a 74 00 00
[   10.832763] RSP: 0018:ffffd26a40433f00 EFLAGS: 00000202
[   10.832837] RAX: 00000000000ce46d RBX: 0000000000000001 RCX: 0000000000000002
[   10.832927] RDX: 0000000000000001 RSI: 0000000000000202 RDI: 0000000000000001
[   10.833016] RBP: ffffd26a4041ba08 R08: 0000000000000000 R09: 0000000000000000
[   10.833105] R10: 00000000fffffffb R11: 0000000000000000 R12: ffff8f2583c03000
[   10.833193] R13: ffff8f25b0dda880 R14: 0000000000000000 R15: ffffffffc0214190
[   10.833321] FS:  0000000000000000(0000) GS:ffff8f25bcd00000(0000) knlGS:0000000000000000
[   10.833427] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
[   10.833503] CR2: 0000000022e0a730 CR3: 00000000011ec000 CR4: 00000000000006a0
[   10.833670] Call Trace:
[   10.833751]  <TASK>
[   10.833790]  gocrash_spin_outer+0x18/0x50 [gocrash_test]
[   10.833878]  gocrash_spin_fn+0xf/0x30 [gocrash_test]
[   10.833948]  kthread+0xda/0x100
[   10.834008]  ? kthread_complete_and_exit+0x20/0x20
[   10.834075]  ret_from_fork+0x22/0x30
[   10.834137]  </TASK>
[   10.834263] Kernel panic - not syncing: softlockup: hung tasks
[   10.834394] CPU: 1 PID: 133 Comm: gocrash_spin Kdump: loaded Tainted: G           OEL     6.1.0-57-cloud-amd64 #1  Debian 6.1.192-3
[   10.834664] Call Trace:
[   10.834734]  <IRQ>
[   10.834763]  dump_stack_lvl+0x44/0x5c
[   10.834820]  panic+0x118/0x2f4
[   10.834892]  watchdog_timer_fn.cold+0xc/0x16
[   10.834952]  ? lockup_detector_update_enable+0x50/0x50
[   10.835022]  __hrtimer_run_queues+0x10d/0x250
[   10.835087]  hrtimer_interrupt+0xf4/0x210
[   10.835145]  __sysvec_apic_timer_interrupt+0x5d/0x110
[   10.835215]  sysvec_apic_timer_interrupt+0x69/0x90
[   10.835273]  </IRQ>
[   10.835273]  <TASK>
[   10.835273]  asm_sysvec_apic_timer_interrupt+0x16/0x20
[   10.835273] RIP: 0010:gocrash_spin_inner+0xc/0x40 [gocrash_test]
[   10.835273] RSP: 0018:ffffd26a40433f00 EFLAGS: 00000202
[   10.835273] RAX: 00000000000ce46d RBX: 0000000000000001 RCX: 0000000000000002
[   10.835273] RDX: 0000000000000001 RSI: 0000000000000202 RDI: 0000000000000001
[   10.835273] RBP: ffffd26a4041ba08 R08: 0000000000000000 R09: 0000000000000000
[   10.835273] R10: 00000000fffffffb R11: 0000000000000000 R12: ffff8f2583c03000
[   10.835273] R13: ffff8f25b0dda880 R14: 0000000000000000 R15: ffffffffc0214190
[   10.835273]  ? gocrash_spin_outer+0x50/0x50 [gocrash_test]
[   10.835273]  gocrash_spin_outer+0x18/0x50 [gocrash_test]
[   10.835273]  gocrash_spin_fn+0xf/0x30 [gocrash_test]
[   10.835273]  kthread+0xda/0x100
[   10.835273]  ? kthread_complete_and_exit+0x20/0x20
[   10.835273]  ret_from_fork+0x22/0x30
[   10.835273]  </TASK>
`

const oopsConsole = `
[    7.213189] BUG: kernel NULL pointer dereference, address: 0000000000000000
[    7.213643] PGD 2dd16067 P4D 2dd16067 PUD 2ddce067 PMD 0 
[    7.213861] Oops: 0002 [#1] PREEMPT SMP NOPTI
[    7.213994] CPU: 0 PID: 133 Comm: sh Kdump: loaded Tainted: G           OE      6.1.0-57-cloud-amd64 #1  Debian 6.1.192-3
[    7.214285] RIP: 0010:gocrash_oops_inner+0xc/0x20 [gocrash_test]
[    7.214508] Code: Unable to access opcode bytes at 0xffffffffc05befe2.
[    7.214592] RSP: 0018:ffffd3488041bdc0 EFLAGS: 00000206
[    7.214665] RAX: 0000000000000000 RBX: ffffd3488041bde8 RCX: 0000000000000000
[    7.214755] RDX: 0000000000000000 RSI: ffffffffc05c01d2 RDI: 0000000000000012
[    7.214844] RBP: 0000000000000005 R08: 0000000000000001 R09: 0000000000000000
[    7.214933] R10: 0000000000000000 R11: 0000000000000000 R12: 000000003fda6950
[    7.215022] R13: 000000003fda6950 R14: ffff8d9b824d4000 R15: 0000000000000000
[    7.215145] FS:  000000003fda43c0(0000) GS:ffff8d9bbcc00000(0000) knlGS:0000000000000000
[    7.215252] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
[    7.215341] CR2: ffffffffc05befe2 CR3: 000000000243a000 CR4: 00000000000006b0
[    7.215503] Call Trace:
[    7.215638]  <TASK>
[    7.215699]  gocrash_oops_middle+0xe/0x30 [gocrash_test]
[    7.215707]  gocrash_oops_outer+0xe/0x30 [gocrash_test]
[    7.215707]  gocrash_command+0xc2/0x1b0 [gocrash_test]
[    7.215707]  gocrash_write+0x86/0xc0 [gocrash_test]
[    7.215707]  proc_reg_write+0x56/0xa0
[    7.215707]  vfs_write+0xc7/0x3f0
[    7.215707]  ksys_write+0x6b/0xf0
[    7.215707]  do_syscall_64+0x5d/0x90
[    7.215707]  ? exit_to_user_mode_prepare+0x44/0x240
[    7.215707]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8
[    7.215707] RIP: 0033:0x47b7a0
[    7.215707] Code: 40 00 48 c7 c2 e0 ff ff ff f7 d8 64 89 02 48 c7 c0 ff ff ff ff eb b7 0f 1f 00 80 3d e8 85 16 00 00 74 17 b8 01 00 00 00 0f 05 <48> 3d 00 f0 ff ff 77 58 c3 0f 1f 80 00 00 00 00 48 83 ec 28 48 89
[    7.215707] RSP: 002b:00007ffdec652ca8 EFLAGS: 00000202 ORIG_RAX: 0000000000000001
[    7.215707] RAX: ffffffffffffffda RBX: 0000000000000001 RCX: 000000000047b7a0
[    7.215707] RDX: 0000000000000005 RSI: 000000003fda6950 RDI: 0000000000000001
[    7.215707] RBP: 000000003fda6950 R08: fefefefefefefeff R09: fefefeff726f6e6e
[    7.215707] R10: 00000000000001b6 R11: 0000000000000202 R12: 0000000000000005
[    7.215707] R13: 000000003fda43a0 R14: 0000000000000001 R15: 00007ffdec652d10
[    7.215707]  </TASK>
[    7.215707] Modules linked in: gocrash_test(OE) loop dummy qemu_fw_cfg
[    7.215707] CR2: 0000000000000000
`

// consoleTexts removes the printk timestamps, as ParseConsole does.
func consoleTexts(log string) []string {
	var out []string
	for _, ln := range strings.Split(strings.TrimSpace(log), "\n") {
		if m := stampRE.FindStringSubmatch(ln); m != nil {
			out = append(out, m[2])
		}
	}
	return out
}

// traceText renders a trace back in a compact form for comparisons.
func traceText(tr []ReportFrame) []string {
	var out []string
	for _, f := range tr {
		switch {
		case f.Marker != "":
			out = append(out, f.Marker)
		case f.Regs != nil && f.Regs.RIP.Func != "":
			out = append(out, "regs@"+f.Regs.RIP.Func)
		case f.Regs != nil:
			out = append(out, "regs@user")
		default:
			s := f.Stack + ":" + f.Func
			if f.Unreliable {
				s = "?" + s
			}
			if f.Module != "" {
				s += "[" + f.Module + "]"
			}
			out = append(out, s)
		}
	}
	return out
}

func TestParseReportsSoftLockup(t *testing.T) {
	reps := ParseReports(consoleTexts(softlockupConsole))
	if len(reps) != 2 {
		t.Fatalf("%d reports, want the watchdog's and the panic's", len(reps))
	}
	w, p := reps[0], reps[1]
	if w.Title != "watchdog: BUG: soft lockup - CPU#1 stuck for 3s! [gocrash_spin:133]" {
		t.Errorf("title %q", w.Title)
	}
	if w.Oops != "" {
		t.Errorf("a soft lockup is no Oops: %q", w.Oops)
	}
	if w.CPU != 1 || w.PID != 133 || w.Comm != "gocrash_spin" {
		t.Errorf("task %d %d %q", w.CPU, w.PID, w.Comm)
	}
	if w.ModulesLinkedIn != "gocrash_test(OE) loop dummy qemu_fw_cfg" {
		t.Errorf("modules linked in %q", w.ModulesLinkedIn)
	}
	if w.Regs == nil {
		t.Fatal("no registers")
	}
	if want := (Location{Func: "gocrash_spin_inner", Off: 0xc, Len: 0x40, Module: "gocrash_test"}); w.Regs.RIP != want {
		t.Errorf("RIP %+v", w.Regs.RIP)
	}
	for name, want := range map[string]uint64{"RSP": 0xffffd26a40433f00, "EFLAGS": 0x202, "RAX": 0xce46d,
		"R15": 0xffffffffc0214190, "GS": 0xffff8f25bcd00000, "knlGS": 0, "CS": 0x10, "SS": 0x18, "CR0": 0x80050033,
		"CR2": 0x22e0a730, "CR3": 0x11ec000, "CR4": 0x6a0} {
		if got, ok := w.Regs.Values[name]; !ok || got != want {
			t.Errorf("%s = %#x (%v), want %#x", name, got, ok, want)
		}
	}
	if len(w.Regs.Values) != 28 { // RSP EFLAGS, 15 GPRs, FS GS knlGS, CS DS ES CR0 CR2 CR3 CR4, SS
		t.Errorf("%d registers: %v", len(w.Regs.Values), w.Regs.Values)
	}
	want := []string{"<TASK>", "TASK:gocrash_spin_outer[gocrash_test]", "TASK:gocrash_spin_fn[gocrash_test]",
		"TASK:kthread", "?TASK:kthread_complete_and_exit", "TASK:ret_from_fork", "</TASK>"}
	if got := traceText(w.Trace); !reflect.DeepEqual(got, want) {
		t.Errorf("watchdog trace\n got %q\nwant %q", got, want)
	}
	if p.Title != "Kernel panic - not syncing: softlockup: hung tasks" || p.Regs != nil || p.Comm != "gocrash_spin" {
		t.Errorf("panic report %q regs %v comm %q", p.Title, p.Regs, p.Comm)
	}
	want = []string{"<IRQ>", "IRQ:dump_stack_lvl", "IRQ:panic", "IRQ:watchdog_timer_fn.cold",
		"?IRQ:lockup_detector_update_enable", "IRQ:__hrtimer_run_queues", "IRQ:hrtimer_interrupt",
		"IRQ:__sysvec_apic_timer_interrupt", "IRQ:sysvec_apic_timer_interrupt", "</IRQ>",
		"<TASK>", "TASK:asm_sysvec_apic_timer_interrupt", "regs@gocrash_spin_inner",
		"?TASK:gocrash_spin_outer[gocrash_test]", "TASK:gocrash_spin_outer[gocrash_test]",
		"TASK:gocrash_spin_fn[gocrash_test]", "TASK:kthread", "?TASK:kthread_complete_and_exit",
		"TASK:ret_from_fork", "</TASK>"}
	if got := traceText(p.Trace); !reflect.DeepEqual(got, want) {
		t.Errorf("panic trace\n got %q\nwant %q", got, want)
	}
	// The interrupted registers inside the panic's trace are the watchdog's.
	if r := p.Trace[12].Regs; r == nil || r.Values["RSP"] != w.Regs.Values["RSP"] || r.Values["R13"] != 0xffff8f25b0dda880 {
		t.Errorf("exception registers in the trace: %+v", r)
	}
	if got := len(p.Reliable()); got != 12 {
		t.Errorf("%d reliable frames, want 12", got)
	}
}

func TestParseReportsOops(t *testing.T) {
	reps := ParseReports(consoleTexts(oopsConsole))
	if len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	r := reps[0]
	if r.Title != "BUG: kernel NULL pointer dereference, address: 0000000000000000" || r.Oops != "Oops: 0002 [#1] PREEMPT SMP NOPTI" {
		t.Errorf("title %q, oops %q", r.Title, r.Oops)
	}
	if r.CPU != 0 || r.PID != 133 || r.Comm != "sh" || r.ModulesLinkedIn != "gocrash_test(OE) loop dummy qemu_fw_cfg" {
		t.Errorf("%d %d %q %q", r.CPU, r.PID, r.Comm, r.ModulesLinkedIn)
	}
	if r.Regs == nil || r.Regs.RIP.Func != "gocrash_oops_inner" || r.Regs.RIP.Off != 0xc || r.Regs.Values["RBX"] != 0xffffd3488041bde8 {
		t.Fatalf("registers %+v", r.Regs)
	}
	// "Code: Unable to access opcode bytes" (no bytes) is not a register line.
	if r.Regs.Values["CR2"] != 0xffffffffc05befe2 {
		t.Errorf("CR2 %#x", r.Regs.Values["CR2"])
	}
	want := []string{"<TASK>", "TASK:gocrash_oops_middle[gocrash_test]", "TASK:gocrash_oops_outer[gocrash_test]",
		"TASK:gocrash_command[gocrash_test]", "TASK:gocrash_write[gocrash_test]", "TASK:proc_reg_write",
		"TASK:vfs_write", "TASK:ksys_write", "TASK:do_syscall_64", "?TASK:exit_to_user_mode_prepare",
		"TASK:entry_SYSCALL_64_after_hwframe", "regs@user", "</TASK>"}
	if got := traceText(r.Trace); !reflect.DeepEqual(got, want) {
		t.Errorf("trace\n got %q\nwant %q", got, want)
	}
	u := r.Trace[11].Regs
	if u.RIP.Addr != 0x47b7a0 || u.Values["CS"] != 0x33 || u.Values["SS"] != 0x2b || u.Values["ORIG_RAX"] != 1 ||
		u.Values["RSP"] != 0x7ffdec652ca8 || u.Values["R15"] != 0x7ffdec652d10 || len(u.Values) != 20 {
		t.Errorf("user registers %+v", u)
	}
	if f := r.Trace[1]; f.Off != 0xe || f.Len != 0x30 {
		t.Errorf("frame %+v", f)
	}
}

// TestParseConsoleReports: ParseConsole reads the reports after the crash
// marker only (sysrq-t's traces before it are no report).
func TestParseConsoleReports(t *testing.T) {
	log := strings.Replace(sampleConsole, "[    4.000000] sysrq: Trigger a crash\n",
		"[    3.500000] @@GOCRASH-BEGIN crash@@\n[    4.000000] sysrq: Trigger a crash\n", 1)
	log = strings.Replace(log, "[    3.000001] sysrq: Show State\n",
		"[    3.000001] sysrq: Show State\n[    3.000001] WARNING: not a report: before the crash marker\n", 1)
	tr, err := ParseConsole(log)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := tr.Report()
	if !ok || len(tr.Reports) != 1 || r.Title != "Kernel panic - not syncing: sysrq triggered crash" || r.Comm != "init" || r.PID != 1 {
		t.Errorf("reports %+v", tr.Reports)
	}
}
