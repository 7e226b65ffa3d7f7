package kernel

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/gocrash/gocrash/arch"
)

// Searching memory reads only what the dump holds: the regions to search
// are cut into segments of virtually contiguous pages, each made of
// physical pieces that the dump has (memory.Dump.Present), and read a
// megabyte at a time. No page is faulted in one by one to find out it is
// missing.

// RegionKind names a region of kernel virtual address space, as crash's
// search orders and selects them.
type RegionKind int

const (
	RegionDirectMap   RegionKind = iota // the direct (unity) map of RAM
	RegionKernelImage                   // the kernel image mapping (x86_64's __START_KERNEL_map and up)
	RegionVmalloc                       // vmalloc areas (modules among them)
	RegionVmemmap                       // the virtual memory map of struct pages
)

// KernelRegion is a range of kernel virtual addresses of one kind.
type KernelRegion struct {
	Kind       RegionKind
	Start, End uint64
}

// SearchPiece is a run of a segment whose physical bytes are contiguous.
type SearchPiece struct{ Virt, Phys, Size uint64 }

// SearchSegment is a run of contiguous addresses (virtual, user or
// physical) that can all be read: its pieces, in order, cover it.
type SearchSegment struct {
	Start, End uint64
	Pieces     []SearchPiece
}

// SearchMode is the unit compared.
type SearchMode int

const (
	SearchLong  SearchMode = 8
	SearchInt   SearchMode = 4
	SearchShort SearchMode = 2
	SearchChars SearchMode = 1
)

// SearchQuery is what to look for: Values (compared with Mask's bits
// ignored) in units of Mode bytes at aligned addresses, or, for
// SearchChars, Strings at any address.
type SearchQuery struct {
	Mode    SearchMode
	Values  []uint64
	Mask    uint64
	Strings [][]byte
	// PageSize is the unit crash reads and reports string context within
	// (a match's context stops at its page's end unless the match itself
	// crosses into the next page).
	PageSize uint64
}

// SearchHit is one match.
type SearchHit struct {
	Addr  uint64
	Which int    // the index of the value or string that matched
	Value uint64 // the unit read there
	// Context is, for a string, the bytes from the match on as crash
	// shows them: 56 at most, to its page's end.
	Context []byte
}

// charsContext is crash's CHARS_CTX.
const charsContext = 56

