package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols"
)

// Fuzz targets for the walkers that follow pointers through the dump: the
// printk buffers (all three layouts), the maple tree, list walks and the
// modules list. The fuzzed bytes are a stretch of kernel memory (fuzzMem)
// read through the kernel's small interfaces with the layouts of 6.1's
// VMCOREINFO; whatever they hold, a walk returns an error or a bounded
// result, never panics or loops.

const fuzzBase = 0xffff888000100000 // where the fuzzed memory lies

// fuzzMem is kernel memory: b at fuzzBase, nothing elsewhere.
type fuzzMem struct{ b []byte }

func (m fuzzMem) ReadVirt(p []byte, addr uint64) error {
	off := addr - fuzzBase
	if addr < fuzzBase || off > uint64(len(m.b)) || uint64(len(p)) > uint64(len(m.b))-off {
		return fmt.Errorf("no memory at %x", addr)
	}
	copy(p, m.b[off:])
	return nil
}

func (m fuzzMem) ReadU64(addr uint64) (uint64, error) {
	var b [8]byte
	err := m.ReadVirt(b[:], addr)
	return binary.LittleEndian.Uint64(b[:]), err
}

func (m fuzzMem) ReadU32(addr uint64) (uint32, error) {
	var b [4]byte
	err := m.ReadVirt(b[:], addr)
	return binary.LittleEndian.Uint32(b[:]), err
}

func (m fuzzMem) ReadU16(addr uint64) (uint16, error) {
	var b [2]byte
	err := m.ReadVirt(b[:], addr)
	return binary.LittleEndian.Uint16(b[:]), err
}

func (m fuzzMem) ReadCString(addr uint64, max int) (string, error) {
	var sb strings.Builder
	var c [1]byte
	for i := 0; i < max; i++ {
		if err := m.ReadVirt(c[:], addr+uint64(i)); err != nil {
			return sb.String(), err
		}
		if c[0] == 0 {
			break
		}
		sb.WriteByte(c[0])
	}
	return sb.String(), nil
}

func (fuzzMem) ByteOrder() binary.ByteOrder { return binary.LittleEndian }

// fuzzLayout answers offsets ("struct.member") and sizes ("struct") from
// a table; anything else does not exist in this kernel.
type fuzzLayout map[string]int64

func (l fuzzLayout) Offset(s, m string) (int64, error) {
	if v, ok := l[s+"."+m]; ok {
		return v, nil
	}
	return 0, &symbols.MissingError{What: s + "." + m}
}

func (l fuzzLayout) Size(s string) (int64, error) {
	if v, ok := l[s]; ok {
		return v, nil
	}
	return 0, &symbols.MissingError{What: "struct " + s}
}

// fuzzSymbols are symbol addresses.
type fuzzSymbols map[string]uint64

func (s fuzzSymbols) SymbolAddr(name string) (uint64, error) {
	if v, ok := s[name]; ok {
		return v, nil
	}
	return 0, &symbols.MissingError{What: name}
}

// The lockless ring's layout, as 6.1's VMCOREINFO gives it.
var fuzzPrbLayout = fuzzLayout{
	"printk_ringbuffer.desc_ring": 0, "printk_ringbuffer.text_data_ring": 48,
	"prb_desc_ring.count_bits": 0, "prb_desc_ring.descs": 8, "prb_desc_ring.infos": 16,
	"prb_desc_ring.head_id": 24, "prb_desc_ring.tail_id": 32, "atomic_long_t.counter": 0,
	"prb_data_ring.size_bits": 0, "prb_data_ring.data": 8,
	"prb_desc": 24, "prb_desc.state_var": 0, "prb_desc.text_blk_lpos": 8,
	"prb_data_blk_lpos.begin": 0, "prb_data_blk_lpos.next": 8,
	"printk_info": 88, "printk_info.seq": 0, "printk_info.ts_nsec": 8, "printk_info.text_len": 16,
	"printk_info.caller_id": 20, "printk_info.dev_info": 24,
	"dev_printk_info.subsystem": 0, "dev_printk_info.device": 16,
}

