package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
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
struct cpuinfo_x86 (the per-CPU cpu_info).

On arm64 mach shows the machine type, memory size, CPUs, HZ, page size, the
direct map's base (PAGE_OFFSET, from VMCOREINFO's VA_BITS), the module,
vmalloc and vmemmap bases (VMCOREINFO's MODULES_VADDR, VMALLOC_START and
VMEMMAP_START, which kernels from 5.18 export; not shown without them), the
kernel stack size and each CPU's IRQ stack (irq_stack_ptr) and overflow
stack; not -m and -c (crash has neither there: "option not supported").

-x and -d print -c's structures in hexadecimal or decimal. -o (ppc64le)
prints the OPAL firmware's console log (skiboot's console buffer in physical
memory, its printable characters) of a dump taken on an OPAL system.`,
		Options: []Option{
			{"-m", "the firmware (e820) memory map"},
			{"-c", "each CPU's struct cpuinfo_x86"},
			{"-x", "with -c: the structures in hexadecimal"},
			{"-d", "with -c: the structures in decimal"},
			{"-o", "the OPAL console log (ppc64le)"},
		},
		Examples: []string{"gocrash> mach", "gocrash> mach -m", "gocrash> mach -c"},
		Results:  []Result{&MachInfo{}, &MachMemMap{}, &MachCPUs{}, &MachArm64{}, &OPALLog{}},
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

// MachArm64 is mach on arm64: the facts gocrash reads for certain (the
// module, vmalloc and vmemmap bases crash derives are not shown yet).
type MachArm64 struct {
	MachineType    string `json:"machine_type"`
	MemorySize     uint64 `json:"memory_bytes"`
	CPUs           int    `json:"cpus"`
	HZ             uint64 `json:"hz"`
	PageSize       uint64 `json:"page_size"`
	KernelVirtBase Hex    `json:"kernel_virtual_base"` // PAGE_OFFSET, -(1 << VA_BITS); 0 when VMCOREINFO has no VA_BITS
	// The module area, vmalloc area and vmemmap bases, from VMCOREINFO's
	// NUMBER(MODULES_VADDR), (VMALLOC_START) and (VMEMMAP_START) (arm64
	// kernels from 5.18 export them); 0 when it has not.
	ModulesBase    Hex    `json:"modules_base,omitempty"`
	VmallocBase    Hex    `json:"vmalloc_base,omitempty"`
	VmemmapBase    Hex    `json:"vmemmap_base,omitempty"`
	StackSize      uint64 `json:"kernel_stack_size"`
	IRQStackSize   uint64 `json:"irq_stack_size"`
	IRQStacks      []Hex  `json:"irq_stacks"`
	OverflowSize   uint64 `json:"overflow_stack_size"`
	OverflowStacks []Hex  `json:"overflow_stacks"`
}

func machArm64(s *Session, m interface {
	ThreadSize() (uint64, error)
	PerCPU(string, int) (uint64, error)
}, ncpu int) (Result, error) {
	k := s.Kernel
	sum := SysSummary(s)
	r := &MachArm64{MachineType: sum.Machine, MemorySize: sum.Memory, CPUs: ncpu, PageSize: k.Arch.PageSize(), IRQStacks: []Hex{}, OverflowStacks: []Hex{}}
	var err error
	if r.HZ, err = k.HZ(); err != nil {
		return r, err
	}
	if vi := k.Dump.VMCoreInfo; vi != nil {
		if bits, ok := vi.Number("VA_BITS"); ok && bits > 0 && bits < 64 {
			r.KernelVirtBase = Hex(-(uint64(1) << bits))
		}
		for _, n := range []struct {
			key string
			to  *Hex
		}{{"MODULES_VADDR", &r.ModulesBase}, {"VMALLOC_START", &r.VmallocBase}, {"VMEMMAP_START", &r.VmemmapBase}} {
			if v, ok := vi.String("NUMBER(" + n.key + ")"); ok && k.Arch.Name() == "arm64" {
				if x, err := strconv.ParseUint(v, 0, 64); err == nil {
					*n.to = Hex(x)
				}
			}
		}
	}
	if r.StackSize, err = m.ThreadSize(); err != nil {
		return r, err
	}
	for cpu := 0; cpu < ncpu; cpu++ {
		p, err := m.PerCPU("irq_stack_ptr", cpu)
		if err != nil {
			break
		}
		base, err := k.ReadU64(p)
		if err != nil {
			return r, err
		}
		r.IRQStackSize = r.StackSize
		r.IRQStacks = append(r.IRQStacks, Hex(base))
	}
	if t, _, err := s.typesObject("overflow_stack"); err == nil && t > 0 {
		r.OverflowSize = uint64(t)
		for cpu := 0; cpu < ncpu; cpu++ {
			p, err := m.PerCPU("overflow_stack", cpu)
			if err != nil {
				return r, err
			}
			r.OverflowStacks = append(r.OverflowStacks, Hex(p))
		}
	}
	return r, nil
}

// typesObject is the size of the variable name, from the vmlinux's types.
func (s *Session) typesObject(name string) (int64, bool, error) {
	ts, err := s.types()
	if err != nil {
		return 0, false, err
	}
	t, _, err := ts.ObjectType(name)
	if err != nil {
		return 0, false, err
	}
	return t.Sizeof(), true, nil
}

func (r *MachArm64) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("       MACHINE TYPE: %s\n", r.MachineType)
	tw.printf("        MEMORY SIZE: %s\n", FormatMemory(r.MemorySize))
	tw.printf("               CPUS: %d\n", r.CPUs)
	tw.printf("                 HZ: %d\n", r.HZ)
	tw.printf("          PAGE SIZE: %d\n", r.PageSize)
	if r.KernelVirtBase != 0 {
		tw.printf("KERNEL VIRTUAL BASE: %x\n", uint64(r.KernelVirtBase))
	}
	if r.ModulesBase != 0 && r.VmallocBase != 0 && r.VmemmapBase != 0 {
		tw.printf("KERNEL MODULES BASE: %x\n", uint64(r.ModulesBase))
		tw.printf("KERNEL VMALLOC BASE: %x\n", uint64(r.VmallocBase))
		tw.printf("KERNEL VMEMMAP BASE: %x\n", uint64(r.VmemmapBase))
	}
	tw.printf("  KERNEL STACK SIZE: %d\n", r.StackSize)
	stacks := func(label string, size uint64, bases []Hex) {
		if size == 0 {
			return
		}
		tw.printf("%s STACK SIZE: %d\n", label, size)
		tw.printf("%20s\n", strings.TrimSpace(label)+" STACKS:")
		for i, b := range bases {
			pad := 3
			switch {
			case i >= 1000:
				pad = 0
			case i >= 100:
				pad = 1
			case i >= 10:
				pad = 2
			}
			tw.printf("%s           CPU %d: %x\n", strings.Repeat(" ", pad), i, uint64(b))
		}
	}
	stacks("     IRQ", r.IRQStackSize, r.IRQStacks)
	stacks("OVERFLOW", r.OverflowSize, r.OverflowStacks)
	return tw.err
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
	if err := a.Exclusive("m", "c", "o"); err != nil {
		return nil, err
	}
	if err := a.Exclusive("x", "d"); err != nil {
		return nil, err
	}
	k := s.Kernel
	if a.Has("o") {
		if k.Arch.Name() != "ppc64le" {
			return nil, fmt.Errorf("-o option not supported or applicable on this architecture or kernel")
		}
		return opalLog(s)
	}
	m := k.Machine()
	ncpu, off, err := k.CPUs()
	if err != nil {
		return nil, err
	}
	switch k.Arch.Name() {
	case "x86_64":
	case "arm64", "ppc64le", "s390x":
		// (ppc64le and s390x: the common facts of arm64's summary; the
		// per-architecture lines crash adds are not shown yet.)
		if a.Has("m") || a.Has("c") {
			return nil, fmt.Errorf("-%s option not supported on %s", a.Last("m", "c"), k.Arch.Name())
		}
		return machArm64(s, m, ncpu)
	default:
		return nil, fmt.Errorf("not supported on %s yet", k.Arch.Name())
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
			words := []string{"struct", "cpuinfo_x86", fmt.Sprintf("%x", addr)}
			if f := a.Last("x", "d"); f != "" {
				words = append(words, "-"+f)
			}
			res, err := s.Registry.Exec(ctx, s, words)
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

// OPALLog is mach -o: the printable text of skiboot's console buffer.
type OPALLog struct {
	Start Hex `json:"start"`
	// Lines are the buffer's runs of printable characters, each run
	// broken every 256 characters.
	Lines []string `json:"lines"`
}

// skiboot's console dump area (SKIBOOT_CONSOLE_DUMP_START, _SIZE).
const (
	opalConsoleStart = 0x31000000
	opalConsoleSize  = 0x100000
)

// opalLog reads the OPAL console of a ppc64 dump taken on an OPAL system
// (the kernel's opal.base set).
func opalLog(s *Session) (Result, error) {
	k := s.Kernel
	opal, err := k.SymbolAddr("opal")
	var base uint64
	if err == nil {
		base, err = k.ReadU64(opal)
	}
	if err != nil || base == 0 {
		return nil, fmt.Errorf("dump was not captured on OPAL based system")
	}
	buf := make([]byte, opalConsoleSize)
	res := &OPALLog{Start: opalConsoleStart, Lines: []string{}}
	if err := k.Dump.ReadPhys(buf, opalConsoleStart); err != nil {
		return res, err
	}
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			res.Lines = append(res.Lines, string(cur))
			cur = nil
		}
	}
	for _, c := range buf {
		if c < 0x20 || c > 0x7e {
			flush()
			continue
		}
		if len(cur) == 256 {
			flush()
		}
		cur = append(cur, c)
	}
	flush()
	return res, nil
}

func (o *OPALLog) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, l := range o.Lines {
		tw.printf("%s\n", l)
	}
	return tw.err
}
