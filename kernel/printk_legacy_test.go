package kernel

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/memory"
)

// A synthetic x86_64 machine for the printk buffers: 4 MiB of RAM with
// 4-level page tables mapping the kernel image's data page
// (0xffffffff80200000, 2 MiB page at physical 0x200000, phys_base 0) and
// the direct map (1 GiB page from physical 0). Everything about the
// kernel comes from the VMCOREINFO text, as with 'gocrash --log' and no
// vmlinux.
const (
	testKData     = 0xffffffff80200000 // the kernel's variables
	testDirectMap = 0xffff888000000000
	testLogPhys   = 0x300000 // where the log buffer lives
	testRAM       = 4 << 20
)

// Kernel variables at testKData.
const (
	symLogBuf      = testKData + 0x00
	symLogBufLen   = testKData + 0x10
	symFirstIdx    = testKData + 0x20
	symNextIdx     = testKData + 0x30
	symClearIdx    = testKData + 0x40
	symLogEnd      = testKData + 0x50
	symLoggedChars = testKData + 0x60
)

type testMachine struct {
	ram []byte
	vi  strings.Builder
}

func newTestMachine() *testMachine {
	m := &testMachine{ram: make([]byte, testRAM)}
	const present, pse = 1, 1 << 7
	le := binary.LittleEndian
	// PGD at 0x1000 (init_top_pgt = __START_KERNEL_map + 0x1000, phys_base 0).
	le.PutUint64(m.ram[0x1000+273*8:], 0x2000|present) // direct map
	le.PutUint64(m.ram[0x2000:], 0|pse|present)        // 1 GiB at 0
	le.PutUint64(m.ram[0x1000+511*8:], 0x3000|present) // kernel image
	le.PutUint64(m.ram[0x3000+510*8:], 0x4000|present)
	le.PutUint64(m.ram[0x4000+1*8:], 0x200000|pse|present) // 2 MiB at 0x200000
	m.vi.WriteString("OSRELEASE=test\nNUMBER(phys_base)=0\nSYMBOL(init_top_pgt)=ffffffff80001000\n")
	return m
}

func (m *testMachine) kvirt(addr uint64) []byte { return m.ram[addr-testKData+0x200000:] }

func (m *testMachine) symbol(name string, addr uint64) {
	fmt.Fprintf(&m.vi, "SYMBOL(%s)=%x\n", name, addr)
}

// setLogBuf puts the buffer at testLogPhys and points log_buf at it.
func (m *testMachine) setLogBuf(buf []byte) {
	copy(m.ram[testLogPhys:], buf)
	binary.LittleEndian.PutUint64(m.kvirt(symLogBuf), testDirectMap+testLogPhys)
	binary.LittleEndian.PutUint32(m.kvirt(symLogBufLen), uint32(len(buf)))
	m.symbol("log_buf", symLogBuf)
	m.symbol("log_buf_len", symLogBufLen)
}

