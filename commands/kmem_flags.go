package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// KmemPageFlag is one enumerator of enum pageflags.
type KmemPageFlag struct {
	Name string `json:"name"`
	Bit  int64  `json:"bit"`
}

// KmemPageFlags is kmem -g: the page flags, or for each value given the
// flags set in it.
type KmemPageFlags struct {
	Flags []KmemPageFlag `json:"flags"` // every PG_ enumerator, in declaration order
	// Values are the values given, in order; none lists the table.
	Values []Hex `json:"values,omitempty"`

	longest int // the longest enumerator name, __NR_PAGEFLAGS included
}

func kmemPageFlags(s *Session, words []string) (Result, error) {
	v := s.Kernel.Vmlinux
	if v == nil {
		return nil, fmt.Errorf("enum pageflags does not exist in this kernel")
	}
	ts, err := v.Types()
	if err != nil {
		return nil, err
	}
	t, err := ts.Lookup("enum pageflags")
	if err != nil {
		return nil, fmt.Errorf("enum pageflags does not exist in this kernel")
	}
	es, err := t.Enumerators()
	if err != nil {
		return nil, err
	}
	r := &KmemPageFlags{Flags: []KmemPageFlag{}}
	for _, e := range es {
		r.longest = max(r.longest, len(e.Name))
		if strings.Contains(e.Name, "PG_") {
			r.Flags = append(r.Flags, KmemPageFlag{e.Name, e.Value})
		}
	}
	for _, w := range words {
		x, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid flags value: %s", w)
		}
		r.Values = append(r.Values, Hex(x))
	}
	return r, nil
}

func (r *KmemPageFlags) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	longest := r.longest
	if longest == 0 {
		for _, f := range r.Flags {
			longest = max(longest, len(f.Name))
		}
	}
	largest := int64(0)
	for _, f := range r.Flags {
		largest = max(largest, f.Bit)
	}
	digits := int((largest+1)/4 + 1)
	table := func(indent string, flags uint64, all bool) int {
		found := 0
		tw.printf("%s%-*s BIT  VALUE\n", indent, longest, "PAGE-FLAG")
		for _, f := range r.Flags {
			bit := uint64(1) << uint64(f.Bit&63)
			if all || flags&bit != 0 {
				tw.printf("%s%-*s  %2d  %0*x\n", indent, longest, f.Name, f.Bit, digits, bit)
				if flags&bit != 0 {
					found++
				}
			}
		}
		return found
	}
	if len(r.Values) == 0 {
		table("", 0, true)
		return tw.err
	}
	for i, v := range r.Values {
		if i > 0 {
			tw.println("")
		}
		if v == 0 {
			table("", 0, true)
			continue
		}
		tw.printf("FLAGS: %x\n", uint64(v))
		if table("  ", uint64(v), false) == 0 {
			tw.println("  (none found)")
		}
	}
	return tw.err
}