// Where the seed ring's parts lie in the fuzzed memory.
const (
	fuzzPrbPtr   = 0x000 // the prb pointer variable
	fuzzPrb      = 0x010 // struct printk_ringbuffer
	fuzzDescs    = 0x080 // 16 prb_desc
	fuzzInfos    = 0x200 // 16 printk_info
	fuzzData     = 0x800 // 1 KiB of text
	fuzzRingSize = fuzzData + 1024
)

// fuzzLocklessRing writes a lockless ring (16 descriptors, 1 KiB of text)
// holding recs, as the kernel leaves it after a boot: the first records
// overwritten, the text wrapped round the data ring. The descriptors'
// ids are the records' places in recs.
func fuzzLocklessRing(recs []LogRecord) []byte {
	b := make([]byte, fuzzRingSize)
	le := binary.LittleEndian
	le.PutUint64(b[fuzzPrbPtr:], fuzzBase+fuzzPrb)
	le.PutUint32(b[fuzzPrb:], 4) // count_bits
	le.PutUint64(b[fuzzPrb+8:], fuzzBase+fuzzDescs)
	le.PutUint64(b[fuzzPrb+16:], fuzzBase+fuzzInfos)
	le.PutUint32(b[fuzzPrb+48:], 10) // size_bits
	le.PutUint64(b[fuzzPrb+48+8:], fuzzBase+fuzzData)
	var lpos uint64
	first := uint64(len(recs)) - min(uint64(len(recs)), 12)
	for id := uint64(0); id < uint64(len(recs)); id++ {
		r := recs[id]
		text := r.Text
		if len(text) > 400 {
			text = text[:400]
		}
		n := (8 + uint64(len(text)) + 7) &^ 7
		begin := lpos
		if begin&1023+n > 1024 { // wraps: the block goes to the start
			begin = (begin + 1023) &^ 1023
		}
		lpos = begin + n
		if id < first {
			continue
		}
		copy(b[fuzzData+begin&1023+8:], text)
		le.PutUint64(b[fuzzData+begin&1023:], id)
		d := b[fuzzDescs+(id&15)*24:]
		le.PutUint64(d, descFinalized<<descFlagsShift|id)
		le.PutUint64(d[8:], begin)
		le.PutUint64(d[16:], lpos)
		in := b[fuzzInfos+(id&15)*88:]
		le.PutUint64(in, r.Seq)
		le.PutUint64(in[8:], r.TsNsec)
		le.PutUint16(in[16:], uint16(len(text)))
		in[18] = byte(r.Facility)
		in[19] = byte(r.Level) << 5
		le.PutUint32(in[20:], r.CallerID)
		for _, kv := range r.Dict {
			if v, ok := strings.CutPrefix(kv, "SUBSYSTEM="); ok {
				copy(in[24:24+15], v)
			} else if v, ok := strings.CutPrefix(kv, "DEVICE="); ok {
				copy(in[24+16:24+63], v)
			}
		}
	}
	le.PutUint64(b[fuzzPrb+24:], uint64(len(recs))-1) // head_id
	le.PutUint64(b[fuzzPrb+32:], first)               // tail_id
	return b
}

// fuzzLineRecords are lines as records: the virtio lines with a device.
func fuzzLineRecords(lines []string) []LogRecord {
	var out []LogRecord
	for i, l := range lines {
		r := LogRecord{Seq: uint64(i), TsNsec: 1000000*uint64(i) + 12345, Level: 6, CallerID: uint32(i), Text: l}
		if strings.HasPrefix(l, "virtio") {
			r.Dict = []string{"SUBSYSTEM=virtio", "DEVICE=+virtio:virtio0"}
		}
		out = append(out, r)
	}
	return out
}

