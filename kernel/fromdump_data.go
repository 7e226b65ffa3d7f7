package kernel

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/symbols"
)

// Static data a kallsyms of text alone does not name, found in the kernel
// image through the code of exported functions that read it (with the
// architecture's reading of code, arch.DataReferences) and checked by its
// structure in the BTF's layout.

// code is the code of function fn in img (the kernel image at start), up
// to the next symbol kallsyms gives, at most max bytes; nil when fn is not
// in the image.
func (b *dumpBoot) code(img []byte, start uint64, fn string, max uint64) ([]byte, uint64) {
	a, ok := b.byName[fn]
	end := start + uint64(len(img))
	if !ok || a < start || a >= end {
		return nil, 0
	}
	stop := min(a+max, end)
	for _, s := range b.syms {
		if s.Addr > a && s.Addr < stop {
			stop = s.Addr
		}
	}
	return img[a-start : stop-start], a
}

// pastText is the offset in img (the kernel image at start) of the first
// 8-byte slot past the kernel's text (_etext), where its data begins; 0
// when that is not known.
func (b *dumpBoot) pastText(img []byte, start uint64) uint64 {
	if e, ok := b.byName["_etext"]; ok && e > start && e < start+uint64(len(img)) {
		return (e - start + 7) &^ 7
	}
	return 0
}

// allocated reports whether v is an 8-byte aligned kernel address outside
// the image [start, end): an object allocated at run time.
func allocated(v, start, end uint64) bool { return v >= 1<<63 && (v < start || v >= end) && v%8 == 0 }

func (b *dumpBoot) u32(a uint64) (uint32, bool) {
	p, err := b.read(a, 4)
	if err != nil {
		return 0, false
	}
	return b.order.Uint32(p), true
}

// tkCoreTimekeeper is the offset of the timekeeper in tk_core
// (kernel/time/timekeeping.c's static struct { seqcount_raw_spinlock_t
// seq; struct timekeeper timekeeper; }): past the sequence count, at the
// 8-byte alignment of a struct timekeeper (its u64 members).
func tkCoreTimekeeper(seqSize int64) uint64 { return uint64(seqSize+7) &^ 7 }

// tkCoreReaders are exported functions that read tk_core: the first its
// xtime_sec (of the timekeeper), the second the whole of it.
var tkCoreReaders = []string{"ktime_get_real_seconds", "ktime_get_with_offset"}

