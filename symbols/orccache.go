package symbols

import (
	"errors"
	"sync"
)

// The ORC entry layout in the layout cache: struct orc_entry's size and
// each field's bit offset and width, so that a warm start's first
// backtrace does not index the BTF for them. An error reading the layout
// is not remembered (it is read again, and said again, next time).

// unkept wraps an error the layout memo must not remember as an answer.
type unkept struct{ err error }

func (e unkept) Error() string { return e.err.Error() }

func (v *Vmlinux) orcLayoutCached(m *layoutMemo) (ORCLayout, error) {
	var once sync.Once
	var lay ORCLayout
	var lerr error
	read := func() (ORCLayout, error) {
		once.Do(func() {
			lay, lerr = v.orcEntryLayout()
			if lerr != nil {
				lerr = unkept{lerr}
			}
		})
		return lay, lerr
	}
	fail := func(err error) (ORCLayout, error) {
		var u unkept
		if errors.As(err, &u) {
			return ORCLayout{}, u.err
		}
		return ORCLayout{}, err
	}
	size, err := m.answer("R size", func() (int64, error) {
		l, err := read()
		return int64(l.Size), err
	})
	if err != nil {
		return fail(err)
	}
	out := ORCLayout{Size: int(size)}
	for _, f := range []struct {
		name string
		dst  *bitfield
		has  *bool // nil: the field must be there
		of   func(*ORCLayout) (bitfield, bool)
	}{
		{"sp_offset", &out.SPOffset, nil, func(l *ORCLayout) (bitfield, bool) { return l.SPOffset, true }},
		{"bp_offset", &out.BPOffset, nil, func(l *ORCLayout) (bitfield, bool) { return l.BPOffset, true }},
		{"sp_reg", &out.SPReg, nil, func(l *ORCLayout) (bitfield, bool) { return l.SPReg, true }},
		{"bp_reg", &out.BPReg, nil, func(l *ORCLayout) (bitfield, bool) { return l.BPReg, true }},
		{"type", &out.Type, nil, func(l *ORCLayout) (bitfield, bool) { return l.Type, true }},
		{"end", &out.End, &out.HasEndBit, func(l *ORCLayout) (bitfield, bool) { return l.End, l.HasEndBit }},
		{"signal", &out.Signal, &out.HasSignal, func(l *ORCLayout) (bitfield, bool) { return l.Signal, l.HasSignal }},
	} {
		x, err := m.answer("R "+f.name, func() (int64, error) {
			l, err := read()
			if err != nil {
				return 0, err
			}
			b, ok := f.of(&l)
			if !ok {
				return 0, &MissingError{What: "orc_entry." + f.name}
			}
			return int64(b.Off)<<32 | int64(b.Bits), nil
		})
		switch {
		case err == nil:
			*f.dst = bitfield{uint32(x >> 32), uint32(x)}
			if f.has != nil {
				*f.has = true
			}
		case f.has != nil && IsMissing(err):
		default:
			return fail(err)
		}
	}
	return out, nil
}
