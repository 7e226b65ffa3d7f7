package memory

import (
	"fmt"
	"sort"
	"strings"
)

// A split dump (makedumpfile --split) is one kdump-compressed file per range
// of page frames; each file carries the headers and bitmaps of the whole
// machine and the pages of its own range (sub-header start_pfn/end_pfn).
// splitDump routes each page to the file that holds it.
type splitDump struct {
	parts []*kdumpFile // sorted by startPfn
	dumps []*Dump
}

// OpenFiles opens a dump given as one file, or as the files of a split
// dump in any order.
func OpenFiles(paths ...string) (*Dump, error) {
	switch len(paths) {
	case 0:
		return nil, fmt.Errorf("no dump file given")
	case 1:
		return Open(paths[0])
	}
	s := &splitDump{}
	fail := func(err error) (*Dump, error) {
		for _, d := range s.dumps {
			d.Close()
		}
		return nil, err
	}
	for _, p := range paths {
		d, err := Open(p)
		if err != nil {
			return fail(err)
		}
		s.dumps = append(s.dumps, d)
		k, ok := d.b.(*kdumpFile)
		if !ok {
			return fail(&FormatError{Path: p, Offset: -1, Msg: fmt.Sprintf("a %s file cannot be part of a split dump", d.Format)})
		}
		s.parts = append(s.parts, k)
	}
	sort.Slice(s.parts, func(i, j int) bool { return s.parts[i].startPfn < s.parts[j].startPfn })
	first := s.parts[0]
	for i, k := range s.parts {
		if k.maxMapnr != first.maxMapnr || k.blockSize != first.blockSize {
			return fail(&FormatError{Path: k.path, Offset: -1, Msg: fmt.Sprintf("not part of the same split dump as %s", first.path)})
		}
		if i > 0 && k.startPfn != s.parts[i-1].endPfn {
			return fail(&FormatError{Path: k.path, Offset: -1, Msg: fmt.Sprintf("split dump parts do not join: %s ends at pfn %#x, %s starts at %#x", s.parts[i-1].path, s.parts[i-1].endPfn, k.path, k.startPfn)})
		}
	}
	if first.startPfn != 0 || s.parts[len(s.parts)-1].endPfn != first.maxMapnr {
		return fail(&FormatError{Path: first.path, Offset: -1, Msg: fmt.Sprintf("split dump parts cover pfn %#x-%#x of %#x: a part is missing", first.startPfn, s.parts[len(s.parts)-1].endPfn, first.maxMapnr)})
	}
	base := s.dumps[0]
	d := &Dump{Path: strings.Join(paths, " "), Format: base.Format, Machine: base.Machine, Bits: base.Bits, ByteOrder: base.ByteOrder,
		VMCoreInfo: base.VMCoreInfo, Notes: base.Notes, Filtered: base.Filtered, DumpLevel: base.DumpLevel, Split: paths, SplitPart: true, b: s}
	for _, x := range s.dumps {
		d.Incomplete = d.Incomplete || x.Incomplete
		d.ExcludedVmemmap = d.ExcludedVmemmap || x.ExcludedVmemmap
	}
	for _, k := range s.parts {
		d.Header = append(d.Header, [2]string{"split part", fmt.Sprintf("%s: pfn %#x-%#x", k.path, k.startPfn, k.endPfn)})
	}
	for _, x := range s.dumps {
		d.Filtered = d.Filtered || x.Filtered
	}
	d.Header = append(d.Header, base.Header...)
	return d, nil
}

func (s *splitDump) readPhys(p []byte, addr uint64) error {
	for len(p) > 0 {
		bs := s.parts[0].blockSize
		pfn := addr / bs
		i := sort.Search(len(s.parts), func(i int) bool { return s.parts[i].endPfn > pfn })
		if i == len(s.parts) {
			return &NotInDumpError{Addr: addr}
		}
		n := min(uint64(len(p)), bs-addr%bs)
		if err := s.parts[i].readPhys(p[:n], addr); err != nil {
			return err
		}
		p = p[n:]
		addr += n
	}
	return nil
}

func (s *splitDump) ranges() []Range { return s.parts[0].ranges() }

func (s *splitDump) close() error {
	var err error
	for _, d := range s.dumps {
		if e := d.Close(); err == nil {
			err = e
		}
	}
	return err
}

func (s *splitDump) describe() [][2]string { return s.dumps[0].Describe()[len(s.dumps[0].Header):] }

func (s *splitDump) pagesDecoded() uint64 {
	var n uint64
	for _, p := range s.parts {
		n += p.pagesDecoded()
	}
	return n
}
