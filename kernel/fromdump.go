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

// A dump opened without any vmlinux: the kernel image is made from what
// the dump's memory holds (symbols.FromDump). A first reader over the dump,
// placed by VMCOREINFO (the page-table root, KERNELOFFSET) or by the
// architecture from the page tables, reads the kernel's kallsyms tables,
// its BTF (__start_BTF..__stop_BTF) and ORC tables
// (__start_orc_unwind_ip.., x86_64), and its build-id note; New then binds
// the dump to that image as to a vmlinux.

// maxDumpSection bounds a table read from the dump's memory (the BTF of a
// kernel is a few MiB, its ORC tables as much again).
const maxDumpSection = 64 << 20

// dumpBoot is the first reader over a dump, with the kernel's symbols
// from its kallsyms.
type dumpBoot struct {
	a      arch.Arch
	order  binary.ByteOrder
	read   symbols.MemReader
	syms   []symbols.Symbol // at run-time addresses
	byName map[string]uint64
	// For a kallsyms of text alone, found by scanning the image.
	btf    []byte
	noteID string
}

func bootDump(d *memory.Dump) (*dumpBoot, error) {
	a, err := archs.New(arch.Config{Dump: d})
	if err != nil {
		return nil, err
	}
	b := &dumpBoot{a: a, order: d.ByteOrder}
	if bo, ok := a.(arch.KernelByteOrder); ok {
		b.order = bo.KernelByteOrder()
	}
	mem := NewMemory(d, a, b.order)
	b.read = func(addr uint64, n int) ([]byte, error) {
		p := make([]byte, n)
		if err := mem.ReadVirt(p, addr); err != nil {
			return nil, err
		}
		return p, nil
	}
	tables, err := kallsymsTables(d, a, b.read)
	if err != nil {
		return nil, err
	}
	if b.syms, err = symbols.ReadKallsyms(b.read, tables, b.order); err != nil {
		return nil, fmt.Errorf("cannot read the kernel's symbols from the dump: %v", err)
	}
	b.index()
	if b.textOnly() {
		b.scanImage(d)
	}
	return b, nil
}

func (b *dumpBoot) index() {
	b.byName = make(map[string]uint64, len(b.syms))
	for _, s := range b.syms {
		if _, ok := b.byName[s.Name]; !ok {
			b.byName[s.Name] = s.Addr
		}
	}
}

// textOnly reports whether kallsyms has only the kernel's text
// (CONFIG_KALLSYMS_ALL off): no data symbols but a few markers (_etext).
func (b *dumpBoot) textOnly() bool {
	data := 0
	for _, s := range b.syms {
		switch s.Type {
		case 'D', 'd', 'B', 'b', 'R', 'r':
			data++
		}
	}
	return data < len(b.syms)/100
}

// imageScanSpan is how much of the kernel image is scanned when kallsyms
// has only text.
const imageScanSpan = 48 << 20

