package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// KmemFreeList is one free list of a zone: free_area[Order].free_list[Type].
type KmemFreeList struct {
	Order  int    `json:"order"`
	Type   int    `json:"migrate_type"`
	Head   Hex    `json:"free_list"` // the list_head
	Blocks int    `json:"blocks"`
	Pages  uint64 `json:"pages"` // Blocks << Order
	// BlockPages are the struct pages of the free blocks (kmem -F only).
	BlockPages []Hex `json:"block_pages,omitempty"`
}

// KmemFreeZone is one zone of kmem -f.
type KmemFreeZone struct {
	Node       int    `json:"node"`
	Zone       int    `json:"zone"`
	Name       string `json:"name"`
	Size       uint64 `json:"size"` // spanned pages
	Free       int64  `json:"free"` // NR_FREE_PAGES
	MemMap     Hex    `json:"mem_map"`
	StartPaddr Hex    `json:"start_paddr"`
	StartMapnr uint64 `json:"start_mapnr"` // counted from the node's mem_map
	// Lists are the zone's free lists, read only for a zone with free
	// pages.
	Lists []KmemFreeList `json:"lists"`
}

// KmemFreeAreas is kmem -f (and -F, Verbose).
type KmemFreeAreas struct {
	Verbose     bool           `json:"verbose"`
	Nodes       int            `json:"nodes"`
	Zones       []KmemFreeZone `json:"zones"`
	NrFreePages int64          `json:"nr_free_pages"` // the zones' NR_FREE_PAGES
	Found       uint64         `json:"found"`         // the pages on the free lists

	pageSize uint64
}

func kmemFreeAreas(ctx context.Context, s *Session, verbose bool) (Result, error) {
	k := s.Kernel
	nodes, err := k.Nodes()
	if err != nil {
		return nil, err
	}
	ps := k.Arch.PageSize()
	r := &KmemFreeAreas{Verbose: verbose, Nodes: len(nodes), Zones: []KmemFreeZone{}, pageSize: ps}
	for _, n := range nodes {
		for _, z := range n.Zones {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			fz := KmemFreeZone{Node: n.ID, Zone: z.Index, Name: z.Name, Size: z.Spanned, Free: z.Free,
				MemMap: Hex(z.MemMap), StartPaddr: Hex(z.StartPFN * ps), Lists: []KmemFreeList{}}
			if z.MemMap != 0 && n.MemMap != 0 {
				if sz, err := k.Size("page"); err == nil && sz > 0 {
					fz.StartMapnr = (z.MemMap - n.MemMap) / uint64(sz)
				}
			}
			r.NrFreePages += z.Free
			if z.Free != 0 {
				lists, err := k.FreeLists(z)
				for _, l := range lists {
					fl := KmemFreeList{Order: l.Order, Type: l.Type, Head: Hex(l.Head), Blocks: len(l.Pages), Pages: uint64(len(l.Pages)) << l.Order}
					if verbose {
						fl.BlockPages = []Hex{}
						for _, p := range l.Pages {
							fl.BlockPages = append(fl.BlockPages, Hex(p))
						}
					}
					r.Found += fl.Pages
					fz.Lists = append(fz.Lists, fl)
				}
				if err != nil {
					r.Zones = append(r.Zones, fz)
					return r, err
				}
			}
			r.Zones = append(r.Zones, fz)
		}
	}
	return r, nil
}

func chunkSize(order int, pageSize uint64) string {
	return strconv.FormatUint((pageSize<<order)/1024, 10) + "k"
}

func (r *KmemFreeAreas) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	ps := r.pageSize
	if ps == 0 {
		ps = 4096
	}
	for i, z := range r.Zones {
		if z.Zone == 0 && r.Nodes > 1 {
			if i > 0 {
				tw.printf("\n%s\n", strings.Repeat("-", 74))
			}
			nl := ""
			if i > 0 {
				nl = "\n"
			}
			tw.printf("%sNODE\n %2d\n", nl, z.Node)
		}
		pre := ""
		if z.Zone > 0 {
			pre = "\n"
		}
		tw.printf("%sZONE  NAME        SIZE    FREE  %s  START_PADDR  START_MAPNR\n", pre, center(16, "MEM_MAP", false))
		tw.printf("%3d   %-9s %6d  %6d  %s  %s  %s\n", z.Zone, z.Name, z.Size, z.Free,
			center(16, strconv.FormatUint(uint64(z.MemMap), 16), false),
			center(11, strconv.FormatUint(uint64(z.StartPaddr), 16), true),
			center(11, strconv.FormatUint(z.StartMapnr, 10), true))
		if z.Free == 0 {
			continue
		}
		if !r.Verbose {
			tw.println("AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES")
		}
		for _, l := range z.Lists {
			if r.Verbose {
				tw.println("AREA    SIZE  FREE_AREA_STRUCT")
			}
			tw.printf("%3d  %7s  %s  ", l.Order, chunkSize(l.Order, ps), center(16, strconv.FormatUint(uint64(l.Head), 16), false))
			if r.Verbose {
				tw.println("")
				for _, p := range l.BlockPages {
					tw.printf("%x\n", uint64(p))
				}
				continue
			}
			tw.printf("%6d %6d\n", l.Blocks, l.Pages)
		}
	}
	tw.printf("\nnr_free_pages: %d  ", r.NrFreePages)
	if uint64(r.NrFreePages) == r.Found {
		tw.println("(verified)")
	} else {
		tw.printf("(found %d)\n", r.Found)
	}
	return tw.err
}

