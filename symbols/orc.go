package symbols

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// ORC is the x86_64 kernel's "Oops Rewind Capability" unwind table, built
// by objtool: .orc_unwind_ip holds one 32-bit offset per entry, relative to
// the entry's own address, giving the first instruction the entry covers;
// .orc_unwind holds the entries (struct orc_entry) in the same order. An
// entry tells how to find the caller's stack pointer (a base register plus
// an offset), where the return address or the saved registers are, and
// where the caller's frame pointer was saved. Entries are sorted by
// address; an entry covers addresses up to the next one's.
//
// struct orc_entry is a packed C struct with bitfields whose layout changed
// in Linux 6.3 (a "signal" bit) and 6.4 (type grew to 3 bits, the "end" bit
// became the END_OF_STACK type). The layout is read from the vmlinux's own
// BTF description of the struct, never from a version number.
type ORC struct {
	// The entries' link-time addresses, ascending: computed from ipTable
	// (at ipAddr) as they are searched, or, when the table had to be
	// sorted, decoded into ips.
	ipTable []byte
	ipAddr  uint64
	n       int
	ips     []uint64
	entries []byte
	layout  ORCLayout
	order   binary.ByteOrder
}

// ORCLayout places the fields of struct orc_entry (bit offsets and widths
// from the struct's start, as BTF gives them).
type ORCLayout struct {
	Size                 int // sizeof(struct orc_entry)
	SPOffset, BPOffset   bitfield
	SPReg, BPReg, Type   bitfield
	End, Signal          bitfield // zero width when the kernel lacks the bit
	HasEndBit, HasSignal bool
}

type bitfield struct{ Off, Bits uint32 }

// ORCType is the kind of frame an ORC entry describes, in one numbering for
// both layouts.
type ORCType int

const (
	ORCUndefined   ORCType = iota // no unwind information: an error to unwind through
	ORCEndOfStack                 // the first frame of a task (ret_from_fork, entry code)
	ORCCall                       // a normal call frame: return address below the caller's SP
	ORCRegs                       // a full struct pt_regs at the caller's SP
	ORCRegsPartial                // an IRET frame (ip, cs, flags, sp, ss) at the caller's SP
)

// ORC register numbers (ORC_REG_*), the bases an entry names.
const (
	ORCRegUndefined  = 0
	ORCRegPrevSP     = 1
	ORCRegDX         = 2
	ORCRegDI         = 3
	ORCRegBP         = 4
	ORCRegSP         = 5
	ORCRegR10        = 6
	ORCRegR13        = 7
	ORCRegBPIndirect = 8
	ORCRegSPIndirect = 9
)

// ORCEntry is one decoded struct orc_entry.
type ORCEntry struct {
	SPOffset, BPOffset int16
	SPReg, BPReg       uint8
	Type               ORCType
	// Signal reports that the frame's IP is exact (an interrupted
	// instruction), not a return address. Kernels before 6.3 have no such
	// bit: SignalKnown is false and the frame type decides.
	Signal, SignalKnown bool
}

// ORCEntryLayout reads struct orc_entry's layout from the vmlinux's BTF, or
// from its DWARF when it has no BTF.
func (v *Vmlinux) ORCEntryLayout() (ORCLayout, error) {
	if l := v.Layouts(); l.memo != nil {
		if !l.lock() {
			return ORCLayout{}, errClosed
		}
		l.mu.RUnlock()
		return v.orcLayoutCached(l.memo)
	}
	return v.orcEntryLayout()
}

// orcEntryLayout reads the layout (ORCEntryLayout without the cache).
func (v *Vmlinux) orcEntryLayout() (ORCLayout, error) {
	l := v.Layouts()
	if !l.lock() {
		return ORCLayout{}, errClosed
	}
	defer l.mu.RUnlock()
	var lay ORCLayout
	found := map[string]bitfield{}
	if t, ok, err := l.compositeDWARF("orc_entry"); ok {
		// No BTF: the DWARF description of the same struct.
		if err != nil {
			return ORCLayout{}, err
		}
		ms, err := t.Members()
		if err != nil {
			return ORCLayout{}, err
		}
		lay.Size = int(t.Size)
		for _, m := range ms {
			if m.BitSize != 0 {
				found[m.Name] = bitfield{uint32(m.BitOffset), uint32(m.BitSize)}
			} else {
				found[m.Name] = bitfield{uint32(m.Offset * 8), uint32(m.Type.Sizeof() * 8)}
			}
		}
	} else {
		id, err := l.composite("orc_entry")
		if err != nil {
			return ORCLayout{}, err
		}
		st, err := l.btf.typ(id)
		if err != nil {
			return ORCLayout{}, err
		}
		if st.kind != btfKindStruct {
			return ORCLayout{}, fmt.Errorf("orc_entry is not a struct in the vmlinux's BTF")
		}
		lay.Size = int(st.st)
		for i := range st.vlen {
			m, err := l.btf.member(st, i)
			if err != nil {
				return ORCLayout{}, err
			}
			bits := m.bits
			if bits == 0 {
				n, err := l.btf.sizeof(m.typ)
				if err != nil {
					return ORCLayout{}, err
				}
				bits = uint32(n) * 8
			}
			found[l.btf.str(m.nameOff)] = bitfield{m.bitOff, bits}
		}
	}
	need := func(name string, dst *bitfield) error {
		f, ok := found[name]
		if !ok {
			return fmt.Errorf("struct orc_entry has no member %s", name)
		}
		*dst = f
		return nil
	}
	for _, f := range []struct {
		name string
		dst  *bitfield
	}{{"sp_offset", &lay.SPOffset}, {"bp_offset", &lay.BPOffset}, {"sp_reg", &lay.SPReg}, {"bp_reg", &lay.BPReg}, {"type", &lay.Type}} {
		if err := need(f.name, f.dst); err != nil {
			return ORCLayout{}, err
		}
	}
	lay.End, lay.HasEndBit = found["end"]
	lay.Signal, lay.HasSignal = found["signal"]
	return lay, nil
}

