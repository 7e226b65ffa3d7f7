package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

func symCommand() *Command {
	return &Command{
		Name:     "sym",
		Synopsis: "sym [-l] | [-q string] | [symbol | address]...",
		Summary:  "translate a symbol to its address, or an address to its symbol",
		Help: `Translates a kernel symbol to its address, or an address to the symbol (and
offset) it falls in, with the symbol's type letter as nm prints it (T text,
D data, B bss, R read-only, W weak, lower case when local). Names are those
of the ELF symbol table, as the kernel prints them; a Rust symbol's
demangled name follows it in parentheses, and may be looked up as well
("sym kernel::print::call_printk"), and -q searches both forms.`,
		Options: []Option{
			{"-l", "list every symbol, in address order"},
			{"-q string", "list the symbols whose names contain string"},
		},
		Examples: []string{"gocrash> sym schedule", "gocrash> sym ffffffff81e0e5f4", "gocrash> sym -q sysrq"},
		Run:      runSym,
	}
}

func runSym(ctx context.Context, s *Session, args []string, out io.Writer) error {
	if s.Kernel == nil || s.Kernel.Vmlinux == nil {
		return fmt.Errorf("no vmlinux: symbols are not available")
	}
	v := s.Kernel.Vmlinux
	var b strings.Builder
	line := func(sy symbols.Symbol, off uint64, source bool) {
		if off == 0 {
			fmt.Fprintf(&b, "%016x (%c) %s", sy.Addr, sy.Type, sy.Name)
		} else {
			fmt.Fprintf(&b, "%016x (%c) %s+%d", sy.Addr+off, sy.Type, sy.Name, off)
		}
		if d, ok := symbols.Demangle(sy.Name); ok {
			fmt.Fprintf(&b, " (%s)", d)
		}
		if source && (sy.Type == 't' || sy.Type == 'T' || sy.Type == 'W') {
			if file, n, err := v.LineForPC(sy.Addr + off); err == nil {
				fmt.Fprintf(&b, " %s: %d", file, n)
			}
		}
		b.WriteByte('\n')
	}
	if len(args) == 0 {
		return &UsageError{"a symbol, an address, -l or -q is required"}
	}
	for i := 0; i < len(args); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch a := args[i]; {
		case a == "-l":
			for _, sy := range v.Symbols() {
				line(sy, 0, false)
			}
		case a == "-q":
			if i+1 >= len(args) {
				return &UsageError{"-q needs a string"}
			}
			i++
			for _, sy := range v.Symbols() {
				d, _ := symbols.Demangle(sy.Name)
				if strings.Contains(sy.Name, args[i]) || strings.Contains(d, args[i]) {
					line(sy, 0, false)
				}
			}
		case strings.HasPrefix(a, "-"):
			return &UsageError{"invalid option: " + a}
		default:
			if sy, ok := v.Lookup(a); ok {
				line(sy, 0, true)
				continue
			}
			if sy, ok := v.LookupDemangled(a); ok {
				line(sy, 0, true)
				continue
			}
			addr, err := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
			if err != nil {
				return fmt.Errorf("%s: symbol not found", a)
			}
			sy, off, ok := v.Nearest(addr)
			if !ok || !inKernelImage(s, addr) {
				return fmt.Errorf("%s: invalid address", a)
			}
			line(sy, off, true)
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// inKernelImage says whether addr lies between _text and _end, or in a
// symbol's extent (a per-CPU symbol).
func inKernelImage(s *Session, addr uint64) bool {
	v := s.Kernel.Vmlinux
	lo, ok1 := v.Addr("_text")
	hi, ok2 := v.Addr("_end")
	return ok1 && ok2 && addr >= lo && addr < hi
}
