package kernel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/archs"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// Kernel is a dump bound to its vmlinux.
type Kernel struct {
	Dump    *memory.Dump
	Vmlinux *symbols.Vmlinux // nil when only VMCOREINFO is available
	Arch    arch.Arch
	order   binary.ByteOrder

	*Memory      // ReadVirt, ReadU64, VirtToPhys, Refresh...
	*SymbolTable // SymbolAddr, and Syms: the relocated symbols
	*TypeLayout  // Offset, Size
	*Printk      // Log
	*System      // UTS, CPUs, HZ, Uptime, CrashTime, MemorySize, PerCPUOffset...
	*TaskList    // Tasks, ReadTask, ActiveTasks, PanicTask, FindTask, LastRun...
	*Pages       // PageAddr, PageOf, PageFlags, PagePFN
	*UserSpace   // UserWalk, ReadUser, TaskArgs, VMAs, FindVMA, FilePath
	*Unwinder    // Backtrace, CPURegisters, TaskStack, SearchEFrames, SourceLine
	*ModuleList  // Modules, ModuleOf, IsText, Symbolize
	*Zones       // Nodes, FreeLists, FreeOrders
	*VMStats     // VMCounters, VMEvents, ZoneStatNames
	*Vmalloc     // VmapAreas
	*MemUsage    // MemInfo, Hstates
	*FileSystem  // TaskFiles, ReadInode, DPath, Mounts, SwapDevices
}

// MismatchError reports a vmlinux that is not the kernel the dump came from.
type MismatchError struct {
	Vmlinux, Dump string
	Why           string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s does not match the dump %s: %s", e.Vmlinux, e.Dump, e.Why)
}

// New binds a dump to a vmlinux (which may be nil). It finds the KASLR
// offset (the vmlinux is left as it is: Syms is this kernel's view) and checks that the vmlinux is the dump's kernel: by
// build-id when VMCOREINFO has one, else by the linux_banner string.
func New(d *memory.Dump, v *symbols.Vmlinux) (*Kernel, error) {
	vi := d.VMCoreInfo
	k := &Kernel{Dump: d, Vmlinux: v, order: d.ByteOrder, SymbolTable: &SymbolTable{vmcore: vi}}
	if v == nil {
		k.TypeLayout = NewTypeLayout(vi, nil)
	} else {
		k.TypeLayout = NewTypeLayout(vi, v.Layouts())
	}
	if v != nil {
		go v.Layouts().Preload() // ~3 ms of BTF indexing, overlapped with the rest
		if m, dm := archs.OfELF(v.Machine), archs.OfDump(d.Machine); m != "" && dm != "" && m != dm {
			return nil, &MismatchError{v.Path, d.Path, fmt.Sprintf("the vmlinux is for %s, the dump is of %s", m, d.Machine)}
		}
		if id := vi.BuildID(); id != "" && v.BuildID != "" && !strings.HasPrefix(v.BuildID, id) && !strings.HasPrefix(id, v.BuildID) {
			return nil, &MismatchError{v.Path, d.Path, fmt.Sprintf("build-id %s, the dump's kernel has %s", v.BuildID, id)}
		}
		var off uint64
		if o, ok := vi.KernelOffset(); ok {
			off = o
		} else if st, ok := vi.Symbol("_stext"); ok {
			if s, ok := v.Lookup("_stext"); ok {
				off = st - s.Addr
			}
		} else if d.Live {
			// A running kernel without VMCOREINFO (before 4.19, or
			// hidden): its own symbol list gives the displacement.
			o, err := liveKallsymsOffset(v)
			if err != nil {
				return nil, fmt.Errorf("cannot find the running kernel's KASLR offset: %v", err)
			}
			off = o
		}
		k.Syms = symbols.NewRelocated(v, off)
	}
	var syms arch.Symbols
	if v != nil {
		// Read at each call: an arch that places the kernel itself
		// replaces the view below.
		syms = func(name string) (uint64, bool) { return k.Syms.Addr(name) }
	}
	a, err := archs.New(arch.Config{Dump: d, Symbols: syms})
	if err != nil {
		return nil, err
	}
	k.Arch = a
	if bo, ok := a.(arch.KernelByteOrder); ok {
		k.order = bo.KernelByteOrder()
	}
	k.Memory = NewMemory(d, a, k.order)
	k.Printk = NewPrintk(k.Memory, k.TypeLayout, k.SymbolTable)
	if p, ok := a.(arch.KernelPlacer); ok && v != nil {
		if off, ok := p.KernelOffset(); ok {
			k.Syms = symbols.NewRelocated(v, off)
		}
	}
	k.compose()
	if v != nil && vi.BuildID() == "" {
		if err := k.checkBanner(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// compose builds the subsystems over the memory, layouts and symbols, once
// the symbols' run-time addresses are known.
func (k *Kernel) compose() {
	d, v, a := k.Dump, k.Vmlinux, k.Arch
	var enums Enumerators
	var types typeSource
	var tables unwindTables
	if v != nil {
		enums, types, tables = v.Layouts(), v, v
	}
	mem, lay, syms := k.Memory, k.TypeLayout, k.SymbolTable
	k.System = NewSystem(mem, lay, syms, d, a.PRStatusRegs(), d.VMCoreInfo, enums, a.PageSize())
	k.TaskList = NewTaskList(mem, lay, syms, k.System, d.Live)
	k.Pages = NewPages(mem, lay, syms, mem, d.VMCoreInfo, enums, types, a.PageSize())
	k.UserSpace = NewUserSpace(mem, lay, mem, a, d)
	k.FileSystem = NewFileSystem(mem, lay, syms)
	k.Unwinder = NewUnwinder(UnwinderDeps{Reader: mem, Layout: lay, Symbols: syms, Translator: mem,
		System: k.System, Tables: tables, Syms: k.Syms, Arch: a, PRStatus: d, Live: d.Live})
	k.ModuleList = NewModuleList(mem, lay, syms, k.Unwinder, k.Syms, enums)
	k.Unwinder.SetModules(k.ModuleList)
	k.Zones = NewZones(mem, lay, syms, enums, types, k.Pages, a.PageSize())
	k.VMStats = NewVMStats(mem, syms, types, k.System)
	k.Vmalloc = NewVmalloc(mem, lay, syms)
	k.MemUsage = NewMemUsage(mem, lay, syms, enums, types, k.Zones, k.Pages, k.VMStats, k.System, a.PageSize())
}

// checkBanner compares linux_banner in the vmlinux file with the dump's.
func (k *Kernel) checkBanner() error {
	v := k.Vmlinux
	s, ok := k.Syms.Lookup("linux_banner")
	if !ok {
		return nil
	}
	want, ok := k.Syms.ReadRunAddr(s.Addr, 128)
	if !ok {
		return nil
	}
	got := make([]byte, len(want))
	if err := k.ReadVirt(got, s.Addr); err != nil {
		return &MismatchError{v.Path, k.Dump.Path, fmt.Sprintf("cannot read linux_banner from the dump: %v", err)}
	}
	if w, g := cstr(want), cstr(got); w != g {
		return &MismatchError{v.Path, k.Dump.Path, fmt.Sprintf("vmlinux banner %q, dump banner %q", w, g)}
	}
	return nil
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