func (m *testMachine) kernel(t *testing.T) *Kernel {
	t.Helper()
	k, err := New(memory.NewRAMDump("x86_64", m.vi.String(), 0, m.ram), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// printk_log flag bits (enum log_flags).
const (
	logNewline = 2 // the text ended with a newline
	logPrefix  = 4 // the text started with a level prefix
	logCont    = 8 // a fragment of a continuation line
)

type testRec struct {
	ts         uint64
	fac, level uint8
	flags      uint8
	caller     uint32
	text, dict string
}

// recWriter stores records as the kernel's log_store does: the oldest
// are dropped until the new record and an end marker fit, and a record
// that does not fit before the buffer's end goes to its start after a
// zero-length header.
type recWriter struct {
	buf                             []byte
	hdr, align                      uint64
	tsOff, lenOff, textOff, dictOff uint64
	facOff, callerOff               uint64
	caller                          bool
	first, next                     uint64
	live                            []testRec
	markers                         int
}

func (w *recWriter) lenAt(i uint64) uint64 {
	return uint64(binary.LittleEndian.Uint16(w.buf[i+w.lenOff:]))
}

func (w *recWriter) after(i uint64) uint64 {
	if n := w.lenAt(i); n != 0 {
		return i + n
	}
	return w.lenAt(0)
}

func (w *recWriter) store(r testRec) {
	le := binary.LittleEndian
	size := w.hdr + uint64(len(r.text)+len(r.dict))
	size += -size & (w.align - 1)
	n := uint64(len(w.buf))
	for len(w.live) > 0 {
		var free uint64
		if w.next > w.first {
			free = max(n-w.next, w.first)
		} else {
			free = w.first - w.next
		}
		if free > size+w.hdr {
			break
		}
		w.first = w.after(w.first)
		w.live = w.live[1:]
	}
	if w.next+size+w.hdr >= n {
		clear(w.buf[w.next : w.next+w.hdr])
		w.next = 0
		w.markers++
	}
	h := w.buf[w.next : w.next+size]
	clear(h)
	le.PutUint64(h[w.tsOff:], r.ts)
	le.PutUint16(h[w.textOff:], uint16(len(r.text)))
	le.PutUint16(h[w.dictOff:], uint16(len(r.dict)))
	h[w.facOff] = r.fac
	h[w.facOff+1] = r.flags&0x1f | r.level<<5
	if w.caller {
		le.PutUint32(h[w.callerOff:], r.caller)
	}
	copy(h[w.hdr:], r.text)
	copy(h[w.hdr+uint64(len(r.text)):], r.dict)
	le.PutUint16(h[w.lenOff:], uint16(size))
	w.next += size
	w.live = append(w.live, r)
}

// markerLive says whether the walk from first to next passes an end
// marker: the reader must follow one to read this buffer.
func (w *recWriter) markerLive() bool {
	for i, n := w.first, 0; i != w.next && n < len(w.buf); i, n = w.after(i), n+1 {
		if w.lenAt(i) == 0 {
			return true
		}
	}
	return false
}

// testRecords is a log with every kind of record: plain, multi-line,
// with a dictionary, a continuation line split over two records, another
// facility, and filler enough to wrap a small buffer several times.
func testRecords() []testRec {
	var recs []testRec
	for i := 0; i < 40; i++ {
		recs = append(recs, testRec{ts: uint64(i) * 1_000_000, level: 6, flags: logNewline, caller: uint32(i + 1),
			text: fmt.Sprintf("filler record %d%s", i, strings.Repeat("x", i%7))})
	}
	return append(recs,
		testRec{ts: 5_000_100_000, level: 6, flags: logNewline | logPrefix, caller: 1,
			text: "pci 0000:00:01.0: enabled", dict: "SUBSYSTEM=pci\x00DEVICE=+pci:0000:00:01.0"},
		testRec{ts: 5_100_000_000, level: 4, flags: logNewline, caller: 0x80000002,
			text: "first line\nsecond line"},
		testRec{ts: 6_000_000_000, level: 6, flags: logCont | logPrefix, caller: 77,
			text: "Checking 'hlt' instruction..."},
		testRec{ts: 6_000_500_000, level: 6, flags: logCont | logNewline, caller: 77,
			text: " OK."},
		testRec{ts: 7_250_000_000, fac: 1, level: 5, flags: logNewline, caller: 120,
			text: "user: message from /dev/kmsg"},
		testRec{ts: 8_000_000_000, level: 0, flags: logNewline, caller: 1,
			text: "Kernel panic - not syncing: sysrq triggered crash"},
	)
}

func checkRecords(t *testing.T, got []LogRecord, want []testRec, caller bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		var dict []string
		if w.dict != "" {
			dict = strings.Split(w.dict, "\x00")
		}
		if g.TsNsec != w.ts || g.Level != int(w.level) || g.Facility != int(w.fac) || g.Text != w.text ||
			!reflect.DeepEqual(g.Dict, dict) || g.NoCaller == caller || g.NoStamp || g.NoLevel {
			t.Errorf("record %d: %+v\nwant %+v", i, g, w)
		}
		if caller && g.CallerID != w.caller {
			t.Errorf("record %d: caller %#x, want %#x", i, g.CallerID, w.caller)
		}
		if i > 0 && g.Seq != got[i-1].Seq+1 {
			t.Errorf("record %d: seq %d after %d", i, g.Seq, got[i-1].Seq)
		}
	}
}

// TestRecordLogVMCOREINFO: a 5.x buffer (struct printk_log with
// caller_id, packed to 20 bytes, 4-byte aligned records) described only by
// what 5.x VMCOREINFO carries, wrapped several times.
func TestRecordLogVMCOREINFO(t *testing.T) {
	// The smallest buffer from 480 bytes on whose live records straddle
	// its end, so that the walk follows an end marker back to the start.
	var w *recWriter
	for size := 480; size < 1024; size += 4 {
		w = &recWriter{buf: make([]byte, size), hdr: 20, align: 4,
			tsOff: 0, lenOff: 8, textOff: 10, dictOff: 12, facOff: 14, callerOff: 16, caller: true}
		for _, r := range testRecords() {
			w.store(r)
		}
		if w.markers >= 2 && w.first > w.next && w.markerLive() {
			break
		}
	}
	if w.markers < 2 || w.first <= w.next || !w.markerLive() {
		t.Fatalf("no buffer size wraps with a live end marker: first %d next %d markers %d", w.first, w.next, w.markers)
	}
	m := newTestMachine()
	m.setLogBuf(w.buf)
	binary.LittleEndian.PutUint32(m.kvirt(symFirstIdx), uint32(w.first))
	binary.LittleEndian.PutUint32(m.kvirt(symNextIdx), uint32(w.next))
	binary.LittleEndian.PutUint32(m.kvirt(symClearIdx), 0)
	m.symbol("log_first_idx", symFirstIdx)
	m.symbol("clear_idx", symClearIdx)
	m.symbol("log_next_idx", symNextIdx)
	m.vi.WriteString("SIZE(printk_log)=20\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n" +
		"OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\nOFFSET(printk_log.caller_id)=16\n")
	recs, err := m.kernel(t).Log()
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, recs, w.live, true)
	if len(recs) < 7 || recs[0].Text == "filler record 0" {
		t.Fatalf("%d records from %q: the oldest should have been overwritten", len(recs), recs[0].Text)
	}
	last := recs[len(recs)-6:]
	// Continuation fragments are records of their own, each with its
	// stamp, as crash prints them.
	if last[2].Text != "Checking 'hlt' instruction..." || last[3].Text != " OK." || last[3].TsNsec != 6_000_500_000 {
		t.Errorf("continuation records: %+v %+v", last[2], last[3])
	}
	if last[4].Facility != 1 || last[4].Level != 5 {
		t.Errorf("facility/level: %+v", last[4])
	}
	if last[1].CallerID != 0x80000002 {
		t.Errorf("CPU caller: %#x", last[1].CallerID)
	}
	// What log prints of these records (its layout is tested in
	// commands): their stamps, levels, callers, texts and dictionaries.
	for i, want := range map[int]recordFacts{
		0: {ts: 5_000_100_000, level: 6, text: "pci 0000:00:01.0: enabled", dict: []string{"SUBSYSTEM=pci", "DEVICE=+pci:0000:00:01.0"}},
		1: {ts: 5_100_000_000, level: -1, caller: 0x80000002, text: "first line\nsecond line"},
		3: {ts: 6_000_500_000, level: 6, text: " OK."},
		5: {ts: -1, level: 0, text: "Kernel panic - not syncing: sysrq triggered crash"},
	} {
		want.check(t, fmt.Sprintf("record %d", i), last[i])
	}
	if got := PanicMessage(recs); got != "Kernel panic - not syncing: sysrq triggered crash" {
		t.Errorf("panic message %q", got)
	}
}

