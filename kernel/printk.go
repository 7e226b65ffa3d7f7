package kernel

import (
	"fmt"
)

// LogRecord is one printk record.
type LogRecord struct {
	Seq      uint64
	TsNsec   uint64 // local_clock() at the time of the printk
	Level    int    // 0 (emerg) .. 7 (debug)
	Facility int
	CallerID uint32   // thread id, or 0x80000000|cpu in interrupt context
	Text     string   // may hold several lines
	Dict     []string // SUBSYSTEM=..., DEVICE=... (dev_printk_info, or the record's dictionary)

	// What older buffers do not record; log leaves it out, as
	// crash does.
	NoCaller bool // no caller id (before 5.1, or CONFIG_PRINTK_CALLER off)
	NoStamp  bool // a line of the pre-3.5 character buffer written without "[ts]"
	NoLevel  bool // a line of the pre-3.5 character buffer without its "<N>" (the cut first line of a wrapped ring)
	// NoText: a data-less record of the lockless ring buffer (how 5.10
	// stores an empty line, with no text block): crash prints it as an
	// empty line, with no stamp, level or dictionary.
	NoText bool
}

// Printk reads the kernel's log buffer through its small dependencies:
// virtual reads, struct layouts and symbol addresses.
type Printk struct {
	Reader
	Layout
	Symbols
}

// NewPrintk reads the log through r, l and s.
func NewPrintk(r Reader, l Layout, s Symbols) *Printk {
	return &Printk{Reader: r, Layout: l, Symbols: s}
}

// Log reads the printk log, whichever of the kernel's three buffers it
// has, told apart by their symbols: the lockless ring buffer (prb, 5.10
// and later), the variable-length records (log_first_idx and
// log_next_idx, 3.5 to 5.9) or the plain character ring (log_end, before
// 3.5). Layouts come from VMCOREINFO or the vmlinux's types, and
// VMCOREINFO names every symbol needed, so this works with no vmlinux at
// all.
func (p *Printk) Log() ([]LogRecord, error) {
	if _, err := p.SymbolAddr("prb"); err == nil {
		return p.lockless()
	}
	_, err1 := p.SymbolAddr("log_first_idx")
	_, err2 := p.SymbolAddr("log_next_idx")
	if err1 == nil && err2 == nil {
		return p.recordLog()
	}
	if _, err := p.SymbolAddr("log_end"); err == nil {
		return p.plainLog()
	}
	return nil, fmt.Errorf("no printk buffer found: none of prb, log_first_idx/log_next_idx or log_end in the symbols or VMCOREINFO")
}

// Lockless ring buffer constants (kernel/printk/printk_ringbuffer.h).
const (
	descFlagsShift = 62
	descIDMask     = 1<<descFlagsShift - 1
	descCommitted  = 1
	descFinalized  = 2
)

type layoutReader struct {
	p   *Printk
	err error
}

func (l *layoutReader) off(s, m string) uint64 {
	if l.err != nil {
		return 0
	}
	o, err := l.p.Offset(s, m)
	if err != nil {
		l.err = err
	}
	return uint64(o)
}

func (l *layoutReader) size(s string) uint64 {
	if l.err != nil {
		return 0
	}
	n, err := l.p.Size(s)
	if err != nil {
		l.err = err
	}
	return uint64(n)
}

func (l *layoutReader) u64(addr uint64) uint64 {
	if l.err != nil {
		return 0
	}
	v, err := l.p.ReadU64(addr)
	if err != nil {
		l.err = err
	}
	return v
}

func (l *layoutReader) u32(addr uint64) uint32 {
	if l.err != nil {
		return 0
	}
	v, err := l.p.ReadU32(addr)
	if err != nil {
		l.err = err
	}
	return v
}

