package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
)

func machCommand() *Command {
	return &Command{
		Name:     "mach",
		Synopsis: "mach [-m | -c]",
		Summary:  "machine specific data",
		Help: `Displays machine-specific data of an x86_64 kernel: the machine type, memory
size, CPUs, processor speed, HZ, page size, the bases of the kernel's
direct map (page_offset_base), vmalloc area (vmalloc_base), vmemmap
(vmemmap_base), kernel text map and module area, the kernel stack size, and
each CPU's IRQ stack and exception stacks (the TSS interrupt stack table,
each slot named by the IDT entries that use it, "(unknown)" when none does,
as crash names them; a VC stack whose page is not mapped is
"[unavailable]").

-m shows the firmware's memory map (e820_table). -c shows each CPU's
struct cpuinfo_x86 (the per-CPU cpu_info).`,
		Options: []Option{
			{"-m", "the firmware (e820) memory map"},
			{"-c", "each CPU's struct cpuinfo_x86"},
		},
		Examples: []string{"gocrash> mach", "gocrash> mach -m", "gocrash> mach -c"},
		Results:  []Result{&MachInfo{}, &MachMemMap{}, &MachCPUs{}},
		Run:      runMach,
	}
}

// MachInfo is mach's summary.
type MachInfo struct {
	MachineType     string         `json:"machine_type"`
	MemorySize      uint64         `json:"memory_bytes"`
	CPUs            int            `json:"cpus"`
	OfflineCPUs     int            `json:"offline_cpus"`
	MHz             uint64         `json:"mhz"`
	HZ              uint64         `json:"hz"`
	PageSize        uint64         `json:"page_size"`
	KernelVirtBase  Hex            `json:"kernel_virtual_base"`
	VmallocBase     Hex            `json:"kernel_vmalloc_base"`
	VmemmapBase     Hex            `json:"kernel_vmemmap_base"`
	StartMap        Hex            `json:"kernel_start_map"`
	ModulesBase     Hex            `json:"kernel_modules_base"`
	StackSize       uint64         `json:"kernel_stack_size"`
	IRQStackSize    uint64         `json:"irq_stack_size"`
	IRQStacks       []Hex          `json:"irq_stacks"`
	ExceptionStacks []MachExcStack `json:"exception_stacks"`
}

// MachExcStack is one exception stack slot.
type MachExcStack struct {
	Name        string `json:"name"`
	Size        uint64 `json:"size"`
	Bases       []Hex  `json:"bases"`
	Unavailable []bool `json:"unavailable"`
}

// MachMemMap is mach -m.
type MachMemMap struct {
	Ranges []MachRange `json:"ranges"`
}

// MachRange is one e820 range.
type MachRange struct {
	Start Hex    `json:"start"`
	End   Hex    `json:"end"`
	Type  uint32 `json:"type"`
	Name  string `json:"name"`
}

// MachCPUs is mach -c: each CPU's struct cpuinfo_x86.
type MachCPUs struct {
	CPUs []MachCPU `json:"cpus"`
}

// MachCPU is one CPU's cpuinfo_x86, as struct prints it.
type MachCPU struct {
	CPU    int    `json:"cpu"`
	Addr   Hex    `json:"cpuinfo_x86"`
	Struct Result `json:"struct"`
	text   string
}

// x86_64's fixed kernel map bases (arch/x86/include/asm/page_64_types.h,
// pgtable_64_types.h): __START_KERNEL_map and MODULES_VADDR.
const (
	x86StartKernelMap = 0xffffffff80000000
	x86ModulesVaddr   = 0xffffffffc0000000
)

