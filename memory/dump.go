package memory

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sort"
)

// Format says which kind of file a Dump was read from.
type Format int

const (
	FormatELF       Format = iota + 1 // ELF core (kdump /proc/vmcore copy, makedumpfile -E, QEMU)
	FormatKdump                       // makedumpfile kdump-compressed ("KDUMP   " or "DISKDUMP")
	FormatFlattened                   // makedumpfile -F flattened kdump-compressed
	FormatLive                        // /dev/mem or /dev/crash on the running system
)

func (f Format) String() string {
	switch f {
	case FormatELF:
		return "ELF"
	case FormatKdump:
		return "kdump-compressed"
	case FormatFlattened:
		return "flattened kdump-compressed"
	case FormatLive:
		return "live physical memory"
	}
	return "unknown"
}

// backend is what each file format implements: physical reads and a
// description of its headers.
type backend interface {
	readPhys(p []byte, addr uint64) error
	// ranges lists the physical address ranges the dump covers (for
	// filtered dumps: the ranges of RAM the crashed machine had).
	ranges() []Range
	close() error
}

// LoadSegment is an ELF PT_LOAD: Size bytes mapped at virtual address
// Vaddr and physical address Paddr.
type LoadSegment struct{ Vaddr, Paddr, Size uint64 }

// Range is a half-open physical address range [Start, End).
type Range struct{ Start, End uint64 }

// Dump is an opened crash dump.
type Dump struct {
	Path       string
	Format     Format
	Machine    string // "x86_64", "aarch64", ... from the ELF header or utsname
	Bits       int    // 64 or 32
	ByteOrder  binary.ByteOrder
	VMCoreInfo *VMCoreInfo // nil when the dump has none
	Notes      []Note      // every ELF note, in file order
	Filtered   bool        // pages were left out on purpose (makedumpfile -d)
	DumpLevel  int         // makedumpfile dump level, -1 when unknown
	Split      []string    // the files of a split dump, else nil
	SplitPart  bool        // a kdump file that is one part of a split dump
	// Incomplete: makedumpfile did not finish writing the file.
	Incomplete bool
	// ExcludedVmemmap: unused vmemmap pages were left out (makedumpfile -e).
	ExcludedVmemmap bool
	// Live: the running system's memory (/proc/kcore, /dev/mem,
	// /dev/crash); it changes while it is read.
	Live bool
	// Notice is a one-line remark for the user about how the source was
	// opened (e.g. a fallback from /dev/mem to /proc/kcore).
	Notice string
	// ZeroExcluded makes pages excluded by filtering read as zeros instead
	// of failing (crash's --zero_excluded).
	ZeroExcluded bool
	// Loads lists an ELF core's PT_LOAD segments as the file states them.
	Loads []LoadSegment
	// Header holds format-specific facts for 'help -D', in display order.
	Header [][2]string
	// Truncated is set when the file is shorter than its headers say (a
	// full disk, a capture cut short): the dump opens, and reads of what
	// is missing fail with a *TruncatedError.
	Truncated *Truncation

	b backend
}

// ReadPhys fills p with the bytes at physical address addr.
func (d *Dump) ReadPhys(p []byte, addr uint64) error {
	err := d.b.readPhys(p, addr)
	if err != nil && d.ZeroExcluded && IsExcluded(err) {
		return d.readZeroExcluded(p, addr)
	}
	return err
}

// readZeroExcluded reads page by page, zeroing excluded pages.
func (d *Dump) readZeroExcluded(p []byte, addr uint64) error {
	const chunk = 512 // divides every page size
	for len(p) > 0 {
		n := min(uint64(len(p)), chunk-addr%chunk)
		if err := d.b.readPhys(p[:n], addr); err != nil {
			if !IsExcluded(err) {
				return err
			}
			clear(p[:n])
		}
		p = p[n:]
		addr += n
	}
	return nil
}

// Ranges returns the physical ranges the dump covers, sorted.
func (d *Dump) Ranges() []Range { return d.b.ranges() }

// Close releases the file.
func (d *Dump) Close() error { return d.b.close() }

