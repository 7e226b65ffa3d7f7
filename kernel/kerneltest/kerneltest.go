// Package kerneltest builds a *kernel.Kernel over a synthetic dump, for
// unit tests of the layers above kernel that need no real dump: a small
// x86_64 machine whose RAM, page tables and VMCOREINFO text (symbols,
// offsets, sizes) a test fills in: a printk log, a task list with its
// task_structs and mm_structs, per-CPU runqueues, and what sys reads
// (utsname, the clock, load averages, memory size), sleeping locks and
// their waiters (locks.go). It owns nothing at run time.
package kerneltest

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
)

// The machine's layout: 4 MiB of RAM with 4-level page tables mapping the
// kernel image's data page (KData, a 2 MiB page at physical 0x200000,
// phys_base 0) and the direct map (DirectMap, 1 GiB from physical 0).
const (
	KData     = 0xffffffff80200000 // the kernel's variables
	DirectMap = 0xffff888000000000
	RAMSize   = 4 << 20
	kdataPhys = 0x200000
)

// Machine is a synthetic dump being built.
type Machine struct {
	RAM []byte
	vi  strings.Builder

	nextVar, nextObj uint64 // Var's and Object's next free address
	tasksDeclared    bool   // the task_struct layout is in VMCOREINFO
	locksDeclared    bool   // the locks' layouts are (locks.go)
}

// New returns a machine with its page tables and no kernel variables.
func New() *Machine {
	m := &Machine{RAM: make([]byte, RAMSize)}
	const present, pse = 1, 1 << 7
	le := binary.LittleEndian
	// PGD at 0x1000 (init_top_pgt = __START_KERNEL_map + 0x1000).
	le.PutUint64(m.RAM[0x1000+273*8:], 0x2000|present) // direct map
	le.PutUint64(m.RAM[0x2000:], 0|pse|present)        // 1 GiB at 0
	le.PutUint64(m.RAM[0x1000+511*8:], 0x3000|present) // kernel image
	le.PutUint64(m.RAM[0x3000+510*8:], 0x4000|present)
	le.PutUint64(m.RAM[0x4000+1*8:], kdataPhys|pse|present) // 2 MiB at 0x200000
	m.vi.WriteString("NUMBER(phys_base)=0\nSYMBOL(init_top_pgt)=ffffffff80001000\n")
	return m
}

// At is the RAM behind a kernel virtual address: in the kernel's data
// page or the direct map.
func (m *Machine) At(addr uint64) []byte {
	if addr >= KData {
		return m.RAM[addr-KData+kdataPhys:]
	}
	return m.RAM[addr-DirectMap:]
}

// PutU64 and its kin store a value at a kernel virtual address.
func (m *Machine) PutU64(addr, v uint64) { binary.LittleEndian.PutUint64(m.At(addr), v) }

// PutU32 stores a 32-bit value.
func (m *Machine) PutU32(addr uint64, v uint32) { binary.LittleEndian.PutUint32(m.At(addr), v) }

// PutU16 stores a 16-bit value.
func (m *Machine) PutU16(addr uint64, v uint16) { binary.LittleEndian.PutUint16(m.At(addr), v) }

// PutString stores a NUL-terminated string.
func (m *Machine) PutString(addr uint64, s string) { copy(m.At(addr), s+"\x00") }

// Info appends lines to the VMCOREINFO text.
func (m *Machine) Info(format string, args ...any) { fmt.Fprintf(&m.vi, format+"\n", args...) }

// Symbol names a kernel variable's address in VMCOREINFO.
func (m *Machine) Symbol(name string, addr uint64) { m.Info("SYMBOL(%s)=%x", name, addr) }

// Offset gives offsetof(s, member) in VMCOREINFO.
func (m *Machine) Offset(s, member string, off int64) { m.Info("OFFSET(%s.%s)=%d", s, member, off) }

// Size gives sizeof(s) in VMCOREINFO.
func (m *Machine) Size(s string, n int64) { m.Info("SIZE(%s)=%d", s, n) }

// Record is one printk record of the 3.5-to-5.9 log.
type Record struct {
	TS         uint64 // nanoseconds since boot
	Level, Fac uint8
	Text       string
}

// Log stores records in a record log (struct printk_log, 16-byte header)
// at physical address phys and describes it in VMCOREINFO; it uses four
// words of kernel variables from vars.
func (m *Machine) Log(vars, phys uint64, recs []Record) {
	var buf []byte
	for _, r := range recs {
		size := 16 + len(r.Text)
		size += -size & 3
		h := make([]byte, size)
		le := binary.LittleEndian
		le.PutUint64(h, r.TS)
		le.PutUint16(h[8:], uint16(size))
		le.PutUint16(h[10:], uint16(len(r.Text)))
		h[14] = r.Fac
		h[15] = 2 | r.Level<<5 // LOG_NEWLINE
		copy(h[16:], r.Text)
		buf = append(buf, h...)
	}
	buf = append(buf, make([]byte, 16)...) // room for the next record's header
	copy(m.RAM[phys:], buf)
	m.PutU64(vars, DirectMap+phys)
	m.PutU32(vars+8, uint32(len(buf)))
	m.PutU32(vars+16, 0)
	m.PutU32(vars+24, uint32(len(buf)-16))
	m.Symbol("log_buf", vars)
	m.Symbol("log_buf_len", vars+8)
	m.Symbol("log_first_idx", vars+16)
	m.Symbol("log_next_idx", vars+24)
	m.Size("printk_log", 16)
	m.Offset("printk_log", "ts_nsec", 0)
	m.Offset("printk_log", "len", 8)
	m.Offset("printk_log", "text_len", 10)
	m.Offset("printk_log", "dict_len", 12)
}

// VMCoreInfo is the VMCOREINFO text so far.
func (m *Machine) VMCoreInfo() string { return m.vi.String() }

// Kernel opens the machine as a dump with no vmlinux: everything about
// the kernel comes from VMCOREINFO.
func (m *Machine) Kernel(t testing.TB) *kernel.Kernel {
	t.Helper()
	k, err := kernel.New(memory.NewRAMDump("x86_64", m.vi.String(), 0, m.RAM), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
