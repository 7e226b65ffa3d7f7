package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// MemInfo is the kernel's memory use, in pages, as crash's kmem -i
// gathers it.
type MemInfo struct {
	TotalRAM uint64 // _totalram_pages (totalram_pages before 5.0)
	Free     uint64 // the zones' NR_FREE_PAGES
	// Shared counts the pages not PG_reserved with a reference count
	// above 1, from a walk of the memory map; SlabPages the PG_slab ones
	// (head pages only).
	Shared, SlabPages uint64
	// Buffers are the block devices' page cache (nr_blockdev_pages).
	Buffers uint64
	// FilePages is NR_FILE_PAGES, SwapCache the swapper spaces' pages.
	FilePages, SwapCache uint64
	// Slab is NR_SLAB_RECLAIMABLE(_B) + NR_SLAB_UNRECLAIMABLE(_B).
	Slab                uint64
	HasSlab             bool   // whether the kernel counts slab pages in vm_stat
	HugeTotal, HugeFree uint64 // in base pages, over every hstate
	HasHuge             bool
	SwapTotal, SwapUsed uint64
	HasSwap             bool // swap_info exists
	// CommitLimit is the overcommit limit (sysctl_overcommit_kbytes, or
	// the ratio of RAM less huge pages) plus swap; Committed is
	// vm_committed_as summed over its per-CPU counters.
	CommitLimit, Committed uint64
	HasCommit              bool
	// CommittedCount is vm_committed_as.count alone, without the per-CPU
	// deltas (what crash reads).
	CommittedCount int64
	// Missing names, by section ("huge", "swap", "commit"), the symbol
	// or type ("symbol hstates") whose absence left the section out. With a whole symbol table the
	// kernel lacks the feature; the caller knows when the table may be
	// incomplete (a kallsyms of text alone).
	Missing map[string]string
}

// missing records that section is left out for want of a symbol: err's.
func (m *MemInfo) missing(section string, err error) {
	var me *symbols.MissingError
	if !errors.As(err, &me) {
		return
	}
	if m.Missing == nil {
		m.Missing = map[string]string{}
	}
	m.Missing[section] = me.What
}

// Hstate is one huge page size (struct hstate).
type Hstate struct {
	Addr  uint64
	Order uint32
	Name  string
	Free  int64 // free_huge_pages
	Total int64 // nr_huge_pages
}

// MemUsage answers how the kernel's memory is used: kmem -i's totals, the
// huge page pools, over a Reader, a Layout and Symbols, the vmlinux's
// types and enumerators, the Zones, the memory map and the VMStats.
type MemUsage struct {
	Reader
	Layout
	Symbols
	enums    Enumerators
	types    typeSource
	zones    *Zones
	pages    *Pages
	stats    *VMStats
	sys      *System
	pageSize uint64
}

// NewMemUsage builds a MemUsage; enums and types may be nil.
func NewMemUsage(r Reader, l Layout, s Symbols, enums Enumerators, types typeSource, z *Zones, p *Pages, st *VMStats, sys *System, pageSize uint64) *MemUsage {
	return &MemUsage{Reader: r, Layout: l, Symbols: s, enums: enums, types: types, zones: z, pages: p, stats: st, sys: sys, pageSize: pageSize}
}

// objectLen is the length of the array variable name.
func objectLen(types typeSource, name string) (int, error) {
	if types == nil {
		return 0, fmt.Errorf("the length of %s needs the vmlinux's types", name)
	}
	ts, err := types.Types()
	if err != nil {
		return 0, err
	}
	t, _, err := ts.ObjectType(name)
	if err != nil {
		return 0, err
	}
	at := t.Strip()
	if at == nil || at.Kind != symbols.TypeArray || len(at.Dims) == 0 || at.Dims[0] < 0 {
		return 0, fmt.Errorf("%s is not an array", name)
	}
	return int(at.Dims[0]), nil
}

