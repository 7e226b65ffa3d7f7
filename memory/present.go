package memory

import "sort"

// presenter is implemented by backends that know which of their pages
// hold data (a filtered dump leaves pages out).
type presenter interface {
	present() []Range
}

// Present lists the physical ranges whose bytes the dump holds, sorted
// and merged: for a filtered kdump-compressed file the pages kept, for an
// ELF core its PT_LOADs (bytes past a segment's file size read as zeros,
// so they count). A reader that scans the whole dump (search) reads only
// these and never meets an excluded page. With ZeroExcluded every range
// of Ranges is present.
func (d *Dump) Present() []Range {
	if p, ok := d.b.(presenter); ok && !d.ZeroExcluded {
		return p.present()
	}
	return mergeRanges(append([]Range(nil), d.b.ranges()...))
}

// present is the RAM pages of this file's part that the bitmap says are
// kept, gathered from the bitmaps on first use.
func (k *kdumpFile) present() []Range {
	k.presentOnce.Do(func() { k.presentRng = k.keptRanges() })
	return k.presentRng
}

func (k *kdumpFile) keptRanges() []Range {
	var out []Range
	bs := k.blockSize
	k.bm.eachWord(k.startPfn/64, func(w, ram, kept uint64) bool {
		if w*64 >= k.endPfn {
			return false
		}
		word := kept & ram
		for b := uint64(0); word != 0 && b < 64; b++ {
			pfn := w*64 + b
			if word&(1<<b) == 0 || pfn < k.startPfn || pfn >= k.endPfn {
				continue
			}
			if n := len(out); n > 0 && out[n-1].End == pfn*bs {
				out[n-1].End += bs
			} else {
				out = append(out, Range{pfn * bs, (pfn + 1) * bs})
			}
		}
		return true
	})
	return out
}

func (s *splitDump) present() []Range {
	var out []Range
	for _, p := range s.parts {
		out = append(out, p.present()...)
	}
	return mergeRanges(out)
}

func mergeRanges(rs []Range) []Range {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	var out []Range
	for _, r := range rs {
		if r.End <= r.Start {
			continue
		}
		if n := len(out); n > 0 && r.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}
