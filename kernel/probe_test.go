package kernel

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/symbols"
)

// brokenTypes is a vmlinux's type information that cannot say whether one
// member exists (a corrupt BTF) and lacks every other.
type brokenTypes struct{ member string }

var errCorrupt = errors.New("corrupt BTF")

func (b brokenTypes) Offset(s, m string) (int64, error) {
	if s+"."+m == b.member {
		return 0, errCorrupt
	}
	return 0, &symbols.MissingError{What: "member " + s + "." + m}
}

func (b brokenTypes) Size(s string) (int64, error) {
	return 0, &symbols.MissingError{What: "type " + s}
}

// recordMachine is a 3.5-to-5.9 record log without printk_log.facility in
// VMCOREINFO: the member is probed for in the vmlinux's types.
func recordMachine(t *testing.T) *testMachine {
	w := &recWriter{buf: make([]byte, 1024), hdr: 16, align: 4,
		tsOff: 0, lenOff: 8, textOff: 10, dictOff: 12, facOff: 14}
	w.store(testRec{ts: 1000, level: 6, flags: logNewline, text: "hello"})
	m := newTestMachine()
	m.setLogBuf(w.buf)
	binary.LittleEndian.PutUint32(m.kvirt(symFirstIdx), uint32(w.first))
	binary.LittleEndian.PutUint32(m.kvirt(symNextIdx), uint32(w.next))
	m.symbol("log_first_idx", symFirstIdx)
	m.symbol("log_next_idx", symNextIdx)
	m.vi.WriteString("SIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n" +
		"OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\n")
	return m
}

// TestProbeMissingFallsBack: a member the kernel lacks is absent, and the
// reader falls back (printk_log.facility follows dict_len).
func TestProbeMissingFallsBack(t *testing.T) {
	k := recordMachine(t).kernel(t)
	k.TypeLayout = NewTypeLayout(k.Dump.VMCoreInfo, brokenTypes{})
	k.Printk = NewPrintk(k.Memory, k.TypeLayout, k.SymbolTable)
	recs, err := k.Log()
	if err != nil || len(recs) != 1 || recs[0].Text != "hello" {
		t.Fatalf("Log = %+v, %v", recs, err)
	}
}

// TestProbeFailurePropagates: a probe that fails for another reason than
// absence is an error, not a fallback (they were taken as absent).
func TestProbeFailurePropagates(t *testing.T) {
	k := recordMachine(t).kernel(t)
	k.TypeLayout = NewTypeLayout(k.Dump.VMCoreInfo, brokenTypes{member: "printk_log.facility"})
	k.Printk = NewPrintk(k.Memory, k.TypeLayout, k.SymbolTable)
	if _, err := k.Log(); !errors.Is(err, errCorrupt) {
		t.Errorf("Log with a corrupt printk_log.facility: %v, want %v", err, errCorrupt)
	}
	for _, member := range []string{"signal_struct.thread_head", "task_struct.thread_group"} {
		k.TypeLayout = NewTypeLayout(k.Dump.VMCoreInfo, brokenTypes{member: member})
		k.TaskList = NewTaskList(k.Memory, k.TypeLayout, k.SymbolTable, k.System, false)
		if _, err := k.threadWalker(); !errors.Is(err, errCorrupt) {
			t.Errorf("threadWalker with a corrupt %s: %v, want %v", member, err, errCorrupt)
		}
	}
	k.TypeLayout = NewTypeLayout(k.Dump.VMCoreInfo, brokenTypes{})
	k.TaskList = NewTaskList(k.Memory, k.TypeLayout, k.SymbolTable, k.System, false)
	if _, err := k.threadWalker(); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("threadWalker with neither list: %v", err)
	}
	k.TypeLayout = NewTypeLayout(k.Dump.VMCoreInfo, brokenTypes{member: "task_struct.last_run"})
	k.TaskList = NewTaskList(k.Memory, k.TypeLayout, k.SymbolTable, k.System, false)
	if _, err := k.LastRunMember(); !errors.Is(err, errCorrupt) {
		t.Errorf("LastRunMember with a corrupt task_struct.last_run: %v", err)
	}
}
