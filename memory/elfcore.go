package memory

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// elfCore reads an ELF core file through a read-only memory mapping. Its
// PT_LOAD segments are indexed by physical address (p_paddr), which kdump's
// /proc/vmcore, makedumpfile -E and QEMU all fill in.
type elfCore struct {
	path string
	r    sizedReaderAt // the mapped file, or the file itself when it cannot be mapped (/proc/kcore)
	// bulk, when the file is mapped, reads it with pread: a large read
	// (search's megabyte chunks) is copied from the file rather than
	// through the mapping, whose pages would stay in the process's
	// resident set (a whole dump's worth after a search of all memory).
	bulk    io.ReaderAt
	closeFn func() error
	segs    []segment
	rng     []Range
}

func mapFile(f *os.File, size int64) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("file too large to map")
	}
	return unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
}

func openELF(path string, f *os.File, size int64) (*Dump, error) {
	var r sizedReaderAt
	closeFn := f.Close
	if data, err := mapFile(f, size); err == nil {
		r = bytes.NewReader(data)
		closeFn = func() error {
			err := unix.Munmap(data)
			if e := f.Close(); err == nil {
				err = e
			}
			return err
		}
	} else {
		// /proc/kcore cannot be mapped (and claims a size of terabytes):
		// read it with pread.
		r = &fileReaderAt{f, size}
	}
	d, err := parseELF(path, r, closeFn)
	if err != nil {
		closeFn()
		return nil, err
	}
	if c, ok := d.b.(*elfCore); ok {
		if _, mapped := r.(*bytes.Reader); mapped {
			c.bulk = f
		}
	}
	if isProcFile(f) {
		d.Live = true
		if d.VMCoreInfo == nil { // kernels before 4.19 put none in kcore
			if err := d.loadSysVMCoreInfo(); err != nil {
				d.Notice = fmt.Sprintf("no VMCOREINFO: %v", err)
			}
		}
	}
	return d, nil
}

// fileReaderAt reads a file that cannot be mapped.
type fileReaderAt struct {
	f    *os.File
	size int64
}

func (r *fileReaderAt) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r *fileReaderAt) Size() int64                             { return r.size }

// parseELF reads an ELF core's headers and notes from r.
func parseELF(path string, r sizedReaderAt, closeFn func() error) (*Dump, error) {
	size := r.Size()
	ef, err := elf.NewFile(withoutSections(r))
	if err != nil {
		return nil, &FormatError{Path: path, Offset: -1, Msg: "bad ELF header: " + strings.TrimPrefix(err.Error(), "elf: ")}
	}
	if ef.Type != elf.ET_CORE {
		return nil, &FormatError{Path: path, Offset: 16, Msg: fmt.Sprintf("ELF file of type %v, not a core dump (is this the vmlinux?)", ef.Type)}
	}
	c := &elfCore{path: path, r: r, closeFn: closeFn}
	class := map[elf.Class]int{elf.ELFCLASS32: 32, elf.ELFCLASS64: 64}[ef.Class]
	d := &Dump{Path: path, Format: FormatELF, Machine: machineName(uint16(ef.Machine)), ByteOrder: ef.ByteOrder, DumpLevel: -1, Bits: class, b: c}
	d.Header = append(d.Header, [2]string{"format", fmt.Sprintf("ELF%d %s core", class, ef.Data)},
		[2]string{"machine", d.Machine})
	var loads []segment
	nload := 0
	for i, p := range ef.Progs {
		switch p.Type {
		case elf.PT_NOTE:
			end := p.Off + p.Filesz
			if p.Off > uint64(size) || end > uint64(size) || end < p.Off || p.Filesz > 64<<20 {
				return nil, &FormatError{Path: path, Offset: int64(p.Off), Msg: fmt.Sprintf("file truncated: PT_NOTE (program header %d) runs past its end", i)}
			}
			buf := make([]byte, p.Filesz)
			if n, _ := r.ReadAt(buf, int64(p.Off)); n < len(buf) {
				return nil, &FormatError{Path: path, Offset: int64(p.Off), Msg: fmt.Sprintf("file truncated: PT_NOTE (program header %d) cut short", i)}
			}
			notes, err := ParseNotes(buf, ef.ByteOrder)
			if err != nil {
				return nil, &FormatError{Path: path, Offset: int64(p.Off), Msg: err.Error()}
			}
			for j := range notes {
				notes[j].Offset += int64(p.Off)
			}
			d.Notes = append(d.Notes, notes...)
		case elf.PT_LOAD:
			nload++
			d.Loads = append(d.Loads, LoadSegment{Vaddr: p.Vaddr, Paddr: p.Paddr, Size: p.Memsz})
			d.Header = append(d.Header, [2]string{fmt.Sprintf("PT_LOAD[%d]", nload-1),
				fmt.Sprintf("offset %#x vaddr %#x paddr %#x filesz %#x memsz %#x", p.Off, p.Vaddr, p.Paddr, p.Filesz, p.Memsz)})
			if p.Memsz == 0 || p.Paddr == ^uint64(0) || (class == 32 && p.Paddr == 0xffffffff) {
				continue // no physical address (/proc/kcore's vmalloc and module windows)
			}
			loads = append(loads, segment{phys: p.Paddr, memSize: p.Memsz, off: int64(p.Off), fileSize: p.Filesz})
		}
	}
	var end int64
	for _, s := range loads {
		end = max(end, s.off+int64(s.fileSize))
	}
	if end > size {
		d.Truncated = &Truncation{Size: size, Needed: end}
	}
	c.segs = normalizeSegments(loads)
	for _, s := range c.segs {
		if n := len(c.rng); n > 0 && c.rng[n-1].End == s.phys {
			c.rng[n-1].End = s.phys + s.memSize
		} else {
			c.rng = append(c.rng, Range{s.phys, s.phys + s.memSize})
		}
	}
	for _, n := range d.Notes {
		if n.Name == "VMCOREINFO" {
			d.VMCoreInfo = ParseVMCoreInfo(n.Desc)
		}
	}
	d.Header = append(d.Header, [2]string{"notes", fmt.Sprint(len(d.Notes))})
	return d, nil
}