// KmemZone is one zone of kmem -z.
type KmemZone struct {
	Node    int    `json:"node"`
	Zone    int    `json:"zone"`
	Addr    Hex    `json:"addr"` // the struct zone
	Name    string `json:"name"`
	Size    uint64 `json:"size"` // spanned pages
	Present uint64 `json:"present"`
	Min     uint64 `json:"min"`
	Low     uint64 `json:"low"`
	High    uint64 `json:"high"`
	// VMStat are the zone's vm_stat counters, in enum order.
	VMStat []KmemCounter `json:"vm_stat"`
}

// KmemCounter is one named counter.
type KmemCounter struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

// KmemZones is kmem -z.
type KmemZones struct {
	Zones []KmemZone `json:"zones"`
}

func kmemZones(s *Session) (Result, error) {
	k := s.Kernel
	nodes, err := k.Nodes()
	if err != nil {
		return nil, err
	}
	names, err := k.ZoneStatNames()
	if err != nil {
		return nil, err
	}
	r := &KmemZones{Zones: []KmemZone{}}
	for ni, n := range nodes {
		for _, z := range n.Zones {
			kz := KmemZone{Node: ni, Zone: z.Index, Addr: Hex(z.Addr), Name: z.Name, Size: z.Spanned, Present: z.Present,
				Min: z.Watermarks[0], Low: z.Watermarks[1], High: z.Watermarks[2], VMStat: []KmemCounter{}}
			for i, v := range z.VMStat {
				if i < len(names) {
					kz.VMStat = append(kz.VMStat, KmemCounter{names[i], v})
				}
			}
			r.Zones = append(r.Zones, kz)
		}
	}
	return r, nil
}

// writeCounters writes counters right-aligned on their colons, in a
// column as wide as the longest of width's names.
func writeCounters(tw *textWriter, cs []KmemCounter, width int, unsigned bool) {
	for _, c := range cs {
		if unsigned {
			tw.printf("%*s: %d\n", width, c.Name, uint64(c.Value))
		} else {
			tw.printf("%*s: %d\n", width, c.Name, c.Value)
		}
	}
}

func longestName(groups ...[]KmemCounter) int {
	n := 0
	for _, g := range groups {
		for _, c := range g {
			n = max(n, len(c.Name))
		}
	}
	return n
}

func (r *KmemZones) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, z := range r.Zones {
		tw.printf("NODE: %d  ZONE: %d  ADDR: %x  NAME: \"%s\"\n", z.Node, z.Zone, uint64(z.Addr), z.Name)
		if z.Size == 0 {
			tw.println("  [unpopulated]")
			tw.println("")
			continue
		}
		tw.printf("  SIZE: %d", z.Size)
		if z.Present < z.Size {
			tw.printf("  PRESENT: %d", z.Present)
		}
		tw.printf("  MIN/LOW/HIGH: %d/%d/%d", z.Min, z.Low, z.High)
		tw.println("\n  VM_STAT:")
		writeCounters(tw, z.VMStat, longestName(z.VMStat), false)
		tw.println("")
		tw.println("")
	}
	return tw.err
}

// KmemNodeZone is one zone of a node in kmem -n.
type KmemNodeZone struct {
	Zone       int    `json:"zone"`
	Name       string `json:"name"`
	Size       uint64 `json:"size"`
	MemMap     Hex    `json:"mem_map"`
	StartPaddr Hex    `json:"start_paddr"`
	StartMapnr uint64 `json:"start_mapnr"` // the zone's first pfn
}

// KmemNode is one memory node of kmem -n.
type KmemNode struct {
	ID         int            `json:"id"`
	Size       uint64         `json:"size"` // spanned pages
	Pgdat      Hex            `json:"pglist_data"`
	NodeZones  []Hex          `json:"node_zones"`
	MemMap     Hex            `json:"mem_map"`
	StartPaddr Hex            `json:"start_paddr"`
	StartMapnr uint64         `json:"start_mapnr"`
	Zones      []KmemNodeZone `json:"zones"`
}