// fuzzLogLines are lines of a 6.1 guest's boot log (the corpus's console).
var fuzzLogLines = []string{
	"Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3",
	"Command line: console=ttyS0 crashkernel=256M",
	"BIOS-provided physical RAM map:",
	"BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
	"NX (Execute Disable) protection: active",
	"SMBIOS 2.8 present.",
	"DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
	"tsc: Fast TSC calibration using PIT",
	"virtio_blk virtio0: [vda] 4194304 512-byte logical blocks (2.15 GB/2.00 GiB)",
	"EXT4-fs (vda): mounted filesystem with ordered data mode. Quota mode: none.",
	"sysrq: Trigger a crash",
	"Kernel panic - not syncing: sysrq triggered crash",
	"CPU: 1 PID: 321 Comm: sh Kdump: loaded Not tainted 6.1.0-57-cloud-amd64 #1  Debian 6.1.192-3",
	"Call Trace:",
	" <TASK>",
	" dump_stack_lvl+0x44/0x5c",
	" panic+0x118/0x2ed",
	" sysrq_handle_crash+0x16/0x20",
	" __handle_sysrq.cold+0x43/0x11b",
}

func FuzzPrintkLockless(f *testing.F) {
	f.Add(fuzzLocklessRing(fuzzLineRecords(fuzzLogLines)))
	f.Add(fuzzLocklessRing(fuzzLineRecords(fuzzLogLines[:3])))
	f.Fuzz(func(t *testing.T, mem []byte) {
		p := NewPrintk(fuzzMem{mem}, fuzzPrbLayout, fuzzSymbols{"prb": fuzzBase + fuzzPrbPtr})
		recs, _ := p.Log()
		// Each record costs at least one readable descriptor.
		if len(recs) > len(mem)/24+1 {
			t.Fatalf("%d records from %d bytes", len(recs), len(mem))
		}
	})
}

// fuzzRecords writes records into the 3.5-to-5.9 log (struct printk_log
// with caller_id when caller is set) of size bytes.
func fuzzRecords(size int, caller bool, recs []LogRecord) ([]byte, uint64, uint64) {
	w := &recWriter{buf: make([]byte, size), hdr: 16, align: 8, tsOff: 0, lenOff: 8, textOff: 10, dictOff: 12, facOff: 14}
	if caller {
		w.hdr, w.callerOff, w.caller = 24, 16, true
	}
	for _, r := range recs {
		text := r.Text
		if len(text) > size/4 {
			text = text[:size/4]
		}
		w.store(testRec{ts: r.TsNsec, fac: uint8(r.Facility), level: uint8(r.Level), flags: logNewline, caller: r.CallerID,
			text: text, dict: strings.Join(r.Dict, "\x00")})
	}
	return w.buf, w.first, w.next
}

func FuzzPrintkRecords(f *testing.F) {
	for _, caller := range []bool{false, true} {
		buf, first, next := fuzzRecords(1024, caller, fuzzLineRecords(fuzzLogLines))
		f.Add(buf, first, next, caller)
	}
	f.Fuzz(func(t *testing.T, buf []byte, first, next uint64, caller bool) {
		lo := recordLayout{size: 16, tsOff: 0, lenOff: 8, textLenOff: 10, dictOff: 12, facOff: 14}
		if caller {
			lo.size, lo.callerOff, lo.hasCaller = 24, 16, true
		}
		le := binary.LittleEndian
		recs, _ := parseRecords(buf, lo, first, next, 0, le.Uint16, le.Uint32, le.Uint64)
		if len(recs) > len(buf)/int(lo.size)+1 {
			t.Fatalf("%d records from a %d-byte buffer", len(recs), len(buf))
		}
	})
}

