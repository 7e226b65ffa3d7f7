package kernel

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
)

// SysInfo reads what sys's options show: the taint flags' letters, the
// DMI strings, the embedded kernel configuration and the system call table.
type SysInfo struct{ d objDeps }

// SysInfo returns the reader of sys's option data.
func (k *Kernel) SysInfo() *SysInfo { return &SysInfo{k.objDeps()} }

// TaintFlag is one entry of taint_flags[]: its letters when set and
// clear.
type TaintFlag struct {
	True, False byte
}

// TaintFlags reads taint_flags[] (struct taint_flag: c_true, c_false; true
// and false in some kernels).
func (s *SysInfo) TaintFlags() ([]TaintFlag, error) {
	o := s.d.obj()
	a := o.sym("taint_flags")
	n, err := s.d.arrayLen("taint_flags")
	if err != nil {
		return nil, err
	}
	t, f := "c_true", "c_false"
	if !o.has("taint_flag", t) {
		t, f = "true", "false"
	}
	sz := o.size("taint_flag")
	to, fo := o.off("taint_flag", t), o.off("taint_flag", f)
	var out []TaintFlag
	for i := 0; i < n && o.err == nil; i++ {
		e := a + uint64(i)*sz
		out = append(out, TaintFlag{True: o.u8(e + to), False: o.u8(e + fo)})
	}
	return out, o.err
}

// DMIString is one of the kernel's DMI identification strings.
type DMIString struct {
	Field string // the enum dmi_field name, "" without one
	Index int
	Value string
}

// DMI reads dmi_ident[], named by enum dmi_field: each set string, in
// field order. NameWidth is the longest field name below the array's end
// (set or not), which crash aligns the names to.
func (s *SysInfo) DMI() (strs []DMIString, nameWidth int, err error) {
	a, err := s.d.SymbolAddr("dmi_ident")
	if err != nil {
		return nil, 0, err
	}
	n, err := s.d.arrayLen("dmi_ident")
	if err != nil {
		return nil, 0, err
	}
	o := s.d.obj()
	enums, eerr := s.d.enumerators("dmi_field")
	if eerr != nil {
		for i := 0; i < n && o.err == nil; i++ {
			if p := o.u64(a + uint64(8*i)); p != 0 {
				strs = append(strs, DMIString{Index: i, Value: o.str(p, 1024)})
			}
		}
		return strs, 0, o.err
	}
	for _, e := range enums {
		if e.Value >= int64(n) || e.Value < 0 {
			break
		}
		nameWidth = max(nameWidth, len(e.Name))
	}
	for _, e := range enums {
		if e.Value >= int64(n) || e.Value < 0 {
			break
		}
		if p := o.u64(a + uint64(8*e.Value)); p != 0 {
			strs = append(strs, DMIString{Field: e.Name, Index: int(e.Value), Value: o.str(p, 1024)})
		}
	}
	return strs, nameWidth, o.err
}

// IKConfig reads the kernel's embedded configuration (CONFIG_IKCONFIG):
// the gzip data of kernel_config_data between its IKCFG_ST and IKCFG_ED
// markers, decompressed.
func (s *SysInfo) IKConfig() (string, error) {
	a, err := s.d.SymbolAddr("kernel_config_data")
	if err != nil {
		return "", err
	}
	size := uint64(0)
	if end, err := s.d.SymbolAddr("kernel_config_data_end"); err == nil && end > a && end-a < 1<<24 {
		size = end - a
	}
	const start, stop = "IKCFG_ST", "IKCFG_ED"
	for n := uint64(32 << 10); ; n *= 2 {
		if size != 0 {
			n = size
		}
		b := make([]byte, n)
		if err := s.d.ReadVirt(b, a); err != nil {
			return "", fmt.Errorf("cannot read kernel_config_data: %w", err)
		}
		data := b
		if i := bytes.Index(b, []byte(start)); i >= 0 {
			data = b[i+len(start):]
		} else {
			// Later kernels put the start marker just before the symbol.
			m := make([]byte, 8)
			if err := s.d.ReadVirt(m, a-8); err != nil || string(m) != start {
				return "", fmt.Errorf("could not find MAGIC_START!")
			}
		}
		j := bytes.Index(data, []byte(stop))
		if j < 0 {
			if size != 0 || n > 512<<10 {
				return "", fmt.Errorf("could not find MAGIC_END!")
			}
			continue
		}
		if j < 10 {
			return "", fmt.Errorf("kernel_config_data: no gzip data")
		}
		// Past the 10-byte gzip header: raw deflate, as crash inflates it.
		out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(data[10:j])), 64<<20))
		if err != nil {
			return "", fmt.Errorf("cannot uncompress kernel_config_data: %w", err)
		}
		return string(out), nil
	}
}