// LoadORC reads the vmlinux's ORC tables, with the entry layout given.
func (v *Vmlinux) LoadORC(lay ORCLayout) (*ORC, error) {
	ipSec, entSec := v.File.Section(".orc_unwind_ip"), v.File.Section(".orc_unwind")
	if ipSec == nil || entSec == nil {
		return nil, fmt.Errorf("the vmlinux has no ORC unwind tables (.orc_unwind_ip, .orc_unwind)")
	}
	ipb, entb := v.sectionBytes(ipSec), v.sectionBytes(entSec)
	if ipb == nil || entb == nil {
		return nil, fmt.Errorf("the vmlinux's ORC tables run past the end of the file")
	}
	return NewORC(ipb, ipSec.Addr, entb, lay, v.File.ByteOrder)
}

// NewORC decodes ORC tables: ipTable is .orc_unwind_ip as it sits at
// link-time address ipAddr, entries is .orc_unwind.
func NewORC(ipTable []byte, ipAddr uint64, entries []byte, lay ORCLayout, order binary.ByteOrder) (*ORC, error) {
	if lay.Size <= 0 {
		return nil, fmt.Errorf("ORC entry size %d", lay.Size)
	}
	n := len(ipTable) / 4
	if len(entries)/lay.Size != n {
		return nil, fmt.Errorf("ORC tables disagree: %d addresses, %d entries of %d bytes", n, len(entries)/lay.Size, lay.Size)
	}
	o := &ORC{ipTable: ipTable, ipAddr: ipAddr, n: n, entries: entries, layout: lay, order: order}
	sorted := true
	for i := 1; i < n && sorted; i++ {
		sorted = o.ip(i) >= o.ip(i-1)
	}
	if !sorted {
		decoded := make([]uint64, n)
		for i := range decoded {
			decoded[i] = o.ip(i)
		}
		o.ips = decoded
		// The build sorts the tables (scripts/sorttable); an unsorted one
		// is sorted here, carrying the entries along.
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return o.ips[idx[a]] < o.ips[idx[b]] })
		ips := make([]uint64, n)
		ents := make([]byte, len(entries))
		for to, from := range idx {
			ips[to] = o.ips[from]
			copy(ents[to*lay.Size:], entries[from*lay.Size:(from+1)*lay.Size])
		}
		o.ips, o.entries = ips, ents
	}
	return o, nil
}

// Layout is the entry layout the table was read with.
func (o *ORC) Layout() ORCLayout { return o.layout }

// Len is the number of entries.
func (o *ORC) Len() int { return o.n }

// ip is entry i's link-time address.
func (o *ORC) ip(i int) uint64 {
	if o.ips != nil {
		return o.ips[i]
	}
	return o.ipAddr + uint64(4*i) + uint64(int64(int32(o.order.Uint32(o.ipTable[4*i:]))))
}

// Find returns the entry covering the link-time address ip: the last entry
// whose address is at or below ip.
func (o *ORC) Find(ip uint64) (ORCEntry, bool) {
	i := sort.Search(o.n, func(i int) bool { return o.ip(i) > ip }) - 1
	if i < 0 || i == o.n-1 && ip-o.ip(i) > 1<<20 {
		return ORCEntry{}, false
	}
	return o.layout.Decode(o.entries[i*o.layout.Size : (i+1)*o.layout.Size]), true
}

// Decode decodes one entry of the layout's size (little-endian bitfields,
// as on x86_64).
func (lay ORCLayout) Decode(b []byte) ORCEntry {
	var buf [8]byte
	copy(buf[:], b)
	w := binary.LittleEndian.Uint64(buf[:])
	get := func(f bitfield) uint64 {
		if f.Bits == 0 || f.Bits >= 64 {
			return 0
		}
		return (w >> f.Off) & (1<<f.Bits - 1)
	}
	e := ORCEntry{
		SPOffset: int16(get(lay.SPOffset)),
		BPOffset: int16(get(lay.BPOffset)),
		SPReg:    uint8(get(lay.SPReg)),
		BPReg:    uint8(get(lay.BPReg)),
	}
	typ := get(lay.Type)
	if lay.HasEndBit {
		// Before 6.4: CALL 0, REGS 1, REGS_PARTIAL 2; an entry with no SP
		// base is the end of the stack when its end bit is set, else
		// undefined.
		switch {
		case e.SPReg == ORCRegUndefined && get(lay.End) != 0:
			e.Type = ORCEndOfStack
		case e.SPReg == ORCRegUndefined:
			e.Type = ORCUndefined
		case typ == 0:
			e.Type = ORCCall
		case typ == 1:
			e.Type = ORCRegs
		case typ == 2:
			e.Type = ORCRegsPartial
		default:
			e.Type = ORCUndefined
		}
	} else {
		// 6.4 and later: UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3,
		// REGS_PARTIAL 4.
		if typ <= 4 {
			e.Type = ORCType(typ)
		}
	}
	if lay.HasSignal {
		e.Signal, e.SignalKnown = get(lay.Signal) != 0, true
	}
	return e
}
