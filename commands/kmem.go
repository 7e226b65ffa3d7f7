package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func kmemCommand() *Command {
	return &Command{
		Name:     "kmem",
		Synopsis: "kmem [-f|-F|-i|-v|-V|-n|-z|-o|-h|-s|-S [-I slab[,slab]]] [-p | -m member[,member]] [-g [flags]] [address ...]",
		Summary:  "kernel memory",
		Help: `Shows the kernel's memory as crash's kmem does, one option at a time.

-i is the memory use summary: total, free, used, shared, buffer, page
cache and slab pages, huge pages, swap, and the commit limit and committed
memory, with their sizes and percentages. Shared pages are counted over the
memory map (pages not PG_reserved with a reference count above 1), slab
pages from the kernel's vm_stat (NR_SLAB_RECLAIMABLE_B and
NR_SLAB_UNRECLAIMABLE_B, as /proc/meminfo's Slab), and committed memory is
vm_committed_as with its per-CPU counts (as /proc/meminfo's Committed_AS).
Opened without a vmlinux, from a dump whose kallsyms names only text, a
section whose data symbols the dump does not give (huge pages, swap, the
commit limit) is shown as its first row's label and "(unavailable: why)",
and the command reports which sections were unavailable.

-f lists each zone's buddy allocator free areas: for every order and
migrate type the free_area list head, the number of free blocks and their
pages, then the sum of the zones' NR_FREE_PAGES and whether the lists hold
as many pages. -F lists the struct page of every free block instead.

-z shows each zone: its size, present pages, watermarks and vm_stat
counters. -n shows the memory nodes (pglist_data, node_zones, mem_map),
each node's zones, the SPARSEMEM memory sections (struct mem_section, the
encoded and decoded memory map, the section state: P present, M has a
memory map, O online, E early, D zone device) and the memory block
devices. -V shows the kernel's vm_zone_stat, vm_node_stat (and
vm_numa_stat) counters and the vm_event_states counters summed over the
CPUs. -v lists the vmalloc areas (vmap_area, vm_struct, address range,
size); with addresses, only the areas holding them. -o shows each CPU's
per-CPU offset. -h shows the huge page sizes (hstates) with their free
and total pages. -g lists the page flags (enum pageflags) with their bits
and values; with values, the flags set in each.

-p shows the struct page of each address: the struct page, the physical
address of its page, page.mapping, page.index, the reference count, and
page.flags with the names of its flag bits. An address is a struct page,
a kernel virtual address (its page is shown), or else a physical address.
-m shows the named struct page members of each address's page instead
(flags in hex, counts and other integers in decimal, pointers and structs
in hex, as crash prints them); without addresses, of every struct page of
the memory map (each present memory section's). -p without addresses
(the whole map in -p's form) is not implemented. -s lists the slab caches
(SLUB), -S each cache's slabs and objects too; with addresses alone, kmem
says what each address is: the kernel symbol, vmalloc area, slab object,
task and struct page holding it.`,
		Options: append([]Option{
			{"-i", "the memory use summary"},
			{"-f", "the free areas of each zone, with block counts"},
			{"-F", "the free areas of each zone, with every free block's struct page"},
			{"-z", "each zone's sizes, watermarks and vm_stat counters"},
			{"-n", "the memory nodes, their zones, memory sections and memory blocks"},
			{"-v", "the vmalloc areas"},
			{"-V", "the vm_stat and vm_event counters"},
			{"-o", "each CPU's per-CPU offset"},
			{"-h", "the huge page sizes"},
			{"-g", "the page flags; with values, the flags set in each"},
			{"-p", "the struct page of each address"},
			{"-m member[,member]", "the named struct page members of each address's page, or of every page"},
			{"address", "a struct page, kernel virtual or physical address, or a flags value for -g, hexadecimal; with no option, what each address is"},
		}, kmemSlabOptions...),
		Examples: []string{"gocrash> kmem -i", "gocrash> kmem -f", "gocrash> kmem -z", "gocrash> kmem -n", "gocrash> kmem -V",
			"gocrash> kmem -v", "gocrash> kmem -o", "gocrash> kmem -h", "gocrash> kmem -g 17ffffc0010000",
			"gocrash> kmem -p 1000000", "gocrash> kmem -m flags,_refcount 1000000", "gocrash> kmem -m flags,mapping",
			"gocrash> kmem -s", "gocrash> kmem -S kmalloc-64", "gocrash> kmem ffff8880049a3000"},
		Results: []Result{&KmemInfo{}, &KmemFreeAreas{}, &KmemZones{}, &KmemNodes{}, &KmemVmalloc{}, &KmemVMStat{},
			&KmemPerCPU{}, &KmemHstates{}, &KmemPageFlags{}, &PageTable{}, &KmemPageMembers{}, &KmemSlabResult{}, &KmemAddrResult{}},
		Run: runKmem,
	}
}

