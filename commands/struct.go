package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

func structCommand() *Command { return dataTypeCommand("struct") }
func unionCommand() *Command  { return dataTypeCommand("union") }

func dataTypeCommand(kw string) *Command {
	return &Command{
		Name:     kw,
		Synopsis: kw + " " + kw + "_name[.member[,member]] [-o] [-l offset] [-rfuxdp] [address|symbol[:cpu|:a]] [count | -c count]",
		Summary:  kw + " contents",
		Help: `Without an address, prints the definition of the ` + kw + ` as C (gdb's ptype),
followed by its size; -o puts each member's offset before it. With an address
(or a symbol, or a per-CPU symbol with :N for one CPU or :a for all), prints
the ` + kw + `'s contents there as gdb prints them, or only the named members
(nested members as member.sub). A count prints that many consecutive ` + kw + `s
(negative: backwards). The keyword may be left out when the name is not also
a command: "task_struct ffff8881003e8000".

-r dumps the memory raw, as rd does (64-bit words, or the member's own
size of 1, 2 or 4 bytes); -u reads the address in the current context's
user space, -f at that offset of the dump file. -p shows each pointer
member with its type, and on the lines under it ("-> ") the data it points
to: a string for a char pointer, the symbol of a function pointer, the
value of a pointer to a pointer, the structure a pointer to one points to.`,
		Options: []Option{
			{"-o", "show member offsets (with an address: member addresses)"},
			{"-l offset", "the address is that of the member at offset (a number or " + kw + ".member), e.g. a list_head"},
			{"-x", "print integers in hexadecimal"},
			{"-d", "print integers in decimal (the default)"},
			{"-r", "raw dump of the " + kw + "'s memory (or of the one member named), as rd shows it"},
			{"-f", "the address is an offset in the dump file"},
			{"-u", "the address is a user virtual address of the current context (see set)"},
			{"-p", "show each pointer member's type and, under it, what it points to"},
			{"-c count", "the count of " + kw + "s (negative: the ones leading up to and including the address)"},
		},
		Examples: []string{
			"gocrash> " + kw + " list_head",
			"gocrash> " + kw + " task_struct -o",
			"gocrash> " + kw + " task_struct.pid,comm ffff8881003e8000",
			"gocrash> " + kw + " list_head -l task_struct.tasks ffff8881003e8890",
			"gocrash> " + kw + " rq.cpu,nr_running runqueues:a",
			"gocrash> " + kw + " list_head -r init_task.tasks",
			"gocrash> " + kw + " task_struct.parent,comm ffff8881003e8000 -p",
			"gocrash> " + kw + " list_head ffff8881003e8890 -c 2",
		},
		Results: []Result{&DataTypeResult{}},
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			return runDataType(ctx, s, kw, a)
		},
	}
}

// DataTypeResult is what struct and union give: the type's layout without
// an address, else what is at each address.
type DataTypeResult struct {
	Kind string `json:"kind"` // "struct" or "union"
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Definition is the type's layout (only the members named, when
	// some are), when no address was given.
	Definition *TypeLayout `json:"definition,omitempty"`
	// Instances are what is at each address: each of count consecutive
	// ones, on each CPU for sym:a.
	Instances []StructInstance `json:"instances,omitempty"`
}

// StructInstance is one struct or union at an address: its contents, or
// with -o its layout there.
type StructInstance struct {
	Address Hex  `json:"address"`
	CPU     *int `json:"cpu,omitempty"` // sym:a: the CPU whose instance this is
	// Value is the contents (or the members named).
	Value *StructValue `json:"value,omitempty"`
	// Layout is -o's: the members with their addresses.
	Layout *TypeLayout `json:"layout,omitempty"`
	// Raw is -r's: the memory as rd shows it.
	Raw *RDResult `json:"raw,omitempty"`
	// Pointers are -p's: what each pointer member points to.
	Pointers []PointerTarget `json:"pointers,omitempty"`

	label string // "[N]: ADDR", printed before the first of a CPU's instances
	sep   bool   // not the first of a count: a blank line before it
}

