package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// KmemInfo is kmem -i: the kernel's memory use, in pages.
type KmemInfo struct {
	PageSize  uint64 `json:"page_size"`
	TotalMem  uint64 `json:"total_mem"`
	Free      uint64 `json:"free"`
	Used      uint64 `json:"used"`
	Shared    uint64 `json:"shared"`
	Buffers   uint64 `json:"buffers"`
	Cached    uint64 `json:"cached"`
	Slab      uint64 `json:"slab"`
	HasHuge   bool   `json:"has_huge"`
	TotalHuge uint64 `json:"total_huge"`
	HugeFree  uint64 `json:"huge_free"`
	HasSwap   bool   `json:"has_swap"`
	TotalSwap uint64 `json:"total_swap"`
	SwapUsed  uint64 `json:"swap_used"`
	SwapFree  uint64 `json:"swap_free"`
	HasCommit bool   `json:"has_commit"`
	// CommitLimit and Committed are /proc/meminfo's CommitLimit and
	// Committed_AS, in pages.
	CommitLimit uint64 `json:"commit_limit"`
	Committed   uint64 `json:"committed"`
	// Unavailable says, by section ("huge", "swap", "commit"), why a
	// section the kernel may have could not be read: a dump opened without
	// a vmlinux whose kallsyms has only text lacks its symbols.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// kmemInfo gathers kmem -i from the kernel's counters, but for SHARED:
// crash 8.0.2 counts it from a walk of the whole memory map (the pages not
// PG_reserved with a reference count above 1; no counter holds it), and so
// does MemInfo, the one part of kmem -i whose cost grows with the
// machine's memory (a page of mem_map per 64 pages of RAM). SLAB, TOTAL
// MEM, FREE, BUFFERS and CACHED come from counters (the walk's PG_slab
// count only where vm_stat has no slab counter, as in crash). crash 9.0
// stopped walking the map unless asked (kmem -i=shared).
func kmemInfo(s *Session) (Result, error) {
	k := s.Kernel
	m, err := k.MemInfo()
	if err != nil {
		return nil, err
	}
	r := &KmemInfo{PageSize: k.Arch.PageSize(), TotalMem: m.TotalRAM, Free: m.Free, Shared: m.Shared, Buffers: m.Buffers,
		HasHuge: m.HasHuge, TotalHuge: m.HugeTotal, HugeFree: m.HugeFree,
		HasSwap: m.HasSwap, TotalSwap: m.SwapTotal, SwapUsed: m.SwapUsed, SwapFree: m.SwapTotal - m.SwapUsed,
		HasCommit: m.HasCommit, CommitLimit: m.CommitLimit, Committed: m.Committed}
	if s.textOnlySymbols() {
		for section, what := range m.Missing {
			if r.Unavailable == nil {
				r.Unavailable = map[string]string{}
			}
			r.Unavailable[section] = what + " not found: the dump's kallsyms has only text"
		}
	}
	r.Used = m.TotalRAM - m.Free
	if c := int64(m.FilePages) - int64(m.SwapCache) - int64(m.Buffers); c > 0 {
		r.Cached = uint64(c)
	}
	r.Slab = m.SlabPages
	if m.HasSlab {
		r.Slab = m.Slab
	}
	if len(r.Unavailable) > 0 {
		var names []string
		for _, sec := range []string{"huge", "swap", "commit"} {
			if _, ok := r.Unavailable[sec]; ok {
				names = append(names, sec)
			}
		}
		return r, fmt.Errorf("%d sections unavailable: %s", len(names), strings.Join(names, ", "))
	}
	return r, nil
}

// pagesToSize is crash's pages_to_size: "0", "N KB", "N.N MB", "N.N GB",
// a ".0" dropped.
func pagesToSize(pages, pageSize uint64) string {
	if pages == 0 {
		return "0"
	}
	total := float64(pages) * float64(pageSize)
	var s string
	switch {
	case total >= 1<<30:
		s = fmt.Sprintf("%.1f GB", total/(1<<30))
	case total >= 1<<20:
		s = fmt.Sprintf("%.1f MB", total/(1<<20))
	default:
		s = fmt.Sprintf("%d KB", uint64(total/1024))
	}
	return strings.Replace(s, ".0 ", " ", 1)
}

func pct(n, of uint64) uint64 {
	if of == 0 {
		return 0
	}
	return n * 100 / of
}

func (r *KmemInfo) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	ps := r.PageSize
	total := func(label string, n uint64) {
		tw.printf("%13s  %7d  %11s         ----\n", label, n, pagesToSize(n, ps))
	}
	row := func(label string, n, of uint64, ofName string) {
		tw.printf("%13s  %7d  %11s  %3d%% of %s\n", label, n, pagesToSize(n, ps), pct(n, of), ofName)
	}
	tw.println("                 PAGES        TOTAL      PERCENTAGE")
	total("TOTAL MEM", r.TotalMem)
	row("FREE", r.Free, r.TotalMem, "TOTAL MEM")
	row("USED", r.Used, r.TotalMem, "TOTAL MEM")
	row("SHARED", r.Shared, r.TotalMem, "TOTAL MEM")
	row("BUFFERS", r.Buffers, r.TotalMem, "TOTAL MEM")
	row("CACHED", r.Cached, r.TotalMem, "TOTAL MEM")
	row("SLAB", r.Slab, r.TotalMem, "TOTAL MEM")
	// A section that could not be read: its first row's label and why.
	unavailable := func(section, label string) {
		if why, ok := r.Unavailable[section]; ok {
			tw.printf("%13s  (unavailable: %s)\n", label, why)
		}
	}
	if r.HasHuge {
		tw.println("")
		total("TOTAL HUGE", r.TotalHuge)
		row("HUGE FREE", r.HugeFree, r.TotalHuge, "TOTAL HUGE")
	} else if _, ok := r.Unavailable["huge"]; ok {
		tw.println("")
		unavailable("huge", "TOTAL HUGE")
	}
	tw.println("")
	if r.HasSwap {
		total("TOTAL SWAP", r.TotalSwap)
		row("SWAP USED", r.SwapUsed, r.TotalSwap, "TOTAL SWAP")
		row("SWAP FREE", r.SwapFree, r.TotalSwap, "TOTAL SWAP")
	} else {
		unavailable("swap", "TOTAL SWAP")
	}
	if !r.HasCommit {
		if _, ok := r.Unavailable["commit"]; ok {
			tw.println("")
			unavailable("commit", "COMMIT LIMIT")
		}
	}
	if r.HasCommit {
		tw.println("")
		total("COMMIT LIMIT", r.CommitLimit)
		if r.CommitLimit != 0 {
			row("COMMITTED", r.Committed, r.CommitLimit, "TOTAL LIMIT")
		} else {
			total("COMMITTED", r.Committed)
		}
	}
	return tw.err
}

