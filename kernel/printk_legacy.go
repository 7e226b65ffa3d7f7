package kernel

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// The two printk buffers before the lockless ring of 5.10:
//
//   - variable-length records (3.5 to 5.9): log_buf points at log_buf_len
//     bytes holding a chain of records, each a header (struct printk_log,
//     named struct log before 3.11) followed by text_len bytes of text,
//     dict_len bytes of dictionary ("KEY=value" entries split by NULs) and
//     padding up to the next header. log_first_idx is the oldest record,
//     log_next_idx where the next one will go; a header whose len is 0
//     marks the end of the used part of the buffer: the record is at the
//     buffer's start.
//   - a plain character ring (before 3.5): log_buf holds log_buf_len bytes
//     of text written at log_end, which only grows (the byte is at
//     log_end mod log_buf_len). Every line starts with its level, "<N>",
//     then, with printk.time set, "[%5lu.%06lu] ".
//
// Both are told apart by which symbols the kernel has, and the record
// layout comes from the types (the vmlinux, or VMCOREINFO's SIZE() and
// OFFSET() entries, which 3.5 and later kernels write for these records).

// recordLayout is where the fields of a printk_log header are.
type recordLayout struct {
	size                               uint64 // sizeof the header: the text follows it
	tsOff, lenOff, textLenOff, dictOff uint64
	facOff                             uint64 // u8 facility; the next byte holds flags:5 and level:3
	callerOff                          uint64
	hasCaller                          bool // caller_id (5.1 and later, CONFIG_PRINTK_CALLER)
}

// printkLogLayout finds the record header's layout. The struct is
// printk_log, or log before 3.11. VMCOREINFO names its size and the
// offsets of ts_nsec, len, text_len and (mostly) dict_len; the members
// that follow have kept their order since 3.5 (u16 text_len, u16 dict_len,
// u8 facility, u8 flags:5 level:3), so a missing dict_len or facility is
// found from the member before it.
func (p *Printk) printkLogLayout() (recordLayout, error) {
	var lo recordLayout
	name := "printk_log"
	sz, err := p.Size(name)
	if err != nil {
		var miss *symbols.MissingError
		if !errors.As(err, &miss) {
			return lo, err
		}
		name = "log"
		if sz, err = p.Size(name); err != nil {
			return lo, fmt.Errorf("printk_log (or log) record: %w", err)
		}
	}
	l := &layoutReader{p: p}
	lo.size = uint64(sz)
	lo.tsOff = l.off(name, "ts_nsec")
	lo.lenOff = l.off(name, "len")
	lo.textLenOff = l.off(name, "text_len")
	if l.err != nil {
		return lo, fmt.Errorf("struct %s: %w", name, l.err)
	}
	lo.dictOff = lo.textLenOff + 2
	if o, err := p.Offset(name, "dict_len"); err == nil {
		lo.dictOff = uint64(o)
	} else if !symbols.IsMissing(err) {
		return lo, err
	}
	lo.facOff = lo.dictOff + 2
	if o, err := p.Offset(name, "facility"); err == nil {
		lo.facOff = uint64(o)
	} else if !symbols.IsMissing(err) {
		return lo, err
	}
	if o, err := p.Offset(name, "caller_id"); err == nil {
		lo.callerOff, lo.hasCaller = uint64(o), true
	} else if !symbols.IsMissing(err) {
		return lo, err
	}
	for _, end := range []uint64{lo.tsOff + 8, lo.lenOff + 2, lo.textLenOff + 2, lo.dictOff + 2, lo.facOff + 2} {
		if end > lo.size {
			return lo, fmt.Errorf("struct %s: a member lies past its size (%d bytes)", name, lo.size)
		}
	}
	if lo.hasCaller && lo.callerOff+4 > lo.size {
		return lo, fmt.Errorf("struct %s: caller_id lies past its size (%d bytes)", name, lo.size)
	}
	return lo, nil
}

