package corpus

import (
	"reflect"
	"testing"
)

// A real arm64 Oops from the corpus (arm64 6.1.0-57, QEMU; the "Mem abort
// info" lines but ESR left out): the report, then die()'s panic, which
// prints no stack of its own.
const arm64OopsConsole = `
[  162.540410] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000
[  162.541100]   ESR = 0x0000000096000046
[  162.564146] Internal error: Oops: 0000000096000046 [#1] SMP
[  162.582388] Modules linked in: gocrash_test(OE) loop dummy qemu_fw_cfg
[  162.583206] CPU: 1 PID: 259 Comm: sh Tainted: G           OE      6.1.0-57-cloud-arm64 #1  Debian 6.1.192-3
[  162.583620] Hardware name: linux,dummy-virt (DT)
[  162.583885] pstate: 00400005 (nzcv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)
[  162.584191] pc : gocrash_oops_inner+0x20/0x30 [gocrash_test]
[  162.597081] lr : gocrash_oops_middle+0x1c/0x44 [gocrash_test]
[  162.597355] sp : ffff800008303a00
[  162.597529] x29: ffff800008303a00 x28: ffff00000839d140 x27: 0000000000000000
[  162.615116] x5 : 0000000000000000 x4 : 8080808000000000 x3 : 0000000000000000
[  162.615492] x2 : 0000000000000000 x1 : 0000000000000012 x0 : 0000000000000013
[  162.615957] Call trace:
[  162.616115]  gocrash_oops_inner+0x20/0x30 [gocrash_test]
[  162.632551]  gocrash_oops_outer+0x1c/0x4c [gocrash_test]
[  162.633598]  vfs_write+0xdc/0x3a0
[  162.639690] Code: d503233f 91000400 f9426042 d50323bf (f9000041) 
[  162.640196] ---[ end trace 0000000000000000 ]---
[  162.642609] Kernel panic - not syncing: Oops: Fatal exception
[  162.642938] SMP: stopping secondary CPUs
[  162.645538] ---[ end Kernel panic - not syncing: Oops: Fatal exception ]---
`

// TestParseReportsArm64Oops: arm64's wording, its register block (pstate
// first, pc and lr as locations, sp and x0..x29 by the kernel's names) and
// its "Call trace:" without stack markers; the panic after it names no
// task, so PanicReport is the Oops's.
func TestParseReportsArm64Oops(t *testing.T) {
	reps := ParseReports(consoleTexts(arm64OopsConsole))
	if len(reps) != 2 {
		t.Fatalf("%d reports, want the Oops and the panic: %+v", len(reps), reps)
	}
	r := reps[0]
	if r.Title != "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000" ||
		r.Oops != "Internal error: Oops: 0000000096000046 [#1] SMP" || r.CPU != 1 || r.PID != 259 || r.Comm != "sh" ||
		r.ModulesLinkedIn != "gocrash_test(OE) loop dummy qemu_fw_cfg" {
		t.Errorf("report %+v", r)
	}
	if r.Regs == nil {
		t.Fatal("no registers")
	}
	if want := (Location{Func: "gocrash_oops_inner", Off: 0x20, Len: 0x30, Module: "gocrash_test"}); r.Regs.RIP != want {
		t.Errorf("pc %+v", r.Regs.RIP)
	}
	if want := (Location{Func: "gocrash_oops_middle", Off: 0x1c, Len: 0x44, Module: "gocrash_test"}); r.Regs.LR != want {
		t.Errorf("lr %+v", r.Regs.LR)
	}
	want := map[string]uint64{"pstate": 0x00400005, "sp": 0xffff800008303a00, "x29": 0xffff800008303a00,
		"x28": 0xffff00000839d140, "x27": 0, "x5": 0, "x4": 0x8080808000000000, "x3": 0, "x2": 0, "x1": 0x12, "x0": 0x13}
	if !reflect.DeepEqual(r.Regs.Values, want) {
		t.Errorf("registers %v, want %v", r.Regs.Values, want)
	}
	if got, want := traceText(r.Trace), []string{":gocrash_oops_inner[gocrash_test]", ":gocrash_oops_outer[gocrash_test]", ":vfs_write"}; !reflect.DeepEqual(got, want) {
		t.Errorf("trace %q, want %q", got, want)
	}
	if p := reps[1]; p.Title != "Kernel panic - not syncing: Oops: Fatal exception" || p.Comm != "" {
		t.Errorf("panic report %+v", p)
	}
	truth := &Truth{Reports: reps}
	if pr, ok := truth.PanicReport(); !ok || pr != &truth.Reports[0] {
		t.Errorf("PanicReport %+v, want the Oops's", pr)
	}
}

// TestParseReports612: 6.12's CPU line carries the UID, and its die() line
// is prefixed "Oops: ".
func TestParseReports612(t *testing.T) {
	reps := ParseReports(consoleTexts(`
[   51.941297] BUG: kernel NULL pointer dereference, address: 0000000000000000
[   51.942086] Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI
[   51.942439] CPU: 0 UID: 0 PID: 318 Comm: sh Kdump: loaded Tainted: G           OE      6.12.117+deb12-cloud-amd64 #1  Debian 6.12.117-1~deb12u1
[   51.942938] RIP: 0010:gocrash_oops_inner+0xc/0x20 [gocrash_test]
[   51.943261] RSP: 0018:ffffd185c045bb78 EFLAGS: 00000206
`))
	if len(reps) != 1 || reps[0].Oops != "Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI" || reps[0].CPU != 0 || reps[0].PID != 318 ||
		reps[0].Comm != "sh" || reps[0].Regs == nil || reps[0].Regs.Values["RSP"] != 0xffffd185c045bb78 {
		t.Errorf("reports %+v", reps)
	}
}
