package kernel

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// Node is one memory node: its pglist_data and its zones.
type Node struct {
	ID       int
	Pgdat    uint64 // the pglist_data
	StartPFN uint64 // node_start_pfn
	Spanned  uint64 // node_spanned_pages
	Present  uint64 // node_present_pages
	// MemMap is the struct page of the node's first frame (node_mem_map,
	// or the memory map's page of StartPFN); 0 when it has none.
	MemMap uint64
	Zones  []Zone
}

// Zone is one struct zone of a node.
type Zone struct {
	Node     int
	Index    int    // in pglist_data.node_zones[]
	Addr     uint64 // the struct zone
	Name     string
	StartPFN uint64 // zone_start_pfn
	Spanned  uint64 // spanned_pages
	Present  uint64 // present_pages
	// Watermarks are the min, low and high watermarks (_watermark[] or
	// watermark[]), without any boost.
	Watermarks [3]uint64
	// VMStat is the zone's vm_stat[] (enum zone_stat_item); Free is its
	// NR_FREE_PAGES.
	VMStat []int64
	Free   int64
	// MemMap is the struct page of StartPFN, 0 for an empty zone.
	MemMap uint64
	// FreeArea is the address of free_area[0].
	FreeArea uint64
}

// FreeList is one list of free blocks of the buddy allocator:
// zone.free_area[Order].free_list[Type].
type FreeList struct {
	Order int
	Type  int    // the migrate type
	Head  uint64 // the list_head
	// Pages are the struct pages heading the free blocks, in list order.
	Pages []uint64
}

// Zones reads the memory nodes and their zones (pglist_data, struct zone)
// and the buddy allocator's free lists, over a Reader, a Layout and
// Symbols, the vmlinux's types (for array bounds and enum lists) and the
// memory map (Pages) for a frame's struct page.
type Zones struct {
	Reader
	Layout
	Symbols
	enums    Enumerators // nil without a vmlinux
	types    typeSource  // nil without a vmlinux
	pages    *Pages
	pageSize uint64

	once  sync.Once
	cache zoneLayout
}

// NewZones reads zones through r, l and s; enums and types may be nil.
func NewZones(r Reader, l Layout, s Symbols, enums Enumerators, types typeSource, pages *Pages, pageSize uint64) *Zones {
	return &Zones{Reader: r, Layout: l, Symbols: s, enums: enums, types: types, pages: pages, pageSize: pageSize}
}

type zoneLayout struct {
	err                                  error
	zoneSize                             uint64
	nrZones                              int
	nodeZones, nodeID, nodeStart         int64
	nodeSpanned, nodePresent, nodeMemMap int64 // nodeMemMap -1 when absent
	name, start, spanned, present        int64
	watermark                            int64
	wmark                                [3]int64
	vmStat                               int64
	nrVMStat                             int
	freeArea                             int64
	freeAreaSize                         uint64
	nrOrders, nrTypes                    int
	listHeadSize                         uint64
	pageLRU                              int64
	freePagesIdx                         int
}

func (k *Zones) layout() (*zoneLayout, error) {
	c := &k.cache
	k.once.Do(func() { c.err = k.initLayout(c) })
	return c, c.err
}

// arrayLen is the outer bound of member m of struct s, from the types.
func arrayLen(types typeSource, s, m string) (int, error) {
	if types == nil {
		return 0, fmt.Errorf("the length of %s.%s needs the vmlinux's types", s, m)
	}
	ts, err := types.Types()
	if err != nil {
		return 0, err
	}
	t, err := ts.Lookup("struct " + s)
	if err != nil {
		return 0, err
	}
	mem, err := t.MemberPath(m)
	if err != nil {
		return 0, err
	}
	at := mem.Type.Strip()
	if at == nil || at.Kind != symbols.TypeArray || len(at.Dims) == 0 || at.Dims[0] < 0 {
		return 0, fmt.Errorf("%s.%s is not an array", s, m)
	}
	return int(at.Dims[0]), nil
}

// memberSize is sizeof(s.m) from the types; def without them.
func memberSize(types typeSource, s, m string, def int64) int64 {
	if types == nil {
		return def
	}
	ts, err := types.Types()
	if err != nil {
		return def
	}
	t, err := ts.Lookup("struct " + s)
	if err != nil {
		return def
	}
	mem, err := t.MemberPath(m)
	if err != nil || mem.Type == nil {
		return def
	}
	if n := mem.Type.Sizeof(); n > 0 {
		return n
	}
	return def
}

