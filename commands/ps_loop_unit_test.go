package commands

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// TestPSParentLoopUnit: a parent-pointer cycle (a corrupt dump) ends the
// lineage ps -p prints at the loop, reported as one line for the task,
// instead of a thousand nested lines.
func TestPSParentLoopUnit(t *testing.T) {
	m := kerneltest.New()
	m.Log(kerneltest.KData, 0x300000, []kerneltest.Record{{TS: 1000, Text: "Kernel panic - not syncing: test"}})
	init := &kerneltest.Task{PID: 0, TGID: 0, Comm: "swapper/0", Flags: kerneltest.PFKthread}
	initAddr := m.PutTask(init)
	a := &kerneltest.Task{PID: 10, TGID: 10, Comm: "a", State: 1, Parent: initAddr}
	b := &kerneltest.Task{PID: 11, TGID: 11, Comm: "b", State: 1}
	c := &kerneltest.Task{PID: 12, TGID: 12, Comm: "c", State: 1}
	aAddr, bAddr, cAddr := m.PutTask(a), m.PutTask(b), m.PutTask(c)
	// a -> c -> b -> a: each one's parent is the next.
	a.Parent, b.Parent, c.Parent = cAddr, aAddr, bAddr
	addrs := m.Tasks(init, []*kerneltest.Task{a, b, c})
	m.CPUs([]kerneltest.CPU{{Curr: addrs[1], Idle: addrs[0]}}, 0)
	m.Sys(kerneltest.Sys{Sysname: "Linux", Nodename: "loop", Release: "6.1.0-test", Version: "#1", Machine: "x86_64",
		HZ: 250, Uptime: 250, MemoryPages: 16384, CrashTime: 1700000000})
	s := &Session{Kernel: m.Kernel(t), Registry: NewRegistry(), VmlinuxPath: "vmlinux", DumpPaths: []string{"vmcore"}}

	res, err := s.Registry.Exec(context.Background(), s, []string{"ps", "-p", "10"})
	if err == nil || !strings.Contains(err.Error(), "ps: PID 10 (task ") || !strings.Contains(err.Error(), "parent pointer loop") {
		t.Fatalf("ps -p on a parent loop: error %v", err)
	}
	if strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("one task, one line: %q", err)
	}
	var b2 bytes.Buffer
	if res == nil {
		t.Fatal("no result")
	}
	if err := res.Text(&b2); err != nil {
		t.Fatal(err)
	}
	// a's lineage: c, b, then a itself: three lines and a blank.
	if n := strings.Count(b2.String(), "PID: "); n != 3 {
		t.Errorf("ps -p printed %d tasks:\n%s", n, b2.String())
	}
}