// normalizeSegments sorts segments by physical address and clips overlaps
// (kdump's /proc/vmcore maps the kernel image twice: through the text
// mapping and the direct map), keeping the first.
func normalizeSegments(in []segment) []segment {
	sort.SliceStable(in, func(i, j int) bool { return in[i].phys < in[j].phys })
	var out []segment
	for _, s := range in {
		if n := len(out); n > 0 {
			prevEnd := out[n-1].phys + out[n-1].memSize
			if s.phys+s.memSize <= prevEnd {
				continue
			}
			if s.phys < prevEnd {
				cut := prevEnd - s.phys
				s.phys += cut
				s.memSize -= cut
				s.off += int64(cut)
				if s.fileSize > cut {
					s.fileSize -= cut
				} else {
					s.fileSize = 0
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func (c *elfCore) readPhys(p []byte, addr uint64) error {
	for len(p) > 0 {
		i := findSegment(c.segs, addr)
		if i < 0 {
			return &NotInDumpError{Addr: addr}
		}
		s := c.segs[i]
		rel := addr - s.phys
		n := min(s.memSize-rel, uint64(len(p)))
		chunk := p[:n]
		if rel < s.fileSize {
			m := min(s.fileSize-rel, n)
			off := s.off + int64(rel)
			src := io.ReaderAt(c.r)
			if c.bulk != nil && m >= bulkRead {
				src = c.bulk
			}
			got, _ := src.ReadAt(chunk[:m], off)
			if uint64(got) < m {
				return &TruncatedError{Addr: addr + uint64(got), Offset: off + int64(got), FileSize: c.r.Size()}
			}
			clear(chunk[m:])
		} else {
			clear(chunk)
		}
		p = p[n:]
		addr += n
	}
	return nil
}

// bulkRead is the size from which a read goes to the file (elfCore.bulk)
// rather than the mapping.
const bulkRead = 256 << 10

func (c *elfCore) ranges() []Range { return c.rng }

func (c *elfCore) close() error { return c.closeFn() }

// withoutSections hides an ELF core's section header table from debug/elf:
// a core needs only its program headers, and a dump cut short (or a QEMU
// dump, which puts its section header last) must still open. Only the
// PN_XNUM extension (e_phnum 0xffff: the real count in section 0) needs
// the sections, and then they are left visible.
func withoutSections(r sizedReaderAt) io.ReaderAt {
	var id [64]byte
	if n, _ := r.ReadAt(id[:], 0); n < 52 {
		return r
	}
	var shoff, shnum, shstrndx [2]int // offset and size of each field
	switch id[4] {
	case 1: // ELFCLASS32
		shoff, shnum, shstrndx = [2]int{0x20, 4}, [2]int{0x30, 2}, [2]int{0x32, 2}
	case 2:
		shoff, shnum, shstrndx = [2]int{0x28, 8}, [2]int{0x3c, 2}, [2]int{0x3e, 2}
	default:
		return r
	}
	phnum := 0x2c
	if id[4] == 2 {
		phnum = 0x38
	}
	if id[phnum] == 0xff && id[phnum+1] == 0xff {
		return r
	}
	return &patchedHeader{r, [][2]int{shoff, shnum, shstrndx}}
}

// patchedHeader reads as r with the given header fields zeroed.
type patchedHeader struct {
	r     io.ReaderAt
	zeros [][2]int
}

func (p *patchedHeader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	for _, z := range p.zeros {
		for i := z[0]; i < z[0]+z[1]; i++ {
			if j := int64(i) - off; j >= 0 && j < int64(n) {
				b[j] = 0
			}
		}
	}
	return n, err
}