// TestRecordLogOldStruct: the 3.5-3.10 name, struct log, with no
// caller_id, 8-byte aligned records, and VMCOREINFO without dict_len (the
// members after text_len are found from it).
func TestRecordLogOldStruct(t *testing.T) {
	w := &recWriter{buf: make([]byte, 600), hdr: 16, align: 8,
		tsOff: 0, lenOff: 8, textOff: 10, dictOff: 12, facOff: 14}
	for _, r := range testRecords() {
		w.store(r)
	}
	if w.markers == 0 || !w.markerLive() {
		t.Fatalf("the scenario should wrap: first %d next %d", w.first, w.next)
	}
	m := newTestMachine()
	m.setLogBuf(w.buf)
	binary.LittleEndian.PutUint32(m.kvirt(symFirstIdx), uint32(w.first))
	binary.LittleEndian.PutUint32(m.kvirt(symNextIdx), uint32(w.next))
	m.symbol("log_first_idx", symFirstIdx)
	m.symbol("log_next_idx", symNextIdx)
	m.vi.WriteString("SIZE(log)=16\nOFFSET(log.ts_nsec)=0\nOFFSET(log.len)=8\nOFFSET(log.text_len)=10\n")
	recs, err := m.kernel(t).Log()
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, recs, w.live, false)
	// No caller_id: -c adds nothing.
	recordFacts{ts: 5_100_000_000, level: -1, noCaller: true, text: "first line\nsecond line"}.check(t, "no caller_id", recs[len(recs)-5])
}