func (r *DataTypeResult) Text(w io.Writer) error {
	if r.Definition != nil {
		if err := r.Definition.Text(w); err != nil {
			return err
		}
	}
	tw := &textWriter{w: w}
	for _, in := range r.Instances {
		if in.label != "" {
			tw.println(in.label)
		}
		if in.sep {
			tw.println("")
		}
		if tw.err != nil {
			return tw.err
		}
		var err error
		switch {
		case in.Layout != nil:
			err = in.Layout.Text(w)
		case in.Raw != nil:
			err = in.Raw.Text(w)
		case in.Value != nil && in.Pointers != nil:
			err = writeDereferenced(w, in.Value, in.Pointers)
		case in.Value != nil:
			err = in.Value.Text(w)
		}
		if err != nil {
			return err
		}
	}
	return tw.err
}

func runDataType(ctx context.Context, s *Session, kw string, a *Args) (Result, error) {
	if len(a.Words) == 0 {
		return nil, &UsageError{"a " + kw + " name is required"}
	}
	ts, err := s.types()
	if err != nil {
		return nil, err
	}
	name, memberList, _ := strings.Cut(a.Words[0], ".")
	t, err := ts.Lookup(kw + " " + name)
	if err != nil {
		if symbols.IsMissing(err) {
			return nil, fmt.Errorf("invalid data structure reference: %s", name)
		}
		return nil, err
	}
	var members []string
	if memberList != "" {
		members = strings.Split(memberList, ",")
		for _, m := range members {
			if _, err := t.MemberPath(m); err != nil {
				if symbols.IsMissing(err) {
					return nil, fmt.Errorf("invalid data structure reference: %s.%s", name, m)
				}
				return nil, err
			}
		}
	}
	res := &DataTypeResult{Kind: kw, Name: name, Size: t.Sizeof()}
	offsets, hex := a.Has("o"), a.Last("x", "d") == "x"
	if len(a.Words) == 1 {
		if a.Has("p") {
			return nil, fmt.Errorf("-p option requires address argument")
		}
		if a.Has("c") {
			return nil, fmt.Errorf("no kernel virtual address argument entered")
		}
		res.Definition = typeLayout(t, members, offsets, 0)
		return res, nil
	}
	if len(a.Words) > 3 || len(a.Words) == 3 && a.Has("c") {
		return nil, &UsageError{"too many arguments!"}
	}
	count := int64(1)
	countArg, hasCount := a.Value("c")
	if len(a.Words) == 3 {
		countArg, hasCount = a.Words[2], true
	}
	if hasCount {
		if count, err = strconv.ParseInt(countArg, 0, 64); err != nil || count == 0 {
			return nil, &UsageError{"invalid count: " + countArg}
		}
	}
	if a.Has("f") && a.Has("u") {
		return nil, &UsageError{"-f and -u are mutually exclusive"}
	}
	raw, deref := a.Has("r"), a.Has("p")
	if raw && len(members) > 1 {
		return nil, fmt.Errorf("only one structure member allowed with -r")
	}
	if offsets && len(members) > 1 {
		return nil, fmt.Errorf("-o option not valid with multiple member format")
	}
	listOff := int64(0)
	if l, ok := a.Value("l"); ok {
		if listOff, err = memberOffsetArg(ts, kw, l); err != nil {
			return nil, err
		}
	}
	read := s.Kernel.ReadVirt
	var addrs []uint64
	var cpus []int
	switch {
	case a.Has("f"):
		off, err := strconv.ParseUint(a.Words[1], 0, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid dumpfile offset: %s", a.Words[1])
		}
		if read, err = dumpFileReader(s); err != nil {
			return nil, err
		}
		addrs = []uint64{off}
	case a.Has("u"):
		addr, err := strconv.ParseUint(strings.TrimPrefix(a.Words[1], "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid user virtual address: %s", a.Words[1])
		}
		task, err := s.ContextTask()
		if err != nil {
			return nil, err
		}
		read = func(p []byte, at uint64) error { return s.Kernel.ReadUser(task, p, at) }
		addrs = []uint64{addr}
	default:
		if addrs, cpus, err = structAddresses(s, a.Words[1]); err != nil {
			return nil, err
		}
	}
	first := int64(0)
	if count < 0 {
		// The -count structs leading up to and including the address.
		first, count = count+1, -count
	}
	size := t.Sizeof()
	if size <= 0 {
		return nil, fmt.Errorf("%s %s has no size (incomplete type)", kw, name)
	}
	for j, base := range addrs {
		for i := int64(0); i < count; i++ {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			addr := base - uint64(listOff) + uint64((first+i)*size)
			in := StructInstance{Address: Hex(addr), sep: i != 0}
			if cpus != nil {
				cpu := cpus[j]
				in.CPU = &cpu
				if i == 0 {
					in.label = fmt.Sprintf("[%d]: %x", cpu, base)
				}
			}
			switch {
			case offsets:
				in.Layout = typeLayout(t, members, true, addr)
			case raw:
				r, err := rawDump(ctx, s, t, members, addr, a)
				if err != nil {
					if in.label != "" {
						res.Instances = append(res.Instances, in)
					}
					return res, err
				}
				in.Raw = r
			default:
				v, err := gatherStructValueFrom(s, t, addr, members, hex, read)
				if err != nil {
					if in.label != "" {
						// crash has printed the CPU's label already.
						res.Instances = append(res.Instances, in)
					}
					return res, err
				}
				in.Value = v
				if deref {
					in.Pointers = dereferencePointers(s, t, addr, hex, read, members)
				}
			}
			res.Instances = append(res.Instances, in)
		}
	}
	return res, nil
}