// runKmem dispatches on the option: one call per option.
func runKmem(ctx context.Context, s *Session, a *Args) (Result, error) {
	if kmemSlabWanted(a) { // -s, -S, or addresses alone
		return runKmemSlab(ctx, s, a)
	}
	// crash allows one of these at a time (-m counts as -p).
	if g := a.Given("p", "m", "f", "F", "V", "o", "v", "i", "g", "h"); len(g) > 1 && !(len(g) == 2 && a.Has("p") && a.Has("m")) {
		return nil, &UsageError{"only one flag allowed!"}
	}
	noWords := func() error {
		if len(a.Words) > 0 {
			return &UsageError{"no address arguments allowed with this option"}
		}
		return nil
	}
	switch {
	case a.Has("i"):
		if err := noWords(); err != nil {
			return nil, err
		}
		return kmemInfo(s)
	case a.Has("f") || a.Has("F"):
		if len(a.Words) > 0 {
			return nil, &UsageError{"kmem -f with an address is not implemented"}
		}
		return kmemFreeAreas(ctx, s, a.Last("f", "F") == "F")
	case a.Has("V"):
		if err := noWords(); err != nil {
			return nil, err
		}
		return kmemVMStat(s)
	case a.Has("o"):
		if err := noWords(); err != nil {
			return nil, err
		}
		return kmemPerCPU(s)
	case a.Has("v"):
		return kmemVmalloc(s, a.Words)
	case a.Has("h"):
		if err := noWords(); err != nil {
			return nil, err
		}
		return kmemHstates(s)
	case a.Has("g"):
		return kmemPageFlags(s, a.Words)
	case a.Has("m"):
		v, _ := a.Value("m")
		return kmemPageMembers(ctx, s, v, a.Words)
	case a.Has("p"):
		return kmemPages(s, a.Words)
	case a.Has("z"):
		if err := noWords(); err != nil {
			return nil, err
		}
		return kmemZones(s)
	case a.Has("n"):
		if err := noWords(); err != nil {
			return nil, err
		}
		return kmemNodes(s)
	}
	return nil, &UsageError{"an option is required (kmem -i, -f, -F, -z, -n, -v, -V, -o, -h, -g, -p, -m)"}
}

// kmemAddrPages reads the struct page of each address: a struct page, a
// kernel virtual address or a physical address.
func kmemAddrPages(s *Session, words []string) ([]kernel.Page, error) {
	k := s.Kernel
	var pages []kernel.Page
	for _, w := range words {
		addr, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
		if err != nil {
			return pages, fmt.Errorf("invalid address: %s", w)
		}
		phys := addr
		if pfn, ok := k.PagePFN(addr); ok {
			phys = pfn * k.Arch.PageSize()
		} else if addr>>63 != 0 {
			if phys, err = k.VirtToPhys(addr); err != nil {
				return pages, readError(addr, "KVADDR", err)
			}
		}
		p, err := k.PageOf(phys)
		if err != nil {
			return pages, err
		}
		pages = append(pages, p)
	}
	return pages, nil
}

// kmemPages is kmem -p address ...
func kmemPages(s *Session, words []string) (Result, error) {
	if len(words) == 0 {
		return nil, &UsageError{"kmem -p needs addresses: the whole memory map is not listed"}
	}
	pages, err := kmemAddrPages(s, words)
	if err != nil {
		return nil, err
	}
	return newPageTable(s, pages), nil
}