// KmemHstate is one huge page size of kmem -h.
type KmemHstate struct {
	Hstate Hex    `json:"hstate"`
	Size   uint64 `json:"size"` // bytes
	Free   int64  `json:"free"`
	Total  int64  `json:"total"`
	Name   string `json:"name"`
}

// KmemHstates is kmem -h.
type KmemHstates struct {
	Hstates []KmemHstate `json:"hstates"`
}

func kmemHstates(s *Session) (Result, error) {
	k := s.Kernel
	hs, err := k.Hstates()
	r := &KmemHstates{Hstates: []KmemHstate{}}
	for _, h := range hs {
		r.Hstates = append(r.Hstates, KmemHstate{Hstate: Hex(h.Addr), Size: k.Arch.PageSize() << h.Order, Free: h.Free, Total: h.Total, Name: h.Name})
	}
	return r, err
}

func (r *KmemHstates) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("%s   SIZE    FREE   TOTAL  NAME\n", center(16, "HSTATE", false))
	for _, h := range r.Hstates {
		// crash's pages_to_size with its space removed: "2MB", "1GB".
		size := strings.Replace(pagesToSize(h.Size, 1), " ", "", 1)
		tw.printf("%x  %5s  %6d  %6d  %s\n", uint64(h.Hstate), size, h.Free, h.Total, h.Name)
	}
	return tw.err
}

// KmemCPUOffset is one CPU's per-CPU offset.
type KmemCPUOffset struct {
	CPU     int  `json:"cpu"`
	Offset  Hex  `json:"offset"`
	Offline bool `json:"offline"`
}

// KmemPerCPU is kmem -o.
type KmemPerCPU struct {
	CPUs []KmemCPUOffset `json:"cpus"`
}

func kmemPerCPU(s *Session) (Result, error) {
	k := s.Kernel
	n, _, err := k.CPUs()
	if err != nil {
		return nil, err
	}
	r := &KmemPerCPU{CPUs: []KmemCPUOffset{}}
	for c := 0; c < n; c++ {
		off, err := k.PerCPUOffset(c)
		if err != nil {
			return r, err
		}
		on, err := k.CPUOnline(c)
		r.CPUs = append(r.CPUs, KmemCPUOffset{CPU: c, Offset: Hex(off), Offline: err == nil && !on})
	}
	return r, nil
}

func (r *KmemPerCPU) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.println("PER-CPU OFFSET VALUES:")
	for _, c := range r.CPUs {
		off := ""
		if c.Offline {
			off = " [OFFLINE]"
		}
		tw.printf("%7s: %x%s\n", "CPU "+strconv.Itoa(c.CPU), uint64(c.Offset), off)
	}
	return tw.err
}