// logBuffer reads the text buffer: log_buf is a pointer to log_buf_len
// bytes.
func (p *Printk) logBuffer() ([]byte, error) {
	l := &layoutReader{p: p}
	bufSym, err := p.SymbolAddr("log_buf")
	if err != nil {
		return nil, err
	}
	lenSym, err := p.SymbolAddr("log_buf_len")
	if err != nil {
		return nil, err
	}
	addr := l.u64(bufSym)
	n := l.u32(lenSym)
	if l.err != nil {
		return nil, fmt.Errorf("log_buf: %w", l.err)
	}
	if n == 0 || n > 1<<31 {
		return nil, fmt.Errorf("log_buf: implausible log_buf_len %d", n)
	}
	// A corrupt length must not cost gigabytes: the buffer's last byte
	// must be there before it is allocated.
	var last [1]byte
	if err := p.ReadVirt(last[:], addr+uint64(n)-1); err != nil {
		return nil, fmt.Errorf("log_buf contents (%d bytes at %x): %w", n, addr, err)
	}
	buf := make([]byte, n)
	if err := p.ReadVirt(buf, addr); err != nil {
		return nil, fmt.Errorf("log_buf contents (%d bytes at %x): %w", n, addr, err)
	}
	return buf, nil
}

// recordLog reads the variable-length records of 3.5 to 5.9, from
// log_first_idx to log_next_idx.
func (p *Printk) recordLog() ([]LogRecord, error) {
	lo, err := p.printkLogLayout()
	if err != nil {
		return nil, err
	}
	l := &layoutReader{p: p}
	firstSym, _ := p.SymbolAddr("log_first_idx")
	nextSym, _ := p.SymbolAddr("log_next_idx")
	first := uint64(l.u32(firstSym))
	next := uint64(l.u32(nextSym))
	if l.err != nil {
		return nil, fmt.Errorf("printk log indexes: %w", l.err)
	}
	// log_first_seq is the oldest record's sequence number; VMCOREINFO
	// does not carry it, and the records are then numbered from 0.
	var seq uint64
	if a, err := p.SymbolAddr("log_first_seq"); err == nil {
		if v, err := p.ReadU64(a); err == nil {
			seq = v
		}
	}
	buf, err := p.logBuffer()
	if err != nil {
		return nil, err
	}
	return parseRecords(buf, lo, first, next, seq, p.ByteOrder().Uint16, p.ByteOrder().Uint32, p.ByteOrder().Uint64)
}

// parseRecords walks the records of buf from index first to next.
func parseRecords(buf []byte, lo recordLayout, first, next, seq uint64,
	u16 func([]byte) uint16, u32 func([]byte) uint32, u64 func([]byte) uint64) ([]LogRecord, error) {
	size := uint64(len(buf))
	if first >= size || next >= size {
		return nil, fmt.Errorf("printk log: indexes %d and %d outside the %d-byte log_buf", first, next, size)
	}
	var recs []LogRecord
	wrapped := false
	for idx := first; idx != next; {
		if idx+lo.size > size {
			return recs, fmt.Errorf("printk log: record header at %d runs past the %d-byte log_buf", idx, size)
		}
		at := idx
		n := uint64(u16(buf[at+lo.lenOff:]))
		if n == 0 {
			// The end-of-buffer marker: the record is at the start.
			if wrapped {
				return recs, fmt.Errorf("printk log: a second end-of-buffer marker at %d", idx)
			}
			wrapped = true
			at = 0
			if n = uint64(u16(buf[lo.lenOff:])); n == 0 {
				return recs, fmt.Errorf("printk log: empty record at the start of log_buf")
			}
		}
		h := buf[at:]
		textLen := uint64(u16(h[lo.textLenOff:]))
		dictLen := uint64(u16(h[lo.dictOff:]))
		if n < lo.size || at+n > size || lo.size+textLen+dictLen > n {
			return recs, fmt.Errorf("printk log: corrupt record at %d (len %d, text %d, dict %d)", at, n, textLen, dictLen)
		}
		r := LogRecord{
			Seq:      seq,
			TsNsec:   u64(h[lo.tsOff:]),
			Facility: int(h[lo.facOff]),
			Level:    int(h[lo.facOff+1] >> 5),
			Text:     string(h[lo.size : lo.size+textLen]),
			NoCaller: !lo.hasCaller,
		}
		if lo.hasCaller {
			r.CallerID = u32(h[lo.callerOff:])
		}
		if dictLen > 0 {
			d := string(h[lo.size+textLen : lo.size+textLen+dictLen])
			for _, e := range strings.Split(d, "\x00") {
				if e != "" {
					r.Dict = append(r.Dict, e)
				}
			}
		}
		recs = append(recs, r)
		seq++
		idx = at + n
		if idx >= size {
			// The kernel always leaves room for an end marker, but a
			// record reaching the end would be followed by one at the
			// start, as crash reads it.
			if first <= next || wrapped {
				return recs, fmt.Errorf("printk log: record at %d ends the buffer before log_next_idx %d", at, next)
			}
			wrapped, idx = true, 0
		}
		if uint64(len(recs)) > size/lo.size {
			return recs, fmt.Errorf("printk log: more records than log_buf can hold: log_next_idx %d never reached", next)
		}
	}
	return recs, nil
}

