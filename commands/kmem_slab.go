package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// kmem -s, -S and -I: the SLUB caches (commands/kmem.go dispatches here).

// kmemSlabOptions are the slab options of kmem.
var kmemSlabOptions = []Option{
	{"-s", "the slab caches: address, object size, allocated and total objects, slabs, slab size, name; with a name, that cache; with an address, the cache, slab and object holding it"},
	{"-S", "as -s, and every slab of each cache: the per-CPU slabs and partial lists, the node partial lists, and each object, FREE or [ALLOCATED]"},
	{"-I slab[,slab]", "with -s or -S, leave out these caches ([IGNORED])"},
}

// kmemSlabWanted says whether kmem's arguments are for this file: -s or
// -S, or addresses with no option (kmem ADDR).
func kmemSlabWanted(a *Args) bool {
	return a.Has("s") || a.Has("S") || (len(a.seen) == 0 && len(a.Words) > 0)
}

// runKmemSlab runs kmem -s/-S [name|address] and kmem ADDR.
func runKmemSlab(ctx context.Context, s *Session, a *Args) (Result, error) {
	if !a.Has("s") && !a.Has("S") {
		return runKmemAddr(ctx, s, a)
	}
	verbose := a.Has("S")
	var ignore []string
	for _, v := range a.Values("I") {
		ignore = append(ignore, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	sl := s.Kernel.Slabs()
	caches, err := sl.Caches()
	if err != nil && len(caches) == 0 {
		return nil, err
	}
	res := &KmemSlabResult{Caches: []*SlabCacheInfo{}, Verbose: verbose}
	if len(a.Words) == 0 {
		res.header = true
		var unnamed linesError // the caches listed as "(unknown)"
		for _, c := range caches {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			res.Caches = append(res.Caches, gatherCache(sl, c, verbose, contains(ignore, c.Name)))
			if c.NameErr != nil {
				unnamed = append(unnamed, fmt.Errorf("kmem_cache %x: cannot read its name: %w", c.Addr, c.NameErr))
			}
		}
		if len(unnamed) > 0 {
			return withMissing(res, err, unnamed)
		}
		return res, err
	}
	for _, w := range a.Words {
		var found *kernel.SlabCache
		for _, c := range caches {
			if c.Name == w {
				found = c
			}
		}
		if addr, perr := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64); found == nil && perr == nil {
			for _, c := range caches {
				if c.Addr == addr {
					found = c
				}
			}
			if found == nil {
				info, err := slabOfAddress(s, sl, addr, verbose)
				if err != nil {
					return res, err
				}
				res.Caches = append(res.Caches, info)
				continue
			}
		}
		if found == nil {
			return res, fmt.Errorf("invalid slab cache: %s", w)
		}
		info := gatherCache(sl, found, verbose, false)
		info.header = true
		res.Caches = append(res.Caches, info)
	}
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// slabOfAddress is kmem -s ADDR: the cache, slab and object holding addr
// (with -S, or for a struct slab address, every object of the slab).
func slabOfAddress(s *Session, sl *kernel.Slabs, addr uint64, verbose bool) (*SlabCacheInfo, error) {
	c, slab, ok, err := sl.SlabOfPage(addr)
	all := verbose
	if err == nil && ok {
		all = true
	} else {
		c, slab, ok, err = sl.SlabOf(addr)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("address is not allocated in slab subsystem: %x", addr)
	}
	info := gatherCache(sl, c, false, false)
	info.header = true
	cpu, cpuFree, err := sl.CPUFreelistOf(c, slab)
	if err != nil {
		return info, err
	}
	si, err := slabDetail(sl, c, slab, cpu, cpuFree)
	if !all {
		var keep []SlabObjectInfo
		for _, o := range si.Objects {
			if addr >= uint64(o.Addr)-c.RedLeftPad && addr < uint64(o.Addr)-c.RedLeftPad+c.Size {
				keep = append(keep, o)
			}
		}
		si.Objects = keep
	}
	info.Slab = si
	info.Address = new(Hex)
	*info.Address = Hex(addr)
	return info, err
}

// KmemSlabResult is kmem -s or -S: caches, each with its counts and, for
// -S, its slabs.
type KmemSlabResult struct {
	Caches  []*SlabCacheInfo `json:"caches"`
	Verbose bool             `json:"verbose"` // -S
	header  bool             // one header above a listing of every cache
}

// SlabCacheInfo is one cache's kmem -s line, and what -S or an address
// shows of it.
type SlabCacheInfo struct {
	Cache     Hex    `json:"cache"` // the struct kmem_cache
	Name      string `json:"name"`
	ObjSize   uint64 `json:"objsize"`
	Allocated uint64 `json:"allocated"`
	Total     uint64 `json:"total"`
	Slabs     uint64 `json:"slabs"`
	SlabSize  uint64 `json:"slab_size"` // bytes
	// PartialFree is the free objects of the node partial lists alone:
	// /proc/slabinfo's active_objs is Total less these (it counts the
	// objects of CPU slabs and per-CPU partial slabs as active).
	PartialFree uint64 `json:"partial_free"`
	Ignored     bool   `json:"ignored,omitempty"` // left out by -I
	// GatherError says why the counts could not be gathered (crash's "?").
	GatherError string         `json:"gather_error,omitempty"`
	CPUs        []SlabCPUInfo  `json:"cpus,omitempty"`  // -S
	Nodes       []SlabNodeInfo `json:"nodes,omitempty"` // -S
	// Address and Slab: for an address, the slab holding it and the
	// object (for a struct slab address or -S, every object).
	Address *Hex      `json:"address,omitempty"`
	Slab    *SlabInfo `json:"slab,omitempty"`

	header bool // a header of its own above the line
}

// SlabCPUInfo is what one CPU holds of a cache.
type SlabCPUInfo struct {
	CPU          int        `json:"cpu"`
	KmemCacheCPU Hex        `json:"kmem_cache_cpu"`
	Slab         *SlabInfo  `json:"slab"` // nil: none
	HasPartial   bool       `json:"has_partial"`
	Partial      []SlabInfo `json:"partial"`
	Error        string     `json:"error,omitempty"`
}

// SlabNodeInfo is a cache's kmem_cache_node on one node.
type SlabNodeInfo struct {
	Node          int        `json:"node"`
	KmemCacheNode Hex        `json:"kmem_cache_node"`
	Slabs         uint64     `json:"slabs"`
	Partial       uint64     `json:"partial"`
	PerCPU        int        `json:"per_cpu"` // CPU slabs on this node
	PartialSlabs  []SlabInfo `json:"partial_slabs"`
	FullTracked   bool       `json:"full_tracked"`
	FullSlabs     []SlabInfo `json:"full_slabs,omitempty"`
	Error         string     `json:"error,omitempty"`
}

// SlabInfo is one slab: its struct slab (struct page before 5.17), its
// memory, node and counts, and (when listed) its objects.
type SlabInfo struct {
	Slab      Hex              `json:"slab"`
	Memory    Hex              `json:"memory"`
	Node      int              `json:"node"`
	Total     int              `json:"total"`
	Allocated int              `json:"allocated"`
	Free      int              `json:"free"`
	Objects   []SlabObjectInfo `json:"objects,omitempty"`
	Error     string           `json:"error,omitempty"`
	verbose   bool             // objects listed
}

// SlabObjectInfo is one object of a slab.
type SlabObjectInfo struct {
	Addr Hex  `json:"addr"`
	Free bool `json:"free"`
	// CPU is the CPU whose slab holds this free object (crash's "(cpu N
	// cache)"); -1 for none.
	CPU int `json:"cpu"`
}

// gatherCache reads a cache's counts and, when verbose, its slabs.
func gatherCache(sl *kernel.Slabs, c *kernel.SlabCache, verbose, ignored bool) *SlabCacheInfo {
	info := &SlabCacheInfo{Cache: Hex(c.Addr), Name: c.Name, ObjSize: c.ObjSize, SlabSize: c.SlabSize, Ignored: ignored}
	if ignored {
		return info
	}
	n, err := sl.Counts(c)
	if err != nil {
		info.GatherError = err.Error()
		return info
	}
	info.Allocated, info.Total, info.Slabs, info.PartialFree = n.Allocated, n.Total, n.Slabs, n.PartialFree
	if !verbose {
		return info
	}
	info.CPUs = []SlabCPUInfo{}
	perNode := map[int]int{}
	for cpu := 0; cpu < sl.CPUCount(); cpu++ {
		cs, err := sl.CPU(c, cpu)
		ci := SlabCPUInfo{CPU: cpu, KmemCacheCPU: Hex(cs.KmemCacheCPU), HasPartial: cs.HasPartial, Partial: []SlabInfo{}}
		if err != nil {
			ci.Error = err.Error()
		}
		if cs.Slab != nil {
			perNode[cs.Slab.Node]++
			si, err := slabDetail(sl, c, *cs.Slab, cpu, cs.Freelist)
			if err != nil {
				si.Error = err.Error()
			}
			ci.Slab = si
		}
		for _, p := range cs.Partial {
			si, err := slabDetail(sl, c, p, -1, 0)
			if err != nil {
				si.Error = err.Error()
			}
			ci.Partial = append(ci.Partial, *si)
		}
		info.CPUs = append(info.CPUs, ci)
	}
	nodes, err := sl.Nodes(c, true)
	for _, nd := range nodes {
		ni := SlabNodeInfo{Node: nd.Node, KmemCacheNode: Hex(nd.Addr), Slabs: nd.NrSlabs, Partial: nd.NrPartial,
			PerCPU: perNode[nd.Node], PartialSlabs: []SlabInfo{}, FullTracked: nd.FullTracked}
		for _, p := range nd.Partial {
			ni.PartialSlabs = append(ni.PartialSlabs, slabSummary(p))
		}
		for _, p := range nd.Full {
			ni.FullSlabs = append(ni.FullSlabs, slabSummary(p))
		}
		info.Nodes = append(info.Nodes, ni)
	}
	if err != nil {
		info.GatherError = err.Error()
	}
	return info
}

func slabSummary(p kernel.Slab) SlabInfo {
	return SlabInfo{Slab: Hex(p.Addr), Memory: Hex(p.Memory), Node: p.Node, Total: p.Objects, Allocated: p.InUse, Free: p.Objects - p.InUse}
}

// slabDetail lists a slab's objects. For a CPU's slab (cpu >= 0) the
// free objects are those of its lockless freelist and of the slab's own
// freelist, counted as crash counts them.
func slabDetail(sl *kernel.Slabs, c *kernel.SlabCache, p kernel.Slab, cpu int, cpuFree uint64) (*SlabInfo, error) {
	si := slabSummary(p)
	si.verbose = true
	objs, err := sl.Objects(c, p, cpuFree)
	if cpu >= 0 {
		fl, _ := sl.Freelist(c, p, cpuFree)
		free := len(fl)
		if p.Freelist != 0 {
			free += p.Objects - p.InUse
		}
		si.Allocated, si.Free = p.Objects-free, free
	}
	for _, o := range objs {
		oc := -1
		if o.Free && cpu >= 0 {
			oc = cpu
		}
		si.Objects = append(si.Objects, SlabObjectInfo{Addr: Hex(o.Addr), Free: o.Free, CPU: oc})
	}
	return &si, err
}

const (
	kmemCacheHeader = "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME"
	slabHeader      = "  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE"
	freeInUseHeader = "  FREE / [ALLOCATED]"
)

func (r *KmemSlabResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if r.header {
		tw.println(kmemCacheHeader)
	}
	for i, c := range r.Caches {
		if c.header {
			if i > 0 && r.header == false && c.Address != nil {
				tw.println("")
			}
			tw.println(kmemCacheHeader)
		}
		c.text(tw)
		if c.Ignored {
			continue
		}
		if r.Verbose && c.Address == nil {
			c.details(tw)
			if r.header && i+1 < len(r.Caches) {
				tw.println(kmemCacheHeader)
			}
		}
	}
	return tw.err
}

// text writes the cache's line (and, for an address, its slab).
func (c *SlabCacheInfo) text(tw *textWriter) {
	switch {
	case c.Ignored:
		tw.printf("%x %-43s  %s\n", uint64(c.Cache), "[IGNORED]", c.Name)
		return
	case c.GatherError != "" && c.Total == 0 && c.Slabs == 0:
		tw.printf("%-16x %8d  %9s  %8s  %5s  %4dk  %s\n", uint64(c.Cache), c.ObjSize, "?", "?", "?", c.SlabSize/1024, c.Name)
	default:
		tw.printf("%-16x %8d  %9d  %8d  %5d  %4dk  %s\n", uint64(c.Cache), c.ObjSize, c.Allocated, c.Total, c.Slabs, c.SlabSize/1024, c.Name)
	}
	if c.Slab != nil {
		c.Slab.text(tw, true)
	}
}

// details writes -S's CPU and node blocks.
func (c *SlabCacheInfo) details(tw *textWriter) {
	for _, cpu := range c.CPUs {
		tw.printf("CPU %d KMEM_CACHE_CPU:\n  %x\n", cpu.CPU, uint64(cpu.KmemCacheCPU))
		tw.printf("CPU %d SLAB:\n", cpu.CPU)
		if cpu.Slab == nil {
			tw.println("  (empty)")
		} else {
			cpu.Slab.text(tw, true)
		}
		if cpu.HasPartial {
			tw.printf("CPU %d PARTIAL:\n", cpu.CPU)
			if len(cpu.Partial) == 0 {
				tw.println("  (empty)")
			}
			for i := range cpu.Partial {
				cpu.Partial[i].text(tw, true)
			}
		}
	}
	for _, n := range c.Nodes {
		tw.println("KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU")
		tw.printf("%x  %4d  %5d  %7d  %7d\n", uint64(n.KmemCacheNode), n.Node, n.Slabs, n.Partial, n.PerCPU)
		tw.printf("NODE %d PARTIAL:\n", n.Node)
		if len(n.PartialSlabs) == 0 {
			tw.println("  (empty)")
		} else {
			tw.println(slabHeader)
		}
		for i := range n.PartialSlabs {
			n.PartialSlabs[i].text(tw, false)
		}
		tw.printf("NODE %d FULL:\n", n.Node)
		switch {
		case !n.FullTracked:
			tw.println("  (not tracked)")
		case len(n.FullSlabs) == 0:
			tw.println("  (empty)")
		default:
			tw.println(slabHeader)
			for i := range n.FullSlabs {
				n.FullSlabs[i].text(tw, false)
			}
		}
	}
	tw.println("")
}

// text writes a slab's line; verbose, with its header and objects.
func (s *SlabInfo) text(tw *textWriter, verbose bool) {
	if verbose {
		tw.println(slabHeader)
	}
	tw.printf("  %-16x  %-16x  %4d  %5d  %9d  %4d\n", uint64(s.Slab), uint64(s.Memory), s.Node, s.Total, s.Allocated, s.Free)
	if !verbose {
		return
	}
	tw.println(freeInUseHeader)
	for _, o := range s.Objects {
		switch {
		case !o.Free:
			tw.printf("  [%x]\n", uint64(o.Addr))
		case o.CPU >= 0:
			tw.printf("   %x  (cpu %d cache)\n", uint64(o.Addr), o.CPU)
		default:
			tw.printf("   %x  \n", uint64(o.Addr))
		}
	}
}
