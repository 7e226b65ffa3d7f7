package kernel

import (
	"fmt"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// E820Entry is one range of the firmware's memory map (struct
// e820_entry).
type E820Entry struct {
	Addr, Size uint64
	Type       uint32
}

// ExceptionStack is one x86_64 interrupt stack table slot: the stack
// named by the IDT entry that uses it, its size and each CPU's base.
type ExceptionStack struct {
	Name      string // DOUBLEFAULT, NMI, DEBUG, MCE, VC, STACKFAULT; "(unknown)"
	Size      uint64
	Bases     []uint64
	Available []bool // the stack's page is mapped
}

// Machine reads the machine-level facts mach shows.
type Machine struct{ d objDeps }

// Machine returns the reader of the machine's facts.
func (k *Kernel) Machine() *Machine { return &Machine{k.objDeps()} }

// E820 reads the firmware memory map (*e820_table, or the older e820).
func (m *Machine) E820() ([]E820Entry, error) {
	o := m.d.obj()
	var table uint64
	st := "e820_table"
	if a, err := m.d.SymbolAddr("e820_table"); err == nil {
		table = o.u64(a)
	} else {
		return nil, fmt.Errorf("neither e820 or e820_table symbols exist")
	}
	n := o.u32(table + o.off(st, "nr_entries"))
	ents := table + o.off(st, "entries")
	size := o.size("e820_entry")
	addr, sz, typ := o.off("e820_entry", "addr"), o.off("e820_entry", "size"), o.off("e820_entry", "type")
	var out []E820Entry
	for i := uint64(0); i < uint64(n) && i < 1024 && o.err == nil; i++ {
		e := ents + i*size
		out = append(out, E820Entry{o.u64(e + addr), o.u64(e + sz), o.u32(e + typ)})
	}
	return out, o.err
}

// PerCPU is the address of the per-CPU variable sym on cpu.
func (m *Machine) PerCPU(sym string, cpu int) (uint64, error) {
	o := m.d.obj()
	a := o.percpu(o.sym(sym), cpu)
	return a, o.err
}

// Variable reads the unsigned long kernel variable sym.
func (m *Machine) Variable(sym string) (uint64, error) {
	a, err := m.d.SymbolAddr(sym)
	if err != nil {
		return 0, err
	}
	return m.d.ReadU64(a)
}

// IRQStackBases is each CPU's hard-IRQ stack base (x86_64
// hardirq_stack_ptr, one word below the top; pcpu_hot's on 6.2+), for
// stacks of size bytes.
func (m *Machine) IRQStackBases(ncpu int, size uint64) ([]uint64, error) {
	var out []uint64
	for cpu := 0; cpu < ncpu; cpu++ {
		o := m.d.obj()
		var p uint64
		if a, err := m.d.SymbolAddr("hardirq_stack_ptr"); err == nil {
			p = o.u64(o.percpu(a, cpu))
		} else if a, err := m.d.SymbolAddr("pcpu_hot"); err == nil {
			p = o.u64(o.percpu(a, cpu) + o.off("pcpu_hot", "hardirq_stack_ptr"))
		} else {
			return nil, fmt.Errorf("no hardirq_stack_ptr in this kernel")
		}
		if o.err != nil {
			return out, o.err
		}
		if p%4096 == 0 {
			out = append(out, p-size)
		} else {
			out = append(out, p+8-size)
		}
	}
	return out, nil
}

// ExceptionStacks reads the x86_64 exception stacks: each CPU's TSS
// interrupt stack table (cpu_tss_rw.x86_tss.ist[]) gives each slot's top,
// the IDT (idt_table) names the slot by the handler that uses it, and
// struct cea_exception_stacks (or exception_stacks) its size, as crash
// does: a slot no IDT entry names is "(unknown)", of size 0.
func (m *Machine) ExceptionStacks(ncpu int, name func(addr uint64) string) ([]ExceptionStack, error) {
	o := m.d.obj()
	tss := o.sym("cpu_tss_rw")
	ist := o.off("tss_struct", "x86_tss") + o.off("x86_hw_tss", "ist")
	if o.err != nil {
		return nil, o.err
	}
	idt, err := m.IDT()
	if err != nil {
		return nil, err
	}
	const slots = 7
	names := make([]string, slots)
	for i := range names {
		names[i] = "(unknown)"
	}
	for _, g := range idt {
		if g.IST == 0 {
			continue
		}
		s := name(g.Handler)
		for _, c := range []struct{ sub, name string }{{"nmi", "NMI"}, {"debug", "DEBUG"}, {"stack", "STACKFAULT"}, {"double", "DOUBLEFAULT"}, {"machine", "MCE"}, {"vmm", "VC"}} {
			if strings.Contains(s, c.sub) {
				names[g.IST-1] = c.name
			}
		}
	}
	st := "cea_exception_stacks"
	if !o.has(st, "NMI_stack") {
		st = "exception_stacks"
	}
	sizes := map[string]string{"DEBUG": "DB_stack", "NMI": "NMI_stack", "DOUBLEFAULT": "DF_stack", "MCE": "MCE_stack", "VC": "VC_stack"}
	var out []ExceptionStack
	for i := 0; i < slots; i++ {
		es := ExceptionStack{Name: names[i]}
		if mem, ok := sizes[names[i]]; ok {
			if t, err := m.d.memberType(st, mem); err == nil {
				es.Size = uint64(t.Sizeof())
			} else if !symbols.IsMissing(err) {
				return out, err
			}
		}
		for cpu := 0; cpu < ncpu; cpu++ {
			top := o.u64(o.percpu(tss, cpu) + ist + uint64(8*i))
			if o.err != nil {
				return out, o.err
			}
			if top == 0 {
				break
			}
			base := top - es.Size
			avail := true
			if es.Name == "VC" {
				var b [1]byte
				avail = m.d.ReadVirt(b[:], base) == nil
			}
			es.Bases = append(es.Bases, base)
			es.Available = append(es.Available, avail)
		}
		if len(es.Bases) == 0 {
			break
		}
		out = append(out, es)
	}
	return out, nil
}

// ThreadSize is THREAD_SIZE: the size of union thread_union, else the
// extent of init_task's stack that the linker script lays out
// (init_stack to __end_init_task, or to __end_init_stack on 6.8+).
func (m *Machine) ThreadSize() (uint64, error) {
	if n, err := m.d.Size("thread_union"); err == nil && n > 0 {
		return uint64(n), nil
	}
	if m.d.types != nil {
		if ts, err := m.d.types.Types(); err == nil {
			if t, err := ts.Lookup("union thread_union"); err == nil && t.Sizeof() > 0 {
				return uint64(t.Sizeof()), nil
			}
		}
	}
	start, err := m.d.SymbolAddr("init_stack")
	if err != nil {
		return 0, fmt.Errorf("THREAD_SIZE is not known: %w", err)
	}
	for _, end := range []string{"__end_init_task", "__end_init_stack"} {
		if e, err := m.d.SymbolAddr(end); err == nil && e > start {
			return e - start, nil
		}
	}
	return 0, fmt.Errorf("THREAD_SIZE is not known: no end of init_stack")
}

// IDTEntry is one x86_64 interrupt descriptor (struct gate_struct).
type IDTEntry struct {
	Handler uint64
	IST     int // the interrupt stack table slot, 1-7; 0 for none
}

// IDT reads the 256 descriptors of idt_table.
func (m *Machine) IDT() ([]IDTEntry, error) {
	o := m.d.obj()
	idt := o.sym("idt_table")
	gate := o.size("gate_struct")
	lo, mid, hi := o.off("gate_struct", "offset_low"), o.off("gate_struct", "offset_middle"), o.off("gate_struct", "offset_high")
	bits := o.off("gate_struct", "bits")
	var out []IDTEntry
	for v := uint64(0); v < 256 && o.err == nil; v++ {
		g := idt + v*gate
		out = append(out, IDTEntry{
			Handler: uint64(o.u16(g+lo)) | uint64(o.u16(g+mid))<<16 | uint64(o.u32(g+hi))<<32,
			IST:     int(o.u16(g+bits) & 7),
		})
	}
	return out, o.err
}
