package kernel

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// Page is the struct page of one physical page frame.
type Page struct {
	Addr      uint64 // the struct page
	PFN       uint64
	Mapping   uint64 // page.mapping: an address_space, or an anon_vma with bit 0 set
	Index     uint64 // page.index
	Count     int32  // page._refcount (page._count before 4.6)
	Flags     uint64 // page.flags: PG_* bits below, zone and node above
	FlagNames []string
}

// Phys is the physical address of the page's first byte.
func (p Page) Phys(pageSize uint64) uint64 { return p.PFN * pageSize }

// PageFlag is one named bit of page.flags.
type PageFlag struct {
	Name string
	Mask uint64
}

// Translator translates kernel virtual addresses (a *Memory).
type Translator interface {
	VirtToPhys(addr uint64) (uint64, error)
}

// vmcoreSections is what VMCOREINFO says of the memory map (a
// *memory.VMCoreInfo).
type vmcoreSections interface {
	Symbol(name string) (uint64, bool)
	Length(name string) (int64, bool)
	Size(name string) (int64, bool)
	Offset(name string) (int64, bool)
	Number(name string) (int64, bool)
}

// typeSource gives the vmlinux's C types (a *symbols.Vmlinux).
type typeSource interface {
	Types() (*symbols.Types, error)
}

// Pages finds and reads struct pages: the memory map (SPARSEMEM sections
// as VMCOREINFO describes them, else vmemmap_base), page.flags' names,
// over a Reader, a Layout, Symbols and a Translator, with VMCOREINFO's
// section description and, when there is a vmlinux, its enumerators and
// types.
type Pages struct {
	Reader
	Layout
	Symbols
	Translator
	vmcore   vmcoreSections
	enums    Enumerators // nil without a vmlinux
	types    typeSource  // nil without a vmlinux
	pageSize uint64

	once  sync.Once
	cache pageCache
}

// NewPages reads pages through r, l, s and t; enums and types may be nil.
func NewPages(r Reader, l Layout, s Symbols, t Translator, vmcore vmcoreSections, enums Enumerators, types typeSource, pageSize uint64) *Pages {
	return &Pages{Reader: r, Layout: l, Symbols: s, Translator: t, vmcore: vmcore, enums: enums, types: types, pageSize: pageSize}
}

// pageCache holds what page lookups need, found once.
type pageCache struct {
	err     error
	size    uint64 // sizeof(struct page)
	flags   int64
	mapping int64
	index   int64
	count   int64
	names   []PageFlag
	// the memory map: sections (SPARSEMEM) or the vmemmap_base variable
	sect *sectionMap
	vmem uint64
}

// sectionMap decodes SPARSEMEM's mem_section table as VMCOREINFO
// describes it.
type sectionMap struct {
	roots        uint64 // the root table: pointers (SPARSEMEM_EXTREME) or sections
	extreme      bool
	perRoot      uint64
	nRoots       uint64
	size         uint64 // sizeof(struct mem_section)
	memMapOff    int64
	sectionShift uint64 // SECTION_SIZE_BITS - PAGE_SHIFT
	mask         uint64 // SECTION_MAP_MASK
}

func (k *Pages) pageInfo() (*pageCache, error) {
	c := &k.cache
	k.once.Do(func() { c.err = k.initPages(c) })
	return c, c.err
}