// memberOffsetArg reads -l's argument: a number, or struct.member.
func memberOffsetArg(ts *symbols.Types, kw, arg string) (int64, error) {
	if n, err := strconv.ParseInt(arg, 0, 64); err == nil {
		return n, nil
	}
	sname, mpath, ok := strings.Cut(arg, ".")
	if !ok {
		return 0, &UsageError{"invalid -l offset: " + arg}
	}
	lt, err := ts.Lookup(kw + " " + sname)
	if err != nil {
		if lt, err = ts.Lookup(sname); err != nil {
			return 0, fmt.Errorf("invalid data structure reference: %s", sname)
		}
	}
	m, err := lt.MemberPath(mpath)
	if err != nil {
		return 0, fmt.Errorf("invalid data structure reference: %s", arg)
	}
	return m.Offset, nil
}

// structAddresses reads an address argument; "sym:a" gives one address per
// CPU, with the CPUs.
func structAddresses(s *Session, arg string) ([]uint64, []int, error) {
	if name, cpus, ok := strings.Cut(arg, ":"); ok && (cpus == "a" || cpus == "all") {
		base, err := s.Kernel.SymbolAddr(name)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid address or symbol: %s", name)
		}
		n, _, err := s.Kernel.CPUs()
		if err != nil {
			return nil, nil, err
		}
		var addrs []uint64
		var list []int
		for cpu := range n {
			off, err := s.Kernel.PerCPUOffset(cpu)
			if err != nil {
				return nil, nil, err
			}
			addrs = append(addrs, base+off)
			list = append(list, cpu)
		}
		return addrs, list, nil
	}
	addr, err := parseAddress(s, arg)
	if err != nil {
		return nil, nil, err
	}
	return []uint64{addr}, nil, nil
}

// TypeLayout is a struct's or union's definition: its members with their
// types, offsets and sizes (only those named, when some are), as crash
// prints it (gdb's ptype, or with -o each member's offset or address).
type TypeLayout struct {
	Kind    string         `json:"kind"` // "struct" or "union"
	Name    string         `json:"name"`
	Size    int64          `json:"size"`
	Members []MemberLayout `json:"members"`

	t       *symbols.Type
	only    []string // the members named
	offsets bool
	base    uint64 // -o with an address
}