// scanImage finds, for a kallsyms of text alone, what its data symbols
// would have located: the exported symbols (__ksymtab: init_task,
// __per_cpu_offset, jiffies...), the BTF and the build-id note from the
// kernel image, the per-CPU variables at the per-CPU section's start plus
// their BTF offsets (the start from an exported per-CPU variable), and the
// symbols VMCOREINFO names.
func (b *dumpBoot) scanImage(d *memory.Dump) {
	var text []symbols.Symbol
	start := uint64(0)
	for _, s := range b.syms {
		if s.Addr >= 1<<63 && (start == 0 || s.Addr < start) {
			start = s.Addr
		}
		text = append(text, s)
	}
	if start == 0 {
		return
	}
	img := symbols.ReadImage(b.read, start, imageScanSpan)
	add := func(s symbols.Symbol) {
		if _, ok := b.byName[s.Name]; !ok {
			b.syms = append(b.syms, s)
			b.byName[s.Name] = s.Addr
		}
	}
	exported := symbols.ExportedSymbols(img, start, text, b.order)
	for _, s := range exported {
		add(s)
	}
	if vi := d.VMCoreInfo; vi != nil {
		for k := range vi.Keys {
			if name, ok := strings.CutPrefix(k, "SYMBOL("); ok {
				name = strings.TrimSuffix(name, ")")
				if a, ok := vi.Symbol(name); ok {
					add(symbols.Symbol{Name: name, Addr: a, Type: 'D'})
				}
			}
		}
	}
	var btfAt int
	b.btf, btfAt = symbols.FindBTF(img)
	var ts *symbols.Types
	if b.btf != nil {
		ts, _ = symbols.NewBTFTypes(b.btf)
	}
	if _, ok := b.byName["linux_banner"]; !ok {
		if a, ok := findBanner(img, start, d.VMCoreInfo.OSRelease(), b.utsVersion(ts)); ok {
			add(symbols.Symbol{Name: "linux_banner", Addr: a, Type: 'D'})
		}
	}
	if _, ok := b.byName["tk_core"]; !ok && ts != nil {
		if a, ok := b.findTkCore(ts, img, start); ok {
			add(symbols.Symbol{Name: "tk_core", Addr: a, Type: 'D'})
		}
	}
	if _, ok := b.byName["hstates"]; !ok && ts != nil {
		hs, max, n := b.findHstates(ts, img, start)
		if n > 0 {
			add(symbols.Symbol{Name: "hstates", Addr: hs, Type: 'D'})
		}
		if n > 1 {
			add(symbols.Symbol{Name: "hugetlb_max_hstate", Addr: max, Type: 'D'})
		}
	}
	// dev's tables of majors: chrdevs[] (fs/char_dev.c), major_names[]
	// (block/genhd.c).
	for _, t := range []struct{ sym, st string }{{"chrdevs", "char_device_struct"}, {"major_names", "blk_major_name"}} {
		if _, ok := b.byName[t.sym]; !ok && ts != nil {
			if a, ok := b.findMajorTable(ts, img, start, t.st); ok {
				add(symbols.Symbol{Name: t.sym, Addr: a, Type: 'D'})
			}
		}
	}
	if _, ok := b.byName["cdev_map"]; !ok && ts != nil {
		if a, ok := b.findCdevMap(ts, img, start); ok {
			add(symbols.Symbol{Name: "cdev_map", Addr: a, Type: 'D'})
		}
	}
	b.noteID = symbols.FindBuildIDNote(img, b.order, btfAt)
	if b.btf == nil {
		return
	}
	percpu, size, err := symbols.BTFSectionVars(b.btf, ".data..percpu")
	if err != nil {
		return
	}
	base := uint64(0)
	for _, s := range exported {
		if off, ok := percpu[s.Name]; ok {
			base = s.Addr - off
			break
		}
	}
	if base == 0 {
		return
	}
	add(symbols.Symbol{Name: "__per_cpu_start", Addr: base, Type: 'D'})
	add(symbols.Symbol{Name: "__per_cpu_end", Addr: base + size, Type: 'D'})
	for name, off := range percpu {
		add(symbols.Symbol{Name: name, Addr: base + off, Type: 'D'})
	}
	// The CPU that panicked, whose task is the panic task.
	if _, ok := b.byName["panic_cpu"]; !ok {
		if a, ok := b.findPanicCPU(img, start); ok {
			add(symbols.Symbol{Name: "panic_cpu", Addr: a, Type: 'D'})
		}
	}
	// The static lists the kernel model walks, which kallsyms of text
	// alone does not name.
	_, haveModules := b.byName["modules"]
	_, haveBTFModules := b.byName["btf_modules"]
	if haveModules && haveBTFModules {
		return
	}
	if ts == nil {
		return
	}
	head, mods, ok := b.findModules(ts, img, start)
	if ok && !haveModules {
		add(symbols.Symbol{Name: "modules", Addr: head, Type: 'D'})
	}
	if !haveBTFModules {
		if a, ok := b.findBTFModules(ts, img, start, mods); ok {
			add(symbols.Symbol{Name: "btf_modules", Addr: a, Type: 'D'})
		}
	}
}

