package commands

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

func rdCommand() *Command {
	return &Command{
		Name:     "rd",
		Synopsis: "rd [-adDsSupxfNR] [-8|-16|-32|-64] [-o offs] [-e addr] [-r file] address|symbol[+offset]|symbol:cpu|expression [count]",
		Summary:  "read memory",
		Help: `Displays memory: count units (default 1) from the address, a line of up to
16 bytes at a time with the address first and the bytes as ASCII at the end.
The address is a kernel virtual address unless -p says physical or -u says
user (of the current context, see set) or -f an offset in the dump file; a
kernel address may be a symbol, symbol+offset, a per-CPU symbol:cpu, or a C
expression (see p) whose value is the address ("init_task.tasks.next").
-R shows the count units that end at the address, -o moves the start by
offs bytes, -e reads up to (not including) an end address, and -r copies
count bytes (or up to -e's address) to a file instead of showing them.`,
		Options: []Option{
			{"-8", "display 8-bit values"},
			{"-16", "display 16-bit values"},
			{"-32", "display 32-bit values"},
			{"-64", "display 64-bit values (the default)"},
			{"-p", "the address is physical"},
			{"-u", "the address is a user address of the current context (see set)"},
			{"-a", "display the memory as an ASCII string, up to count bytes or a NUL"},
			{"-s", "display 64-bit values that are kernel symbol addresses as symbol+offset"},
			{"-x", "hexadecimal without the ASCII column"},
			{"-d", "signed decimal"},
			{"-D", "unsigned decimal"},
			{"-N", "16- and 32-bit values in network byte order"},
			{"-R", "show the memory that ends at the address (count units up to and including it)"},
			{"-o offs", "start offs bytes after the address"},
			{"-e addr", "read up to this (hexadecimal) end address"},
			{"-r file", "copy the memory to file (count is in bytes)"},
			{"-f", "the address is an offset in the dump file"},
			{"-S", "as -s, and a value that points into a slab object as [cache] (-SS: [value:cache])"},
			{"-m", "the address is a Xen machine address (refused: not a Xen dump)"},
		},
		Examples: []string{"gocrash> rd linux_banner 4", "gocrash> rd -D -32 jiffies 4", "gocrash> rd -R linux_banner 4", "gocrash> rd -e ffffffff82000220 linux_banner", "gocrash> rd -r /tmp/banner linux_banner 64", "gocrash> rd init_task.tasks.next 2", "gocrash> rd -a linux_banner", "gocrash> rd -p 1000000 8", "gocrash> rd runqueues:1 2"},
		Results:  []Result{&RDResult{}, &RDCopyResult{}},
		Run:      runRD,
	}
}

// RDRow is one line of rd: the address of its first byte, then the values
// (or, with -a, the string) read from there.
type RDRow struct {
	Address Hex `json:"address"`
	// Values are the units read: numbers, or Hex strings for 64-bit
	// units (signed numbers with -d).
	Values []any `json:"values,omitempty"`
	// Symbols name, with -s, the values that are kernel symbol
	// addresses ("" for the others).
	Symbols []string `json:"symbols,omitempty"`
	// ASCII is the bytes as crash's ASCII column shows them ('.' for what
	// is not printable), or with -a the string read.
	ASCII string `json:"ascii,omitempty"`

	raw []uint64
}

// RDResult is what rd read.
type RDResult struct {
	// Kind is crash's name of the read: "64-bit KVADDR", "8-bit
	// PHYSADDR", "32-bit UVADDR".
	Kind   string  `json:"kind"`
	Size   int     `json:"size"`   // bytes per unit
	String bool    `json:"string"` // -a: each row's ascii is the string read, 60 characters a row
	Rows   []RDRow `json:"rows"`

	decimal, symbolic, noASCII bool
	unsigned                   bool // -D
	fileOffsets                bool // -f: addresses are file offsets, right-aligned
}

// RDCopyResult is what rd -r copied to a file.
type RDCopyResult struct {
	Address Hex    `json:"address"`
	Bytes   uint64 `json:"bytes"`
	File    string `json:"file"`
}

