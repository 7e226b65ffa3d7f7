package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func searchCommand() *Command {
	return &Command{
		Name:     "search",
		Synopsis: "search [-s start] [ -[kKV] | -u | -p | -t | -T ] [-e end | -l length] [-m mask] [-x count] -[cwh] [value | symbol | string] ...",
		Summary:  "search memory",
		Help: `Searches kernel virtual (the default), user virtual (-u, the current context's
address space) or physical (-p) memory for values: unsigned longs, or with -w
32-bit and with -h 16-bit values, at aligned addresses, the bits of the -m
mask ignored; or with -c for strings at any address. Each match prints as
"ADDRESS: VALUE" (a value given as a symbol is followed by its name in
parentheses), or for a string the address and what follows it, up to 56
characters, non-printing ones as '.'. -x N shows N values before and after
each match.

Only what the dump holds is read: kernel memory is taken region by region
as crash takes it (the direct map up to high_memory, the vmalloc areas with
the modules, the vmemmap, and the kernel image mapping; -K leaves out the
vmalloc areas and the vmemmap, -V the direct map and the kernel image), cut
into the pages the dump has, so a filtered dump's excluded pages are never
read. -t searches every task's kernel stack and -T the active tasks', each
task's matches under its header.`,
		Options: []Option{
			{"-s start", "start at this address or symbol (of the memory -u or -p name, else kernel virtual)"},
			{"-e end", "stop at this address or symbol"},
			{"-l length", "search this many bytes from the start"},
			{"-k", "kernel virtual memory (the default)"},
			{"-K", "kernel virtual memory without the vmalloc areas, modules and vmemmap"},
			{"-V", "kernel virtual memory without the direct map and the kernel image"},
			{"-u", "the current context's user virtual memory"},
			{"-p", "physical memory"},
			{"-t", "every task's kernel stack"},
			{"-T", "the active tasks' kernel stacks"},
			{"-m mask", "ignore the bits set in this hexadecimal mask"},
			{"-x count", "show count values before and after each match"},
			{"-c", "search for strings"},
			{"-w", "search for 32-bit values"},
			{"-h", "search for 16-bit values"},
			{"value", "a hexadecimal value, a symbol, or with -c a string"},
		},
		Examples: []string{"gocrash> search -c @@GOCRASH", "gocrash> search -s ffff888000000000 -l 4096 ffffffffffffffff",
			"gocrash> search -p -m ffff babe0000", "gocrash> search -t ffffffff81a0e046", "gocrash> search -x 2 -s ffffc90000013a00 -l 0x200 schedule"},
		Results: []Result{&SearchResult{}},
		Run:     runSearch,
	}
}

// SearchResult is search's matches, in address order (for -t and -T,
// grouped by task).
type SearchResult struct {
	Space   string         `json:"space"` // "kernel", "user", "physical"
	Mode    string         `json:"mode"`  // "long", "int", "short", "chars"
	Matches []SearchMatch  `json:"matches"`
	Tasks   []SearchByTask `json:"tasks,omitempty"` // -t, -T
	context int
}

// SearchByTask is one task's matches in its kernel stack.
type SearchByTask struct {
	TaskRef
	Matches []SearchMatch `json:"matches"`
}

// SearchMatch is one match.
type SearchMatch struct {
	Addr  Hex    `json:"addr"`
	Value Hex    `json:"value,omitempty"` // the unit read (not for strings)
	Name  string `json:"name,omitempty"`  // the symbol the value was given as
	Text  string `json:"text,omitempty"`  // a string match and what follows, as printed
	// Before and After are -x's context: the units around the match.
	Before []Hex `json:"before,omitempty"`
	After  []Hex `json:"after,omitempty"`
	// ContextStart is the address of Before's first unit.
	ContextStart Hex `json:"context_start,omitempty"`

	unit   int
	before []byte // the bytes of Before and After, for the ASCII column
	after  []byte
}

type searchSpace int

const (
	spaceKernel searchSpace = iota
	spaceUser
	spacePhys
)

