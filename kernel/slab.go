package kernel

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// The SLUB allocator as the kernel keeps it:
//
//	slab_caches               list of struct kmem_cache (kmem_cache.list)
//	kmem_cache.cpu_slab       per-CPU struct kmem_cache_cpu: the CPU's slab
//	                          (.page before 5.17, .slab after), its
//	                          lockless freelist, and its partial slabs
//	                          (.partial, chained by slab.next)
//	kmem_cache.node[n]        struct kmem_cache_node: nr_partial, nr_slabs,
//	                          total_objects, and the partial list (and, with
//	                          SLAB_STORE_USER, the full list) of slabs linked
//	                          by slab.slab_list (page.lru before 5.17)
//	struct slab               (5.17+; before, the same members of struct
//	                          page): slab_cache, freelist, and the counters
//	                          inuse:16 objects:15 frozen:1
//
// A free object holds the next free object's address at kmem_cache.offset;
// with CONFIG_SLAB_FREELIST_HARDENED (kmem_cache.random) it is stored as
// ptr ^ random ^ swab(address it is stored at) (5.7+; before, without the
// swab). Which of the two a kernel uses is found from the first pointer
// decoded, by which one lands in the slab.

// SlabCache is one kmem_cache.
type SlabCache struct {
	Addr       uint64
	Name       string
	NameErr    error  // Name is "(unknown)": its string could not be read
	ObjSize    uint64 // object_size: what the caller asked for
	Size       uint64 // size: the object's stride in its slab
	Offset     uint64 // where a free object keeps its free pointer
	Objects    uint64 // objects per slab of the cache's order (oo)
	Order      uint64
	SlabSize   uint64 // bytes per slab: the page size << Order
	Flags      uint64
	RedLeftPad uint64 // the left red zone, when SLAB_RED_ZONE is set

	random    uint64
	hardened  bool
	cpuSlab   uint64   // the __percpu kmem_cache_cpu pointer
	nodes     []uint64 // kmem_cache_node pointers, by node id
	swab      int      // freelist encoding: 0 unknown, 1 swab, 2 plain
	swabMutex *sync.Mutex
}

// SLAB_RED_ZONE and SLAB_STORE_USER in kmem_cache.flags.
const (
	SlabRedZone   = 0x400
	SlabStoreUser = 0x10000
)

// Slab is one slab of a cache: its struct slab (struct page before
// 5.17), where its objects start, its node and its counters.
type Slab struct {
	Addr     uint64 // struct slab / struct page
	Memory   uint64 // the first object's address (direct map)
	Node     int
	Objects  int    // slab.objects
	InUse    int    // slab.inuse
	Freelist uint64 // slab.freelist, decoded
}

// SlabObject is one object of a slab, free or allocated.
type SlabObject struct {
	Addr uint64
	Free bool
}

// CPUSlabs is what one CPU holds of a cache.
type CPUSlabs struct {
	CPU          int
	KmemCacheCPU uint64 // this CPU's struct kmem_cache_cpu
	Slab         *Slab  // the CPU's slab, nil when it has none
	Freelist     uint64 // kmem_cache_cpu.freelist: the CPU's lockless free objects
	Partial      []Slab // kmem_cache_cpu.partial, in list order
	HasPartial   bool   // the kernel has per-CPU partial lists
}

// NodeSlabs is one kmem_cache_node.
type NodeSlabs struct {
	Node         int
	Addr         uint64
	NrSlabs      uint64
	NrPartial    uint64
	TotalObjects uint64
	Partial      []Slab
	// FullTracked: the kernel keeps a full list for this cache
	// (kmem_cache_node.full and SLAB_STORE_USER).
	FullTracked bool
	Full        []Slab
}

// SlabCounts are a cache's object and slab counts as crash's kmem -s
// computes them: objects on the CPUs' freelists, on the CPU slabs and on
// the per-CPU and node partial lists count as free.
type SlabCounts struct {
	Allocated uint64
	Total     uint64 // the nodes' total_objects
	Slabs     uint64
	// PartialFree are the free objects of the node partial lists alone:
	// what /proc/slabinfo counts as free (its active_objs is Total less
	// these).
	PartialFree uint64
}

