package commands

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeTaints(t *testing.T) {
	for _, tc := range []struct {
		mask uint64
		want string
	}{
		{0, ""},
		{1 << 12, "12 O OOT_MODULE"},
		{1<<12 | 1<<13, "12 O OOT_MODULE,13 E UNSIGNED_MODULE"},
		{1<<0 | 1<<1 | 1<<9 | 1<<14, "0 P PROPRIETARY_MODULE,1 F FORCED_MODULE,9 W WARN,14 L SOFTLOCKUP"},
		{1 << 18, "18 N TEST"},
		{1 << 40, "40 ? BIT_40"},
	} {
		var got []string
		for _, f := range DecodeTaints(tc.mask) {
			got = append(got, strings.Join([]string{itoa10(f.Bit), f.Letter, f.Name}, " "))
		}
		if s := strings.Join(got, ","); s != tc.want {
			t.Errorf("DecodeTaints(%#x) = %s, want %s", tc.mask, s, tc.want)
		}
	}
	if got := taintLetters(1<<13 | 1<<12 | 1<<7); got != "DOE" {
		t.Errorf("taintLetters = %q, want DOE (bit order)", got)
	}
}

func itoa10(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa10(n/10) + string(rune('0'+n%10))
}

func TestCrashSignature(t *testing.T) {
	callers := []string{"b", "c", "d", "e", "f", "g", "h"}
	s := CrashSignature("oops", "a", callers)
	if !reflect.DeepEqual(s.Frames, callers[:5]) {
		t.Errorf("frames %v, want the first 5", s.Frames)
	}
	sum := sha256.Sum256([]byte("oops\na\nb\nc\nd\ne\nf"))
	if want := hex.EncodeToString(sum[:])[:16]; s.Hash != want || len(s.Hash) != 16 {
		t.Errorf("hash %s, want %s", s.Hash, want)
	}
	if s2 := CrashSignature("oops", "a", callers[:5]); s2.Hash != s.Hash {
		t.Errorf("frames past the fifth change the hash: %s %s", s2.Hash, s.Hash)
	}
	for _, other := range []TriageSignature{
		CrashSignature("bug", "a", callers),
		CrashSignature("oops", "b", callers),
		CrashSignature("oops", "a", []string{"b", "c", "d", "e", "x"}),
		CrashSignature("oops", "a", []string{"bc", "d", "e", "f"}),
	} {
		if other.Hash == s.Hash {
			t.Errorf("%v has the hash of %v", other, s)
		}
	}
	if got, want := s.String(), s.Hash+"  oops in a <- b <- c <- d <- e <- f"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if n := CrashSignature("hungtask", "watchdog", nil); n.Frames == nil || len(n.Frames) != 0 {
		t.Errorf("no callers: frames %#v, want empty", n.Frames)
	}
}