// MemberLayout is one member of a TypeLayout.
type MemberLayout struct {
	Name string `json:"name"` // "" for an anonymous struct or union; a path (se.load) when named so
	Type string `json:"type"`
	// Offset is from the start of the struct or union holding the member
	// (an anonymous one's, for the members listed under it); for a named
	// path, from the start of the type shown.
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
	// Address is the member's address, with -o and an address.
	Address *Hex `json:"address,omitempty"`
	// BitSize is non-zero for a bit-field; BitOffset is then its first
	// bit from the start of the struct holding it.
	BitOffset int64 `json:"bit_offset,omitempty"`
	BitSize   int64 `json:"bit_size,omitempty"`
	// Members are an anonymous struct's or union's.
	Members []MemberLayout `json:"members,omitempty"`
}

// typeLayout gathers t's layout, or with members only those members'; with
// base (and offsets), each member's address.
func typeLayout(t *symbols.Type, members []string, offsets bool, base uint64) *TypeLayout {
	kw := "struct"
	if t.Kind == symbols.TypeUnion {
		kw = "union"
	}
	l := &TypeLayout{Kind: kw, Name: t.Name, Size: t.Sizeof(), t: t, only: members, offsets: offsets, base: base}
	var walk func(t *symbols.Type, at uint64, depth int) []MemberLayout
	walk = func(t *symbols.Type, at uint64, depth int) []MemberLayout {
		ms, _ := t.Members()
		out := make([]MemberLayout, 0, len(ms))
		for _, m := range ms {
			ml := layoutOf(m, at, base != 0)
			if in := m.Type.Strip(); m.Name == "" && in != nil && depth < 16 && (in.Kind == symbols.TypeStruct || in.Kind == symbols.TypeUnion) {
				ml.Members = walk(in, at+uint64(m.Offset), depth+1)
			}
			out = append(out, ml)
		}
		return out
	}
	if members == nil {
		l.Members = walk(t, base, 0)
		return l
	}
	for _, name := range members {
		m, err := t.MemberPath(name)
		if err != nil {
			continue
		}
		m.Name = name
		l.Members = append(l.Members, layoutOf(m, base, base != 0))
	}
	return l
}

func layoutOf(m symbols.Member, at uint64, withAddr bool) MemberLayout {
	ml := MemberLayout{Name: m.Name, Type: symbols.TypeName(m.Type), Offset: m.Offset, Size: max(m.Type.Sizeof(), 0), BitOffset: m.BitOffset, BitSize: m.BitSize}
	if m.BitSize == 0 {
		ml.BitOffset = 0
	}
	if withAddr {
		a := Hex(at + uint64(m.Offset))
		ml.Address = &a
	}
	return ml
}