// TestParseRecordsMarkerFirst: a hand-built buffer whose oldest record
// index is an end marker (the kernel moves log_first_idx onto it when it
// drops the record before it), then a record at the start and one after.
func TestParseRecordsMarkerFirst(t *testing.T) {
	le := binary.LittleEndian
	lo := recordLayout{size: 16, tsOff: 0, lenOff: 8, textLenOff: 10, dictOff: 12, facOff: 14}
	buf := make([]byte, 128)
	put := func(at uint64, ts uint64, level, fac uint8, text string) uint64 {
		n := 16 + uint64(len(text))
		n += -n & 7
		le.PutUint64(buf[at:], ts)
		le.PutUint16(buf[at+8:], uint16(n))
		le.PutUint16(buf[at+10:], uint16(len(text)))
		buf[at+14], buf[at+15] = fac, level<<5|logNewline
		copy(buf[at+16:], text)
		return at + n
	}
	end := put(0, 3e9, 3, 0, "at the start")
	end = put(end, 4e9, 7, 0, "debug")
	// The marker at 96 (the header there is all zeros).
	recs, err := parseRecords(buf, lo, 96, end, 10, le.Uint16, le.Uint32, le.Uint64)
	if err != nil {
		t.Fatal(err)
	}
	want := []LogRecord{
		{Seq: 10, TsNsec: 3e9, Level: 3, Text: "at the start", NoCaller: true},
		{Seq: 11, TsNsec: 4e9, Level: 7, Text: "debug", NoCaller: true},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("got %+v\nwant %+v", recs, want)
	}
	// An empty log.
	if recs, err := parseRecords(buf, lo, 40, 40, 0, le.Uint16, le.Uint32, le.Uint64); err != nil || len(recs) != 0 {
		t.Errorf("empty log: %v, %v", recs, err)
	}
}