// SyscallTable reads sys_call_table[]: its length from its type, else up
// to the next symbol.
func (s *SysInfo) SyscallTable() ([]uint64, error) {
	a, err := s.d.SymbolAddr("sys_call_table")
	if err != nil {
		return nil, err
	}
	n, err := s.d.arrayLen("sys_call_table")
	if err != nil {
		n = 256
	}
	o := s.d.obj()
	out := make([]uint64, 0, n)
	for i := 0; i < n && o.err == nil; i++ {
		out = append(out, o.u64(a+uint64(8*i)))
	}
	return out, o.err
}

// SafeBuf is one CPU's struct printk_safe_seq_buf (4.11-5.14: the buffers
// printk used in NMI and printk-unsafe contexts).
type SafeBuf struct {
	Name        string // nmi_print_seq, safe_print_seq
	CPU         int
	Addr        uint64
	Len         int
	MessageLost int
	Text        []byte // the first Len bytes of the buffer
}

// PrintkSafeBufs reads the per-CPU printk safe buffers; ok is false when
// the kernel has none (no struct printk_safe_seq_buf).
func (s *SysInfo) PrintkSafeBufs() (bufs []SafeBuf, ok bool, err error) {
	if _, err := s.d.Size("printk_safe_seq_buf"); err != nil {
		return nil, false, nil
	}
	o := s.d.obj()
	lenOff := o.off("printk_safe_seq_buf", "len")
	lostOff := o.off("printk_safe_seq_buf", "message_lost")
	bufOff := o.off("printk_safe_seq_buf", "buffer")
	size := o.size("printk_safe_seq_buf") - bufOff
	if o.err != nil {
		return nil, true, o.err
	}
	n, err := s.d.cpus()
	if err != nil {
		return nil, true, err
	}
	for _, name := range []string{"nmi_print_seq", "safe_print_seq"} {
		base, err := s.d.SymbolAddr(name)
		if err != nil {
			continue
		}
		for cpu := 0; cpu < n && o.err == nil; cpu++ {
			a := o.percpu(base, cpu)
			b := SafeBuf{Name: name, CPU: cpu, Addr: a, Len: int(int32(o.u32(a + lenOff))), MessageLost: int(int32(o.u32(a + lostOff)))}
			if b.Len > 0 {
				b.Text = o.bytes(a+bufOff, int(min(uint64(b.Len), size)))
			}
			bufs = append(bufs, b)
		}
	}
	return bufs, true, o.err
}

// AuditRecord is one audit message waiting in the kernel's audit queues.
type AuditRecord struct {
	Type uint16 // nlmsghdr.nlmsg_type
	Text string
}

// AuditQueues reads the audit records still queued in the kernel
// (audit_hold_queue, audit_retry_queue, audit_queue; audit_skb_hold_queue
// and audit_skb_queue before 4.11): each sk_buff's netlink payload. ok is
// false when the kernel has no audit queues.
func (s *SysInfo) AuditQueues() (recs []AuditRecord, ok bool, err error) {
	names := []string{"audit_hold_queue", "audit_retry_queue", "audit_queue"}
	if _, err := s.d.SymbolAddr("audit_skb_queue"); err == nil {
		names = []string{"audit_skb_hold_queue", "audit_skb_queue"}
	} else if _, err := s.d.SymbolAddr("audit_queue"); err != nil {
		return nil, false, nil
	}
	o := s.d.obj()
	qlen := o.off("sk_buff_head", "qlen")
	next := o.off("sk_buff", "next")
	data := o.off("sk_buff", "data")
	skLen := o.off("sk_buff", "len")
	typ := o.off("nlmsghdr", "nlmsg_type")
	hdr := (o.size("nlmsghdr") + 3) &^ 3
	if o.err != nil {
		return nil, true, o.err
	}
	for _, name := range names {
		q, err := s.d.SymbolAddr(name)
		if err != nil {
			continue
		}
		if o.u32(q+qlen) == 0 {
			continue
		}
		seen := map[uint64]bool{}
		for p := o.u64(q); p != q && p != 0 && !seen[p] && o.err == nil; p = o.u64(p + next) {
			seen[p] = true
			l := uint64(o.u32(p + skLen))
			d := o.u64(p + data)
			if d == 0 || l < hdr || l-hdr > 1<<16 {
				return recs, true, fmt.Errorf("%s: bad sk_buff at %x", name, p)
			}
			recs = append(recs, AuditRecord{Type: o.u16(d + typ), Text: cstr(o.bytes(d+hdr, int(l-hdr)))})
		}
	}
	return recs, true, o.err
}