// slabLayout is the SLUB members this kernel has, probed once.
type slabLayout struct {
	cacheSize                                    int64
	list, name, objSize, size, offset, oo, flags int64
	cpuSlab, node, random, redLeftPad            int64 // -1: absent
	cpuFreelist, cpuSlabPtr, cpuPartial          int64
	slabType                                     string // "slab" or "page"
	sCache, sFreelist, sCounters, sList, sNext   int64
	nPartial, nNrPartial, nNrSlabs, nTotal       int64
	nFull                                        int64
	err                                          error
}

// Slabs reads the SLUB allocator's caches.
type Slabs struct {
	k        *Kernel
	once     sync.Once
	l        slabLayout
	cpus     int
	percpu   []uint64
	numNodes int
	nodeMap  []nodeSpan
	mu       sync.Mutex
}

type nodeSpan struct{ start, end uint64 } // pfns

// Slabs returns the kernel's SLUB caches reader.
func (k *Kernel) Slabs() *Slabs { return &Slabs{k: k} }

func (s *Slabs) layout() (*slabLayout, error) {
	s.once.Do(func() {
		l := &s.l
		k := s.k
		must := func(st, m string) int64 {
			o, err := k.Offset(st, m)
			if err != nil && l.err == nil {
				l.err = err
			}
			return o
		}
		may := func(st, m string) int64 {
			o, err := k.Offset(st, m)
			if err != nil {
				if !symbols.IsMissing(err) && l.err == nil {
					l.err = err
				}
				return -1
			}
			return o
		}
		if _, err := k.SymbolAddr("slab_caches"); err != nil {
			l.err = fmt.Errorf("no SLUB caches (slab_caches): %w", err)
			return
		}
		if _, err := k.Offset("kmem_cache", "cpu_slab"); err != nil {
			l.err = fmt.Errorf("only the SLUB allocator is supported (kmem_cache has no cpu_slab): %w", err)
			return
		}
		var err error
		if l.cacheSize, err = k.Size("kmem_cache"); err != nil {
			l.err = err
			return
		}
		l.list, l.name = must("kmem_cache", "list"), must("kmem_cache", "name")
		l.objSize, l.size = must("kmem_cache", "object_size"), must("kmem_cache", "size")
		l.offset, l.oo, l.flags = must("kmem_cache", "offset"), must("kmem_cache", "oo"), must("kmem_cache", "flags")
		l.cpuSlab, l.node = must("kmem_cache", "cpu_slab"), must("kmem_cache", "node")
		l.random, l.redLeftPad = may("kmem_cache", "random"), may("kmem_cache", "red_left_pad")
		l.cpuFreelist = must("kmem_cache_cpu", "freelist")
		l.cpuPartial = may("kmem_cache_cpu", "partial")
		// 5.17 split struct slab out of struct page.
		l.slabType = "page"
		if o := may("kmem_cache_cpu", "slab"); o >= 0 {
			l.cpuSlabPtr = o
			if _, err := k.Offset("slab", "slab_cache"); err == nil {
				l.slabType = "slab"
			}
		} else {
			l.cpuSlabPtr = must("kmem_cache_cpu", "page")
		}
		t := l.slabType
		l.sCache, l.sFreelist = must(t, "slab_cache"), must(t, "freelist")
		l.sCounters = must(t, "inuse")
		if l.sList = may(t, "slab_list"); l.sList < 0 {
			l.sList = must(t, "lru")
		}
		l.sNext = may(t, "next")
		l.nNrPartial, l.nPartial = must("kmem_cache_node", "nr_partial"), must("kmem_cache_node", "partial")
		l.nNrSlabs, l.nTotal = may("kmem_cache_node", "nr_slabs"), may("kmem_cache_node", "total_objects")
		l.nFull = may("kmem_cache_node", "full")
		if l.err != nil {
			return
		}
		present, _, err := k.CPUs()
		if err != nil {
			l.err = err
			return
		}
		s.cpus = present
		for cpu := 0; cpu < present; cpu++ {
			off, err := k.PerCPUOffset(cpu)
			if err != nil {
				l.err = err
				return
			}
			s.percpu = append(s.percpu, off)
		}
		s.numNodes = 1
		if a, err := k.SymbolAddr("nr_node_ids"); err == nil {
			if n, err := k.ReadU32(a); err == nil && n > 0 && n <= 1024 {
				s.numNodes = int(n)
			}
		}
		if s.numNodes > 1 {
			s.readNodeSpans()
		}
	})
	return &s.l, s.l.err
}