// TestParseRecordsCorrupt: damaged buffers end in an error, never a loop
// or a slice past the buffer.
func TestParseRecordsCorrupt(t *testing.T) {
	le := binary.LittleEndian
	lo := recordLayout{size: 16, tsOff: 0, lenOff: 8, textLenOff: 10, dictOff: 12, facOff: 14}
	cases := map[string]func(b []byte) (first, next uint64){
		"len past the end": func(b []byte) (uint64, uint64) { le.PutUint16(b[8:], 200); le.PutUint16(b[10:], 4); return 0, 64 },
		"text past len":    func(b []byte) (uint64, uint64) { le.PutUint16(b[8:], 24); le.PutUint16(b[10:], 40); return 0, 64 },
		"marker at start":  func(b []byte) (uint64, uint64) { return 32, 8 },
		"index past end":   func(b []byte) (uint64, uint64) { return 300, 0 },
		"next never met": func(b []byte) (uint64, uint64) {
			for i := 0; i < 128; i += 16 {
				le.PutUint16(b[i+8:], 16)
			}
			return 0, 8
		},
	}
	for name, build := range cases {
		buf := make([]byte, 128)
		first, next := build(buf)
		if _, err := parseRecords(buf, lo, first, next, 0, le.Uint16, le.Uint32, le.Uint64); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

type plainLine struct {
	level int
	secs  uint64
	us    uint64
	stamp bool
	text  string
}

func (l plainLine) String() string {
	s := fmt.Sprintf("<%d>", l.level)
	if l.stamp {
		s += fmt.Sprintf("[%5d.%06d] ", l.secs, l.us)
	}
	return s + l.text + "\n"
}

func testPlainLines() []plainLine {
	var lines []plainLine
	for i := 0; i < 12; i++ {
		lines = append(lines, plainLine{6, 0, uint64(i * 1000), true, fmt.Sprintf("early boot message number %d", i)})
	}
	return append(lines,
		plainLine{4, 1, 500000, true, "a warning"},
		plainLine{5, 2, 0, false, "written with printk.time off"},
		plainLine{6, 123456, 1, true, "a long uptime"},
		plainLine{0, 123457, 999999, true, "Kernel panic - not syncing: Fatal exception"},
	)
}

// emit writes text into the character ring as the kernel's emit_log_char
// did: at log_end modulo the size, log_end counting every byte.
func emit(buf []byte, end *uint32, text string) {
	for i := 0; i < len(text); i++ {
		buf[*end%uint32(len(buf))] = text[i]
		*end++
	}
}

// TestPlainLog: the character ring of kernels before 3.5, from the
// symbols VMCOREINFO carries for it, once wrapped (the first line is the
// tail of an overwritten one) and once not.
func TestPlainLog(t *testing.T) {
	lines := testPlainLines()
	var all string
	for _, l := range lines {
		all += l.String()
	}
	for _, size := range []int{256, 1024} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			buf := make([]byte, size)
			var end uint32
			emit(buf, &end, all)
			m := newTestMachine()
			m.setLogBuf(buf)
			binary.LittleEndian.PutUint32(m.kvirt(symLogEnd), end)
			binary.LittleEndian.PutUint32(m.kvirt(symLoggedChars), uint32(min(int(end), size)))
			m.symbol("log_end", symLogEnd)
			m.symbol("logged_chars", symLoggedChars)
			recs, err := m.kernel(t).Log()
			if err != nil {
				t.Fatal(err)
			}
			// The lines still in the ring: those after the cut whole,
			// the one it falls in as its remaining characters.
			cut := max(0, len(all)-size)
			var want []LogRecord
			pos := 0
			for _, l := range lines {
				s := l.String()
				switch {
				case pos+len(s) <= cut:
				case pos < cut:
					want = append(want, LogRecord{Text: strings.TrimSuffix(s[cut-pos:], "\n"), NoStamp: true, NoLevel: true, NoCaller: true})
				default:
					r := LogRecord{Level: l.level, Text: l.text, NoStamp: !l.stamp, NoCaller: true}
					if l.stamp {
						r.TsNsec = l.secs*1e9 + l.us*1e3
					}
					want = append(want, r)
				}
				pos += len(s)
			}
			for i := range recs {
				recs[i].Seq = 0
			}
			if !reflect.DeepEqual(recs, want) {
				t.Errorf("got  %+v\nwant %+v", recs, want)
			}
			if size == 256 && (len(want) == 0 || !want[0].NoLevel) {
				t.Errorf("the 256-byte ring should start inside a line")
			}
			if size == 1024 && len(want) != len(lines) {
				t.Errorf("the 1024-byte ring should hold every line")
			}
		})
	}
}