func runSearch(ctx context.Context, s *Session, a *Args) (Result, error) {
	k := s.Kernel
	if err := a.Exclusive("t", "T"); err != nil {
		return nil, err
	}
	q := kernel.SearchQuery{Mode: kernel.SearchLong, PageSize: k.Arch.PageSize()}
	mode := "long"
	switch a.Last("c", "w", "h") {
	case "c":
		q.Mode, mode = kernel.SearchChars, "chars"
	case "w":
		q.Mode, mode = kernel.SearchInt, "int"
	case "h":
		q.Mode, mode = kernel.SearchShort, "short"
	}
	space := spaceKernel
	switch a.Last("k", "K", "V", "u", "p") {
	case "u":
		space = spaceUser
	case "p":
		space = spacePhys
	}
	tasks := a.Has("t") || a.Has("T")
	_, hasS := a.Value("s")
	_, hasE := a.Value("e")
	_, hasL := a.Value("l")
	if tasks && (hasS || hasE || hasL || a.Has("u") || a.Has("p") || a.Has("k") || a.Has("K") || a.Has("V")) {
		opt := "t"
		if a.Has("T") {
			opt = "T"
		}
		return nil, fmt.Errorf("-%s option cannot be used with other memory-selection options", opt)
	}
	if hasE && hasL {
		return nil, &UsageError{"-e and -l are mutually exclusive"}
	}
	if v, ok := a.Value("m"); ok {
		m, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid mask: %s", v)
		}
		q.Mask = m
	}
	ctxCount := 0
	if v, ok := a.Value("x"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid context count: %s", v)
		}
		if q.Mode == kernel.SearchChars {
			return nil, fmt.Errorf("-x option is not allowed with -c")
		}
		if maxN := int(k.Arch.PageSize()) / int(q.Mode); n > maxN {
			return nil, fmt.Errorf("context value %d is too large: maximum is %d", n, maxN)
		}
		ctxCount = n
	}
	if len(a.Words) == 0 {
		return nil, &UsageError{"a value to search for is required"}
	}
	var names []string
	for _, w := range a.Words {
		if q.Mode == kernel.SearchChars {
			if w != "" {
				q.Strings = append(q.Strings, []byte(w))
			}
			continue
		}
		var v uint64
		name := ""
		if sa, err := k.SymbolAddr(w); err == nil && !isHexWord(w) {
			v, name = sa, w
		} else if x, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64); err == nil {
			v = x
		} else {
			return nil, fmt.Errorf("invalid value: %s", w)
		}
		if q.Mode == kernel.SearchInt && v > 0xffffffff {
			return nil, fmt.Errorf("value too large for -w option: %x", v)
		}
		if q.Mode == kernel.SearchShort && v > 0xffff {
			return nil, fmt.Errorf("value too large for -h option: %x", v)
		}
		if q.Mask != 0 {
			name = ""
		}
		q.Values = append(q.Values, v)
		names = append(names, name)
	}
	if len(q.Values) == 0 && len(q.Strings) == 0 {
		return nil, &UsageError{"a value to search for is required"}
	}
	res := &SearchResult{Mode: mode, Matches: []SearchMatch{}, context: ctxCount}
	read := k.Dump.ReadPhys
	collect := func(out *[]SearchMatch, readCtx func(p []byte, addr uint64) error) func(h kernel.SearchHit) bool {
		return func(h kernel.SearchHit) bool {
			m := SearchMatch{Addr: Hex(h.Addr), unit: int(q.Mode)}
			if q.Mode == kernel.SearchChars {
				m.Text = printable(h.Context)
			} else {
				m.Value = Hex(h.Value)
				m.Name = names[h.Which]
				if ctxCount > 0 {
					addContext(&m, h.Addr, ctxCount, int(q.Mode), k, readCtx)
				}
			}
			*out = append(*out, m)
			return true
		}
	}
	if tasks {
		res.Space = "kernel"
		all, missing, err := readTasks(k)
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if a.Has("T") && !t.Active {
				continue
			}
			lo, hi, err := k.TaskStack(t)
			if err != nil {
				continue
			}
			segs := k.WalkSegments(lo, hi)
			bt := SearchByTask{TaskRef: taskRef(t)}
			if err := kernel.Search(ctx, segs, q, k.ByteOrder(), read, collect(&bt.Matches, k.ReadVirt)); err != nil {
				return res, err
			}
			if len(bt.Matches) > 0 {
				res.Tasks = append(res.Tasks, bt)
			}
		}
		return withMissing(res, nil, missing)
	}
	parse := func(opt string, def uint64) (uint64, error) {
		v, ok := a.Value(opt)
		if !ok {
			return def, nil
		}
		if space == spaceKernel && !isHexWord(v) {
			if sa, err := k.SymbolAddr(v); err == nil {
				return sa, nil
			}
		}
		x, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid address: %s", v)
		}
		return x, nil
	}
	start, err := parse("s", 0)
	if err != nil {
		return nil, err
	}
	end, err := parse("e", ^uint64(0))
	if err != nil {
		return nil, err
	}
	if l, ok := a.Value("l"); ok {
		n, err := strconv.ParseUint(l, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid length: %s", l)
		}
		end = start + n
	}
	if end <= start {
		return nil, fmt.Errorf("ending address %x is below starting address %x", end, start)
	}
	switch space {
	case spacePhys:
		res.Space = "physical"
		err = kernel.Search(ctx, k.PhysSegments(start, end), q, k.ByteOrder(), read, collect(&res.Matches, k.Dump.ReadPhys))
	case spaceUser:
		res.Space = "user"
		task, terr := s.ContextTask()
		if terr != nil {
			return nil, terr
		}
		t, terr := k.FindTask(task)
		if terr != nil {
			return nil, terr
		}
		if t.MM == 0 {
			return nil, fmt.Errorf("current context has no user address space")
		}
		segs, serr := k.UserSegments(task, start, end)
		if serr != nil {
			return nil, serr
		}
		readUser := func(p []byte, addr uint64) error { return k.ReadUser(task, p, addr) }
		err = kernel.Search(ctx, segs, q, k.ByteOrder(), read, collect(&res.Matches, readUser))
	default:
		res.Space = "kernel"
		// Kernel addresses: the upper half, or from the kernel's text up
		// where the kernel lies low (s390x maps it at its own address).
		low := uint64(1 << 63)
		if t, ok := k.Syms.Addr("_text"); ok && t < low {
			low = t
		}
		if hasS && start < low {
			return nil, fmt.Errorf("invalid kernel virtual address: %x", start)
		}
		regions, rerr := k.KernelSearchRegions()
		if rerr != nil {
			return nil, rerr
		}
		for _, r := range regions {
			switch r.Kind {
			case kernel.RegionDirectMap, kernel.RegionKernelImage:
				if a.Has("V") {
					continue
				}
			default:
				if a.Has("K") {
					continue
				}
			}
			if err = kernel.Search(ctx, k.KernelSegments(r, start, end), q, k.ByteOrder(), read, collect(&res.Matches, k.ReadVirt)); err != nil {
				break
			}
		}
	}
	return res, err
}