func (k *Zones) initLayout(c *zoneLayout) error {
	sz, err := k.Size("zone")
	if err != nil {
		return err
	}
	c.zoneSize = uint64(sz)
	off := func(s, m string) int64 {
		if err != nil {
			return 0
		}
		var o int64
		o, err = k.Offset(s, m)
		return o
	}
	c.nodeZones = off("pglist_data", "node_zones")
	c.nodeID = off("pglist_data", "node_id")
	c.nodeStart = off("pglist_data", "node_start_pfn")
	c.nodeSpanned = off("pglist_data", "node_spanned_pages")
	c.nodePresent = off("pglist_data", "node_present_pages")
	c.name = off("zone", "name")
	c.start = off("zone", "zone_start_pfn")
	c.spanned = off("zone", "spanned_pages")
	c.present = off("zone", "present_pages")
	c.vmStat = off("zone", "vm_stat")
	c.freeArea = off("zone", "free_area")
	c.pageLRU = off("page", "lru")
	if err != nil {
		return err
	}
	if c.nodeMemMap, err = k.Offset("pglist_data", "node_mem_map"); symbols.IsMissing(err) {
		c.nodeMemMap, err = -1, nil
	} else if err != nil {
		return err
	}
	if c.watermark, err = k.Offset("zone", "_watermark"); symbols.IsMissing(err) {
		c.watermark, err = k.Offset("zone", "watermark")
	}
	if err != nil {
		return err
	}
	c.wmark = [3]int64{0, 1, 2}
	if k.enums != nil {
		for i, n := range []string{"WMARK_MIN", "WMARK_LOW", "WMARK_HIGH"} {
			if v, err := k.enums.Enumerator(n); err == nil {
				c.wmark[i] = v
			}
		}
	}
	if k.enums == nil {
		return fmt.Errorf("zones need the vmlinux's enumerators")
	}
	nz, err := k.enums.Enumerator("__MAX_NR_ZONES")
	if err != nil {
		return err
	}
	c.nrZones = int(nz)
	nv, err := k.enums.Enumerator("NR_VM_ZONE_STAT_ITEMS")
	if err != nil {
		return err
	}
	c.nrVMStat = int(nv)
	fp, err := k.enums.Enumerator("NR_FREE_PAGES")
	if err != nil {
		return err
	}
	c.freePagesIdx = int(fp)
	fas, err := k.Size("free_area")
	if err != nil {
		return err
	}
	c.freeAreaSize = uint64(fas)
	lh, err := k.Size("list_head")
	if err != nil {
		return err
	}
	c.listHeadSize = uint64(lh)
	if c.nrOrders, err = k.memberLen("zone", "free_area", "free_area"); err != nil {
		return err
	}
	if c.nrTypes, err = k.memberLen("free_area", "free_list", "list_head"); err != nil {
		return err
	}
	return nil
}

// memberLen is the element count of the array member s.m of elements of
// struct elem: from VMCOREINFO's LENGTH() or the layouts' sizes when the
// layout answers it (a TypeLayout), else from the vmlinux's types.
func (k *Zones) memberLen(s, m, elem string) (int, error) {
	if l, ok := k.Layout.(interface {
		MemberLen(s, m, elem string) (int, error)
	}); ok {
		if n, err := l.MemberLen(s, m, elem); err == nil {
			return n, nil
		}
	}
	return arrayLen(k.types, s, m)
}