func FuzzPrintkPlain(f *testing.F) {
	var text strings.Builder
	for i, l := range fuzzLogLines {
		fmt.Fprintf(&text, "<%d>[%5d.%06d] %s\n", i%8, i, i*37, l)
	}
	f.Add([]byte(text.String()), uint64(text.Len()))
	f.Add([]byte(text.String()[:512]), uint64(text.Len()))
	f.Fuzz(func(t *testing.T, buf []byte, end uint64) {
		recs := parsePlain(plainText(buf, end))
		if len(recs) > len(buf)+1 {
			t.Fatalf("%d lines from %d bytes", len(recs), len(buf))
		}
	})
}

// fuzzMapleMemory lays a fakeMaple's nodes out as one stretch of memory.
func fuzzMapleMemory(m *fakeMaple) []byte {
	b := make([]byte, m.next-fuzzBase)
	for addr, n := range m.nodes {
		copy(b[addr-fuzzBase:], n)
	}
	return b
}

func FuzzMaple(f *testing.F) {
	for _, n := range []int{3, 40} {
		m := &fakeMaple{nodes: map[uint64][]byte{}, next: fuzzBase}
		all, _ := vmaRanges(rand.New(rand.NewSource(int64(n))), n)
		root, _ := m.build(all, []int{16, 5, 9})
		f.Add(fuzzMapleMemory(m), root, uint64(0x400000))
	}
	f.Fuzz(func(t *testing.T, mem []byte, root, index uint64) {
		r := &mapleReader{read: fuzzMem{mem}.ReadVirt, order: binary.LittleEndian, lay: testMapleLayout}
		n := 0
		r.walk(root, func(MapleEntry) error { n++; return nil })
		// A node is read once: its slots bound the entries.
		if n > (len(mem)/mapleNodeSize+1)*testMapleLayout.NRangeSlots {
			t.Fatalf("%d entries from %d bytes of nodes", n, len(mem))
		}
		r.load(root, index)
	})
}

// fuzzListMemory is a list of n 32-byte entries, the next pointer at 8,
// whose last entry points back to entry loop (or -1: to the first, a
// proper circular list).
func fuzzListMemory(n, loop int) []byte {
	b := make([]byte, 32*n)
	for i := 0; i < n; i++ {
		next := i + 1
		if next == n {
			next = max(loop, 0)
		}
		binary.LittleEndian.PutUint64(b[32*i+8:], fuzzBase+uint64(32*next))
	}
	return b
}

func FuzzListWalk(f *testing.F) {
	f.Add(fuzzListMemory(20, -1), uint8(8), false, true)
	f.Add(fuzzListMemory(20, 7), uint8(8), true, false)
	f.Add(fuzzListMemory(20, 7), uint8(8), false, false)
	f.Fuzz(func(t *testing.T, mem []byte, nextOff uint8, brent, listHead bool) {
		w := ListWalk{Start: fuzzBase, NextOffset: int64(nextOff), ListHead: listHead, Brent: brent}
		res, err := WalkList(fuzzMem{mem}, w)
		// Each entry but the first is a distinct readable next pointer.
		if len(res.Entries) > len(mem)+2 {
			t.Fatalf("%d entries from %d bytes", len(res.Entries), len(mem))
		}
		var le *ListError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("not a list error: %v", err)
		}
	})
}

// The module layout of 6.1 (struct module with core_layout) and
// mod_kallsyms, from its BTF.
var fuzzModuleLayout = fuzzLayout{
	"module.list": 8, "module.name": 24, "module.core_layout.base": 320, "module.core_layout.size": 328,
	"module.core_layout.text_size": 332, "module.kallsyms": 512, "module.taints": 544,
	"module.version": 208, "module.srcversion": 216,
	"mod_kallsyms.symtab": 0, "mod_kallsyms.num_symtab": 8, "mod_kallsyms.strtab": 16, "mod_kallsyms.typetab": 24,
}

// fuzzNoText is a kernel without ORC whose text is nowhere.
type fuzzNoText struct{}

func (fuzzNoText) KernelText(uint64) bool  { return false }
func (fuzzNoText) kernelORC() *symbols.ORC { return nil }