// PRStatus returns the NT_PRSTATUS notes, decoded with nregs registers each,
// in CPU order.
func (d *Dump) PRStatus(nregs int) ([]PRStatus, error) {
	var out []PRStatus
	for _, n := range d.Notes {
		if n.Type != NTPRStatus || n.Name != "CORE" {
			continue
		}
		st, err := ParsePRStatus(n.Desc, d.ByteOrder, nregs, d.Bits)
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Open detects the format of the file at path by its content and opens it
// read-only.
func Open(path string) (*Dump, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		// Opening a FIFO would wait for a writer: refuse it at once.
		return nil, fmt.Errorf("%s is a %s, not a dump file", path, pipeKind(fi.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.Mode()&os.ModeCharDevice != 0 {
		d, err := openDevice(path, f, fi)
		if err != nil {
			f.Close()
		}
		return d, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &FormatError{Path: path, Offset: -1, Msg: "not a regular file or memory device"}
	}
	var magic [16]byte
	n, _ := io.ReadFull(f, magic[:])
	var d *Dump
	switch {
	case n >= 4 && bytes.Equal(magic[:4], []byte("\x7fELF")):
		d, err = openELF(path, f, fi.Size())
	case n >= 8 && (string(magic[:8]) == "KDUMP   " || string(magic[:8]) == "DISKDUMP"):
		d, err = openKdumpFile(path, f, fi.Size())
	case n >= 12 && string(magic[:12]) == "makedumpfile":
		d, err = openFlattened(path, f, fi.Size())
	default:
		err = &FormatError{Path: path, Offset: 0, Msg: "not a crash dump (no ELF, kdump-compressed or flattened signature)"}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// segment maps a run of physical addresses to file bytes. Bytes between
// fileSize and memSize read as zeros (ELF p_memsz > p_filesz).
type segment struct {
	phys     uint64
	memSize  uint64
	off      int64
	fileSize uint64
}

// findSegment returns the index of the segment holding addr in segs (sorted
// by phys), or -1.
func findSegment(segs []segment, addr uint64) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].phys+segs[i].memSize > addr })
	if i < len(segs) && segs[i].phys <= addr {
		return i
	}
	return -1
}

func machineName(m uint16) string {
	switch m {
	case 62:
		return "x86_64"
	case 183:
		return "aarch64"
	case 3:
		return "i386"
	case 40:
		return "arm"
	case 20:
		return "ppc"
	case 21:
		return "ppc64"
	case 22:
		return "s390x"
	case 243:
		return "riscv64"
	}
	return fmt.Sprintf("machine %d", m)
}

// inferMachine names the machine of a dump whose header does not (QEMU
// writes "Unknown" in a kdump file's utsname): by the size of its
// NT_PRSTATUS notes, else by architecture-only VMCOREINFO entries.
func inferMachine(d *Dump) string {
	for _, n := range d.Notes {
		if n.Name == "CORE" && n.Type == NTPRStatus {
			switch len(n.Desc) {
			case prstatus64RegOffset + 27*8 + 8:
				// (s390x's s390_regs is as long: the byte order tells.)
				if d.ByteOrder == binary.BigEndian {
					return "s390x"
				}
				return "x86_64"
			case prstatus64RegOffset + 48*8 + 8:
				return "ppc64"
			case prstatus64RegOffset + 34*8 + 8:
				return "aarch64"
			}
		}
	}
	if _, ok := d.VMCoreInfo.Number("kimage_voffset"); ok {
		return "aarch64"
	}
	if _, ok := d.VMCoreInfo.Symbol("init_top_pgt"); ok {
		return "x86_64"
	}
	return ""
}

// pipeKind names a FIFO or a socket for an error message.
func pipeKind(m os.FileMode) string {
	if m&os.ModeSocket != 0 {
		return "socket"
	}
	return "FIFO"
}

// describer is a backend with help -D lines that need more than its
// headers, gathered only when asked.
type describer interface{ describe() [][2]string }

// Describe is what help -D shows of the dump's headers: Header, then what
// the backend gathers only when asked (a kdump-compressed file's page
// counts, from its whole bitmaps, which opening it does not read).
func (d *Dump) Describe() [][2]string {
	out := append([][2]string(nil), d.Header...)
	if x, ok := d.b.(describer); ok {
		out = append(out, x.describe()...)
	}
	return out
}

// decodeCounter is a backend that decodes pages out of its file.
type decodeCounter interface{ pagesDecoded() uint64 }

// PagesDecoded is how many pages the dump has decompressed (or copied) out
// of a kdump-compressed file since it was opened, the page cache's hits
// not counted: the work a walk costs in pages, whatever the machine's
// load. 0 for formats read in place (ELF cores, live memory).
func (d *Dump) PagesDecoded() uint64 {
	if x, ok := d.b.(decodeCounter); ok {
		return x.pagesDecoded()
	}
	return 0
}