// KernelSearchRegions lists the regions of kernel virtual memory, sorted
// by start address as crash's search takes them: the direct map up to
// high_memory, the vmalloc areas (up to the end of the last), the
// vmemmap (to the end of the last struct page) and the kernel image
// mapping.
func (k *Kernel) KernelSearchRegions() ([]KernelRegion, error) {
	var out []KernelRegion
	ps := k.Arch.PageSize()
	if delta, ok := k.directMapDelta(); ok {
		base := delta + k.Dump.Ranges()[0].Start
		end := uint64(0)
		if a, err := k.SymbolAddr("high_memory"); err == nil {
			end, _ = k.ReadU64(a)
		}
		if end <= base {
			for _, r := range k.Dump.Ranges() {
				if v, err := k.Arch.PhysToVirt(r.End); err == nil && v > end {
					end = v
				}
			}
		}
		out = append(out, KernelRegion{RegionDirectMap, base, end})
	}
	if areas, err := k.VmapAreas(); err == nil && len(areas) > 0 {
		start := areas[0].Start
		if a, err := k.SymbolAddr("vmalloc_base"); err == nil {
			if v, err := k.ReadU64(a); err == nil && v != 0 && v <= start {
				start = v
			}
		}
		out = append(out, KernelRegion{RegionVmalloc, start, areas[len(areas)-1].End})
	}
	if vm := k.VmemmapBase(); vm != 0 {
		if a, err := k.SymbolAddr("max_pfn"); err == nil {
			if n, err := k.ReadU64(a); err == nil {
				if sz, err := k.Size("page"); err == nil {
					end := vm + n*uint64(sz)
					out = append(out, KernelRegion{RegionVmemmap, vm, (end + ps - 1) &^ (ps - 1)})
				}
			}
		}
	}
	text, err1 := k.SymbolAddr("_text")
	end, err2 := k.SymbolAddr("_end")
	if err1 == nil && err2 == nil {
		start := text
		if im, ok := k.Arch.(kernelImageMap); ok {
			// The image mapping starts below _text (x86_64's
			// __START_KERNEL_map): image base = vaddr - phys(vaddr) +
			// phys_base. crash reads all of it by that linear
			// formula; the kernel's page tables map only the image
			// itself (cleanup_highmap clears the rest, and freed
			// __init pages are unmapped), and only what they map is
			// searched here, so addresses the kernel cannot read are
			// not reported (crash reports its direct-map hits there
			// a second time).
			start = text - im.KernelImagePhys(text) + im.PhysBase()
		}
		out = append(out, KernelRegion{RegionKernelImage, start, (end + ps - 1) &^ (ps - 1)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, nil
}

// directMapDelta is what the direct map adds to a physical address (the
// map may start at the first RAM page, as arm64's at PHYS_OFFSET).
func (k *Kernel) directMapDelta() (uint64, bool) {
	rs := k.Dump.Ranges()
	if len(rs) == 0 {
		return 0, false
	}
	v, err := k.Arch.PhysToVirt(rs[0].Start)
	if err != nil {
		return 0, false
	}
	return v - rs[0].Start, true
}

// kernelImageMap is an architecture whose kernel image mapping is linear
// (x86_64).
type kernelImageMap interface {
	KernelImagePhys(vaddr uint64) uint64
	PhysBase() uint64
}

// KernelSegments cuts [start, end) of a kernel region into readable
// segments.
func (k *Kernel) KernelSegments(r KernelRegion, start, end uint64) []SearchSegment {
	start, end = max(start, r.Start), min(end, r.End)
	if start >= end {
		return nil
	}
	switch r.Kind {
	case RegionDirectMap:
		base, _ := k.directMapDelta() // virt = phys + base
		var segs []SearchSegment
		for _, p := range k.Dump.Present() {
			vs, ve := base+p.Start, base+p.End
			if ve <= start || vs >= end {
				continue
			}
			vs, ve = max(vs, start), min(ve, end)
			segs = appendPiece(segs, SearchPiece{vs, vs - base, ve - vs})
		}
		return segs
	case RegionVmalloc:
		areas, _ := k.VmapAreas()
		var segs []SearchSegment
		for _, a := range areas {
			if a.End <= start || a.Start >= end {
				continue
			}
			segs = append(segs, k.WalkSegments(max(a.Start, start), min(a.End, end))...)
		}
		return mergeSegments(segs)
	}
	return k.WalkSegments(start, end)
}

// WalkSegments cuts [start, end) of kernel virtual memory into readable
// segments through the kernel page tables.
func (k *Kernel) WalkSegments(start, end uint64) []SearchSegment {
	return walkPages(start, end, k.Arch.PageSize(), k.Arch.KernelWalk, k.presentCheck())
}

// UserSegments cuts a task's VMAs, clipped to [start, end), into readable
// segments through its page tables.
func (k *Kernel) UserSegments(task, start, end uint64) ([]SearchSegment, error) {
	mm, err := k.TaskMM(task)
	if err != nil {
		return nil, err
	}
	vmas, err := k.VMAs(mm)
	if err != nil {
		return nil, err
	}
	walk := func(v uint64) (arch.Translation, error) { return k.UserWalk(task, v) }
	var segs []SearchSegment
	for _, v := range vmas {
		if v.End <= start || v.Start >= end {
			continue
		}
		segs = append(segs, walkPages(max(v.Start, start), min(v.End, end), k.Arch.PageSize(), walk, k.presentCheck())...)
	}
	return mergeSegments(segs), nil
}

// PhysSegments cuts [start, end) of physical memory into what the dump
// holds.
func (k *Kernel) PhysSegments(start, end uint64) []SearchSegment {
	var segs []SearchSegment
	for _, p := range k.Dump.Present() {
		if p.End <= start || p.Start >= end {
			continue
		}
		s, e := max(p.Start, start), min(p.End, end)
		segs = appendPiece(segs, SearchPiece{s, s, e - s})
	}
	return segs
}

// presentCheck reports whether a physical page is held by the dump.
func (k *Kernel) presentCheck() func(phys uint64) bool {
	present := k.Dump.Present()
	return func(phys uint64) bool {
		i := sort.Search(len(present), func(i int) bool { return present[i].End > phys })
		return i < len(present) && present[i].Start <= phys
	}
}

// appendPiece adds a piece, extending the last segment when the piece
// continues it.
func appendPiece(segs []SearchSegment, p SearchPiece) []SearchSegment {
	if p.Size == 0 {
		return segs
	}
	if n := len(segs); n > 0 && segs[n-1].End == p.Virt {
		s := &segs[n-1]
		s.End += p.Size
		last := &s.Pieces[len(s.Pieces)-1]
		if last.Phys+last.Size == p.Phys {
			last.Size += p.Size
		} else {
			s.Pieces = append(s.Pieces, p)
		}
		return segs
	}
	return append(segs, SearchSegment{Start: p.Virt, End: p.Virt + p.Size, Pieces: []SearchPiece{p}})
}

func mergeSegments(in []SearchSegment) []SearchSegment {
	var out []SearchSegment
	for _, s := range in {
		for _, p := range s.Pieces {
			out = appendPiece(out, p)
		}
	}
	return out
}

// walkPages translates page by page (a large page at once) and keeps the
// pages the dump holds.
func walkPages(start, end, ps uint64, walk func(uint64) (arch.Translation, error), present func(uint64) bool) []SearchSegment {
	var segs []SearchSegment
	for v := start; v < end && v >= start; {
		t, err := walk(v)
		if err != nil {
			v = (v &^ (ps - 1)) + ps
			continue
		}
		size := t.PageSize
		if size == 0 {
			size = ps
		}
		n := min(size-(v&(size-1)), end-v)
		// Keep the base pages of a large page the dump holds.
		for off := uint64(0); off < n; {
			step := min(ps-((v+off)&(ps-1)), n-off)
			if present(t.Phys + off) {
				segs = appendPiece(segs, SearchPiece{v + off, t.Phys + off, step})
			}
			off += step
		}
		v += n
	}
	return segs
}

// Search scans segments for q and calls hit for each match, in address
// order. read fills a buffer from physical memory.
func Search(ctx context.Context, segs []SearchSegment, q SearchQuery, order binary.ByteOrder,
	read func(p []byte, phys uint64) error, hit func(SearchHit) bool) error {
	const chunk = 1 << 20
	ps := q.PageSize
	if ps == 0 {
		ps = 4096
	}
	look := uint64(0)
	if q.Mode == SearchChars {
		look = ps // a match crossing the chunk's end, and its context
	}
	// Chunks are read and scanned by a few workers (decompressing a
	// kdump file's pages is most of the work) and reported in order.
	type job struct {
		seg  *SearchSegment
		a, n uint64
		out  chan []SearchHit
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	jobs := make(chan job)
	pending := make(chan chan []SearchHit, 2*workers)
	go func() {
		defer close(jobs)
		defer close(pending)
		for i := range segs {
			seg := &segs[i]
			start := seg.Start
			if q.Mode != SearchChars {
				start = (start + 7) &^ 7
			}
			for a := start; a < seg.End; a += chunk {
				j := job{seg: seg, a: a, n: min(uint64(chunk), seg.End-a), out: make(chan []SearchHit, 1)}
				select {
				case pending <- j.out:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- j:
				case <-ctx.Done():
					j.out <- nil // its place in pending is answered
					return
				}
			}
		}
	}()
	// A panic in a worker (a corrupt page's decoder) is the search's
	// error: the job still answers, and the search stops.
	var failOnce sync.Once
	var failed error
	for w := 0; w < workers; w++ {
		go func() {
			buf := make([]byte, chunk+look)
			one := func(j job) (hits []SearchHit) {
				defer func() {
					if p := recover(); p != nil {
						failOnce.Do(func() { failed = fmt.Errorf("search at %x: internal error: %v", j.a, p) })
						cancel()
						hits = nil
					}
				}()
				m := min(j.n+look, j.seg.End-j.a)
				for _, r := range readRuns(buf[:m], j.a, j.seg.Pieces, read, ps) {
					hits = scan(hits, r.data, r.addr, min(r.addr+uint64(len(r.data)), j.a+j.n), j.seg.End, q, order, ps)
				}
				for i := range hits {
					hits[i].Context = append([]byte(nil), hits[i].Context...)
				}
				return hits
			}
			for j := range jobs {
				if ctx.Err() != nil {
					j.out <- nil
					continue
				}
				j.out <- one(j)
			}
		}()
	}
	for ch := range pending {
		hits := <-ch
		if err := ctx.Err(); err != nil {
			failOnce.Do(func() {}) // (a worker's panic, once recorded, stays)
			if failed != nil {
				return failed
			}
			return err
		}
		for _, h := range hits {
			if !hit(h) {
				cancel()
				for ch := range pending {
					<-ch
				}
				return nil
			}
		}
	}
	return ctx.Err()
}

type run struct {
	addr uint64
	data []byte
}

// readRuns fills b with the segment bytes at virtual address a; on a
// failed read it falls back to pages, and returns the readable runs.
func readRuns(b []byte, a uint64, pieces []SearchPiece, read func([]byte, uint64) error, ps uint64) []run {
	fill := func(dst []byte, v uint64) error {
		for len(dst) > 0 {
			i := sort.Search(len(pieces), func(i int) bool { return pieces[i].Virt+pieces[i].Size > v })
			if i == len(pieces) || pieces[i].Virt > v {
				return errNotHeld
			}
			p := pieces[i]
			n := min(uint64(len(dst)), p.Virt+p.Size-v)
			if err := read(dst[:n], p.Phys+(v-p.Virt)); err != nil {
				return err
			}
			dst, v = dst[n:], v+n
		}
		return nil
	}
	if fill(b, a) == nil {
		return []run{{a, b}}
	}
	var runs []run
	for off := uint64(0); off < uint64(len(b)); {
		step := min(ps-((a+off)&(ps-1)), uint64(len(b))-off)
		if fill(b[off:off+step], a+off) == nil {
			if n := len(runs); n > 0 && runs[n-1].addr+uint64(len(runs[n-1].data)) == a+off {
				runs[n-1].data = b[runs[n-1].addr-a : off+step]
			} else {
				runs = append(runs, run{a + off, b[off : off+step]})
			}
		}
		off += step
	}
	return runs
}

type searchError string

func (e searchError) Error() string { return string(e) }

const errNotHeld = searchError("not in the dump")

// scan finds matches starting in [addr, limit) of data (which starts at
// addr and may run past limit, up to the segment's end segEnd).
func scan(hits []SearchHit, data []byte, addr, limit, segEnd uint64, q SearchQuery, order binary.ByteOrder, ps uint64) []SearchHit {
	if limit <= addr {
		return hits
	}
	n := limit - addr
	switch q.Mode {
	case SearchChars:
		for j, s := range q.Strings {
			if len(s) == 0 {
				continue
			}
			for off := 0; uint64(off) < n; {
				i := bytes.Index(data[off:], s)
				if i < 0 || uint64(off+i) >= n {
					break
				}
				at := off + i
				m := addr + uint64(at)
				// crash's page: the context stops at the page's end,
				// unless the match crosses into the next page.
				pageEnd := (m &^ (ps - 1)) + ps
				ctxEnd := m + charsContext
				if m+uint64(len(s)) <= pageEnd {
					ctxEnd = min(ctxEnd, pageEnd)
				}
				ctxEnd = min(ctxEnd, addr+uint64(len(data)), segEnd)
				hits = append(hits, SearchHit{Addr: m, Which: j, Context: data[at : ctxEnd-addr]})
				off = at + 1
			}
		}
		if len(q.Strings) > 1 {
			sort.SliceStable(hits, func(a, b int) bool { return hits[a].Addr < hits[b].Addr })
		}
	default:
		unit := uint64(q.Mode)
		mask := q.Mask
		if len(q.Values) == 1 && mask == 0 && unit == 8 {
			want := q.Values[0]
			for off := uint64(0); off+8 <= n && off+8 <= uint64(len(data)); off += 8 {
				if order.Uint64(data[off:]) == want {
					hits = append(hits, SearchHit{Addr: addr + off, Value: want})
				}
			}
			return hits
		}
		for off := uint64(0); off+unit <= n && off+unit <= uint64(len(data)); off += unit {
			var v uint64
			switch unit {
			case 8:
				v = order.Uint64(data[off:])
			case 4:
				v = uint64(order.Uint32(data[off:]))
			case 2:
				v = uint64(order.Uint16(data[off:]))
			}
			for j, want := range q.Values {
				if v|mask == want|mask {
					hits = append(hits, SearchHit{Addr: addr + off, Which: j, Value: v})
				}
			}
		}
	}
	return hits
}