func (r *RDCopyResult) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%d bytes copied from %#x to %s\n", r.Bytes, uint64(r.Address), r.File)
	return err
}

func (r *RDResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if r.String {
		for _, row := range r.Rows {
			tw.printf("%x:  %s\n", uint64(row.Address), strings.ReplaceAll(row.ASCII, "\n", "\\n"))
		}
		return tw.err
	}
	size := r.Size
	perLine := 16 / size
	for _, row := range r.Rows {
		var b strings.Builder
		if r.fileOffsets {
			fmt.Fprintf(&b, "%16x:  ", uint64(row.Address))
		} else {
			fmt.Fprintf(&b, "%x:  ", uint64(row.Address))
		}
		for i, v := range row.raw {
			switch {
			case r.unsigned:
				fmt.Fprintf(&b, "%*d ", []int{0, 3, 5, 0, 12, 0, 0, 0, 20}[size], v)
			case r.decimal:
				fmt.Fprintf(&b, "%*d ", []int{0, 3, 5, 0, 12, 0, 0, 0, 15}[size], signExtend(v, size))
			case r.symbolic && i < len(row.Symbols) && row.Symbols[i] != "":
				fmt.Fprintf(&b, "%-16s ", row.Symbols[i])
			default:
				fmt.Fprintf(&b, "%0*x ", size*2, v)
			}
		}
		text := strings.TrimRight(b.String(), " ")
		if !r.noASCII && !r.decimal && !r.unsigned && !r.symbolic {
			pad := perLine - len(row.raw)
			text += strings.Repeat(" ", pad*(size*2+1)) + "   " + row.ASCII
		}
		tw.println(text)
	}
	return tw.err
}