// TestPlainFormat: what log prints of the character ring is the
// buffer's text: the stamp as written, the level taken out of the text,
// and what a line lacks marked as missing.
func TestPlainFormat(t *testing.T) {
	text := "ning: cut line\n<4>[    1.500000] a warning\n<5>no stamp\n<6>[123456.000001] long uptime\n<3>[    2.000000] partial, no newline yet"
	recs := parsePlain([]byte(text))
	want := []recordFacts{
		{noStamp: true, noLevel: true, level: -1, text: "ning: cut line"},
		{ts: 1_500_000_000, level: 4, text: "a warning"},
		{noStamp: true, level: 5, text: "no stamp"},
		{ts: 123456_000_001_000, level: 6, text: "long uptime"},
		{ts: 2_000_000_000, level: 3, text: "partial, no newline yet"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		w.check(t, fmt.Sprintf("record %d", i), recs[i])
	}
}

// recordFacts are what log prints of a record; ts or level -1: not
// checked.
type recordFacts struct {
	ts                         int64
	level                      int
	caller                     uint32
	text                       string
	dict                       []string
	noStamp, noLevel, noCaller bool
}

func (w recordFacts) check(t *testing.T, what string, r LogRecord) {
	t.Helper()
	if w.ts >= 0 && !w.noStamp && (r.NoStamp || r.TsNsec != uint64(w.ts)) {
		t.Errorf("%s: stamp %d (none: %v), want %d", what, r.TsNsec, r.NoStamp, w.ts)
	}
	if w.noStamp != r.NoStamp || w.noLevel != r.NoLevel || w.noCaller && !r.NoCaller {
		t.Errorf("%s: no stamp/level/caller %v/%v/%v, want %v/%v/%v", what, r.NoStamp, r.NoLevel, r.NoCaller, w.noStamp, w.noLevel, w.noCaller)
	}
	if w.level >= 0 && r.Level != w.level {
		t.Errorf("%s: level %d, want %d", what, r.Level, w.level)
	}
	if w.caller != 0 && r.CallerID != w.caller {
		t.Errorf("%s: caller %#x, want %#x", what, r.CallerID, w.caller)
	}
	if r.Text != w.text || !reflect.DeepEqual(r.Dict, w.dict) && len(r.Dict)+len(w.dict) > 0 {
		t.Errorf("%s: text %q dict %q, want %q %q", what, r.Text, r.Dict, w.text, w.dict)
	}
}

func TestPlainStamp(t *testing.T) {
	for _, c := range []struct {
		in   string
		ts   uint64
		rest string
		ok   bool
	}{
		{"[    0.000000] x", 0, "x", true},
		{"[   12.345678] x y", 12_345_678_000, "x y", true},
		{"[1234567.000001] x", 1_234_567_000_001_000, "x", true},
		{"[ 1.5] x", 0, "[ 1.5] x", false},
		{"[abc.123456] x", 0, "[abc.123456] x", false},
		{"[    1.000000]x", 0, "[    1.000000]x", false},
		{"no stamp", 0, "no stamp", false},
	} {
		ts, rest, ok := plainStamp(c.in)
		if ts != c.ts || rest != c.rest || ok != c.ok {
			t.Errorf("%q: %d %q %v", c.in, ts, rest, ok)
		}
	}
}

// TestLogNoBuffer: a kernel with none of the three buffers says so.
func TestLogNoBuffer(t *testing.T) {
	m := newTestMachine()
	if _, err := m.kernel(t).Log(); err == nil || !strings.Contains(err.Error(), "no printk buffer") {
		t.Errorf("got %v", err)
	}
	// Records without their layout in VMCOREINFO (and no vmlinux).
	m.setLogBuf(make([]byte, 64))
	m.symbol("log_first_idx", symFirstIdx)
	m.symbol("log_next_idx", symNextIdx)
	if _, err := m.kernel(t).Log(); err == nil || !strings.Contains(err.Error(), "printk_log") {
		t.Errorf("no layout: %v", err)
	}
}