func TestClassifyCrash(t *testing.T) {
	lines := func(ss ...string) []logLine {
		var out []logLine
		for i, s := range ss {
			out = append(out, logLine{text: s, ts: uint64(i)})
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		log       []logLine
		kind, why string
	}{
		{"sysrq", lines("sysrq: Trigger a crash", "Kernel panic - not syncing: sysrq triggered crash", "CPU: 0 PID: 1"), "sysrq", "Kernel panic - not syncing: sysrq triggered crash"},
		{"oops under kdump", lines("WARNING: CPU: 0 PID: 5 at x.c:1 f+0x1/0x2", "BUG: kernel NULL pointer dereference, address: 0000000000000000", "Oops: 0002 [#1] PREEMPT SMP NOPTI"), "oops", "BUG: kernel NULL pointer dereference, address: 0000000000000000"},
		{"oops then panic", lines("BUG: unable to handle page fault for address: ffff", "Oops: 0000 [#1] SMP", "Kernel panic - not syncing: Fatal exception"), "oops", "BUG: unable to handle page fault for address: ffff"},
		{"bug", lines("kernel BUG at drivers/x.c:12!", "invalid opcode: 0000 [#1] SMP"), "bug", "kernel BUG at drivers/x.c:12!"},
		{"warn", lines("WARNING: CPU: 1 PID: 2 at m.c:3 g+0x1/0x2", "Kernel panic - not syncing: kernel: panic_on_warn set ..."), "warn", "Kernel panic - not syncing: kernel: panic_on_warn set ..."},
		{"softlockup", lines("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [k:1]", "Kernel panic - not syncing: softlockup: hung tasks"), "softlockup", "Kernel panic - not syncing: softlockup: hung tasks"},
		{"hungtask", lines("INFO: task k:9 blocked for more than 120 seconds.", "Kernel panic - not syncing: hung_task: blocked tasks"), "hungtask", "Kernel panic - not syncing: hung_task: blocked tasks"},
		{"oom", lines("a invoked oom-killer: gfp_mask=0x0", "Out of memory: Killed process 5 (a)", "Kernel panic - not syncing: System is deadlocked on memory"), "oom-panic", "Kernel panic - not syncing: System is deadlocked on memory"},
		{"plain panic after an old warning", lines("WARNING: CPU: 0 PID: 1 at a.c:1 b+0x1/0x2", "Kernel panic - not syncing: VFS: Unable to mount root fs"), "panic", "Kernel panic - not syncing: VFS: Unable to mount root fs"},
		{"nothing", lines("Linux version 6.1", "ok"), "", ""},
	} {
		kind, why := classifyCrash(tc.log)
		if kind != tc.kind || why != tc.why {
			t.Errorf("%s: %q %q, want %q %q", tc.name, kind, why, tc.kind, tc.why)
		}
	}
}

func TestTriageLogFolding(t *testing.T) {
	in := []logLine{{"a", 1}, {"BUG: soft lockup", 2}, {"BUG: soft lockup", 3}, {"b", 4}, {"BUG: soft lockup", 5}, {"b", 6}, {"b", 7}}
	ev := foldEvents(in)
	if len(ev) != 1 || ev[0].Count != 3 || ev[0].TsNsec != 2 || ev[0].LastTsNsec != 5 {
		t.Errorf("events %+v", ev)
	}
	runs := foldRuns(in)
	var got []string
	for _, l := range runs {
		got = append(got, l.Text+"x"+itoa10(l.Count))
	}
	if s := strings.Join(got, ","); s != "ax1,BUG: soft lockupx2,bx1,BUG: soft lockupx1,bx2" {
		t.Errorf("runs %s", s)
	}
}

// TestFindMutexWaited: a mutex with two waiters; the second waiter's
// struct mutex_waiter on its stack leads, through the wait list, to the
// mutex and its owner (flag bits masked); a stack with the task's address
// but no list finds nothing.
func TestFindMutexWaited(t *testing.T) {
	mem := map[uint64]uint64{}
	read := func(a uint64) (uint64, error) {
		v, ok := mem[a]
		if !ok {
			return 0, fmt.Errorf("no memory at %x", a)
		}
		return v, nil
	}
	const (
		owner, w1task, w2task = 0x1000, 0x2000, 0x3000
		mutex                 = 0x9000 // struct mutex {owner @0; ...; wait_list @0x10}
		stack1, stack2        = 0x10000, 0x20000
	)
	o := mutexOffsets{waiterTask: 0x10, waiterList: 0, waitList: 0x10, owner: 0}
	isTask := func(a uint64) bool { return a == owner || a == w1task || a == w2task }
	head, n1, n2 := uint64(mutex+0x10), uint64(stack1+0x40), uint64(stack2+0x80)
	mem[mutex] = owner | 3 // MUTEX_FLAG_WAITERS | MUTEX_FLAG_HANDOFF
	mem[head], mem[head+8] = n1, n2
	mem[n1], mem[n1+8], mem[n1+0x10] = n2, head, w1task
	mem[n2], mem[n2+8], mem[n2+0x10] = head, n1, w2task
	for a := uint64(stack2); a < stack2+0x100; a += 8 {
		if _, ok := mem[a]; !ok {
			mem[a] = 0
		}
	}
	mem[stack2+0x20] = w2task // a stray copy of the task pointer, not a waiter
	m, own, ok := findMutexWaited(read, stack2, stack2+0x100, w2task, o, isTask)
	if !ok || m != mutex || own != owner {
		t.Errorf("found %v: mutex %x owner %x, want %x %x", ok, m, own, mutex, owner)
	}
	mem[head+8] = n1 // the list is broken: the head's prev is not the waiter
	if _, _, ok := findMutexWaited(read, stack2, stack2+0x100, w2task, o, isTask); ok {
		t.Errorf("found a mutex through a broken list")
	}
}