// onlineNodes returns the pglist_data of each online node, by node id:
// node_data[] over the online node mask (node_online_map, or
// node_states[N_ONLINE]), else contig_page_data.
func (k *Zones) onlineNodes() ([]uint64, error) {
	nd, err := k.SymbolAddr("node_data")
	if symbols.IsMissing(err) {
		cp, err := k.SymbolAddr("contig_page_data")
		if err != nil {
			return nil, err
		}
		return []uint64{cp}, nil
	} else if err != nil {
		return nil, err
	}
	words, err := k.Size("nodemask_t")
	if symbols.IsMissing(err) {
		words = 8
	} else if err != nil {
		return nil, err
	}
	mask, err := k.SymbolAddr("node_online_map")
	if symbols.IsMissing(err) {
		states, err2 := k.SymbolAddr("node_states")
		if err2 != nil {
			return nil, err2
		}
		if k.enums == nil {
			return nil, err
		}
		online, err2 := k.enums.Enumerator("N_ONLINE")
		if err2 != nil {
			return nil, err2
		}
		mask, err = states+uint64(online)*uint64(words), nil
	}
	if err != nil {
		return nil, err
	}
	var out []uint64
	for w := uint64(0); w < uint64(words)/8; w++ {
		m, err := k.ReadU64(mask + 8*w)
		if err != nil {
			return nil, err
		}
		for m != 0 {
			node := w*64 + uint64(bits.TrailingZeros64(m))
			m &= m - 1
			p, err := k.ReadU64(nd + 8*node)
			if err != nil {
				return nil, err
			}
			if p != 0 {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Nodes reads every online memory node and its zones.
func (k *Zones) Nodes() ([]Node, error) {
	c, err := k.layout()
	if err != nil {
		return nil, err
	}
	pgdats, err := k.onlineNodes()
	if err != nil {
		return nil, err
	}
	var out []Node
	for _, p := range pgdats {
		n, err := k.readNode(c, p)
		if err != nil {
			return out, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (k *Zones) readNode(c *zoneLayout, p uint64) (Node, error) {
	n := Node{Pgdat: p}
	id, err := k.ReadU32(p + uint64(c.nodeID))
	if err != nil {
		return n, fmt.Errorf("pglist_data %x: %w", p, err)
	}
	n.ID = int(int32(id))
	for _, f := range []struct {
		dst *uint64
		off int64
	}{{&n.StartPFN, c.nodeStart}, {&n.Spanned, c.nodeSpanned}, {&n.Present, c.nodePresent}} {
		if *f.dst, err = k.ReadU64(p + uint64(f.off)); err != nil {
			return n, fmt.Errorf("pglist_data %x: %w", p, err)
		}
	}
	if c.nodeMemMap >= 0 {
		n.MemMap, _ = k.ReadU64(p + uint64(c.nodeMemMap))
	}
	if n.MemMap == 0 {
		n.MemMap, _ = k.pages.PageAddr(n.StartPFN)
	}
	for i := 0; i < c.nrZones; i++ {
		z, err := k.readZone(c, n.ID, i, p+uint64(c.nodeZones)+uint64(i)*c.zoneSize)
		if err != nil {
			return n, err
		}
		n.Zones = append(n.Zones, z)
	}
	return n, nil
}

func (k *Zones) readZone(c *zoneLayout, node, i int, a uint64) (Zone, error) {
	z := Zone{Node: node, Index: i, Addr: a, FreeArea: a + uint64(c.freeArea)}
	buf := make([]byte, c.zoneSize)
	if err := k.ReadVirt(buf, a); err != nil {
		return z, fmt.Errorf("zone %x: %w", a, err)
	}
	bo := k.ByteOrder()
	u64 := func(off int64) uint64 { return bo.Uint64(buf[off:]) }
	if name := u64(c.name); name != 0 {
		z.Name, _ = k.ReadCString(name, 64)
	}
	z.StartPFN, z.Spanned, z.Present = u64(c.start), u64(c.spanned), u64(c.present)
	for j, w := range c.wmark {
		z.Watermarks[j] = u64(c.watermark + 8*w)
	}
	z.VMStat = make([]int64, c.nrVMStat)
	for j := range z.VMStat {
		z.VMStat[j] = int64(u64(c.vmStat + 8*int64(j)))
	}
	if c.freePagesIdx < len(z.VMStat) {
		z.Free = z.VMStat[c.freePagesIdx]
	}
	if z.Spanned != 0 {
		z.MemMap, _ = k.pages.PageAddr(z.StartPFN)
	}
	return z, nil
}

// FreeOrders is the number of orders of the buddy allocator (MAX_ORDER,
// the length of zone.free_area[]) and of migrate types (the length of
// free_area.free_list[]).
func (k *Zones) FreeOrders() (orders, types int, err error) {
	c, err := k.layout()
	if err != nil {
		return 0, 0, err
	}
	return c.nrOrders, c.nrTypes, nil
}

// FreeLists walks the zone's free lists, order by order and in each order
// migrate type by migrate type. A list that cannot be walked ends the
// walk with an error, after the lists read before it.
func (k *Zones) FreeLists(z Zone) ([]FreeList, error) {
	c, err := k.layout()
	if err != nil {
		return nil, err
	}
	var out []FreeList
	for o := 0; o < c.nrOrders; o++ {
		for t := 0; t < c.nrTypes; t++ {
			head := z.FreeArea + uint64(o)*c.freeAreaSize + uint64(t)*c.listHeadSize
			fl := FreeList{Order: o, Type: t, Head: head}
			err := walkList(k, head, func(node uint64) error {
				fl.Pages = append(fl.Pages, node-uint64(c.pageLRU))
				return nil
			})
			out = append(out, fl)
			if err != nil {
				return out, fmt.Errorf("corrupted free list %d from free_area struct: %x", t, z.FreeArea+uint64(o)*c.freeAreaSize)
			}
		}
	}
	return out, nil
}