// Text writes the definition and its size as crash does, or with members
// named only those members' lines; with -o, each line gets its member's
// offset (or, with an address, its address).
func (l *TypeLayout) Text(w io.Writer) error {
	t, members, base := l.t, l.only, l.base
	def := symbols.Definition(t)
	var lines []string
	switch {
	case members != nil:
		only := map[string]bool{}
		for _, m := range members {
			only[m] = true
		}
		lines = offsetLines(t, def, base, only)
		// Nested members (a.b) are not lines of the definition: listed
		// with their offsets as crash lists top-level ones.
		var extra []string
		for _, m := range members {
			if strings.Contains(m, ".") {
				mm, _ := t.MemberPath(m)
				decl := "    " + symbols.Declaration(mm.Type, m, 4) + ";"
				tag := fmt.Sprintf("  [%d]", mm.Offset)
				if base != 0 {
					tag = fmt.Sprintf("  [%x]", base+uint64(mm.Offset))
				}
				extra = append(extra, fmt.Sprintf("%*s%s", len(strconv.FormatInt(t.Sizeof(), 10))+4, tag, decl[3:]))
			}
		}
		if len(extra) > 0 && len(lines) > 0 {
			last := lines[len(lines)-1]
			lines = append(append(lines[:len(lines)-1], extra...), last)
		}
	case l.offsets:
		lines = offsetLines(t, def, base, nil)
	default:
		lines = strings.Split(def, "\n")
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if members == nil {
		fmt.Fprintf(&b, "SIZE: %d\n", t.Sizeof())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// StructValue is a struct or union read at an address: the whole of it,
// or the members named.
type StructValue struct {
	Kind    string `json:"kind"` // "struct" or "union"
	Name    string `json:"name"`
	Address Hex    `json:"address"`
	// Members are the members' values (those named, by their names as
	// given: "se.load").
	Members []CValue `json:"members"`

	whole *CValue // all of it: printed as "struct NAME {...}"
	depth []int   // the members named: how deep gdb's print of the whole shows each
	last  []bool  // and whether it ends its block (no trailing comma)
}

// gatherStructValue reads the struct t at addr: the whole of it, or the
// named members.
func gatherStructValue(s *Session, t *symbols.Type, addr uint64, members []string, hex bool) (*StructValue, error) {
	return gatherStructValueFrom(s, t, addr, members, hex, s.Kernel.ReadVirt)
}

// gatherStructValueFrom is gatherStructValue reading through read (user
// memory, the dump file).
func gatherStructValueFrom(s *Session, t *symbols.Type, addr uint64, members []string, hex bool, read func([]byte, uint64) error) (*StructValue, error) {
	data := make([]byte, t.Sizeof())
	if err := read(data, addr); err != nil {
		return nil, readError(addr, "gdb_readmem_callback", err)
	}
	vp := s.newValuePrinter(false, hex)
	vp.read = read
	kw := "struct"
	if t.Kind == symbols.TypeUnion {
		kw = "union"
	}
	sv := &StructValue{Kind: kw, Name: t.Name, Address: Hex(addr)}
	if members == nil {
		v := vp.value(t, data, addr)
		sv.whole, sv.Members = &v, v.Members
		return sv, nil
	}
	for _, name := range members {
		m, err := t.MemberPath(name)
		if err != nil {
			return nil, err
		}
		depth, last := memberDepth(t, name)
		m.Name = name
		sv.Members = append(sv.Members, vp.member(m, data, addr))
		sv.depth = append(sv.depth, depth)
		sv.last = append(sv.last, last)
	}
	return sv, nil
}

// Text writes the struct as crash does: the whole of it as "struct NAME {"
// ... "}", or the named members one a line.
func (sv *StructValue) Text(w io.Writer) error {
	var b strings.Builder
	if sv.whole != nil {
		fmt.Fprintf(&b, "%s %s ", sv.Kind, sv.Name)
		sv.whole.writeText(&b, 0)
		b.WriteByte('\n')
	} else {
		for i := range sv.Members {
			writeIndent(&b, sv.depth[i])
			sv.Members[i].writeMember(&b, sv.depth[i])
			if !sv.last[i] {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printStructValue writes the struct at addr as crash does (see
// StructValue).
func printStructValue(s *Session, out io.Writer, t *symbols.Type, addr uint64, members []string, hex bool) error {
	sv, err := gatherStructValue(s, t, addr, members, hex)
	if err != nil {
		return err
	}
	return sv.Text(out)
}

// memberDepth says how deep gdb's print of the whole struct shows a member
// (1 for a direct member, one more for each anonymous struct or union it
// sits in) and whether it is the last of its block (printed without the
// trailing comma).
func memberDepth(t *symbols.Type, name string) (int, bool) {
	if strings.Contains(name, ".") {
		return 1, false
	}
	var walk func(t *symbols.Type, depth int) (int, bool, bool)
	walk = func(t *symbols.Type, depth int) (int, bool, bool) {
		ms, _ := t.Members()
		for i, m := range ms {
			if m.Name == name {
				return depth, i == len(ms)-1, true
			}
		}
		for _, m := range ms {
			if m.Name != "" {
				continue
			}
			if in := m.Type.Strip(); in != nil && (in.Kind == symbols.TypeStruct || in.Kind == symbols.TypeUnion) {
				if d, last, ok := walk(in, depth+1); ok {
					return d, last, true
				}
			}
		}
		return 0, false, false
	}
	d, last, ok := walk(t, 1)
	if !ok {
		return 1, false
	}
	return d, last
}