// symbolArrayLen is the length of the array the symbol name is, from the
// symbol table's size of it over elem bytes an element (no type lookup);
// false when the table gives no size that many elements make (at most 64:
// MAX_SWAPFILES, HUGE_MAX_HSTATE).
func (k *MemUsage) symbolArrayLen(name string, elem uint64) (int, bool) {
	ss, ok := k.Symbols.(interface{ SymbolSize(string) (uint64, bool) })
	if !ok || elem == 0 {
		return 0, false
	}
	sz, ok := ss.SymbolSize(name)
	if !ok || sz%elem != 0 || sz/elem > 64 {
		return 0, false
	}
	return int(sz / elem), true
}

// Hstates reads hstates[], skipping the unused entries (order 0).
func (k *MemUsage) Hstates() ([]Hstate, error) {
	a, err := k.SymbolAddr("hstates")
	if err != nil {
		return nil, err
	}
	size, err := k.Size("hstate")
	if err != nil {
		return nil, err
	}
	var errs []error
	off := func(m string) uint64 {
		o, err := k.Offset("hstate", m)
		if err != nil {
			errs = append(errs, err)
		}
		return uint64(o)
	}
	order, name, nr, free := off("order"), off("name"), off("nr_huge_pages"), off("free_huge_pages")
	if len(errs) > 0 {
		return nil, errs[0]
	}
	n, ok := k.symbolArrayLen("hstates", uint64(size))
	if !ok {
		n, err = objectLen(k.types, "hstates")
	}
	if err != nil {
		// Without the array's type (its length, HUGE_MAX_HSTATE, is a
		// #define) the hstates in use are the first hugetlb_max_hstate,
		// as for_each_hstate() walks them.
		if n, err = k.boundedCount("hugetlb_max_hstate", 64); err != nil {
			return nil, err
		}
	}
	var out []Hstate
	for i := 0; i < n; i++ {
		h := a + uint64(i)*uint64(size)
		o, err := k.ReadU32(h + order)
		if err != nil {
			return out, fmt.Errorf("hstate %x: %w", h, err)
		}
		if o == 0 {
			continue
		}
		hs := Hstate{Addr: h, Order: o}
		hs.Name, _ = k.ReadCString(h+name, 32)
		t, err1 := k.ReadU64(h + nr)
		f, err2 := k.ReadU64(h + free)
		if err1 != nil || err2 != nil {
			return out, fmt.Errorf("hstate %x: cannot read its counts", h)
		}
		hs.Total, hs.Free = int64(t), int64(f)
		out = append(out, hs)
	}
	return out, nil
}

// MemInfo gathers kmem -i's totals.
func (k *MemUsage) MemInfo() (MemInfo, error) {
	var m MemInfo
	var err error
	if m.TotalRAM, err = k.totalRAM(); err != nil {
		return m, err
	}
	nodes, err := k.zones.Nodes()
	if err != nil {
		return m, err
	}
	for _, n := range nodes {
		for _, z := range n.Zones {
			m.Free += uint64(z.Free)
		}
	}
	if m.Shared, m.SlabPages, err = k.walkMemMap(); err != nil {
		return m, err
	}
	if m.Buffers, err = k.blockdevPages(); err != nil {
		return m, err
	}
	vc, err := k.stats.VMCounters()
	if err != nil {
		return m, err
	}
	if v, ok := vc.Counter("NR_FILE_PAGES"); ok {
		m.FilePages = uint64(v)
	}
	if m.SwapCache, err = k.swapCachePages(); err != nil {
		return m, err
	}
	if v, ok := vc.Counter("NR_SLAB"); ok {
		m.Slab, m.HasSlab = uint64(v), true
	} else {
		for _, sfx := range []string{"", "_B"} {
			r, ok1 := vc.Counter("NR_SLAB_RECLAIMABLE" + sfx)
			u, ok2 := vc.Counter("NR_SLAB_UNRECLAIMABLE" + sfx)
			if ok1 && ok2 {
				m.Slab, m.HasSlab = uint64(r+u), true
				break
			}
		}
	}
	if hs, err := k.Hstates(); err == nil {
		m.HasHuge = true
		for _, h := range hs {
			m.HugeTotal += uint64(h.Total) << h.Order
			m.HugeFree += uint64(h.Free) << h.Order
		}
	} else if symbols.IsMissing(err) {
		m.missing("huge", err)
	} else {
		return m, err
	}
	if err := k.swapTotals(&m); err != nil {
		return m, err
	}
	if err := k.commit(&m); err != nil {
		return m, err
	}
	return m, nil
}