// readNodeSpans reads each node's page frames from node_data[].
func (s *Slabs) readNodeSpans() {
	k := s.k
	nd, err := k.SymbolAddr("node_data")
	if err != nil {
		return
	}
	startOff, err1 := k.Offset("pglist_data", "node_start_pfn")
	spanOff, err2 := k.Offset("pglist_data", "node_spanned_pages")
	if err1 != nil || err2 != nil {
		return
	}
	for n := 0; n < s.numNodes; n++ {
		p, err := k.ReadU64(nd + 8*uint64(n))
		if err != nil || p == 0 {
			s.nodeMap = append(s.nodeMap, nodeSpan{})
			continue
		}
		st, _ := k.ReadU64(p + uint64(startOff))
		sp, _ := k.ReadU64(p + uint64(spanOff))
		s.nodeMap = append(s.nodeMap, nodeSpan{st, st + sp})
	}
}

// CPUCount is the number of CPUs the caches are read for.
func (s *Slabs) CPUCount() int {
	s.layout()
	return s.cpus
}

// Caches lists the caches on slab_caches, in list order. A cache that
// cannot be read ends the list with an error.
func (s *Slabs) Caches() ([]*SlabCache, error) {
	l, err := s.layout()
	if err != nil {
		return nil, err
	}
	head, _ := s.k.SymbolAddr("slab_caches")
	var out []*SlabCache
	err = walkList(s.k, head, func(node uint64) error {
		c, err := s.readCache(node - uint64(l.list))
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func (s *Slabs) readCache(addr uint64) (*SlabCache, error) {
	l := &s.l
	k := s.k
	buf := make([]byte, l.cacheSize)
	if err := k.ReadVirt(buf, addr); err != nil {
		return nil, fmt.Errorf("kmem_cache %x: %w", addr, err)
	}
	o := k.ByteOrder()
	u64 := func(off int64) uint64 { return o.Uint64(buf[off:]) }
	u32 := func(off int64) uint64 { return uint64(o.Uint32(buf[off:])) }
	c := &SlabCache{Addr: addr, ObjSize: u32(l.objSize), Size: u32(l.size), Offset: u32(l.offset),
		Flags: u64(l.flags), cpuSlab: u64(l.cpuSlab), swabMutex: &s.mu}
	oo := u32(l.oo)
	c.Order, c.Objects = oo>>16, oo&0xffff
	c.SlabSize = k.Arch.PageSize() << c.Order
	if l.random >= 0 {
		c.random, c.hardened = u64(l.random), true
	}
	if l.redLeftPad >= 0 && c.Flags&SlabRedZone != 0 {
		c.RedLeftPad = u32(l.redLeftPad)
	}
	name, err := k.ReadCString(u64(l.name), 64)
	if err != nil {
		name, c.NameErr = "(unknown)", err
	}
	c.Name = name
	for n := 0; n < s.numNodes; n++ {
		off := l.node + int64(8*n)
		if off+8 > int64(len(buf)) {
			break
		}
		c.nodes = append(c.nodes, u64(off))
	}
	return c, nil
}

// Cache finds a cache by name, or by its kmem_cache address.
func (s *Slabs) Cache(name string) (*SlabCache, error) {
	cs, err := s.Caches()
	for _, c := range cs {
		if c.Name == name {
			return c, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("invalid slab cache: %s", name)
}

// nodeOf is the node of the page frame of struct page/slab addr.
func (s *Slabs) nodeOf(addr uint64) int {
	if len(s.nodeMap) < 2 {
		return 0
	}
	pfn, ok := s.PageFrame(addr)
	if !ok {
		return 0
	}
	for n, sp := range s.nodeMap {
		if pfn >= sp.start && pfn < sp.end {
			return n
		}
	}
	return 0
}

// ReadSlab reads a slab's counters and where its objects are. addr is its
// struct slab (struct page).
func (s *Slabs) ReadSlab(c *SlabCache, addr uint64) (Slab, error) {
	l, err := s.layout()
	if err != nil {
		return Slab{}, err
	}
	k := s.k
	pfn, ok := s.PageFrame(addr)
	if !ok {
		return Slab{}, fmt.Errorf("%s: invalid slab address: %x", c.Name, addr)
	}
	mem, err := k.Arch.PhysToVirt(pfn * k.Arch.PageSize())
	if err != nil {
		return Slab{}, err
	}
	counters, err := k.ReadU32(addr + uint64(l.sCounters))
	if err != nil {
		return Slab{}, fmt.Errorf("%s: slab %x: %w", c.Name, addr, err)
	}
	fl, err := k.ReadU64(addr + uint64(l.sFreelist))
	if err != nil {
		return Slab{}, fmt.Errorf("%s: slab %x: %w", c.Name, addr, err)
	}
	inuse, objects := slabCounters(counters, k.ByteOrder() == binary.BigEndian)
	sl := Slab{Addr: addr, Memory: mem, Node: s.nodeOf(addr), InUse: inuse, Objects: objects, Freelist: fl}
	if sl.Objects == 0x7fff {
		return sl, fmt.Errorf("%s: slab: %x invalid objects count", c.Name, addr)
	}
	return sl, nil
}

// SlabCacheOf returns the cache a struct slab/page points at (slab_cache).
func (s *Slabs) slabCachePtr(addr uint64) (uint64, error) {
	l, err := s.layout()
	if err != nil {
		return 0, err
	}
	return s.k.ReadU64(addr + uint64(l.sCache))
}

// Freelist follows a freelist from its first object within slab sl, and
// returns the free objects' addresses in list order. The walk stops at a
// pointer that is not an object of the slab.
func (s *Slabs) Freelist(c *SlabCache, sl Slab, first uint64) ([]uint64, error) {
	var out []uint64
	seen := map[uint64]bool{}
	end := sl.Memory + uint64(sl.Objects)*c.Size
	inSlab := func(p uint64) bool {
		return p >= sl.Memory && p < end && (p-sl.Memory-c.RedLeftPad)%c.Size == 0
	}
	for q := first; q != 0; {
		if !inSlab(q) {
			return out, fmt.Errorf("%s: slab: %x invalid freepointer: %x", c.Name, sl.Addr, q)
		}
		if seen[q] {
			return out, fmt.Errorf("%s: slab: %x duplicate freelist object: %x", c.Name, sl.Addr, q)
		}
		seen[q] = true
		out = append(out, q)
		at := q + c.Offset
		raw, err := s.k.ReadU64(at)
		if err != nil {
			return out, fmt.Errorf("%s: slab: %x invalid freepointer: %x", c.Name, sl.Addr, at)
		}
		q = c.decode(raw, at, inSlab)
	}
	return out, nil
}

// decode turns a stored free pointer into an address.
func (c *SlabCache) decode(raw, at uint64, valid func(uint64) bool) uint64 {
	if !c.hardened {
		return raw
	}
	swabbed := raw ^ c.random ^ bits.ReverseBytes64(at)
	plain := raw ^ c.random ^ at
	c.swabMutex.Lock()
	mode := c.swab
	c.swabMutex.Unlock()
	switch mode {
	case 1:
		return swabbed
	case 2:
		return plain
	}
	switch {
	case swabbed == 0 || valid(swabbed):
		mode = 1
	case plain == 0 || valid(plain):
		mode = 2
	default:
		return swabbed
	}
	c.swabMutex.Lock()
	c.swab = mode
	c.swabMutex.Unlock()
	if mode == 1 {
		return swabbed
	}
	return plain
}

// CPU reads what cpu holds of cache c: its slab, freelist and partial
// slabs.
func (s *Slabs) CPU(c *SlabCache, cpu int) (CPUSlabs, error) {
	l, err := s.layout()
	if err != nil {
		return CPUSlabs{}, err
	}
	k := s.k
	kcc := c.cpuSlab + s.percpu[cpu]
	out := CPUSlabs{CPU: cpu, KmemCacheCPU: kcc, HasPartial: l.cpuPartial >= 0}
	page, err := k.ReadU64(kcc + uint64(l.cpuSlabPtr))
	if err != nil {
		return out, fmt.Errorf("%s: kmem_cache_cpu %x: %w", c.Name, kcc, err)
	}
	if out.Freelist, err = k.ReadU64(kcc + uint64(l.cpuFreelist)); err != nil {
		return out, fmt.Errorf("%s: kmem_cache_cpu %x: %w", c.Name, kcc, err)
	}
	if page != 0 {
		sl, err := s.ReadSlab(c, page)
		if err != nil {
			return out, err
		}
		out.Slab = &sl
	}
	if l.cpuPartial < 0 || l.sNext < 0 {
		return out, nil
	}
	p, err := k.ReadU64(kcc + uint64(l.cpuPartial))
	if err != nil {
		return out, fmt.Errorf("%s: kmem_cache_cpu.partial: %w", c.Name, err)
	}
	seen := map[uint64]bool{}
	for p != 0 {
		if seen[p] || len(seen) > maxListLen {
			return out, fmt.Errorf("%s: invalid partial list slab pointer: %x", c.Name, p)
		}
		seen[p] = true
		sl, err := s.ReadSlab(c, p)
		if err != nil {
			return out, fmt.Errorf("%s: invalid partial list slab pointer: %x", c.Name, p)
		}
		out.Partial = append(out.Partial, sl)
		if p, err = k.ReadU64(p + uint64(l.sNext)); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Nodes reads cache c's kmem_cache_node of each node (a node without one
// is left out); withLists also reads their partial and full lists.
func (s *Slabs) Nodes(c *SlabCache, withLists bool) ([]NodeSlabs, error) {
	l, err := s.layout()
	if err != nil {
		return nil, err
	}
	k := s.k
	var out []NodeSlabs
	for n, np := range c.nodes {
		if np == 0 {
			continue
		}
		ns := NodeSlabs{Node: n, Addr: np}
		var err error
		if ns.NrPartial, err = k.ReadU64(np + uint64(l.nNrPartial)); err != nil {
			return out, fmt.Errorf("%s: kmem_cache_node %x: %w", c.Name, np, err)
		}
		if l.nNrSlabs >= 0 {
			if ns.NrSlabs, err = k.ReadU64(np + uint64(l.nNrSlabs)); err != nil {
				return out, err
			}
		}
		if l.nTotal >= 0 {
			if ns.TotalObjects, err = k.ReadU64(np + uint64(l.nTotal)); err != nil {
				return out, err
			}
		}
		ns.FullTracked = l.nFull >= 0 && c.Flags&SlabStoreUser != 0
		if withLists || true {
			if ns.Partial, err = s.list(c, np+uint64(l.nPartial)); err != nil {
				out = append(out, ns)
				return out, err
			}
			if ns.FullTracked && withLists {
				if ns.Full, err = s.list(c, np+uint64(l.nFull)); err != nil {
					out = append(out, ns)
					return out, err
				}
			}
		}
		out = append(out, ns)
	}
	return out, nil
}

// list reads the slabs on a list_head of slab_list (lru) links.
func (s *Slabs) list(c *SlabCache, head uint64) ([]Slab, error) {
	var out []Slab
	err := walkList(s.k, head, func(node uint64) error {
		sl, err := s.ReadSlab(c, node-uint64(s.l.sList))
		if err != nil {
			return fmt.Errorf("%s: invalid partial list slab pointer: %x", c.Name, node-uint64(s.l.sList))
		}
		out = append(out, sl)
		return nil
	})
	return out, err
}

// Counts computes a cache's kmem -s line as crash does (its
// get_kmem_cache_slub_data): free objects are the CPU slabs' unused
// objects and their lockless freelists, the per-CPU partial slabs' and the
// node partial slabs' free objects; the total is the nodes'
// total_objects; the slabs are the CPU slabs, the node partial slabs and
// the rest of the nodes' nr_slabs.
func (s *Slabs) Counts(c *SlabCache) (SlabCounts, error) {
	if _, err := s.layout(); err != nil {
		return SlabCounts{}, err
	}
	var free, total, slabs, partialFree uint64
	perCPU := make([]uint64, max(s.numNodes, 1))
	for cpu := 0; cpu < s.cpus; cpu++ {
		cs, err := s.CPU(c, cpu)
		if err != nil {
			return SlabCounts{}, err
		}
		if cs.Slab == nil {
			continue
		}
		sl := cs.Slab
		free += uint64(sl.Objects - sl.InUse)
		fl, err := s.Freelist(c, *sl, cs.Freelist)
		if err != nil {
			return SlabCounts{}, err
		}
		free += uint64(len(fl))
		for _, p := range cs.Partial {
			free += uint64(p.Objects - p.InUse)
		}
		slabs++
		if sl.Node < len(perCPU) {
			perCPU[sl.Node]++
		}
	}
	nodes, err := s.Nodes(c, false)
	if err != nil {
		return SlabCounts{}, err
	}
	for _, n := range nodes {
		for _, p := range n.Partial {
			free += uint64(p.Objects - p.InUse)
			partialFree += uint64(p.Objects - p.InUse)
		}
		slabs += n.NrPartial
		slabs += n.NrSlabs - perCPU[n.Node] - n.NrPartial
		total += n.TotalObjects
	}
	return SlabCounts{Allocated: total - free, Total: total, Slabs: slabs, PartialFree: partialFree}, nil
}

// Objects lists a slab's objects, each free or allocated: free when it is
// on the slab's freelist or on cpuFreelist (the lockless freelist of the
// CPU whose slab it is; 0 for none).
func (s *Slabs) Objects(c *SlabCache, sl Slab, cpuFreelist uint64) ([]SlabObject, error) {
	free := map[uint64]bool{}
	var firstErr error
	for _, head := range []uint64{sl.Freelist, cpuFreelist} {
		fl, err := s.Freelist(c, sl, head)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, q := range fl {
			free[q] = true
		}
	}
	var out []SlabObject
	for i := 0; i < sl.Objects; i++ {
		p := sl.Memory + uint64(i)*c.Size
		out = append(out, SlabObject{Addr: p + c.RedLeftPad, Free: free[p+c.RedLeftPad]})
	}
	return out, firstErr
}

// SlabOf finds the slab holding kernel address addr: the struct slab of
// its page's compound head, when that page is a slab page of a cache on
// slab_caches. ok is false for an address outside the slab allocator.
func (s *Slabs) SlabOf(addr uint64) (c *SlabCache, sl Slab, ok bool, err error) {
	if _, err := s.layout(); err != nil {
		return nil, Slab{}, false, err
	}
	k := s.k
	phys, err := k.VirtToPhys(addr)
	if err != nil {
		return nil, Slab{}, false, nil
	}
	page, err := k.PageAddr(phys / k.Arch.PageSize())
	if err != nil {
		return nil, Slab{}, false, nil
	}
	return s.slabOfPage(page)
}

// SlabOfPage is SlabOf for a struct page (or struct slab) address.
func (s *Slabs) SlabOfPage(page uint64) (c *SlabCache, sl Slab, ok bool, err error) {
	if _, err := s.layout(); err != nil {
		return nil, Slab{}, false, err
	}
	if _, ok := s.PageFrame(page); !ok {
		return nil, Slab{}, false, nil
	}
	return s.slabOfPage(page)
}

func (s *Slabs) slabOfPage(page uint64) (*SlabCache, Slab, bool, error) {
	k := s.k
	head := page
	// A tail page of a compound page keeps its head | 1 in compound_head.
	if ch, err := k.Offset("page", "compound_head"); err == nil {
		if v, err := k.ReadU64(page + uint64(ch)); err == nil && v&1 != 0 {
			head = v - 1
		}
	}
	cp, err := s.slabCachePtr(head)
	if err != nil || cp == 0 {
		return nil, Slab{}, false, nil
	}
	cs, err := s.Caches()
	if err != nil {
		return nil, Slab{}, false, err
	}
	for _, c := range cs {
		if c.Addr != cp {
			continue
		}
		// A slab page has PG_slab set in its flags.
		if !s.isSlabPage(head) {
			return nil, Slab{}, false, nil
		}
		sl, err := s.ReadSlab(c, head)
		if err != nil {
			return c, sl, false, err
		}
		return c, sl, true, nil
	}
	return nil, Slab{}, false, nil
}

// isSlabPage reports whether a struct page has PG_slab set (on kernels
// that mark slab pages with a page type instead, a page whose slab_cache
// is a cache is taken as one).
func (s *Slabs) isSlabPage(page uint64) bool {
	k := s.k
	flags, err := k.PageFlags()
	if err != nil {
		return true
	}
	for _, f := range flags {
		if f.Name == "slab" {
			pf, err := k.ReadU64(page)
			return err != nil || pf&f.Mask != 0
		}
	}
	return true
}

// CPUFreelistOf returns which CPU's slab sl is and that CPU's lockless
// freelist; cpu is -1 when it is no CPU's slab.
func (s *Slabs) CPUFreelistOf(c *SlabCache, sl Slab) (cpu int, freelist uint64, err error) {
	if _, err := s.layout(); err != nil {
		return -1, 0, err
	}
	for i := 0; i < s.cpus; i++ {
		cs, err := s.CPU(c, i)
		if err != nil {
			return -1, 0, err
		}
		if cs.Slab != nil && cs.Slab.Addr == sl.Addr {
			return i, cs.Freelist, nil
		}
	}
	return -1, 0, nil
}

// PageFrame is the page frame whose struct page is at addr: Pages.PagePFN,
// else counted from the struct page of the dump's first RAM page (the
// memory map is one virtual array), checked by mapping back.
func (s *Slabs) PageFrame(addr uint64) (uint64, bool) {
	k := s.k
	if pfn, ok := k.PagePFN(addr); ok {
		return pfn, true
	}
	rs := k.Dump.Ranges()
	size, err := k.Size("page")
	if len(rs) == 0 || err != nil || size <= 0 {
		return 0, false
	}
	first := rs[0].Start / k.Arch.PageSize()
	fp, err := k.PageAddr(first)
	if err != nil || addr < fp || (addr-fp)%uint64(size) != 0 {
		return 0, false
	}
	pfn := first + (addr-fp)/uint64(size)
	if back, err := k.PageAddr(pfn); err != nil || back != addr {
		return 0, false
	}
	return pfn, true
}

// slabCounters splits the slab's counters word (inuse:16, objects:15,
// frozen:1): GCC lays bit-fields out from the low bits on a little-endian
// machine and from the high bits on a big-endian one (s390x).
func slabCounters(w uint32, bigEndian bool) (inuse, objects int) {
	if bigEndian {
		return int(w >> 16), int(w >> 1 & 0x7fff)
	}
	return int(w & 0xffff), int(w >> 16 & 0x7fff)
}
