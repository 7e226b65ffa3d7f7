package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func rdCommand() *Command {
	return &Command{
		Name:     "rd",
		Synopsis: "rd [-8|-16|-32|-64] [-p|-u] [-a] [-s] [-x|-d] address|symbol[+offset]|symbol:cpu [count]",
		Summary:  "read memory",
		Help: `Displays memory: count units (default 1) from the address, a line of up to
16 bytes at a time with the address first and the bytes as ASCII at the end.
The address is a kernel virtual address unless -p says physical or -u says
user (of the current context, see set); a kernel address may be a symbol,
symbol+offset, or a per-CPU symbol:cpu.`,
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
		},
		Examples: []string{"gocrash> rd linux_banner 4", "gocrash> rd -a linux_banner", "gocrash> rd -p 1000000 8", "gocrash> rd runqueues:1 2"},
		Run:      runRD,
	}
}

func runRD(ctx context.Context, s *Session, args []string, out io.Writer) error {
	size, phys, ascii, symbolic, noASCII, decimal, user := 8, false, false, false, false, false, false
	var pos []string
	for _, a := range args {
		switch a {
		case "-8", "-16", "-32", "-64":
			n, _ := strconv.Atoi(a[1:])
			size = n / 8
		case "-p":
			phys = true
		case "-a":
			ascii = true
		case "-s":
			symbolic = true
		case "-x":
			noASCII = true
		case "-d":
			decimal = true
		case "-u":
			user = true
		default:
			if strings.HasPrefix(a, "-") && len(a) > 1 {
				return &UsageError{"invalid option: " + a}
			}
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 || len(pos) > 2 {
		return &UsageError{"an address and an optional count are required"}
	}
	var addr uint64
	var err error
	var task uint64
	if user {
		if task, err = s.ContextTask(); err != nil {
			return err
		}
	}
	if phys || user {
		addr, err = strconv.ParseUint(strings.TrimPrefix(pos[0], "0x"), 16, 64)
		if err != nil {
			return fmt.Errorf("invalid address: %s", pos[0])
		}
	} else if addr, err = parseAddress(s, pos[0]); err != nil {
		return err
	}
	count := uint64(1)
	if ascii {
		count = 256
	}
	if len(pos) == 2 {
		if count, err = strconv.ParseUint(pos[1], 0, 32); err != nil || count == 0 {
			return &UsageError{"invalid count: " + pos[1]}
		}
	}
	kind := fmt.Sprintf("%d-bit KVADDR", size*8)
	switch {
	case phys:
		kind = fmt.Sprintf("%d-bit PHYSADDR", size*8)
	case user:
		kind = fmt.Sprintf("%d-bit UVADDR", size*8)
	}
	read := func(p []byte, a uint64) error {
		var err error
		if phys {
			err = s.Kernel.Dump.ReadPhys(p, a)
		} else if user {
			err = s.Kernel.ReadUser(task, p, a)
		} else {
			err = s.Kernel.ReadVirt(p, a)
		}
		if err != nil {
			if phys {
				return fmt.Errorf("%v  type: %q", err, kind)
			}
			return readError(a, kind, err)
		}
		return nil
	}
	if ascii {
		return rdString(out, addr, count, read)
	}
	perLine := 16 / size
	order := s.Kernel.Dump.ByteOrder
	buf := make([]byte, 16)
	for done := uint64(0); done < count; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(uint64(perLine), count-done)
		line := buf[:n*uint64(size)]
		a := addr + done*uint64(size)
		if err := read(line, a); err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%x:  ", a)
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
			switch {
			case decimal:
				fmt.Fprintf(&b, "%*d ", []int{0, 4, 6, 0, 11, 0, 0, 0, 20}[size], signExtend(v, size))
			case symbolic && size == 8 && s.Kernel.Vmlinux != nil && symbolName(s, v) != "":
				fmt.Fprintf(&b, "%-16s ", symbolName(s, v))
			default:
				fmt.Fprintf(&b, "%0*x ", size*2, v)
			}
		}
		text := strings.TrimRight(b.String(), " ")
		if !noASCII && !decimal && !symbolic {
			pad := perLine - int(n)
			text += strings.Repeat(" ", pad*(size*2+1)) + "   " + printable(line)
		}
		fmt.Fprintln(out, text)
		done += n
	}
	return nil
}

// symbolName gives "name" or "name+off" for a value inside a kernel
// symbol, or "".
func symbolName(s *Session, v uint64) string {
	if v < 1<<63 {
		return ""
	}
	sym, off, ok := s.Kernel.Vmlinux.Nearest(v)
	if !ok || (sym.Size > 0 && off >= sym.Size) || off > 1<<20 {
		return ""
	}
	if off == 0 {
		return sym.Name
	}
	return fmt.Sprintf("%s+%d", sym.Name, off)
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

// rdString prints memory as a string, 60 characters a line, up to limit
// bytes or a NUL.
func rdString(out io.Writer, addr, limit uint64, read func([]byte, uint64) error) error {
	var text []byte
	chunk := make([]byte, 64)
	for uint64(len(text)) < limit {
		n := min(uint64(len(chunk)), limit-uint64(len(text)))
		if err := read(chunk[:n], addr+uint64(len(text))); err != nil {
			if len(text) == 0 {
				return err
			}
			break
		}
		if i := strings.IndexByte(string(chunk[:n]), 0); i >= 0 {
			text = append(text, chunk[:i]...)
			break
		}
		text = append(text, chunk[:n]...)
	}
	for off := 0; off < len(text) || off == 0; off += 60 {
		end := min(off+60, len(text))
		fmt.Fprintf(out, "%x:  %s\n", addr+uint64(off), strings.ReplaceAll(string(text[off:end]), "\n", "\\n"))
		if end == len(text) {
			break
		}
	}
	return nil
}