// plainLog reads the character buffer of kernels before 3.5.
func (p *Printk) plainLog() ([]LogRecord, error) {
	endSym, err := p.SymbolAddr("log_end")
	if err != nil {
		return nil, err
	}
	// log_end is an unsigned (unsigned long before 2.6.25): on a
	// little-endian machine its low 32 bits read the same either way.
	end, err := p.ReadU32(endSym)
	if err != nil {
		return nil, fmt.Errorf("log_end: %w", err)
	}
	buf, err := p.logBuffer()
	if err != nil {
		return nil, err
	}
	return parsePlain(plainText(buf, uint64(end))), nil
}

// plainText is the text of the character ring in the order written: all
// of it up to end when it has not wrapped, else from end on round to end.
func plainText(buf []byte, end uint64) []byte {
	size := uint64(len(buf))
	if end <= size || size == 0 {
		return buf[:min(end, size)]
	}
	i := end % size
	out := make([]byte, 0, size)
	out = append(out, buf[i:]...)
	return append(out, buf[:i]...)
}

// parsePlain splits the text of the character ring into one record per
// line, taking the "<N>" level and "[seconds.micros] " stamp from the
// line's start. When the ring has wrapped its first line is usually the
// tail of an overwritten one: with no "<N>" it is kept as it is, with
// neither level nor stamp.
func parsePlain(text []byte) []LogRecord {
	s := strings.ReplaceAll(string(text), "\x00", "")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	var recs []LogRecord
	for i, line := range strings.Split(s, "\n") {
		r := LogRecord{Seq: uint64(i), NoCaller: true, NoStamp: true, NoLevel: true}
		if len(line) >= 3 && line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>' {
			r.Level, r.NoLevel = int(line[1]-'0'), false
			line = line[3:]
			if ts, rest, ok := plainStamp(line); ok {
				r.TsNsec, r.NoStamp = ts, false
				line = rest
			}
		}
		r.Text = line
		recs = append(recs, r)
	}
	return recs
}

// plainStamp parses the "[%5lu.%06lu] " the kernel put before a line's
// text, returning the time in nanoseconds and the text after it.
func plainStamp(s string) (uint64, string, bool) {
	if !strings.HasPrefix(s, "[") {
		return 0, s, false
	}
	end := strings.Index(s, "] ")
	if end < 0 {
		return 0, s, false
	}
	secs, micros, ok := strings.Cut(strings.TrimLeft(s[1:end], " "), ".")
	if !ok || secs == "" || len(micros) != 6 {
		return 0, s, false
	}
	var sec, us uint64
	for _, c := range secs {
		if c < '0' || c > '9' || sec > 1<<40 {
			return 0, s, false
		}
		sec = sec*10 + uint64(c-'0')
	}
	for _, c := range micros {
		if c < '0' || c > '9' {
			return 0, s, false
		}
		us = us*10 + uint64(c-'0')
	}
	return sec*1e9 + us*1e3, s[end+2:], true
}
