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
		Results:  []Result{&SymResult{}},
		Run:      runSym,
	}
}

// SymResult is the symbols sym found, one a line.
type SymResult struct {
	Symbols []SymRow `json:"symbols"`
}

// SymRow is one symbol: an address, the symbol it is in and how far into
// it.
type SymRow struct {
	Address Hex    `json:"address"` // the symbol's address plus Offset
	Type    string `json:"type"`    // nm's letter: T text, D data, B bss, R read-only, W weak; lower case when local
	Name    string `json:"name"`
	Offset  uint64 `json:"offset"`
	// Module is the module the symbol belongs to; "" for the kernel image
	// (sym looks only there).
	Module string `json:"module"`
	// Demangled is a Rust symbol's demangled name.
	Demangled string `json:"demangled,omitempty"`
	// File and Line are the source line of a text address (a symbol or an
	// address looked up by itself, not in lists).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

func (r *SymResult) Text(w io.Writer) error {
	var b strings.Builder
	for _, row := range r.Symbols {
		if row.Offset == 0 {
			fmt.Fprintf(&b, "%016x (%s) %s", uint64(row.Address), row.Type, row.Name)
		} else {
			fmt.Fprintf(&b, "%016x (%s) %s+%d", uint64(row.Address), row.Type, row.Name, row.Offset)
		}
		if row.Demangled != "" {
			fmt.Fprintf(&b, " (%s)", row.Demangled)
		}
		if row.File != "" {
			fmt.Fprintf(&b, " %s: %d", row.File, row.Line)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// runSym gathers -l's list, then -q's, then each symbol or address named.
func runSym(ctx context.Context, s *Session, a *Args) (Result, error) {
	if s.Kernel == nil || s.Kernel.Vmlinux == nil {
		return nil, fmt.Errorf("no vmlinux: symbols are not available")
	}
	v := s.Kernel.Syms
	r := &SymResult{Symbols: []SymRow{}}
	add := func(sy symbols.Symbol, off uint64, source bool) {
		row := SymRow{Address: Hex(sy.Addr + off), Type: string(rune(sy.Type)), Name: sy.Name, Offset: off}
		if d, ok := symbols.Demangle(sy.Name); ok {
			row.Demangled = d
		}
		if source && (sy.Type == 't' || sy.Type == 'T' || sy.Type == 'W') {
			if file, n, err := v.LineForPC(sy.Addr + off); err == nil {
				row.File, row.Line = file, n
			}
		}
		r.Symbols = append(r.Symbols, row)
	}
	if len(a.Words) == 0 && !a.Has("l") && !a.Has("q") {
		return nil, &UsageError{"a symbol, an address, -l or -q is required"}
	}
	if a.Has("l") {
		for _, sy := range v.Symbols() {
			add(sy, 0, false)
		}
	}
	for _, q := range a.Values("q") {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, sy := range v.Symbols() {
			d, _ := symbols.Demangle(sy.Name)
			if strings.Contains(sy.Name, q) || strings.Contains(d, q) {
				add(sy, 0, false)
			}
		}
	}
	for _, w := range a.Words {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if sy, ok := v.Lookup(w); ok {
			add(sy, 0, true)
			continue
		}
		if sy, ok := v.LookupDemangled(w); ok {
			add(sy, 0, true)
			continue
		}
		addr, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: symbol not found", w)
		}
		sy, off, ok := v.Nearest(addr)
		if !ok || !inKernelImage(s, addr) {
			return nil, fmt.Errorf("%s: invalid address", w)
		}
		add(sy, off, true)
	}
	return r, nil
}

// inKernelImage says whether addr lies between _text and _end, or in a
// symbol's extent (a per-CPU symbol).
func inKernelImage(s *Session, addr uint64) bool {
	v := s.Kernel.Syms
	lo, ok1 := v.Addr("_text")
	hi, ok2 := v.Addr("_end")
	return ok1 && ok2 && addr >= lo && addr < hi
}