func runMach(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	if err := a.Exclusive("m", "c"); err != nil {
		return nil, err
	}
	k := s.Kernel
	if k.Arch.Name() != "x86_64" {
		return nil, fmt.Errorf("not supported on %s yet", k.Arch.Name())
	}
	m := k.Machine()
	ncpu, off, err := k.CPUs()
	if err != nil {
		return nil, err
	}
	switch {
	case a.Has("m"):
		ents, err := m.E820()
		mm := &MachMemMap{Ranges: []MachRange{}}
		names := []string{"(invalid type)", "E820_RAM", "E820_RESERVED", "E820_ACPI", "E820_NVS", "E820_UNUSABLE"}
		for _, e := range ents {
			r := MachRange{Start: Hex(e.Addr), End: Hex(e.Addr + e.Size), Type: e.Type}
			switch {
			case int(e.Type) < len(names):
				r.Name = names[e.Type]
			case e.Type == 12:
				r.Name = "E820_PRAM"
			case e.Type == 128:
				r.Name = "E820_RESERVED_KERN"
			default:
				r.Name = fmt.Sprintf("type %d", e.Type)
			}
			mm.Ranges = append(mm.Ranges, r)
		}
		return mm, err
	case a.Has("c"):
		mc := &MachCPUs{}
		for cpu := 0; cpu < ncpu; cpu++ {
			addr, err := m.PerCPU("cpu_info", cpu)
			if err != nil {
				return mc, err
			}
			res, err := s.Registry.Exec(ctx, s, []string{"struct", "cpuinfo_x86", fmt.Sprintf("%x", addr)})
			if err != nil {
				return mc, err
			}
			var b bytes.Buffer
			if err := res.Text(&b); err != nil {
				return mc, err
			}
			mc.CPUs = append(mc.CPUs, MachCPU{CPU: cpu, Addr: Hex(addr), Struct: res, text: b.String()})
		}
		return mc, nil
	}
	mi := &MachInfo{CPUs: ncpu, OfflineCPUs: off, PageSize: k.Arch.PageSize(), StartMap: x86StartKernelMap, ModulesBase: x86ModulesVaddr,
		IRQStacks: []Hex{}, ExceptionStacks: []MachExcStack{}}
	sum := SysSummary(s)
	mi.MachineType, mi.MemorySize, mi.MHz = sum.Machine, sum.Memory, sum.MHz
	if mi.HZ, err = k.HZ(); err != nil {
		return mi, err
	}
	for _, v := range []struct {
		sym string
		to  *Hex
	}{{"page_offset_base", &mi.KernelVirtBase}, {"vmalloc_base", &mi.VmallocBase}, {"vmemmap_base", &mi.VmemmapBase}} {
		x, err := m.Variable(v.sym)
		if err != nil {
			return mi, err
		}
		*v.to = Hex(x)
	}
	if mi.StackSize, err = m.ThreadSize(); err != nil {
		return mi, err
	}
	mi.IRQStackSize = mi.StackSize
	if is, err := k.Size("irq_stack"); err == nil {
		mi.IRQStackSize = uint64(is)
	}
	irq, err := m.IRQStackBases(ncpu, mi.IRQStackSize)
	for _, b := range irq {
		mi.IRQStacks = append(mi.IRQStacks, Hex(b))
	}
	if err != nil {
		return mi, err
	}
	name := func(addr uint64) string { n, _, _ := k.Symbolize(addr); return n }
	exc, err := m.ExceptionStacks(ncpu, name)
	for _, e := range exc {
		me := MachExcStack{Name: e.Name, Size: e.Size}
		for i, b := range e.Bases {
			me.Bases = append(me.Bases, Hex(b))
			me.Unavailable = append(me.Unavailable, !e.Available[i])
		}
		mi.ExceptionStacks = append(mi.ExceptionStacks, me)
	}
	return mi, err
}

func (mi *MachInfo) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("          MACHINE TYPE: %s\n", mi.MachineType)
	tw.printf("           MEMORY SIZE: %s\n", FormatMemory(mi.MemorySize))
	tw.printf("                  CPUS: %d", mi.CPUs)
	if mi.OfflineCPUs > 0 {
		tw.printf(" [OFFLINE: %d]", mi.OfflineCPUs)
	}
	tw.printf("\n       PROCESSOR SPEED: ")
	if mi.MHz > 0 {
		tw.printf("%d Mhz\n", mi.MHz)
	} else {
		tw.printf("(unknown)\n")
	}
	tw.printf("                    HZ: %d\n", mi.HZ)
	tw.printf("             PAGE SIZE: %d\n", mi.PageSize)
	tw.printf("   KERNEL VIRTUAL BASE: %x\n", uint64(mi.KernelVirtBase))
	tw.printf("   KERNEL VMALLOC BASE: %x\n", uint64(mi.VmallocBase))
	tw.printf("   KERNEL VMEMMAP BASE: %x\n", uint64(mi.VmemmapBase))
	tw.printf("      KERNEL START MAP: %x\n", uint64(mi.StartMap))
	tw.printf("   KERNEL MODULES BASE: %x\n", uint64(mi.ModulesBase))
	tw.printf("     KERNEL STACK SIZE: %d\n", mi.StackSize)
	tw.printf("        IRQ STACK SIZE: %d\n", mi.IRQStackSize)
	tw.printf("            IRQ STACKS:\n")
	for c, b := range mi.IRQStacks {
		tw.printf("%22s: %016x\n", fmt.Sprintf("CPU %d", c), uint64(b))
	}
	for _, e := range mi.ExceptionStacks {
		tw.printf("%11s STACK SIZE: %d\n", e.Name, e.Size)
		tw.printf("%24s", e.Name+" STACKS:\n")
		for c, b := range e.Bases {
			tw.printf("%22s: %016x", fmt.Sprintf("CPU %d", c), uint64(b))
			if e.Unavailable[c] {
				tw.printf(" [unavailable]")
			}
			tw.printf("\n")
		}
	}
	return tw.err
}

func (mm *MachMemMap) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("      PHYSICAL ADDRESS RANGE         TYPE\n")
	for _, r := range mm.Ranges {
		tw.printf("%016x - %016x  %s\n", uint64(r.Start), uint64(r.End), r.Name)
	}
	return tw.err
}

func (mc *MachCPUs) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, c := range mc.CPUs {
		if i > 0 {
			tw.printf("\n")
		}
		tw.printf("CPU %d:\n%s", c.CPU, c.text)
		if !strings.HasSuffix(c.text, "\n") {
			tw.printf("\n")
		}
	}
	return tw.err
}