func runRD(ctx context.Context, s *Session, a *Args) (Result, error) {
	size := 8
	if w := a.Last("8", "16", "32", "64"); w != "" {
		n, _ := strconv.Atoi(w)
		size = n / 8
	}
	pos := a.Words
	phys, user, file := a.Has("p"), a.Has("u"), a.Has("f")
	if a.Has("m") {
		return nil, fmt.Errorf("-m: Xen machine addresses are not supported: this is not a Xen dump")
	}
	if err := a.Exclusive("p", "u", "f"); err != nil {
		return nil, err
	}
	if err := a.Exclusive("d", "D"); err != nil {
		return nil, err
	}
	dec := a.Last("d", "D")
	res := &RDResult{Size: size, String: a.Has("a"), decimal: dec == "d", unsigned: dec == "D", noASCII: a.Has("x"), fileOffsets: file, Rows: []RDRow{}}
	symbolic := a.Has("s") || a.Has("S")
	slabNames := optCount(a, "S") // -S: a slab object's cache name; -SS: with its address
	if len(pos) == 0 || len(pos) > 2 {
		return nil, &UsageError{"an address and an optional count are required"}
	}
	var addr uint64
	var err error
	var task uint64
	if user {
		if task, err = s.ContextTask(); err != nil {
			return nil, err
		}
	}
	if phys || user || file {
		addr, err = strconv.ParseUint(strings.TrimPrefix(pos[0], "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid address: %s", pos[0])
		}
	} else if addr, err = parseAddress(s, pos[0]); err != nil {
		return nil, err
	}
	if o, ok := a.Value("o"); ok {
		off, err := evalNumber(o)
		if err != nil {
			return nil, &UsageError{"invalid offset: " + o}
		}
		addr += off
	}
	count := uint64(1)
	if res.String {
		count = 256
	}
	counted := len(pos) == 2
	if counted {
		if count, err = strconv.ParseUint(pos[1], 0, 32); err != nil || count == 0 {
			return nil, &UsageError{"invalid count: " + pos[1]}
		}
	}
	unit := uint64(size)
	if a.Has("r") {
		unit = 1 // -r counts bytes
	}
	if e, ok := a.Value("e"); ok {
		end, err := strconv.ParseUint(strings.TrimPrefix(e, "0x"), 16, 64)
		if err != nil {
			if end, err = parseAddress(s, e); err != nil {
				return nil, err
			}
		}
		if end <= addr {
			return nil, fmt.Errorf("invalid ending address: %s", e)
		}
		count, counted = (end-addr+unit-1)/unit, true
	}
	if a.Has("R") {
		if res.String {
			return nil, &UsageError{"-R and -a cannot be combined"}
		}
		addr -= (count - 1) * unit
	}
	res.Kind = fmt.Sprintf("%d-bit KVADDR", size*8)
	var dumpFile *os.File
	switch {
	case file:
		res.Kind = fmt.Sprintf("%d-bit FILEADDR", size*8)
		if len(s.DumpPaths) == 0 {
			return nil, fmt.Errorf("-f: no dump file")
		}
		if dumpFile, err = os.Open(s.DumpPaths[0]); err != nil {
			return nil, err
		}
		defer dumpFile.Close()
	case phys:
		res.Kind = fmt.Sprintf("%d-bit PHYSADDR", size*8)
	case user:
		res.Kind = fmt.Sprintf("%d-bit UVADDR", size*8)
	}
	read := func(p []byte, a uint64) error {
		var err error
		if file {
			if _, err = dumpFile.ReadAt(p, int64(a)); err != nil {
				return fmt.Errorf("read error: dumpfile offset: %x: %v", a, err)
			}
			return nil
		}
		if phys {
			err = s.Kernel.Dump.ReadPhys(p, a)
		} else if user {
			err = s.Kernel.ReadUser(task, p, a)
		} else {
			err = s.Kernel.ReadVirt(p, a)
		}
		if err != nil {
			if phys {
				return fmt.Errorf("%v  type: %q", err, res.Kind)
			}
			return readError(a, res.Kind, err)
		}
		return nil
	}
	if name, ok := a.Value("r"); ok {
		if !counted {
			return nil, &UsageError{"-r option requires either a count argument or the -e option"}
		}
		return rdCopy(ctx, addr, count, name, read)
	}
	if res.String {
		rows, err := rdString(addr, count, read)
		if err != nil {
			return nil, err
		}
		res.Rows = rows
		return res, nil
	}
	// -s names 64-bit symbol values; other sizes print as with -x.
	res.symbolic = symbolic && size == 8 && s.Kernel.Vmlinux != nil
	res.noASCII = res.noASCII || symbolic
	perLine := 16 / size
	netOrder := a.Has("N")
	order := s.byteOrder()
	buf := make([]byte, 16)
	for done := uint64(0); done < count; {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n := min(uint64(perLine), count-done)
		line := buf[:n*uint64(size)]
		a := addr + done*uint64(size)
		if err := read(line, a); err != nil {
			return res, err
		}
		row := RDRow{Address: Hex(a), Values: make([]any, 0, n), raw: make([]uint64, 0, n)}
		for i := 0; i < int(n); i++ {
			w := line[i*size:]
			var v uint64
			switch size {
			case 1:
				v = uint64(w[0])
			case 2:
				v = uint64(order.Uint16(w))
			case 4:
				v = uint64(order.Uint32(w))
			default:
				v = order.Uint64(w)
			}
			if netOrder && (size == 2 || size == 4) {
				// Network byte order: the value's bytes read the other way.
				if size == 2 {
					v = uint64(bits.ReverseBytes16(uint16(v)))
					order.PutUint16(w, uint16(v))
				} else {
					v = uint64(bits.ReverseBytes32(uint32(v)))
					order.PutUint32(w, uint32(v))
				}
			}
			row.raw = append(row.raw, v)
			switch {
			case size == 8:
				row.Values = append(row.Values, Hex(v))
			case res.unsigned:
				row.Values = append(row.Values, v)
			case res.decimal:
				row.Values = append(row.Values, signExtend(v, size))
			default:
				row.Values = append(row.Values, v)
			}
			if res.symbolic {
				name := symbolName(s, v)
				if name == "" && slabNames > 0 {
					name = slabCacheName(s, v, slabNames > 1)
				}
				row.Symbols = append(row.Symbols, name)
			}
		}
		if !res.noASCII && !res.decimal && !res.unsigned {
			row.ASCII = printable(line)
		}
		if strings.Join(row.Symbols, "") == "" {
			row.Symbols = nil // no value is a symbol's
		}
		res.Rows = append(res.Rows, row)
		done += n
	}
	return res, nil
}