// KmemSection is one memory section of kmem -n.
type KmemSection struct {
	Nr          uint64 `json:"nr"`
	Section     Hex    `json:"section"`
	CodedMemMap Hex    `json:"coded_mem_map"`
	MemMap      Hex    `json:"mem_map"`
	State       string `json:"state"` // P M O E D
	PFN         uint64 `json:"pfn"`
}

// KmemMemBlock is one memory block device of kmem -n.
type KmemMemBlock struct {
	MemBlock     Hex    `json:"mem_block"`
	Name         string `json:"name"`
	Start        Hex    `json:"start"`
	End          *Hex   `json:"end,omitempty"` // the last byte, when the block size is known
	Node         int    `json:"node"`          // -1 when the kernel's memory_block has no nid
	State        string `json:"state"`
	StartSection uint64 `json:"start_section"`
}

// KmemNodes is kmem -n.
type KmemNodes struct {
	Nodes    []KmemNode     `json:"nodes"`
	Sections []KmemSection  `json:"sections"`
	Blocks   []KmemMemBlock `json:"memory_blocks"`
	// Sparse says the memory map is SPARSEMEM (sections are listed).
	Sparse bool `json:"sparsemem"`

	paddrWidth int // crash's PADDR_PRLEN
}

func sectionState(raw uint64) string {
	var b strings.Builder
	for _, f := range []struct {
		bit  uint64
		name string
	}{{kernel.SectionMarkedPresent, "P"}, {kernel.SectionHasMemMap, "M"}, {kernel.SectionIsOnline, "O"},
		{kernel.SectionIsEarly, "E"}, {kernel.SectionTaintZoneDev, "D"}} {
		if raw&f.bit != 0 {
			b.WriteString(f.name)
		}
	}
	return b.String()
}

func kmemNodes(s *Session) (Result, error) {
	k := s.Kernel
	ps := k.Arch.PageSize()
	nodes, err := k.Nodes()
	if err != nil {
		return nil, err
	}
	r := &KmemNodes{Nodes: []KmemNode{}, Sections: []KmemSection{}, Blocks: []KmemMemBlock{}, paddrWidth: 8}
	if m, err := k.MemorySize(); err == nil {
		r.paddrWidth = len(strconv.FormatUint(m, 16))
	}
	for _, n := range nodes {
		kn := KmemNode{ID: n.ID, Size: n.Spanned, Pgdat: Hex(n.Pgdat), NodeZones: []Hex{}, MemMap: Hex(n.MemMap),
			StartPaddr: Hex(n.StartPFN * ps), StartMapnr: n.StartPFN, Zones: []KmemNodeZone{}}
		for _, z := range n.Zones {
			kn.NodeZones = append(kn.NodeZones, Hex(z.Addr))
			nz := KmemNodeZone{Zone: z.Index, Name: z.Name, Size: z.Spanned, MemMap: Hex(z.MemMap), StartPaddr: Hex(z.StartPFN * ps)}
			if z.Spanned != 0 {
				nz.StartMapnr = z.StartPFN
			}
			kn.Zones = append(kn.Zones, nz)
		}
		r.Nodes = append(r.Nodes, kn)
	}
	secs, err := k.MemSections()
	if err != nil {
		return r, nil // not SPARSEMEM: nodes only, as crash
	}
	r.Sparse = true
	for _, sc := range secs {
		r.Sections = append(r.Sections, KmemSection{Nr: sc.Nr, Section: Hex(sc.Addr), CodedMemMap: Hex(sc.Coded), MemMap: Hex(sc.MemMap),
			State: sectionState(sc.Raw), PFN: sc.PFN})
	}
	blocks, err := k.MemoryBlocks()
	if err != nil {
		return r, fmt.Errorf("memory blocks: %w", err)
	}
	per, err := k.PagesPerSection()
	if err != nil {
		return r, err
	}
	// The block size: memory_block_size_probed (x86_64), else the
	// sections a block spans.
	var probed uint64
	if a, err := k.SymbolAddr("memory_block_size_probed"); err == nil {
		probed, _ = k.ReadU64(a)
	}
	for _, b := range blocks {
		start := b.StartSection * per * ps
		mb := KmemMemBlock{MemBlock: Hex(b.Addr), Name: b.Name, Start: Hex(start), Node: b.Node, State: b.StateName, StartSection: b.StartSection}
		if probed != 0 {
			e := Hex(start + probed - 1)
			mb.End = &e
		} else if b.HasEnd {
			e := Hex((b.EndSection+1)*per*ps - 1)
			mb.End = &e
		}
		r.Blocks = append(r.Blocks, mb)
	}
	return r, nil
}

