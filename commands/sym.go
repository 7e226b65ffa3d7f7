package commands

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/symbols"
)

func symCommand() *Command {
	return &Command{
		Name:     "sym",
		Synopsis: "sym [-l] | [-M] | [-m module] | [-p|-n] | [-q string] | [symbol | address]...",
		Summary:  "translate a symbol to its address, or an address to its symbol",
		Help: `Translates a kernel symbol to its address, or an address to the symbol (and
offset) it falls in, with the symbol's type letter as nm prints it (T text,
D data, B bss, R read-only, W weak, lower case when local). Names are those
of the ELF symbol table, as the kernel prints them; a Rust symbol's
demangled name follows it in parentheses, and may be looked up as well
("sym kernel::print::call_printk"), and -q searches both forms.

A loaded module's symbols come from its own symbol table (CONFIG_KALLSYMS)
and are followed by the module's name in brackets ("[loop]"); as in crash,
a module's text symbols are typed t or T and its data symbols (?). A name
is looked up in the kernel image, then in every module; an address in a
module's memory is named by the module's symbol at or before it. -l lists
each module's symbols after the kernel's, between MODULE START and MODULE
END lines, as -m does for one module (since 6.4, a pair of lines for each
of the module's memory regions: MODULE TEXT START, ...). The names of
module symbols are addresses to rd and struct too ("rd max_part",
"struct list_head gocrash_list"); p and whatis, which need the symbol's
type, do not know them (module debuginfo is not loaded).`,
		Options: []Option{
			{"-l", "list every symbol, in address order, the modules' after the kernel's"},
			{"-M", "list the symbols of every loaded module"},
			{"-m module", "list the symbols of a loaded module"},
			{"-p", "show the symbol before each one named, then that one"},
			{"-n", "show the symbol named, then the one after it (with -p: before, it, after)"},
			{"-q string", "list the symbols whose names contain string, the kernel's and the modules'"},
		},
		Examples: []string{"gocrash> sym schedule", "gocrash> sym -p -n schedule", "gocrash> sym -M", "gocrash> sym ffffffff81e0e5f4", "gocrash> sym -q sysrq", "gocrash> sym loop_queue_rq", "gocrash> sym -m loop"},
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
	// Module is the module the symbol belongs to; "" for the kernel image.
	// A module's symbols are typed as crash types them: t or T (text), ?
	// (data).
	Module string `json:"module"`
	// Marker, in module listings (-m, -l), marks a row that is not a
	// symbol but where a module's memory starts or ends: "MODULE START",
	// "MODULE END" (Address the module's base or end, Module its name).
	// Since 6.4 each region has its own: "MODULE TEXT START", ...
	Marker string `json:"marker,omitempty"`
	// Demangled is a Rust symbol's demangled name.
	Demangled string `json:"demangled,omitempty"`
	// File and Line are the source line of a text address (a symbol or an
	// address looked up by itself, not in lists).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`

	listed bool // a row of a module's listing: no [module]
	source bool // a module text symbol looked up by itself: crash's trailing space
}

func (r *SymResult) Text(w io.Writer) error {
	var b strings.Builder
	for _, row := range r.Symbols {
		if row.Marker != "" {
			fmt.Fprintf(&b, "%016x %s: %s\n", uint64(row.Address), row.Marker, row.Module)
			continue
		}
		if row.Offset == 0 {
			fmt.Fprintf(&b, "%016x (%s) %s", uint64(row.Address), row.Type, row.Name)
		} else {
			fmt.Fprintf(&b, "%016x (%s) %s+%d", uint64(row.Address), row.Type, row.Name, row.Offset)
		}
		if row.Demangled != "" {
			fmt.Fprintf(&b, " (%s)", row.Demangled)
		}
		if row.Module != "" && !row.listed {
			fmt.Fprintf(&b, " [%s]", row.Module)
		}
		if row.File != "" {
			fmt.Fprintf(&b, " %s: %d", row.File, row.Line)
		} else if row.source {
			b.WriteByte(' ') // crash's separator before a source line it does not have
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
	mods, _ := s.Kernel.Modules() // a kernel whose modules cannot be read still has its own symbols
	addMod := func(sy kernel.ModuleSymbol, off uint64, source, listed bool) {
		lm := s.modObject(sy.Module)
		row := SymRow{Address: Hex(sy.Addr + off), Type: string(rune(crashModType(sy, lm != nil && lm.defines[sy.Name]))), Name: crashModName(sy.Name),
			Offset: off, Module: sy.Module, listed: listed, source: source && sy.Text}
		if row.source && lm != nil {
			// The module's debuginfo is loaded (mod -s): its line table.
			if file, n, err := s.sourceLine(sy.Addr + off); err == nil {
				row.File, row.Line = file, n
			}
		}
		r.Symbols = append(r.Symbols, row)
	}
	listModule := func(m *kernel.Module) {
		for _, rg := range moduleListing(m) {
			r.Symbols = append(r.Symbols, SymRow{Address: Hex(rg.start), Module: m.Name, Marker: rg.startMarker})
			for _, sy := range rg.syms {
				addMod(sy, 0, false, true)
			}
			r.Symbols = append(r.Symbols, SymRow{Address: Hex(rg.end), Module: m.Name, Marker: rg.endMarker})
		}
	}
	if len(a.Words) == 0 && !a.Has("l") && !a.Has("q") && !a.Has("m") && !a.Has("M") {
		return nil, &UsageError{"a symbol, an address, -l, -M, -m or -q is required"}
	}
	if (a.Has("p") || a.Has("n")) && len(a.Words) == 0 {
		return nil, &UsageError{"-p and -n need a symbol or an address"}
	}
	all := v.Symbols()
	// neighbours adds the kernel symbols around all[i] that -p and -n ask
	// for, with sy (all[i] itself, or an offset into it) between them.
	neighbours := func(i int, sy symbols.Symbol, off uint64) {
		if a.Has("p") && i > 0 {
			add(all[i-1], 0, true)
		}
		add(sy, off, true)
		if a.Has("n") && i+1 < len(all) {
			add(all[i+1], 0, true)
		}
	}
	indexOf := func(sy symbols.Symbol) int {
		i, _ := slices.BinarySearchFunc(all, sy.Addr, func(x symbols.Symbol, t uint64) int { return cmp.Compare(x.Addr, t) })
		for j := i; j < len(all) && all[j].Addr == sy.Addr; j++ {
			if all[j].Name == sy.Name {
				return j
			}
		}
		return i
	}
	modNeighbours := func(sy kernel.ModuleSymbol, off uint64) {
		var list []kernel.ModuleSymbol
		for _, m := range mods {
			if m.Name == sy.Module {
				list = m.Symbols()
			}
		}
		i := slices.IndexFunc(list, func(x kernel.ModuleSymbol) bool { return x.Addr == sy.Addr && x.Name == sy.Name })
		if a.Has("p") && i > 0 {
			addMod(list[i-1], 0, true, false)
		}
		addMod(sy, off, true, false)
		if a.Has("n") && i >= 0 && i+1 < len(list) {
			addMod(list[i+1], 0, true, false)
		}
	}
	if a.Has("M") {
		for _, m := range mods {
			listModule(m)
		}
	}
	if a.Has("l") {
		for _, sy := range v.Symbols() {
			add(sy, 0, false)
		}
		for _, m := range mods {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			listModule(m)
		}
	}
	for _, name := range a.Values("m") {
		for _, m := range mods {
			if m.Name == name {
				listModule(m)
			}
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
		for _, m := range mods {
			for _, sy := range m.Symbols() {
				if strings.Contains(crashModName(sy.Name), q) {
					addMod(sy, 0, false, false)
				}
			}
		}
	}
	for _, w := range a.Words {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		found := false
		if sy, ok := v.Lookup(w); ok {
			neighbours(indexOf(sy), sy, 0)
			found = true
		} else if sy, ok := v.LookupDemangled(w); ok {
			neighbours(indexOf(sy), sy, 0)
			found = true
		}
		for _, sy := range moduleSymbolsNamed(mods, w) {
			modNeighbours(sy, 0)
			found = true
		}
		if found {
			continue
		}
		addr, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("symbol not found: %s", w)
		}
		if sy, off, ok := v.Nearest(addr); ok && inKernelImage(s, addr) {
			neighbours(indexOf(sy), sy, off)
			continue
		}
		if sy, off, ok := s.Kernel.ModuleSymbolAt(addr); ok {
			modNeighbours(sy, off)
			continue
		}
		return nil, fmt.Errorf("invalid address: %s", w)
	}
	return r, nil
}

// crashModName is a module symbol's name as crash shows it: without the
// compiler's ".isra.N", ".part.N" or ".llvm.N" suffix.
func crashModName(name string) string {
	for _, suffix := range []string{".isra.", ".part.", ".llvm."} {
		if i := strings.Index(name, suffix); i > 0 {
			return name[:i]
		}
	}
	return name
}

// moduleSymbolsNamed finds the modules' symbols called name, by their
// own name or the one crash shows.
func moduleSymbolsNamed(mods []*kernel.Module, name string) []kernel.ModuleSymbol {
	var out []kernel.ModuleSymbol
	for _, m := range mods {
		for _, sy := range m.Symbols() {
			if sy.Name == name || crashModName(sy.Name) == name {
				out = append(out, sy)
			}
		}
	}
	return out
}

// crashModType is the type letter crash shows for a module symbol: the
// kallsyms letter for text; for data, "?" unless the module's loaded
// debuginfo object (mod -s) defines the symbol, when crash knows its
// section and shows its letter (D, d, B, R, ...).
func crashModType(sy kernel.ModuleSymbol, defined bool) byte {
	if sy.Text || defined {
		return sy.Type
	}
	return '?'
}

// moduleRegionListing is one extent of a module's listing: its bounds,
// the markers crash prints at them, and the symbols within.
type moduleRegionListing struct {
	start, end             uint64
	startMarker, endMarker string
	syms                   []kernel.ModuleSymbol
}

// moduleListing lays out a module's symbols as sym -m lists them: before
// 6.4 one extent, the module's core memory, between MODULE START and
// MODULE END; since, each memory region in address order between MODULE
// <KIND> START and MODULE <KIND> END.
func moduleListing(m *kernel.Module) []moduleRegionListing {
	regions := slices.Clone(m.Regions())
	slices.SortFunc(regions, func(a, b kernel.ModuleRegion) int { return cmp.Compare(a.Base, b.Base) })
	var out []moduleRegionListing
	for _, rg := range regions {
		l := moduleRegionListing{start: rg.Base, end: rg.Base + rg.Size, startMarker: "MODULE START", endMarker: "MODULE END"}
		if rg.Kind != "" {
			l.startMarker, l.endMarker = "MODULE "+rg.Kind+" START", "MODULE "+rg.Kind+" END"
		}
		for _, sy := range m.Symbols() {
			if sy.Addr >= rg.Base && sy.Addr-rg.Base < rg.Size {
				l.syms = append(l.syms, sy)
			}
		}
		out = append(out, l)
	}
	return out
}

// inKernelImage says whether addr lies between _text and _end, or in a
// symbol's extent (a per-CPU symbol).
func inKernelImage(s *Session, addr uint64) bool {
	v := s.Kernel.Syms
	lo, ok1 := v.Addr("_text")
	hi, ok2 := v.Addr("_end")
	return ok1 && ok2 && addr >= lo && addr < hi
}