// findTkCore finds tk_core: of the addresses the code of tkCoreReaders
// forms, the one (within the image) where, past the sequence count, is a
// struct timekeeper whose monotonic and raw clocks are the same struct
// clocksource with a name, a non-zero mult and a shift below 64, and whose
// wall-clock seconds are set. Not found unless exactly one address passes.
func (b *dumpBoot) findTkCore(ts *symbols.Types, img []byte, start uint64) (uint64, bool) {
	dr, ok := b.a.(arch.DataReferences)
	if !ok {
		return 0, false
	}
	seq, err1 := ts.Lookup("struct seqcount_raw_spinlock")
	tk, err2 := ts.Lookup("struct timekeeper")
	cs, err3 := ts.Lookup("struct clocksource")
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, false
	}
	off := map[string]uint64{}
	for _, p := range []string{"xtime_sec", "tkr_mono.clock", "tkr_raw.clock", "tkr_mono.mult", "tkr_mono.shift"} {
		m, err := tk.MemberPath(p)
		if err != nil {
			return 0, false
		}
		off[p] = uint64(m.Offset)
	}
	name, err := cs.MemberPath("name")
	if err != nil {
		return 0, false
	}
	tkOff := tkCoreTimekeeper(seq.Sizeof())
	end := start + uint64(len(img))
	u32 := func(a uint64) uint32 {
		if a < start || a+4 > end {
			return 0
		}
		return b.order.Uint32(img[a-start:])
	}
	isTimekeeper := func(t uint64) bool {
		if t < start+tkOff || t+off["xtime_sec"]+8 > end {
			return false
		}
		clock, ok1 := b.u64(t + off["tkr_mono.clock"])
		raw, ok2 := b.u64(t + off["tkr_raw.clock"])
		if !ok1 || !ok2 || clock != raw || clock < 1<<63 {
			return false
		}
		sec, _ := b.u64(t + off["xtime_sec"])
		if mult, shift := u32(t+off["tkr_mono.mult"]), u32(t+off["tkr_mono.shift"]); mult == 0 || shift == 0 || shift >= 64 || sec == 0 || sec >= 1<<40 {
			return false
		}
		np, ok := b.u64(clock + uint64(name.Offset))
		if !ok {
			return false
		}
		s, err := b.read(np, 32)
		return err == nil && identifier(s)
	}
	found := map[uint64]bool{}
	for _, fn := range tkCoreReaders {
		code, a := b.code(img, start, fn, 256)
		for _, c := range dr.DataReferences(code, a) {
			// The xtime_sec read, or tk_core itself, or its timekeeper.
			for _, t := range []uint64{c - off["xtime_sec"], c + tkOff, c} {
				if isTimekeeper(t) {
					found[t-tkOff] = true
				}
			}
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	for a := range found {
		return a, true
	}
	return 0, false
}

// identifier reports whether p starts with a NUL-terminated name of at
// least two characters of [A-Za-z0-9_.-].
func identifier(p []byte) bool {
	for i, c := range p {
		switch {
		case c == 0:
			return i >= 2
		case c == '_' || c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return false
}

// findMajorTable finds a static hash of device majors (chrdevs[],
// major_names[]: majorHash pointers to structs of type st, each with
// next, major and name): every image slot past the text holding a
// pointer out of the image votes for the array start its node's major
// puts it in (slot less 8 × (major % 255)); a start is the table when
// every non-NULL entry's chain of nodes (through next) has majors at that
// index, below 4096, and names that are printable NUL-terminated strings,
// with at least two entries (a QEMU guest's block majors: loop, blkext).
// Not found unless exactly one start passes.
func (b *dumpBoot) findMajorTable(ts *symbols.Types, img []byte, start uint64, st string) (uint64, bool) {
	t, err := ts.Lookup("struct " + st)
	if err != nil {
		return 0, false
	}
	next, err1 := t.MemberPath("next")
	major, err2 := t.MemberPath("major")
	name, err3 := t.MemberPath("name")
	if err1 != nil || err2 != nil || err3 != nil || name.Type == nil || name.Type.Sizeof() <= 0 {
		return 0, false
	}
	nameLen := int(name.Type.Sizeof())
	end := start + uint64(len(img))
	from := b.pastText(img, start)
	heap := func(v uint64) bool { return allocated(v, start, end) }
	majorOf := func(node uint64) (uint32, bool) { return b.u32(node + uint64(major.Offset)) }
	votes := map[uint64]int{}
	for p := from; p+8 <= uint64(len(img)); p += 8 {
		v := b.order.Uint64(img[p:])
		if !heap(v) {
			continue
		}
		m, ok := majorOf(v)
		if !ok || m >= 4096 {
			continue
		}
		if at := 8 * uint64(m%majorHash); at <= p {
			votes[p-at]++
		}
	}
	printable := func(p []byte) bool {
		for i, c := range p {
			switch {
			case c == 0:
				return i > 0
			case c < ' ' || c > '~':
				return false
			}
		}
		return false
	}
	table := func(base uint64) bool {
		if base+8*majorHash > uint64(len(img)) {
			return false
		}
		entries := 0
		for i := uint64(0); i < majorHash; i++ {
			node := b.order.Uint64(img[base+8*i:])
			if node == 0 {
				continue
			}
			entries++
			for n := 0; node != 0; n++ {
				m, ok := majorOf(node)
				if n > 64 || !heap(node) || !ok || m >= 4096 || uint64(m)%majorHash != i {
					return false
				}
				s, err := b.read(node+uint64(name.Offset), nameLen)
				if err != nil || !printable(s) {
					return false
				}
				if node, ok = b.u64(node + uint64(next.Offset)); !ok {
					return false
				}
			}
		}
		return entries >= 2
	}
	found := uint64(0)
	n := 0
	for base, c := range votes {
		if c >= 2 && table(base) {
			found = start + base
			n++
		}
	}
	return found, n == 1
}

// findHstates finds hstates[] (mm/hugetlb.c, the huge page sizes) and
// hugetlb_max_hstate (how many are in use) from the code of
// hugetlb_total_pages, which walks the one up to the other: of the
// addresses it forms, the array is where the first n struct hstates are
// named "hugepages-SIZEkB" for their order and the next is not, and the
// count is the int the code loads (a 32-bit load) that is n. Each is found only when one address
// passes.
func (b *dumpBoot) findHstates(ts *symbols.Types, img []byte, start uint64) (hstates, maxHstate uint64, found int) {
	dr, ok := b.a.(arch.DataReferences)
	code, fn := b.code(img, start, "hugetlb_total_pages", 256)
	end := start + uint64(len(img))
	if !ok || code == nil {
		return 0, 0, 0
	}
	t, err := ts.Lookup("struct hstate")
	if err != nil {
		return 0, 0, 0
	}
	order, err1 := t.MemberPath("order")
	name, err2 := t.MemberPath("name")
	size := uint64(t.Sizeof())
	if err1 != nil || err2 != nil || size == 0 || name.Type == nil || name.Type.Sizeof() <= 0 {
		return 0, 0, 0
	}
	nameLen := int(name.Type.Sizeof())
	pageSize := b.a.PageSize()
	// named is how many leading hstates at a have the names of their
	// orders (the next one, if any, being unnamed: not in use).
	named := func(a uint64) int {
		n := 0
		for ; n < 16; n++ {
			e := a + uint64(n)*size
			p, err1 := b.read(e+uint64(order.Offset), 4)
			s, err2 := b.read(e+uint64(name.Offset), nameLen)
			if err1 != nil || err2 != nil {
				return 0
			}
			o := b.order.Uint32(p)
			if o >= 40 || string(s[:bytes.IndexByte(append(s, 0), 0)]) != fmt.Sprintf("hugepages-%dkB", pageSize<<o/1024) {
				if s[0] != 0 {
					return 0
				}
				break
			}
		}
		return n
	}
	refs := dr.DataReferences(code, fn)
	var arrays []uint64
	n := 0
	for _, c := range refs {
		if c < start || c >= end || slices.Contains(arrays, c) {
			continue
		}
		if k := named(c); k > 0 {
			arrays, n = append(arrays, c), k
		}
	}
	if len(arrays) != 1 {
		return 0, 0, 0
	}
	// The count is a 32-bit load's address (not an offset into hstates
	// the code forms).
	da, ok := b.a.(arch.DataAccesses)
	if !ok {
		return arrays[0], 0, 1
	}
	var counts []uint64
	for _, d := range da.DataAccesses(code, fn) {
		c := d.Addr
		if d.Kind == arch.AccessLoad && d.Size == 4 && c >= start && c+4 <= end && c != arrays[0] && !slices.Contains(counts, c) && b.order.Uint32(img[c-start:]) == uint32(n) {
			counts = append(counts, c)
		}
	}
	if len(counts) != 1 {
		return arrays[0], 0, 1
	}
	return arrays[0], counts[0], 2
}

// findCdevMap finds cdev_map (fs/char_dev.c's static struct kobj_map *):
// an image slot past the text pointing out of the image at a struct
// kobj_map whose 255 chains of probes all end in the one base probe
// kobj_map_init() put in each (dev 1, range ~0), every probe before it
// having its major at its chain's index. Not found unless exactly one
// slot passes.
func (b *dumpBoot) findCdevMap(ts *symbols.Types, img []byte, start uint64) (uint64, bool) {
	km, err1 := ts.Lookup("struct kobj_map")
	pr, err2 := ts.Lookup("struct probe")
	if err1 != nil || err2 != nil {
		return 0, false
	}
	probes, err1 := km.MemberPath("probes")
	next, err2 := pr.MemberPath("next")
	dev, err3 := pr.MemberPath("dev")
	rng, err4 := pr.MemberPath("range")
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return 0, false
	}
	end := start + uint64(len(img))
	from := b.pastText(img, start)
	heap := func(v uint64) bool { return allocated(v, start, end) }
	devOf := func(p uint64) (uint32, bool) { return b.u32(p + uint64(dev.Offset)) }
	isBase := func(p uint64) bool {
		d, ok1 := devOf(p)
		r, ok2 := b.u64(p + uint64(rng.Offset))
		return ok1 && ok2 && d == 1 && r == ^uint64(0)
	}
	isMap := func(m uint64) bool {
		tab, err := b.read(m+uint64(probes.Offset), 8*majorHash)
		if err != nil {
			return false
		}
		// A quick look first: the last chains are the base alone, or
		// end in it.
		last := b.order.Uint64(tab[8*(majorHash-1):])
		if !heap(last) {
			return false
		}
		var base uint64
		for i := 0; i < majorHash; i++ {
			p := b.order.Uint64(tab[8*i:])
			for n := 0; ; n++ {
				if n > 256 || !heap(p) {
					return false
				}
				if p == base || base == 0 && isBase(p) {
					base = p
					break
				}
				d, ok := devOf(p)
				if !ok || int(d>>20)%majorHash != i {
					return false
				}
				if p, ok = b.u64(p + uint64(next.Offset)); !ok {
					return false
				}
			}
		}
		return true
	}
	found, n := uint64(0), 0
	for p := from; p+8 <= uint64(len(img)); p += 8 {
		m := b.order.Uint64(img[p:])
		if !heap(m) {
			continue
		}
		// The quick filter: the last chain's first probe is a heap
		// pointer whose chain ends in a base probe within a few steps.
		q, ok := b.u64(m + uint64(probes.Offset) + 8*(majorHash-1))
		if !ok || !heap(q) {
			continue
		}
		d, ok := devOf(q)
		if !ok || d != 1 && int(d>>20)%majorHash != majorHash-1 {
			continue
		}
		if isMap(m) {
			found, n = start+p, n+1
		}
	}
	return found, n == 1
}

// findPanicCPU finds panic_cpu (kernel/panic.c's atomic_t, the CPU that
// panicked or PANIC_CPU_INVALID, -1): of the addresses both nmi_panic's and
// panic's code form (to the next symbol, at most 256 and 1024 bytes),
// the one outside the per-CPU template that their code updates (an
// atomic access or a 32-bit store) holding -1 or a CPU number (below
// NR_CPUS's greatest, 8192). Not found unless exactly one passes.
func (b *dumpBoot) findPanicCPU(img []byte, start uint64) (uint64, bool) {
	dr, ok := b.a.(arch.DataReferences)
	if !ok {
		return 0, false
	}
	end := start + uint64(len(img))
	refs := func(fn string, n uint64) []uint64 {
		code, a := b.code(img, start, fn, n)
		return dr.DataReferences(code, a)
	}
	inPanic := refs("panic", 1024)
	// updated: the addresses the code of nmi_panic or panic updates
	// (atomically, its compare-and-exchange, or by a 32-bit store).
	updated := map[uint64]bool{}
	if da, ok := b.a.(arch.DataAccesses); ok {
		for _, f := range []struct {
			name string
			n    uint64
		}{{"nmi_panic", 256}, {"panic", 1024}} {
			code, a := b.code(img, start, f.name, f.n)
			for _, d := range da.DataAccesses(code, a) {
				if d.Size == 4 && (d.Kind == arch.AccessAtomic || d.Kind == arch.AccessStore) {
					updated[d.Addr] = true
				}
			}
		}
	}
	pcpuStart, ok1 := b.byName["__per_cpu_start"]
	pcpuEnd, ok2 := b.byName["__per_cpu_end"]
	var found []uint64
	for _, c := range refs("nmi_panic", 256) {
		if c < start || c+4 > end || c%4 != 0 || ok1 && ok2 && c >= pcpuStart && c < pcpuEnd ||
			!slices.Contains(inPanic, c) || !updated[c] || slices.Contains(found, c) {
			continue
		}
		if v := int32(b.order.Uint32(img[c-start:])); v == -1 || v >= 0 && v < 8192 {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}