func (r *KmemNodes) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	zoneHdr := fmt.Sprintf("ZONE  NAME         SIZE  %s  START_PADDR  START_MAPNR", center(16, "MEM_MAP", true))
	for i, n := range r.Nodes {
		if i > 0 {
			tw.printf("\n%s", strings.Repeat("-", len(zoneHdr)))
		}
		nl := ""
		if i > 0 {
			nl = "\n\n"
		}
		tw.printf("%sNODE  %s  %s  %s  %s\n", nl, center(8, "SIZE", false), center(16, "PGLIST_DATA", false),
			center(16, "BOOTMEM_DATA", false), center(16, "NODE_ZONES", false))
		var first string
		if len(n.NodeZones) > 0 {
			first = strconv.FormatUint(uint64(n.NodeZones[0]), 16)
		}
		b1 := center(8, strconv.FormatUint(n.Size, 10), false)
		b2 := center(16, strconv.FormatUint(uint64(n.Pgdat), 16), false)
		b3 := center(16, "----", false)
		b4 := center(16, first, false)
		tw.printf(" %2d   %s  %s  %s  %s\n", n.ID, b1, b2, b3, b4)
		indent := 12 + len(b1) + len(b2) + len(b3) + len(b4) - len(strings.TrimLeft(b4, " "))
		for _, z := range n.NodeZones[min(1, len(n.NodeZones)):] {
			tw.printf("%s%x\n", strings.Repeat(" ", indent), uint64(z))
		}
		tw.printf("%s     START_PADDR    START_MAPNR\n", center(16, "MEM_MAP", false))
		tw.printf("%s  %s  %s\n", center(16, strconv.FormatUint(uint64(n.MemMap), 16), false),
			center(16, strconv.FormatUint(uint64(n.StartPaddr), 16), true),
			center(11, strconv.FormatUint(n.StartMapnr, 10), true))
		tw.printf("\n%s\n", zoneHdr)
		for _, z := range n.Zones {
			tw.printf(" %2d   %-9s %7d  %16x  %11x  %11d\n", z.Zone, z.Name, z.Size, uint64(z.MemMap), uint64(z.StartPaddr), z.StartMapnr)
		}
	}
	if !r.Sparse {
		return tw.err
	}
	tw.printf("\n%s\n\nNR  %s  %s  %s  %s PFN\n", strings.Repeat("-", 67), center(16, "SECTION", false),
		center(16, "CODED_MEM_MAP", false), center(16, "MEM_MAP", false), "STATE")
	for _, s := range r.Sections {
		tw.printf("%2d  %s  %s  %s  %s %-16d\n", s.Nr, center(16, strconv.FormatUint(uint64(s.Section), 16), false),
			center(16, strconv.FormatUint(uint64(s.CodedMemMap), 16), true),
			center(16, strconv.FormatUint(uint64(s.MemMap), 16), true), center(5, s.State, false), s.PFN)
	}
	if len(r.Blocks) == 0 {
		return tw.err
	}
	pw := r.paddrWidth
	paddrHdr := "PHYSICAL START"
	if r.Blocks[0].End != nil {
		paddrHdr = "PHYSICAL RANGE"
	}
	withNode := r.Blocks[0].Node >= 0
	if withNode {
		tw.printf("\n%s %s   %s   %s  %-7s %-12s\n", center(16, "MEM_BLOCK", false), center(10, "NAME", false),
			center(pw*2+2, paddrHdr, false), "NODE", "STATE", "START_SECTION_NO")
	} else {
		tw.printf("\n%s %s   %s    %-7s %-12s\n", center(16, "MEM_BLOCK", false), center(10, "NAME", false),
			center(pw*2, paddrHdr, false), "STATE", "START_SECTION_NO")
	}
	for _, b := range r.Blocks {
		var rng string
		if b.End == nil {
			rng = center(pw*2+3, strconv.FormatUint(uint64(b.Start), 16), false)
		} else {
			rng = fmt.Sprintf("%*x - %*x", pw, uint64(b.Start), pw, uint64(*b.End))
		}
		if withNode {
			tw.printf(" %-16x %s %s %s  %-7s %-12d\n", uint64(b.MemBlock), center(12, b.Name, false), rng,
				center(4, strconv.Itoa(b.Node), false), b.State, b.StartSection)
		} else {
			tw.printf(" %-16x %s %s  %-7s %-12d\n", uint64(b.MemBlock), center(10, b.Name, false), rng, b.State, b.StartSection)
		}
	}
	return tw.err
}
