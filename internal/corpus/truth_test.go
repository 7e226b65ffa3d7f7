package corpus

import (
	"strings"
	"testing"
)

const sampleConsole = `SeaBIOS booting
[    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP
[    0.000001] Command line: console=ttyS0
[    2.000000] @@GOCRASH uname: Linux gocrash 6.1.0-56-cloud-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 x86_64 GNU/Linux
[    2.000000] @@GOCRASH uname: 6.1.0-56-cloud-amd64
[    2.000000] @@GOCRASH uname: gocrash
[    2.000000] @@GOCRASH uname: #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2
[    2.000000] @@GOCRASH uname: x86_64
[    2.000001] @@GOCRASH nproc: 2
[    2.000002] @@GOCRASH ps: PID   PPID  STAT   VSZ  RSS COMMAND
[    2.000002] @@GOCRASH ps:     1     0 S     2.1m 1.2m init
[    2.100000] random: crng init done
[    2.000002] @@GOCRASH ps:     2     0 SW       0    0 [kthreadd]
[    2.000002] @@GOCRASH ps:    77     1 Z        0    0 [sleep]
user output on the console is ignored
[    2.000003] @@GOCRASH modules: qemu_fw_cfg 20480 0 - Live 0xffffffffc0200000
[    3.000000] @@GOCRASH-BEGIN sysrq-t@@
[    3.000001] sysrq: Show State
[    3.000002] task:init            state:S stack:0     pid:1     ppid:0      flags:0x00000002
[    3.000100] @@GOCRASH-END sysrq-t@@
[    4.000000] sysrq: Trigger a crash
[    4.000001] Kernel panic - not syncing: sysrq triggered crash
[    4.000002] CPU: 1 PID: 1 Comm: init Kdump: loaded Tainted: G            E     6.1.0-56-cloud-amd64 #1
[    0.000000] Linux version 6.1.0-56-cloud-amd64 (capture kernel)
[    0.100001] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-56-cloud-amd64 #1
[    0.100000] this line belongs to the capture kernel
`

func TestParseConsole(t *testing.T) {
	tr, err := ParseConsole(sampleConsole)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Uname.Release != "6.1.0-56-cloud-amd64" || tr.Uname.Nodename != "gocrash" || tr.Uname.Machine != "x86_64" {
		t.Errorf("uname %+v", tr.Uname)
	}
	if tr.NProc != 2 {
		t.Errorf("nproc %d", tr.NProc)
	}
	if len(tr.PS) != 3 || tr.PS[2].PID != 77 || tr.PS[2].Stat != "Z" || tr.PS[1].Comm != "[kthreadd]" {
		t.Errorf("ps %+v", tr.PS)
	}
	if len(tr.Modules) != 1 || tr.Modules[0].Name != "qemu_fw_cfg" || tr.Modules[0].Size != 20480 {
		t.Errorf("modules %+v", tr.Modules)
	}
	if len(tr.SysrqT) != 2 || tr.SysrqT[0] != "sysrq: Show State" {
		t.Errorf("sysrq-t %q", tr.SysrqT)
	}
	if tr.Panic != "Kernel panic - not syncing: sysrq triggered crash" {
		t.Errorf("panic %q", tr.Panic)
	}
	if !tr.Tainted {
		t.Error("the crashed kernel said it was tainted")
	}
	last := tr.Console[len(tr.Console)-1]
	if !strings.HasPrefix(last.Text, "CPU: 1 PID: 1 Comm: init") {
		t.Errorf("console does not end at the crashed kernel's last line: %+v", last)
	}
}
