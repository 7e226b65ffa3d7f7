package kernel

import (
	"fmt"
)

// ListWalk is a walk along a linked list as crash's list command makes
// it. Each link is an address whose word at NextOffset points to the next
// link; the entry a link stands for is the link minus EntryOffset (the
// offset of an embedded list_head in its structure, for list_head lists;
// 0 when the links are the structures themselves).
type ListWalk struct {
	Start       uint64 // the first link
	NextOffset  int64  // where the next pointer lies, from a link
	EntryOffset int64  // link - entry
	// End stops the walk when a next pointer equals it (0: none). The walk
	// also stops on a NULL next pointer, one back to Start, one to the
	// link itself, or one back to the first link's successor.
	End uint64
	// ListHead says the links are list_heads: a NULL next pointer is a
	// broken list, not its end.
	ListHead bool
	// Brent detects loops by R. P. Brent's algorithm instead of
	// remembering every entry.
	Brent bool
	// Limit bounds the entries gathered (0: 1<<24).
	Limit int
}

// ListResult is what a walk found: the entries in order, and, when the
// list loops or breaks, how.
type ListResult struct {
	Entries []uint64
	// Loop is set by a Brent walk that found a loop.
	Loop *ListLoop
}

// ListLoop is a loop Brent's algorithm found: after Shown entries it knew
// the loop's Length, then found the loop starts Distance links from the
// start, at the entry Duplicate (a link address).
type ListLoop struct {
	Shown     int
	Length    uint64
	Distance  uint64
	Found     bool // Distance and Duplicate are known
	Duplicate uint64
}

// ListError is a list the walk could not finish: a next pointer that
// cannot be read ("invalid list entry", with the link whose next pointer
// failed, or 0 for a NULL next of a list_head list) or a link reached
// twice ("duplicate list entry").
type ListError struct {
	Kind string // "invalid list entry" or "duplicate list entry"
	Addr uint64
	Err  error // the read error, for an invalid entry
}

func (e *ListError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %x: %v", e.Kind, e.Addr, e.Err)
	}
	return fmt.Sprintf("%s: %x", e.Kind, e.Addr)
}

func (e *ListError) Unwrap() error { return e.Err }

// WalkList walks w in r. What it found comes back with the error that
// stopped it, if any.
func WalkList(r Reader, w ListWalk) (*ListResult, error) {
	limit := w.Limit
	if limit <= 0 {
		limit = 1 << 24
	}
	res := &ListResult{}
	read := func(link uint64) (uint64, error) {
		v, err := r.ReadU64(link + uint64(w.NextOffset))
		if err != nil {
			return 0, &ListError{Kind: "invalid list entry", Addr: link, Err: err}
		}
		return v, nil
	}
	first, err := read(w.Start)
	if err != nil {
		return res, err
	}
	if w.Brent {
		return walkListBrent(w, res, first, read, limit)
	}
	seen := map[uint64]bool{}
	next := w.Start
	for count := 1; ; count++ {
		res.Entries = append(res.Entries, next-uint64(w.EntryOffset))
		if next != 0 {
			e := next - uint64(w.EntryOffset)
			if seen[e] {
				return res, &ListError{Kind: "duplicate list entry", Addr: next}
			}
			seen[e] = true
		}
		if count >= limit {
			return res, fmt.Errorf("list longer than %d entries", limit)
		}
		last := next
		if next, err = read(next); err != nil {
			return res, err
		}
		if listEnds(w, next, last, first, count) {
			if next == 0 && w.ListHead {
				return res, &ListError{Kind: "invalid list entry", Addr: 0}
			}
			return res, nil
		}
	}
}

// listEnds says whether next ends the walk.
func listEnds(w ListWalk, next, last, first uint64, count int) bool {
	return next == 0 || next == w.End || next == w.Start || next == last || next == first && count != 1
}

// walkListBrent walks with Brent's cycle detection: a tortoise and a hare
// instead of a set of the entries seen. Once the hare meets the tortoise
// the loop's length is known and no more entries are gathered; the walk
// goes on to find where the loop starts, and stops there with a
// duplicate entry.
func walkListBrent(w ListWalk, res *ListResult, first uint64, read func(uint64) (uint64, error), limit int) (*ListResult, error) {
	var err error
	next := w.Start
	x, y := w.Start, w.Start
	if y, err = read(y); err != nil {
		return res, err
	}
	power, lambda := uint64(2), uint64(0)
	var loop *ListLoop
	exited := false
	for count := 1; ; count++ {
		if loop == nil {
			res.Entries = append(res.Entries, next-uint64(w.EntryOffset))
		}
		if next != 0 && exited {
			loop.Found, loop.Duplicate = true, x
			res.Loop = loop
			return res, &ListError{Kind: "duplicate list entry", Addr: x}
		}
		if count >= limit {
			return res, fmt.Errorf("list longer than %d entries", limit)
		}
		last := next
		if next, err = read(next); err != nil {
			return res, err
		}
		switch {
		case loop == nil && count > 1 && x == y:
			loop = &ListLoop{Shown: len(res.Entries), Length: lambda}
			res.Loop = loop
			x, y = w.Start, w.Start
			for range lambda {
				if y, err = read(y); err != nil {
					return res, err
				}
			}
		case loop == nil:
			if power == lambda {
				x = y
				power *= 2
				lambda = 0
			}
			y = next
			lambda++
		case !exited && x == y:
			exited = true
		default:
			if x, err = read(x); err != nil {
				return res, err
			}
			if y, err = read(y); err != nil {
				return res, err
			}
			loop.Distance++
		}
		if listEnds(w, next, last, first, count) {
			if next == 0 && w.ListHead {
				return res, &ListError{Kind: "invalid list entry", Addr: 0}
			}
			return res, nil
		}
	}
}