// findBanner finds linux_banner in the image: the one string there that
// starts "Linux version RELEASE (", RELEASE being VMCOREINFO's OSRELEASE,
// NUL-terminated and preceded by a NUL (a string's start). Not found when
// the release is unknown or the string is not there exactly once.
func findBanner(img []byte, start uint64, release, version string) (uint64, bool) {
	if release == "" {
		return 0, false
	}
	pat := []byte("Linux version " + release + " (")
	at, n := -1, 0
	for off := 0; off < len(img); {
		i := bytes.Index(img[off:], pat)
		if i < 0 {
			break
		}
		i += off
		end := bytes.IndexByte(img[i:], 0)
		// A kernel may hold a second, weak banner without the build's
		// number ("# SMP"): the banner ends with the kernel's version.
		if (i == 0 || img[i-1] == 0) && end > 0 && (version == "" || bytes.HasSuffix(img[i:i+end], []byte(" "+version+"\n"))) {
			at = i
			n++
		}
		off = i + len(pat)
	}
	if n != 1 {
		return 0, false
	}
	return start + uint64(at), true
}

// utsVersion is the kernel's UTS version (init_uts_ns.name.version, "#1
// SMP ..."), its layout from the BTF; "" when it cannot be read.
func (b *dumpBoot) utsVersion(ts *symbols.Types) string {
	a, ok := b.byName["init_uts_ns"]
	if !ok || ts == nil {
		return ""
	}
	t, err := ts.Lookup("struct uts_namespace")
	if err != nil {
		return ""
	}
	m, err := t.MemberPath("name.version")
	if err != nil {
		return ""
	}
	p, err := b.read(a+uint64(m.Offset), 65)
	if err != nil {
		return ""
	}
	return cstr(p)
}