func (k *MemUsage) totalRAM() (uint64, error) {
	a, err := k.SymbolAddr("_totalram_pages")
	if symbols.IsMissing(err) {
		a, err = k.SymbolAddr("totalram_pages")
	}
	if err != nil {
		return 0, err
	}
	return k.ReadU64(a)
}

// walkMemMap reads every struct page of every present section and counts
// the shared (not reserved, _refcount > 1) and PG_slab pages.
func (k *MemUsage) walkMemMap() (shared, slab uint64, err error) {
	c, err := k.pages.pageInfo()
	if err != nil {
		return 0, 0, err
	}
	var reserved, slabBit uint64
	if k.enums != nil {
		if v, err := k.enums.Enumerator("PG_reserved"); err == nil {
			reserved = 1 << uint64(v)
		}
		if v, err := k.enums.Enumerator("PG_slab"); err == nil {
			slabBit = 1 << uint64(v)
		}
	}
	spans, err := k.MemMapSpans()
	if err != nil {
		return 0, 0, err
	}
	// The map is read in chunks of 512 struct pages by a few workers:
	// decoding the dump's pages is most of the walk's time, and the
	// counts do not depend on the order.
	const chunk = 512
	type job struct{ addr, n uint64 }
	jobs := make(chan job, 64)
	go func() {
		defer close(jobs)
		for _, s := range spans {
			for i := uint64(0); i < s.Pages; i += chunk {
				jobs <- job{s.Page + i*c.size, min(chunk, s.Pages-i)}
			}
		}
	}()
	bo := k.ByteOrder()
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	counts := make([][2]uint64, workers)
	var wg sync.WaitGroup
	var failOnce sync.Once
	var failed error
	for w := range counts {
		wg.Add(1)
		go func(n *[2]uint64) {
			defer wg.Done()
			buf := make([]byte, chunk*c.size)
			one := func(j job) {
				// A panic reading a corrupt dump is this walk's error,
				// not the process's (the command's recover does not
				// reach a worker); the other chunks go on.
				defer func() {
					if p := recover(); p != nil {
						failOnce.Do(func() { failed = fmt.Errorf("mem_map at %x: internal error: %v", j.addr, p) })
					}
				}()
				if err := k.ReadVirt(buf[:j.n*c.size], j.addr); err != nil {
					return // an unreadable part of the map counts nothing, as in crash
				}
				for i := uint64(0); i < j.n; i++ {
					p := buf[i*c.size:]
					flags := bo.Uint64(p[c.flags:])
					if slabBit != 0 && flags&slabBit != 0 {
						n[1]++
					}
					if flags&reserved == 0 && int32(bo.Uint32(p[c.count:])) > 1 {
						n[0]++
					}
				}
			}
			for j := range jobs {
				one(j)
			}
		}(&counts[w])
	}
	wg.Wait()
	if failed != nil {
		return 0, 0, failed
	}
	for _, n := range counts {
		shared += n[0]
		slab += n[1]
	}
	return shared, slab, nil
}

