package commands

import (
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// taskMachine is a synthetic two-CPU dump with no vmlinux: swapper/0
// (init_task) and swapper/1 idle, systemd, kthreadd, and bash running on
// CPU 0, which panicked; 64 MiB of memory, HZ 250, up 1:01:01.
func taskMachine(t *testing.T) *Session {
	m := kerneltest.New()
	m.Log(kerneltest.KData, 0x300000, []kerneltest.Record{
		{TS: 1000, Level: 0, Text: "Kernel panic - not syncing: sysrq triggered crash"},
	})
	const kthread = kerneltest.PFKthread
	init := &kerneltest.Task{PID: 0, TGID: 0, Comm: "swapper/0", Flags: kthread, CPU: 0}
	initAddr := m.PutTask(init)
	systemd := &kerneltest.Task{PID: 1, TGID: 1, Comm: "systemd", State: 1, Parent: initAddr,
		MM: &kerneltest.MM{TotalVM: 4096, RSS: [4]uint64{300, 200, 7, 12}}}
	kthreadd := &kerneltest.Task{PID: 2, TGID: 2, Comm: "kthreadd", State: 1, Flags: kthread, Parent: initAddr, CPU: 1}
	bash := &kerneltest.Task{PID: 100, TGID: 100, Comm: "bash", State: 0, Parent: m.PutTask(systemd),
		MM: &kerneltest.MM{TotalVM: 2048, RSS: [4]uint64{100, 156, 0, 0}}}
	addrs := m.Tasks(init, []*kerneltest.Task{systemd, kthreadd, bash})
	idle1 := &kerneltest.Task{PID: 0, TGID: 0, Comm: "swapper/1", Flags: kthread, CPU: 1, Parent: initAddr}
	idle1Addr := m.PutTask(idle1)
	m.CPUs([]kerneltest.CPU{{Curr: addrs[3], Idle: addrs[0]}, {Curr: idle1Addr, Idle: idle1Addr}}, 0)
	m.Sys(kerneltest.Sys{Sysname: "Linux", Nodename: "testhost", Release: "6.1.0-test",
		Version: "#1 SMP PREEMPT_DYNAMIC Thu Jan  1 00:00:00 UTC 2024", Machine: "x86_64", Domainname: "(none)",
		HZ: 250, Uptime: 3661 * 250, Avenrun: [3]uint64{2048, 1024, 512}, CPUKHz: 2400000,
		MemoryPages: 16384, CrashTime: 1700000000})
	return &Session{Kernel: m.Kernel(t), Registry: NewRegistry(), VmlinuxPath: "vmlinux", DumpPaths: []string{"vmcore"}}
}

// check compares a command's text and JSON on the machine with crash's.
func check(t *testing.T, s *Session, line, wantText, wantJSON string) {
	t.Helper()
	text, js := runUnit(t, s, line)
	if text != wantText {
		t.Errorf("%s:\n%s\nwant:\n%s", line, text, wantText)
	}
	if js != wantJSON {
		t.Errorf("%s JSON:\n%s\nwant:\n%s", line, js, wantJSON)
	}
}

func TestPSUnit(t *testing.T) {
	s := taskMachine(t)
	check(t, s, "ps",
		"      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n"+
			"        0       0   0  ffff888000010000  RU   0.0        0        0  [swapper/0]\n"+
			">       0       0   1  ffff888000010280  RU   0.0        0        0  [swapper/1]\n"+
			"        1       0   0  ffff888000010080  IN   3.1    16384     2048  systemd\n"+
			"        2       0   1  ffff888000010140  IN   0.0        0        0  [kthreadd]\n"+
			">     100       1   0  ffff8880000101c0  RU   1.6     8192     1024  bash\n",
		`{"schema_version":1,"command":"ps","data":{"tasks":[`+
			`{"pid":0,"task":"ffff888000010000","cpu":0,"comm":"swapper/0","ppid":0,"state":"RU","mem_percent":0,"vsz":0,"rss":0,"active":false,"kernel_thread":true},`+
			`{"pid":0,"task":"ffff888000010280","cpu":1,"comm":"swapper/1","ppid":0,"state":"RU","mem_percent":0,"vsz":0,"rss":0,"active":true,"kernel_thread":true},`+
			`{"pid":1,"task":"ffff888000010080","cpu":0,"comm":"systemd","ppid":0,"state":"IN","mem_percent":3.1,"vsz":16384,"rss":2048,"active":false,"kernel_thread":false},`+
			`{"pid":2,"task":"ffff888000010140","cpu":1,"comm":"kthreadd","ppid":0,"state":"IN","mem_percent":0,"vsz":0,"rss":0,"active":false,"kernel_thread":true},`+
			`{"pid":100,"task":"ffff8880000101c0","cpu":0,"comm":"bash","ppid":1,"state":"RU","mem_percent":1.6,"vsz":8192,"rss":1024,"active":true,"kernel_thread":false}]}}`+"\n")
	check(t, s, "ps -S", "  IN: 2\n  RU: 3\n",
		`{"schema_version":1,"command":"ps -S","data":{"states":{"IN":2,"RU":3}}}`+"\n")
}