// fuzzModules writes the modules list head at 0 and n modules of 1 KiB
// from 0x100, each with a two-symbol table.
func fuzzModules(n int) []byte {
	b := make([]byte, 0x100+n*0x400)
	le := binary.LittleEndian
	prev := uint64(fuzzBase)
	for i := 0; i < n; i++ {
		m := 0x100 + i*0x400
		addr := fuzzBase + uint64(m)
		le.PutUint64(b[prev-fuzzBase:], addr+8)
		prev = addr + 8
		copy(b[m+24:], fmt.Sprintf("mod%d", i))
		le.PutUint64(b[m+320:], 0xffffffffc0000000+uint64(i)<<16)
		le.PutUint32(b[m+328:], 0x3000)
		le.PutUint32(b[m+332:], 0x1000)
		ks := m + 0x240
		le.PutUint64(b[m+512:], fuzzBase+uint64(ks))
		le.PutUint64(b[ks:], fuzzBase+uint64(ks+0x40))
		le.PutUint32(b[ks+8:], 2)
		le.PutUint64(b[ks+16:], fuzzBase+uint64(ks+0x80))
		le.PutUint64(b[ks+24:], fuzzBase+uint64(ks+0xa0))
		for s := 0; s < 2; s++ {
			e := b[ks+0x40+24*s:]
			le.PutUint32(e, uint32(1+6*s))
			e[4] = 0x12 // STB_GLOBAL, STT_FUNC
			le.PutUint16(e[6:], 1)
			le.PutUint64(e[8:], 0xffffffffc0000000+uint64(i)<<16+uint64(s)*0x100)
			b[ks+0xa0+s] = 't'
		}
		copy(b[ks+0x80:], "\x00init\x00\x00exit\x00")
		le.PutUint64(b[m+544:], 1<<12) // TAINT_OOT_MODULE
		le.PutUint64(b[m+208:], fuzzBase+uint64(m+0x300))
		copy(b[m+0x300:], "1.0")
	}
	le.PutUint64(b[prev-fuzzBase:], fuzzBase)
	return b
}

func FuzzModules(f *testing.F) {
	f.Add(fuzzModules(1))
	f.Add(fuzzModules(3))
	f.Fuzz(func(t *testing.T, mem []byte) {
		ml := NewModuleList(fuzzMem{mem}, fuzzModuleLayout, fuzzSymbols{"modules": fuzzBase}, fuzzNoText{}, nil, nil)
		mods, _ := ml.Modules()
		if len(mods) > len(mem)/8+1 {
			t.Fatalf("%d modules from %d bytes", len(mods), len(mem))
		}
		for _, m := range mods {
			ml.ModuleInfo(m)
			for _, s := range m.Symbols() {
				ml.Symbolize(s.Addr + 1)
				ml.FunctionBounds(s.Addr)
			}
			ml.ModuleOf(m.Base)
		}
	})
}