// blockdevPages is the kernel's nr_blockdev_pages(): the pages of the
// block devices' inodes (blockdev_superblock->s_inodes, 5.9+).
func (k *MemUsage) blockdevPages() (uint64, error) {
	a, err := k.SymbolAddr("blockdev_superblock")
	if symbols.IsMissing(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	sb, err := k.ReadU64(a)
	if err != nil {
		return 0, err
	}
	sInodes, err1 := k.Offset("super_block", "s_inodes")
	sbList, err2 := k.Offset("inode", "i_sb_list")
	mapping, err3 := k.Offset("inode", "i_mapping")
	nrpages, err4 := k.Offset("address_space", "nrpages")
	for _, e := range []error{err1, err2, err3, err4} {
		if e != nil {
			return 0, e
		}
	}
	var n uint64
	err = walkList(k, sb+uint64(sInodes), func(node uint64) error {
		inode := node - uint64(sbList)
		m, err := k.ReadU64(inode + uint64(mapping))
		if err != nil {
			return err
		}
		v, err := k.ReadU64(m + uint64(nrpages))
		if err != nil {
			return err
		}
		n += v
		return nil
	})
	return n, err
}

// swapCachePages sums the swapper spaces' pages: swapper_spaces[i] is an
// array of nr_swapper_spaces[i] address_spaces.
func (k *MemUsage) swapCachePages() (uint64, error) {
	spaces, err := k.SymbolAddr("swapper_spaces")
	if symbols.IsMissing(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	nrAddr, err := k.SymbolAddr("nr_swapper_spaces")
	if err != nil {
		return 0, err
	}
	// unsigned int nr_swapper_spaces[MAX_SWAPFILES]: its length from the
	// symbol's size when the symbol table gives one (no type lookup),
	// else from its type.
	n, ok := k.symbolArrayLen("nr_swapper_spaces", 4)
	if !ok {
		n, err = objectLen(k.types, "nr_swapper_spaces")
	}
	if err != nil {
		// Without the array's type (BTF has no VAR for it; its length,
		// MAX_SWAPFILES, is a #define) it is bounded as the kernel
		// bounds it: a swap type past nr_swapfiles has no swap_info,
		// and total_swapcache_pages() skips it.
		if n, err = k.nrSwapfiles(); err != nil {
			return 0, err
		}
	}
	asSize, err1 := k.Size("address_space")
	nrpages, err2 := k.Offset("address_space", "nrpages")
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("struct address_space: %v %v", err1, err2)
	}
	var total uint64
	for i := 0; i < n; i++ {
		banks, err := k.ReadU32(nrAddr + uint64(i)*4)
		if err != nil {
			return total, err
		}
		if banks == 0 {
			continue
		}
		sa, err := k.ReadU64(spaces + uint64(i)*8)
		if err != nil || sa == 0 {
			continue
		}
		for j := uint64(0); j < uint64(banks); j++ {
			v, err := k.ReadU64(sa + j*uint64(asSize) + uint64(nrpages))
			if err != nil {
				return total, err
			}
			total += v
		}
	}
	return total, nil
}

// nrSwapfiles is the number of swap types ever used (nr_swapfiles), the
// length of swap_info[]'s filled part.
func (k *MemUsage) nrSwapfiles() (int, error) { return k.boundedCount("nr_swapfiles", 64) }

// boundedCount reads the kernel's count of an array's used entries (an
// int), at most max.
func (k *MemUsage) boundedCount(name string, max uint32) (int, error) {
	na, err := k.SymbolAddr(name)
	if err != nil {
		return 0, err
	}
	nr, err := k.ReadU32(na)
	if err != nil {
		return 0, err
	}
	if nr > max {
		return 0, fmt.Errorf("%s is %d: not believable", name, nr)
	}
	return int(nr), nil
}

// (swpUsed, SWP_USED of swap_info_struct.flags, is in swap.go.)

// swapTotals sums the swap areas in use: swap_info[0..nr_swapfiles).
func (k *MemUsage) swapTotals(m *MemInfo) error {
	si, err := k.SymbolAddr("swap_info")
	if symbols.IsMissing(err) {
		m.missing("swap", err)
		return nil
	} else if err != nil {
		return err
	}
	m.HasSwap = true
	na, err := k.SymbolAddr("nr_swapfiles")
	if err != nil {
		return err
	}
	nr, err := k.ReadU32(na)
	if err != nil {
		return err
	}
	flags, err1 := k.Offset("swap_info_struct", "flags")
	pages, err2 := k.Offset("swap_info_struct", "pages")
	inuse, err3 := k.Offset("swap_info_struct", "inuse_pages")
	for _, e := range []error{err1, err2, err3} {
		if e != nil {
			return e
		}
	}
	for i := uint64(0); i < uint64(nr) && i < 64; i++ {
		p, err := k.ReadU64(si + 8*i)
		if err != nil || p == 0 {
			continue
		}
		f, err := k.ReadU64(p + uint64(flags))
		if err != nil {
			return err
		}
		if f&swpUsed == 0 {
			continue
		}
		n, err1 := k.ReadU32(p + uint64(pages))
		u, err2 := k.ReadU32(p + uint64(inuse))
		if err1 != nil || err2 != nil {
			return fmt.Errorf("swap_info_struct %x: cannot read its pages", p)
		}
		m.SwapTotal += uint64(n)
		m.SwapUsed += uint64(u)
	}
	return nil
}

// commit reads the overcommit limit and the committed memory.
func (k *MemUsage) commit(m *MemInfo) error {
	if _, err := k.SymbolAddr("sysctl_overcommit_memory"); err != nil {
		if symbols.IsMissing(err) {
			m.missing("commit", err)
			return nil
		}
		return err
	}
	var kbytes uint64
	if a, err := k.SymbolAddr("sysctl_overcommit_kbytes"); err == nil {
		if kbytes, err = k.ReadU64(a); err != nil {
			return err
		}
	}
	if kbytes != 0 {
		m.CommitLimit = kbytes / (k.pageSize / 1024)
	} else {
		a, err := k.SymbolAddr("sysctl_overcommit_ratio")
		if err != nil {
			return err
		}
		r, err := k.ReadU32(a)
		if err != nil {
			return err
		}
		m.CommitLimit = (m.TotalRAM - m.HugeTotal) * uint64(int32(r)) / 100
	}
	m.CommitLimit += m.SwapTotal
	a, err := k.SymbolAddr("vm_committed_as")
	if err != nil {
		return err
	}
	count, err1 := k.Offset("percpu_counter", "count")
	counters, err2 := k.Offset("percpu_counter", "counters")
	if err1 != nil || err2 != nil {
		return fmt.Errorf("struct percpu_counter: %v %v", err1, err2)
	}
	c, err := k.ReadU64(a + uint64(count))
	if err != nil {
		return err
	}
	m.CommittedCount = int64(c)
	sum := int64(c)
	pcp, err := k.ReadU64(a + uint64(counters))
	if err != nil {
		return err
	}
	cpus, _, err := k.sys.CPUs()
	if err != nil {
		return err
	}
	for cpu := 0; cpu < cpus; cpu++ {
		off, err := k.sys.PerCPUOffset(cpu)
		if err != nil {
			return err
		}
		v, err := k.ReadU32(pcp + off)
		if err != nil {
			return err
		}
		sum += int64(int32(v))
	}
	if sum < 0 {
		sum = 0
	}
	m.Committed, m.HasCommit = uint64(sum), true
	return nil
}

// MemMapSpan is a run of the memory map: Pages struct pages from Page,
// for the frames from PFN.
type MemMapSpan struct {
	Page, PFN, Pages uint64
}

// MemMapSpans lists the memory map as crash walks it: every present
// section's whole map, in section order; without VMCOREINFO's section
// table, the nodes' spans (in chunks of 512 frames) through the memory map.
func (k *MemUsage) MemMapSpans() ([]MemMapSpan, error) {
	const chunk = 512
	var spans []MemMapSpan
	if secs, err := k.pages.MemSections(); err == nil {
		per, err := k.pages.PagesPerSection()
		if err != nil {
			return nil, err
		}
		for _, s := range secs {
			spans = append(spans, MemMapSpan{s.MemMap, s.PFN, per})
		}
		return spans, nil
	}
	nodes, err := k.zones.Nodes()
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		for pfn := n.StartPFN; pfn < n.StartPFN+n.Spanned; pfn += chunk {
			cnt := min(chunk, n.StartPFN+n.Spanned-pfn)
			if a, err := k.pages.PageAddr(pfn); err == nil {
				spans = append(spans, MemMapSpan{a, pfn, cnt})
			}
		}
	}
	return spans, nil
}