// addContext reads -x's units before and after a match.
func addContext(m *SearchMatch, addr uint64, n, unit int, k *kernel.Kernel, read func([]byte, uint64) error) {
	before := make([]byte, n*unit)
	if read(before, addr-uint64(n*unit)) == nil {
		m.before = before
		m.ContextStart = Hex(addr - uint64(n*unit))
		m.Before = units(before, unit, k)
	}
	after := make([]byte, n*unit)
	if read(after, addr+uint64(unit)) == nil {
		m.after = after
		m.After = units(after, unit, k)
	}
}

func units(b []byte, unit int, k *kernel.Kernel) []Hex {
	var out []Hex
	o := k.ByteOrder()
	for i := 0; i+unit <= len(b); i += unit {
		switch unit {
		case 8:
			out = append(out, Hex(o.Uint64(b[i:])))
		case 4:
			out = append(out, Hex(o.Uint32(b[i:])))
		case 2:
			out = append(out, Hex(o.Uint16(b[i:])))
		}
	}
	return out
}

func (r *SearchResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, t := range r.Tasks {
		if i > 0 {
			tw.println("")
		}
		tw.println(t.Header())
		for _, m := range t.Matches {
			m.text(tw, r.context)
		}
	}
	for _, m := range r.Matches {
		m.text(tw, r.context)
	}
	return tw.err
}

func (m SearchMatch) text(tw *textWriter, ctx int) {
	name := ""
	if m.Name != "" {
		name = "(" + m.Name + ")"
	}
	if m.Text != "" || m.unit == 1 {
		tw.printf("%x: %s\n", uint64(m.Addr), m.Text)
		return
	}
	if ctx == 0 {
		tw.printf("%x: %x %s\n", uint64(m.Addr), uint64(m.Value), name)
		return
	}
	// crash's display_memory lines around the match, then the match.
	memLines(tw, uint64(m.ContextStart), m.Before, m.before, m.unit)
	tw.printf("%16x:  %x %s\n", uint64(m.Addr), uint64(m.Value), name)
	memLines(tw, uint64(m.Addr)+uint64(m.unit), m.After, m.after, m.unit)
	tw.println("")
}

// memLines writes units as rd does: 16 bytes a line, each unit
// zero-padded, then the line's bytes as ASCII.
func memLines(tw *textWriter, addr uint64, vals []Hex, raw []byte, unit int) {
	per := 16 / unit
	for i := 0; i < len(vals); i += per {
		j := min(i+per, len(vals))
		var b strings.Builder
		fmt.Fprintf(&b, "%16x:  ", addr+uint64(i*unit))
		for _, v := range vals[i:j] {
			fmt.Fprintf(&b, "%0*x ", unit*2, uint64(v))
		}
		for n := j - i; n < per; n++ {
			b.WriteString(strings.Repeat(" ", unit*2+1))
		}
		b.WriteString("  ")
		b.WriteString(printable(raw[i*unit : j*unit]))
		tw.println(b.String())
	}
}