// TestFuzzSeedsWalk checks that the seeds hold what they claim, so that
// fuzzing starts from the walkers' real paths.
func TestFuzzSeedsWalk(t *testing.T) {
	p := NewPrintk(fuzzMem{fuzzLocklessRing(fuzzLineRecords(fuzzLogLines))}, fuzzPrbLayout, fuzzSymbols{"prb": fuzzBase + fuzzPrbPtr})
	recs, err := p.Log()
	if err != nil || len(recs) != 12 || recs[11].Text != fuzzLogLines[len(fuzzLogLines)-1] {
		t.Errorf("lockless ring: %d records, %v", len(recs), err)
	}
	for _, caller := range []bool{false, true} {
		buf, first, next := fuzzRecords(1024, caller, fuzzLineRecords(fuzzLogLines))
		lo := recordLayout{size: 16, lenOff: 8, textLenOff: 10, dictOff: 12, facOff: 14}
		if caller {
			lo.size, lo.callerOff, lo.hasCaller = 24, 16, true
		}
		le := binary.LittleEndian
		recs, err := parseRecords(buf, lo, first, next, 0, le.Uint16, le.Uint32, le.Uint64)
		if err != nil || len(recs) < 4 || recs[len(recs)-1].Text != fuzzLogLines[len(fuzzLogLines)-1] {
			t.Errorf("record log (caller %v): %d records, %v", caller, len(recs), err)
		}
	}
	buf, first, next := fuzzRecords(1024, false, fuzzLineRecords(fuzzLogLines))
	if recs, err := NewPrintk(fuzzMem{fuzzLogVars(buf, uint32(first), uint32(next), 0)}, fuzzLogLayout, fuzzLogSymbols).Log(); err != nil || len(recs) < 4 {
		t.Errorf("record log through its variables: %d records, %v", len(recs), err)
	}
	// The corpus's: the last records of an Oops run's log.
	for name, v := range corpus.ReadFuzzSeeds(t, "FuzzPrintkLockless") {
		recs, err := NewPrintk(fuzzMem{v[0].([]byte)}, fuzzPrbLayout, fuzzSymbols{"prb": fuzzBase + fuzzPrbPtr}).Log()
		if err != nil || len(recs) != 12 || recs[0].Text == "" || recs[11].Seq != recs[0].Seq+11 {
			t.Errorf("FuzzPrintkLockless/%s: %d records, %v", name, len(recs), err)
		}
	}
	for name, v := range corpus.ReadFuzzSeeds(t, "FuzzPrintkRecords") {
		lo := recordLayout{size: 24, lenOff: 8, textLenOff: 10, dictOff: 12, facOff: 14, callerOff: 16, hasCaller: true}
		le := binary.LittleEndian
		if recs, err := parseRecords(v[0].([]byte), lo, v[1].(uint64), v[2].(uint64), 0, le.Uint16, le.Uint32, le.Uint64); err != nil || len(recs) < 4 {
			t.Errorf("FuzzPrintkRecords/%s: %d records, %v", name, len(recs), err)
		}
	}
	res, err := WalkList(fuzzMem{fuzzListMemory(20, -1)}, ListWalk{Start: fuzzBase, NextOffset: 8, ListHead: true})
	if err != nil || len(res.Entries) != 20 {
		t.Errorf("circular list: %d entries, %v", len(res.Entries), err)
	}
	for _, brent := range []bool{false, true} {
		_, err := WalkList(fuzzMem{fuzzListMemory(20, 7)}, ListWalk{Start: fuzzBase, NextOffset: 8, Brent: brent})
		var le *ListError
		if !errors.As(err, &le) || le.Kind != "duplicate list entry" {
			t.Errorf("looping list (brent %v): %v", brent, err)
		}
	}
	m := &fakeMaple{nodes: map[uint64][]byte{}, next: fuzzBase}
	all, vmas := vmaRanges(rand.New(rand.NewSource(40)), 40)
	root, _ := m.build(all, []int{16, 5, 9})
	n := 0
	r := &mapleReader{read: fuzzMem{fuzzMapleMemory(m)}.ReadVirt, order: binary.LittleEndian, lay: testMapleLayout}
	if err := r.walk(root, func(MapleEntry) error { n++; return nil }); err != nil || n != len(vmas) {
		t.Errorf("maple tree: %d of %d entries, %v", n, len(vmas), err)
	}
	ml := NewModuleList(fuzzMem{fuzzModules(3)}, fuzzModuleLayout, fuzzSymbols{"modules": fuzzBase}, fuzzNoText{}, nil, nil)
	mods, err := ml.Modules()
	if err != nil || len(mods) != 3 || len(mods[0].Symbols()) != 2 || mods[2].Name != "mod2" {
		t.Errorf("modules: %d, %v", len(mods), err)
	} else if mi, err := ml.ModuleInfo(mods[0]); err != nil || mi.Version != "1.0" || mi.Taints != 1<<12 {
		t.Errorf("module info: %+v, %v", mi, err)
	}
}