// findModules finds the list of loaded modules (the static list_head
// modules) in the image: a list head there whose ring of struct modules
// (their list members) runs through module names and back to it. The
// layout is the BTF's. It returns the modules' addresses too.
func (b *dumpBoot) findModules(ts *symbols.Types, img []byte, start uint64) (uint64, []uint64, bool) {
	mt, err := ts.Lookup("struct module")
	if err != nil {
		return 0, nil, false
	}
	list, err1 := mt.MemberPath("list")
	name, err2 := mt.MemberPath("name")
	if err1 != nil || err2 != nil {
		return 0, nil, false
	}
	named := func(node uint64) bool {
		p, err := b.read(node-uint64(list.Offset)+uint64(name.Offset), 56)
		if err != nil {
			return false
		}
		n := strings.IndexByte(string(p), 0)
		if n <= 0 {
			return false
		}
		for _, c := range p[:n] {
			if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
		return true
	}
	head, nodes, ok := b.findRing(img, start, named)
	for i := range nodes {
		nodes[i] -= uint64(list.Offset)
	}
	return head, nodes, ok
}

// findBTFModules finds the kernel's list of modules' BTF (kernel/bpf/btf.c's
// static btf_modules) in the image: a list head there whose ring of struct
// btf_modules each names one of the loaded modules (mods).
func (b *dumpBoot) findBTFModules(ts *symbols.Types, img []byte, start uint64, mods []uint64) (uint64, bool) {
	bt, err := ts.Lookup("struct btf_module")
	if err != nil || len(mods) == 0 {
		return 0, false
	}
	list, err1 := bt.MemberPath("list")
	module, err2 := bt.MemberPath("module")
	if err1 != nil || err2 != nil {
		return 0, false
	}
	loaded := make(map[uint64]bool, len(mods))
	for _, m := range mods {
		loaded[m] = true
	}
	head, _, ok := b.findRing(img, start, func(node uint64) bool {
		m, ok := b.u64(node - uint64(list.Offset) + uint64(module.Offset))
		return ok && loaded[m]
	})
	return head, ok
}

func (b *dumpBoot) u64(a uint64) (uint64, bool) {
	p, err := b.read(a, 8)
	if err != nil {
		return 0, false
	}
	return b.order.Uint64(p), true
}

// findRing finds a static list_head in the image (at start) whose ring
// of nodes, allocated outside the image, all pass node, and leads back to
// it; with the nodes in list order.
func (b *dumpBoot) findRing(img []byte, start uint64, node func(uint64) bool) (uint64, []uint64, bool) {
	end := start + uint64(len(img))
	for p := 0; p+16 <= len(img); p += 8 {
		head := start + uint64(p)
		next, prev := b.order.Uint64(img[p:]), b.order.Uint64(img[p+8:])
		if next < 1<<63 || prev < 1<<63 || next == head || next >= start && next < end || prev >= start && prev < end || next%8 != 0 {
			continue
		}
		if back, ok := b.u64(next + 8); !ok || back != head {
			continue
		}
		ok := true
		var nodes []uint64
		for n := next; ok && n != head; {
			if len(nodes) > 4096 || !node(n) {
				ok = false
				break
			}
			nodes = append(nodes, n)
			n, ok = b.u64(n)
		}
		if ok {
			return head, nodes, true
		}
	}
	return 0, nil, false
}

// span reads the memory between two symbols (nil when the kernel lacks
// them).
func (b *dumpBoot) span(start, stop string) ([]byte, uint64, error) {
	s, ok1 := b.byName[start]
	e, ok2 := b.byName[stop]
	if !ok1 || !ok2 {
		return nil, 0, nil
	}
	if e < s || e-s > maxDumpSection {
		return nil, 0, fmt.Errorf("%s..%s spans %#x..%#x", start, stop, s, e)
	}
	p, err := b.read(s, int(e-s))
	return p, s, err
}

// buildID is the GNU build-id note among the kernel's notes
// (__start_notes..__stop_notes, the image's .notes section in memory).
func (b *dumpBoot) buildID() string {
	notes, _, err := b.span("__start_notes", "__stop_notes")
	if err != nil || notes == nil {
		return b.noteID
	}
	return symbols.NoteBuildID(notes, b.order)
}

// DumpKernel is the kernel of a dump as its memory gives it, read once:
// its build-id and release (to find its vmlinux by), and the kernel image
// made from it when none is found.
type DumpKernel struct {
	d *memory.Dump
	b *dumpBoot
}

// ReadDumpKernel reads the kernel's symbols from d's memory (its kallsyms
// tables, and on a kallsyms of text alone the image's exported symbols and
// BTF); d must stay open while the DumpKernel is used.
func ReadDumpKernel(d *memory.Dump) (*DumpKernel, error) {
	b, err := bootDump(d)
	if err != nil {
		return nil, err
	}
	return &DumpKernel{d: d, b: b}, nil
}

// Dump is the dump the kernel was read from.
func (dk *DumpKernel) Dump() *memory.Dump { return dk.d }

// ID is the build-id and release of the dump's kernel, for a dump whose
// VMCOREINFO does not carry them: the build-id note among the kernel's
// notes, the release from linux_banner, both found through the kernel's
// kallsyms.
func (dk *DumpKernel) ID() (id, release string) {
	b := dk.b
	if a, ok := b.byName["linux_banner"]; ok {
		if p, err := b.read(a, 256); err == nil {
			// "Linux version RELEASE (...": the third word.
			if f := strings.Fields(cstr(p)); len(f) > 2 && f[0] == "Linux" {
				release = f[2]
			}
		}
	}
	return b.buildID(), release
}

// DumpVmlinux makes the kernel image of d from its memory.
func DumpVmlinux(d *memory.Dump) (*symbols.Vmlinux, error) {
	dk, err := ReadDumpKernel(d)
	if err != nil {
		return nil, err
	}
	return dk.Vmlinux()
}

// Vmlinux makes the kernel image from the dump's memory: its symbols, BTF
// and ORC tables.
func (dk *DumpKernel) Vmlinux() (*symbols.Vmlinux, error) {
	d, b := dk.d, dk.b
	var err error
	img := symbols.DumpImage{Machine: archs.ELFOfDump(d.Machine), Order: b.order}
	var off uint64
	if o, ok := d.VMCoreInfo.KernelOffset(); ok {
		off = o
	} else if p, ok := b.a.(arch.KernelPlacer); ok {
		off, _ = p.KernelOffset()
	}
	img.Symbols = make([]symbols.Symbol, 0, len(b.syms))
	for _, s := range b.syms {
		if s.Type != 'a' && s.Type != 'A' && s.Addr >= 1<<63 {
			s.Addr -= off
		}
		img.Symbols = append(img.Symbols, s)
	}
	if img.BTF, _, err = b.span("__start_BTF", "__stop_BTF"); err != nil {
		return nil, fmt.Errorf("the kernel's BTF: %v", err)
	} else if img.BTF == nil {
		img.BTF = b.btf
	}
	if img.BTF == nil {
		return nil, fmt.Errorf("the dump's kernel has no BTF (built without CONFIG_DEBUG_INFO_BTF): without its types only the log can be read (gocrash --log); name the vmlinux")
	}
	ip, ipAddr, err := b.span("__start_orc_unwind_ip", "__stop_orc_unwind_ip")
	if err != nil {
		return nil, fmt.Errorf("the kernel's ORC tables: %v", err)
	}
	if ip != nil {
		if img.ORC, _, err = b.span("__start_orc_unwind", "__stop_orc_unwind"); err != nil {
			return nil, fmt.Errorf("the kernel's ORC tables: %v", err)
		}
		img.ORCIP, img.ORCIPAddr = ip, ipAddr-off
	}
	img.Objects = knownObjects
	if img.BuildID = d.VMCoreInfo.BuildID(); img.BuildID == "" {
		img.BuildID = b.buildID()
	}
	return symbols.FromDump(img)
}

// kallsymsTables finds the kallsyms tables: VMCOREINFO lists them (6.0+,
// and kernels with the change backported); else they are looked for in the
// kernel image (symbols.FindKallsyms), which starts at VMCOREINFO's _stext
// or where the architecture finds it mapped.
func kallsymsTables(d *memory.Dump, a arch.Arch, read symbols.MemReader) (symbols.KallsymsTables, error) {
	vi := d.VMCoreInfo
	var t symbols.KallsymsTables
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"kallsyms_num_syms", &t.NumSyms}, {"kallsyms_names", &t.Names}, {"kallsyms_token_table", &t.TokenTable},
		{"kallsyms_token_index", &t.TokenIndex}, {"kallsyms_offsets", &t.Offsets}, {"kallsyms_relative_base", &t.RelativeBase},
		{"kallsyms_addresses", &t.Addresses}} {
		*f.dst, _ = vi.Symbol(f.name)
	}
	if t.Names != 0 {
		return t, nil
	}
	start, ok := vi.Symbol("_stext")
	if !ok {
		if f, isF := a.(arch.KernelImageFinder); isF {
			start, ok = f.KernelImageStart()
		}
	}
	if !ok {
		return t, fmt.Errorf("cannot find the kernel image in the dump (no VMCOREINFO _stext) to read its symbols from")
	}
	t, err := symbols.FindKallsyms(read, start, d.ByteOrder)
	if err != nil {
		return t, fmt.Errorf("cannot find the kernel's symbols in the dump: %v", err)
	}
	return t, nil
}

// knownObjects are the types of the kernel's globals that its model
// relies on, for p and whatis when BTF (which describes per-CPU variables
// alone) does not say: p init_task.comm works without DWARF.
var knownObjects = map[string]string{
	"init_task":        "struct task_struct",
	"init_mm":          "struct mm_struct",
	"init_uts_ns":      "struct uts_namespace",
	"init_pid_ns":      "struct pid_namespace",
	"init_nsproxy":     "struct nsproxy",
	"init_files":       "struct files_struct",
	"init_fs":          "struct fs_struct",
	"init_cred":        "struct cred",
	"init_net":         "struct net",
	"modules":          "struct list_head",
	"jiffies":          "volatile unsigned long",
	"jiffies_64":       "volatile u64",
	"nr_cpu_ids":       "unsigned int",
	"_totalram_pages":  "atomic_long_t",
	"contig_page_data": "struct pglist_data",
	"prb":              "struct printk_ringbuffer",
	"printk_rb_static": "struct printk_ringbuffer",
	"tk_core":          "struct tk_data",
}