// slabCacheName is rd -S's "[cache]" for a value that points into a slab
// object ("[value:cache]" with -SS), or "".
func slabCacheName(s *Session, v uint64, withAddr bool) string {
	if v < 1<<63 {
		return ""
	}
	c, _, ok, err := s.Kernel.Slabs().SlabOf(v)
	if err != nil || !ok || c == nil {
		return ""
	}
	if withAddr {
		return fmt.Sprintf("[%x:%s]", v, c.Name)
	}
	return "[" + c.Name + "]"
}

// symbolName gives "name" or "name+off" for a value inside a kernel
// symbol or in a module's memory (named by the module's symbol at or
// before it), or "".
func symbolName(s *Session, v uint64) string {
	if v < 1<<63 {
		return ""
	}
	sym, off, ok := s.Kernel.Syms.Nearest(v)
	if !ok || (sym.Size > 0 && off >= sym.Size) || off > 1<<20 {
		ms, moff, ok := s.Kernel.ModuleSymbolAt(v)
		if !ok {
			return ""
		}
		sym.Name, off = ms.Name, moff
	}
	if off == 0 {
		return sym.Name
	}
	return fmt.Sprintf("%s+%d", sym.Name, off)
}

// rdCopy copies n bytes from addr to a new file called name.
func rdCopy(ctx context.Context, addr, n uint64, name string, read func([]byte, uint64) error) (Result, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	var done uint64
	for done < n {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, err
		}
		// A page at a time, so that a read ends at a page that is missing.
		c := min(n-done, 4096-(addr+done)%4096)
		if err := read(buf[:c], addr+done); err != nil {
			f.Close()
			return &RDCopyResult{Address: Hex(addr), Bytes: done, File: name}, err
		}
		if _, err := f.Write(buf[:c]); err != nil {
			f.Close()
			return nil, err
		}
		done += c
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &RDCopyResult{Address: Hex(addr), Bytes: done, File: name}, nil
}

func signExtend(v uint64, size int) int64 {
	shift := 64 - 8*size
	return int64(v<<shift) >> shift
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x20 && c < 0x7f {
			out[i] = c
		} else {
			out[i] = '.'
		}
	}
	return string(out)
}

// rdString reads memory as a string, up to limit bytes or a NUL, in rows
// of 60 characters (one row, empty, for an empty string).
func rdString(addr, limit uint64, read func([]byte, uint64) error) ([]RDRow, error) {
	var text []byte
	chunk := make([]byte, 64)
	for uint64(len(text)) < limit {
		n := min(uint64(len(chunk)), limit-uint64(len(text)))
		if err := read(chunk[:n], addr+uint64(len(text))); err != nil {
			if len(text) == 0 {
				return nil, err
			}
			break
		}
		if i := strings.IndexByte(string(chunk[:n]), 0); i >= 0 {
			text = append(text, chunk[:i]...)
			break
		}
		text = append(text, chunk[:n]...)
	}
	var rows []RDRow
	for off := 0; off < len(text) || off == 0; off += 60 {
		end := min(off+60, len(text))
		rows = append(rows, RDRow{Address: Hex(addr + uint64(off)), ASCII: string(text[off:end])})
		if end == len(text) {
			break
		}
	}
	return rows, nil
}

// optCount is how many times option name was given ("-SS" is twice).
func optCount(a *Args, name string) int {
	n := 0
	for _, x := range a.seen {
		if x == name {
			n++
		}
	}
	return n
}