// fuzzLogVars lays out the variables of the two older buffers (log_buf,
// log_buf_len, log_first_idx, log_next_idx, log_end) at fuzzBase, then
// the buffer at 0x40.
func fuzzLogVars(buf []byte, first, next, end uint32) []byte {
	b := make([]byte, 0x40+len(buf))
	le := binary.LittleEndian
	le.PutUint64(b, fuzzBase+0x40)
	le.PutUint32(b[8:], uint32(len(buf)))
	le.PutUint32(b[16:], first)
	le.PutUint32(b[24:], next)
	le.PutUint32(b[32:], end)
	copy(b[0x40:], buf)
	return b
}

var fuzzLogSymbols = fuzzSymbols{"log_buf": fuzzBase, "log_buf_len": fuzzBase + 8,
	"log_first_idx": fuzzBase + 16, "log_next_idx": fuzzBase + 24}

var fuzzLogLayout = fuzzLayout{"printk_log": 16, "printk_log.ts_nsec": 0, "printk_log.len": 8,
	"printk_log.text_len": 10, "printk_log.dict_len": 12}

// FuzzPrintkLog reads the 3.5-to-5.9 record log (plain is false) or the
// character ring of older kernels through Log, from their variables.
func FuzzPrintkLog(f *testing.F) {
	buf, first, next := fuzzRecords(1024, false, fuzzLineRecords(fuzzLogLines))
	f.Add(fuzzLogVars(buf, uint32(first), uint32(next), 0), false)
	var text strings.Builder
	for i, l := range fuzzLogLines {
		fmt.Fprintf(&text, "<6>[%5d.%06d] %s\n", i, i*37, l)
	}
	ring := []byte(text.String())
	f.Add(fuzzLogVars(ring[:1024], 0, 0, uint32(len(ring))), true)
	f.Fuzz(func(t *testing.T, mem []byte, plain bool) {
		syms := fuzzLogSymbols
		if plain {
			syms = fuzzSymbols{"log_buf": fuzzBase, "log_buf_len": fuzzBase + 8, "log_end": fuzzBase + 32}
		}
		recs, _ := NewPrintk(fuzzMem{mem}, fuzzLogLayout, syms).Log()
		if len(recs) > len(mem)+1 {
			t.Fatalf("%d records from %d bytes", len(recs), len(mem))
		}
	})
}

// TestLogBufCorruptLength: a log_buf_len of 2 GiB over a buffer that is
// not there fails without allocating it.
func TestLogBufCorruptLength(t *testing.T) {
	buf, first, next := fuzzRecords(1024, false, fuzzLineRecords(fuzzLogLines))
	mem := fuzzLogVars(buf, uint32(first), uint32(next), 0)
	binary.LittleEndian.PutUint32(mem[8:], 1<<31)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := NewPrintk(fuzzMem{mem}, fuzzLogLayout, fuzzLogSymbols).Log()
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "2147483648 bytes") {
		t.Errorf("err %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("%d bytes allocated for a buffer that is not there", n)
	}
}

// kallsymsProgram builds a small program defining _stext, a vmlinux for
// kallsymsOffset (closed with the test).
func kallsymsProgram(t testing.TB) *symbols.Vmlinux {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc is not installed (testdata/corpus/build.sh installs it)")
	}
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "k.c"), filepath.Join(dir, "k")
	if err := os.WriteFile(src, []byte("void _stext(void) {}\nint main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-no-pie", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	v, err := symbols.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// FuzzKallsyms reads a /proc/kallsyms listing for the KASLR offset, with
// a small program defining _stext as the vmlinux.
func FuzzKallsyms(f *testing.F) {
	v := kallsymsProgram(f)
	f.Add("ffffffff81000000 T startup_64\nffffffff81000000 T _stext\nffffffffc0000000 t init\t[mod]\n")
	f.Add("0000000000000000 T _text\n")
	f.Fuzz(func(t *testing.T, listing string) {
		kallsymsOffset(strings.NewReader(listing), v)
	})
}