func (p *Printk) lockless() ([]LogRecord, error) {
	l := &layoutReader{p: p}
	prbSym, _ := p.SymbolAddr("prb")
	prb := l.u64(prbSym)
	descRing := prb + l.off("printk_ringbuffer", "desc_ring")
	dataRing := prb + l.off("printk_ringbuffer", "text_data_ring")
	countBits := l.u32(descRing + l.off("prb_desc_ring", "count_bits"))
	descs := l.u64(descRing + l.off("prb_desc_ring", "descs"))
	infos := l.u64(descRing + l.off("prb_desc_ring", "infos"))
	counter := l.off("atomic_long_t", "counter")
	headID := l.u64(descRing + l.off("prb_desc_ring", "head_id") + counter)
	tailID := l.u64(descRing + l.off("prb_desc_ring", "tail_id") + counter)
	sizeBits := l.u32(dataRing + l.off("prb_data_ring", "size_bits"))
	data := l.u64(dataRing + l.off("prb_data_ring", "data"))
	descSize := l.size("prb_desc")
	stateOff := l.off("prb_desc", "state_var") + counter
	lposOff := l.off("prb_desc", "text_blk_lpos")
	beginOff := l.off("prb_data_blk_lpos", "begin")
	nextOff := l.off("prb_data_blk_lpos", "next")
	infoSize := l.size("printk_info")
	seqOff := l.off("printk_info", "seq")
	tsOff := l.off("printk_info", "ts_nsec")
	lenOff := l.off("printk_info", "text_len")
	callerOff := l.off("printk_info", "caller_id")
	devOff := l.off("printk_info", "dev_info")
	subsysOff := l.off("dev_printk_info", "subsystem")
	deviceOff := l.off("dev_printk_info", "device")
	if l.err != nil {
		return nil, fmt.Errorf("printk ring buffer: %w", l.err)
	}
	if countBits > 30 || sizeBits > 34 {
		return nil, fmt.Errorf("printk ring buffer: implausible sizes (count_bits %d, size_bits %d)", countBits, sizeBits)
	}
	descCount := uint64(1) << countBits
	dataSize := uint64(1) << sizeBits
	o := p.ByteOrder()
	// Read each live record's descriptor, info and text on its own: the
	// arrays are sized for the whole ring (megabytes), the live part is
	// often far smaller, and the dump's page cache makes neighbours cheap.
	desc := make([]byte, descSize)
	info := make([]byte, infoSize)
	var recs []LogRecord
	for id := tailID; ; id++ {
		idx := id & (descCount - 1)
		if err := p.ReadVirt(desc, descs+idx*descSize); err != nil {
			return recs, fmt.Errorf("printk descriptor %d: %w", idx, err)
		}
		sv := o.Uint64(desc[stateOff:])
		state := sv >> descFlagsShift
		if sv&descIDMask == id&descIDMask && (state == descCommitted || state == descFinalized) {
			if err := p.ReadVirt(info, infos+idx*infoSize); err != nil {
				return recs, fmt.Errorf("printk info %d: %w", idx, err)
			}
			r := LogRecord{
				Seq:      o.Uint64(info[seqOff:]),
				TsNsec:   o.Uint64(info[tsOff:]),
				CallerID: o.Uint32(info[callerOff:]),
				Facility: int(info[lenOff+2]),
				Level:    int(info[lenOff+3] >> 5),
			}
			textLen := uint64(o.Uint16(info[lenOff:]))
			begin := o.Uint64(desc[lposOff+beginOff:])
			next := o.Uint64(desc[lposOff+nextOff:])
			if off, n, ok := dataBlock(dataSize, sizeBits, begin, next); ok {
				text := make([]byte, min(textLen, n))
				if err := p.ReadVirt(text, data+off); err != nil {
					return recs, fmt.Errorf("printk text of record %d: %w", r.Seq, err)
				}
				r.Text = string(text)
			} else {
				r.NoText = begin&1 != 0 || begin == next
			}
			if s := cstr(info[devOff+subsysOff : devOff+deviceOff]); s != "" {
				r.Dict = append(r.Dict, "SUBSYSTEM="+s)
			}
			if s := cstr(info[devOff+deviceOff : infoSize]); s != "" {
				r.Dict = append(r.Dict, "DEVICE="+s)
			}
			recs = append(recs, r)
		}
		if id == headID {
			break
		}
		if id-tailID > descCount {
			break // corrupt ids: never loop past the ring
		}
	}
	return recs, nil
}

// dataBlock locates the text of the data block at [begin, next) in a ring
// of size (1<<sizeBits) bytes: its offset in the ring past the block's
// leading id word (8 bytes) and its length.
func dataBlock(size uint64, sizeBits uint32, begin, next uint64) (off, n uint64, ok bool) {
	if begin&1 != 0 || next&1 != 0 || begin == next { // data-less record
		return 0, 0, false
	}
	bi, ni := begin&(size-1), next&(size-1)
	switch {
	case begin>>sizeBits == next>>sizeBits && bi < ni:
		off, n = bi, ni-bi
	case (begin+size)>>sizeBits == next>>sizeBits:
		off, n = 0, ni // wrapped: the block was written at the start
	default:
		return 0, 0, false
	}
	if n < 8 {
		return 0, 0, false
	}
	return off + 8, n - 8, true
}