func (k *Pages) initPages(c *pageCache) error {
	size, err := k.Size("page")
	if err != nil {
		return err
	}
	c.size = uint64(size)
	if c.flags, err = k.Offset("page", "flags"); err != nil {
		return err
	}
	if c.mapping, err = k.Offset("page", "mapping"); err != nil {
		return err
	}
	if c.index, err = k.Offset("page", "index"); err != nil {
		return err
	}
	if c.count, err = k.Offset("page", "_refcount"); symbols.IsMissing(err) {
		if c.count, err = k.Offset("page", "_count"); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if c.names, err = k.pageFlagNames(); err != nil {
		return err
	}
	c.sect = k.sectionMap()
	if a, err := k.SymbolAddr("vmemmap_base"); err == nil {
		if c.vmem, err = k.ReadU64(a); err != nil {
			return fmt.Errorf("vmemmap_base: %w", err)
		}
	} else if !symbols.IsMissing(err) {
		return err
	} else if a, err := k.SymbolAddr("vmemmap"); err == nil {
		// ppc64 and s390x keep the map's base in a variable of that
		// name (struct page *vmemmap).
		if c.vmem, err = k.ReadU64(a); err != nil {
			return fmt.Errorf("vmemmap: %w", err)
		}
	} else if err != nil && !symbols.IsMissing(err) {
		return err
	}
	if c.sect == nil && c.vmem == 0 {
		return fmt.Errorf("cannot find the memory map: no mem_section in VMCOREINFO and no vmemmap_base or vmemmap")
	}
	return nil
}

// sectionMap reads the mem_section description from VMCOREINFO (the
// runtime address of the root table, its length, and the section and
// physical address sizes), nil when it is incomplete.
func (k *Pages) sectionMap() *sectionMap {
	vi := k.vmcore
	roots, ok1 := vi.Symbol("mem_section")
	length, ok2 := vi.Length("mem_section")
	size, ok3 := vi.Size("mem_section")
	off, ok4 := vi.Offset("mem_section.section_mem_map")
	bits, ok5 := vi.Number("SECTION_SIZE_BITS")
	phys, ok6 := vi.Number("MAX_PHYSMEM_BITS")
	ps := k.pageSize
	shift := uint64(0)
	for 1<<shift < ps {
		shift++
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || size <= 0 || length <= 0 || uint64(bits) < shift || phys < bits || phys-bits > 40 {
		return nil
	}
	s := &sectionMap{roots: roots, size: uint64(size), memMapOff: off, sectionShift: uint64(bits) - shift}
	nSections := uint64(1) << uint64(phys-bits)
	// SPARSEMEM_EXTREME keeps a page of sections per root.
	if perRoot := ps / s.size; uint64(length)*perRoot == nSections {
		s.extreme, s.perRoot, s.nRoots = true, perRoot, uint64(length)
	} else {
		s.perRoot, s.nRoots = 1, uint64(length)
	}
	// The low bits of section_mem_map are flags, up to SECTION_MAP_LAST_BIT
	// (an enumerator since 5.19); the encoded map is page-aligned.
	s.mask = ^(ps - 1)
	if k.enums != nil {
		if v, err := k.enums.Enumerator("SECTION_MAP_LAST_BIT"); err == nil && v > 0 && v < 12 {
			s.mask = ^(uint64(1)<<uint64(v) - 1)
		}
	}
	return s
}

// sectionMemMap returns the decoded section_mem_map of pfn's section: the
// address pfn's struct page is counted from.
func (k *Pages) sectionMemMap(s *sectionMap, pfn uint64) (uint64, error) {
	nr := pfn >> s.sectionShift
	root, idx := nr/s.perRoot, nr%s.perRoot
	if root >= s.nRoots {
		return 0, fmt.Errorf("pfn %x: section %d is beyond the memory map", pfn, nr)
	}
	var sec uint64
	if s.extreme {
		r, err := k.ReadU64(s.roots + root*8)
		if err != nil {
			return 0, fmt.Errorf("mem_section root %d: %w", root, err)
		}
		if r == 0 {
			return 0, fmt.Errorf("pfn %x: section %d has no memory", pfn, nr)
		}
		sec = r + idx*s.size
	} else {
		sec = s.roots + nr*s.size
	}
	m, err := k.ReadU64(sec + uint64(s.memMapOff))
	if err != nil {
		return 0, fmt.Errorf("mem_section %d: %w", nr, err)
	}
	const present = 1 // SECTION_MARKED_PRESENT
	if m&present == 0 || m&s.mask == 0 {
		return 0, fmt.Errorf("pfn %x: section %d has no memory", pfn, nr)
	}
	return m & s.mask, nil
}

// PageAddr returns the address of the struct page of page frame pfn: from
// its memory section's map, else vmemmap_base + pfn * sizeof(struct page).
func (k *Pages) PageAddr(pfn uint64) (uint64, error) {
	c, err := k.pageInfo()
	if err != nil {
		return 0, err
	}
	if c.sect != nil {
		base, err := k.sectionMemMap(c.sect, pfn)
		if err != nil {
			return 0, err
		}
		return base + pfn*c.size, nil
	}
	return c.vmem + pfn*c.size, nil
}

// VmemmapBase is the x86_64 vmemmap_base variable: where the struct page
// of pfn 0 would be. 0 when the kernel has no such variable.
func (k *Pages) VmemmapBase() uint64 {
	c, err := k.pageInfo()
	if err != nil {
		return 0
	}
	return c.vmem
}

// PageOf reads the struct page of the page holding physical address phys.
func (k *Pages) PageOf(phys uint64) (Page, error) {
	c, err := k.pageInfo()
	if err != nil {
		return Page{}, err
	}
	pfn := phys / k.pageSize
	addr, err := k.PageAddr(pfn)
	if err != nil {
		return Page{}, err
	}
	buf := make([]byte, c.size)
	if err := k.ReadVirt(buf, addr); err != nil {
		return Page{}, fmt.Errorf("struct page %x: %w", addr, err)
	}
	p := Page{Addr: addr, PFN: pfn,
		Flags:   k.ByteOrder().Uint64(buf[c.flags:]),
		Mapping: k.ByteOrder().Uint64(buf[c.mapping:]),
		Index:   k.ByteOrder().Uint64(buf[c.index:]),
		Count:   int32(k.ByteOrder().Uint32(buf[c.count:])),
	}
	for _, f := range c.names {
		if p.Flags&f.Mask != 0 {
			p.FlagNames = append(p.FlagNames, f.Name)
		}
	}
	return p, nil
}

// PageFlags returns the names of page.flags' bits in the order crash
// prints them: the kernel's own table of names (pageflag_names, as
// /proc/kpageflags tracing prints them) when it has one, else the PG_*
// enumerators of enum pageflags below __NR_PAGEFLAGS.
func (k *Pages) PageFlags() ([]PageFlag, error) {
	c, err := k.pageInfo()
	return c.names, err
}

func (k *Pages) pageFlagNames() ([]PageFlag, error) {
	names, err := k.pageflagNamesTable()
	if err != nil || len(names) > 0 {
		return names, err
	}
	return k.pageflagsEnum(), nil
}

// pageflagNamesTable reads pageflag_names[], an array of struct
// trace_print_flags {mask, name} ended by an entry without a name; none
// when the kernel lacks it (or it cannot be read), an error when finding
// out fails.
func (k *Pages) pageflagNamesTable() ([]PageFlag, error) {
	a, err := k.SymbolAddr("pageflag_names")
	if err != nil {
		if symbols.IsMissing(err) {
			err = nil
		}
		return nil, err
	}
	size, err1 := k.Size("trace_print_flags")
	maskOff, err2 := k.Offset("trace_print_flags", "mask")
	nameOff, err3 := k.Offset("trace_print_flags", "name")
	for _, err := range []error{err1, err2, err3} {
		if err != nil && !symbols.IsMissing(err) {
			return nil, err
		}
	}
	if err1 != nil || err2 != nil || err3 != nil || size <= 0 {
		return nil, nil
	}
	var out []PageFlag
	for i := uint64(0); i < 64; i++ {
		e := a + i*uint64(size)
		mask, err1 := k.ReadU64(e + uint64(maskOff))
		name, err2 := k.ReadU64(e + uint64(nameOff))
		if err1 != nil || err2 != nil {
			return nil, nil
		}
		if name == 0 {
			return out, nil
		}
		s, err := k.ReadCString(name, 64)
		if err != nil {
			return nil, nil
		}
		out = append(out, PageFlag{s, mask})
	}
	return nil, nil
}

// pageflagsEnum lists enum pageflags from the DWARF types: PG_x = n gives
// "x" for bit n, up to __NR_PAGEFLAGS (the aliases after it are left out).
func (k *Pages) pageflagsEnum() []PageFlag {
	if k.types == nil {
		return nil
	}
	ts, err := k.types.Types()
	if err != nil {
		return nil
	}
	t, err := ts.Lookup("enum pageflags")
	if err != nil {
		return nil
	}
	es, err := t.Enumerators()
	if err != nil {
		return nil
	}
	var out []PageFlag
	for _, e := range es {
		if e.Name == "__NR_PAGEFLAGS" {
			return out
		}
		if name, ok := strings.CutPrefix(e.Name, "PG_"); ok && e.Value >= 0 && e.Value < 64 {
			out = append(out, PageFlag{name, 1 << uint64(e.Value)})
		}
	}
	return out
}

// PagePFN reports whether addr is the address of a struct page, and of
// which frame. The memory map is taken to be one virtual array (vmemmap):
// the candidate frame is counted from vmemmap_base, or from the map of
// the kernel image's section, and must map back to addr.
func (k *Pages) PagePFN(addr uint64) (uint64, bool) {
	c, err := k.pageInfo()
	if err != nil {
		return 0, false
	}
	base := c.vmem
	if base == 0 && c.sect != nil {
		text, err := k.SymbolAddr("_text")
		if err != nil {
			return 0, false
		}
		phys, err := k.VirtToPhys(text)
		if err != nil {
			return 0, false
		}
		if base, err = k.sectionMemMap(c.sect, phys/k.pageSize); err != nil {
			return 0, false
		}
	}
	if addr < base || (addr-base)%c.size != 0 {
		return 0, false
	}
	pfn := (addr - base) / c.size
	if back, err := k.PageAddr(pfn); err != nil || back != addr {
		return 0, false
	}
	return pfn, true
}
