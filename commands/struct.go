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
		Synopsis: kw + " " + kw + "_name[.member[,member]] [-o] [-l offset] [-x|-d] [address|symbol[:cpu|:a]] [count]",
		Summary:  kw + " contents",
		Help: `Without an address, prints the definition of the ` + kw + ` as C (gdb's ptype),
followed by its size; -o puts each member's offset before it. With an address
(or a symbol, or a per-CPU symbol with :N for one CPU or :a for all), prints
the ` + kw + `'s contents there as gdb prints them, or only the named members
(nested members as member.sub). A count prints that many consecutive ` + kw + `s
(negative: backwards). The keyword may be left out when the name is not also
a command: "task_struct ffff8881003e8000".`,
		Options: []Option{
			{"-o", "show member offsets (with an address: member addresses)"},
			{"-l offset", "the address is that of the member at offset (a number or " + kw + ".member), e.g. a list_head"},
			{"-x", "print integers in hexadecimal"},
			{"-d", "print integers in decimal (the default)"},
		},
		Examples: []string{
			"gocrash> " + kw + " list_head",
			"gocrash> " + kw + " task_struct -o",
			"gocrash> " + kw + " task_struct.pid,comm ffff8881003e8000",
			"gocrash> " + kw + " list_head -l task_struct.tasks ffff8881003e8890",
			"gocrash> " + kw + " rq.cpu,nr_running runqueues:a",
		},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			return runDataType(ctx, s, kw, args, out)
		},
	}
}

type dataTypeArgs struct {
	offsets, hex bool
	listOff      string
	pos          []string
}

func parseDataTypeArgs(args []string) (dataTypeArgs, error) {
	var a dataTypeArgs
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; arg {
		case "-o":
			a.offsets = true
		case "-x":
			a.hex = true
		case "-d":
			a.hex = false
		case "-l":
			if i+1 >= len(args) {
				return a, &UsageError{"-l needs an offset"}
			}
			i++
			a.listOff = args[i]
		default:
			if strings.HasPrefix(arg, "-") && len(arg) > 1 {
				if _, err := strconv.ParseInt(arg, 0, 64); err == nil && len(a.pos) >= 2 {
					a.pos = append(a.pos, arg) // a negative count
					continue
				}
				return a, &UsageError{"invalid option: " + arg}
			}
			a.pos = append(a.pos, arg)
		}
	}
	return a, nil
}

func runDataType(ctx context.Context, s *Session, kw string, args []string, out io.Writer) error {
	a, err := parseDataTypeArgs(args)
	if err != nil {
		return err
	}
	if len(a.pos) == 0 {
		return &UsageError{"a " + kw + " name is required"}
	}
	ts, err := s.types()
	if err != nil {
		return err
	}
	name, memberList, _ := strings.Cut(a.pos[0], ".")
	t, err := ts.Lookup(kw + " " + name)
	if err != nil {
		if symbols.IsMissing(err) {
			return fmt.Errorf("invalid data structure reference: %s", name)
		}
		return err
	}
	var members []string
	if memberList != "" {
		members = strings.Split(memberList, ",")
		for _, m := range members {
			if _, err := t.MemberPath(m); err != nil {
				if symbols.IsMissing(err) {
					return fmt.Errorf("invalid data structure reference: %s.%s", name, m)
				}
				return err
			}
		}
	}
	if len(a.pos) == 1 {
		return printDefinition(out, t, members, a.offsets, 0)
	}
	if len(a.pos) > 3 {
		return &UsageError{"too many arguments"}
	}
	count := int64(1)
	if len(a.pos) == 3 {
		if count, err = strconv.ParseInt(a.pos[2], 0, 64); err != nil || count == 0 {
			return &UsageError{"invalid count: " + a.pos[2]}
		}
	}
	listOff := int64(0)
	if a.listOff != "" {
		if listOff, err = memberOffsetArg(ts, kw, a.listOff); err != nil {
			return err
		}
	}
	addrs, labels, err := structAddresses(s, a.pos[1])
	if err != nil {
		return err
	}
	size := t.Sizeof()
	if size <= 0 {
		return fmt.Errorf("%s %s has no size (incomplete type)", kw, name)
	}
	for j, base := range addrs {
		if labels != nil {
			fmt.Fprintf(out, "%s: %x\n", labels[j], base)
		}
		for i := int64(0); i != count; {
			if err := ctx.Err(); err != nil {
				return err
			}
			addr := base - uint64(listOff) + uint64(i*size)
			if a.offsets {
				if err := printDefinition(out, t, members, true, addr); err != nil {
					return err
				}
			} else if err := printStructValue(s, out, t, addr, members, a.hex); err != nil {
				return err
			}
			if count > 0 {
				i++
			} else {
				i--
			}
		}
	}
	return nil
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
// CPU, each with a "[N]" label.
func structAddresses(s *Session, arg string) ([]uint64, []string, error) {
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
		var labels []string
		for cpu := range n {
			off, err := s.Kernel.PerCPUOffset(cpu)
			if err != nil {
				return nil, nil, err
			}
			addrs = append(addrs, base+off)
			labels = append(labels, fmt.Sprintf("[%d]", cpu))
		}
		return addrs, labels, nil
	}
	addr, err := parseAddress(s, arg)
	if err != nil {
		return nil, nil, err
	}
	return []uint64{addr}, nil, nil
}

// printDefinition writes a struct or union definition and its size, or
// with members only those members' lines; with offsets, each line gets its
// member's offset (or, with base, address).
func printDefinition(out io.Writer, t *symbols.Type, members []string, offsets bool, base uint64) error {
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
	case offsets:
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
	_, err := io.WriteString(out, b.String())
	return err
}

// printStructValue writes the struct at addr as crash does: the whole of
// it as "struct NAME {" ... "}", or the named members one a line.
func printStructValue(s *Session, out io.Writer, t *symbols.Type, addr uint64, members []string, hex bool) error {
	data := make([]byte, t.Sizeof())
	if err := s.Kernel.ReadVirt(data, addr); err != nil {
		return readError(addr, "gdb_readmem_callback", err)
	}
	vp := s.newValuePrinter(false, hex)
	if members == nil {
		kw := "struct"
		if t.Kind == symbols.TypeUnion {
			kw = "union"
		}
		fmt.Fprintf(&vp.b, "%s %s ", kw, t.Name)
		vp.value(t, data, addr, 0)
		vp.b.WriteByte('\n')
		_, err := io.WriteString(out, vp.b.String())
		return err
	}
	for _, name := range members {
		m, err := t.MemberPath(name)
		if err != nil {
			return err
		}
		depth, last := memberDepth(t, name)
		vp.indent(depth)
		m.Name = name
		vp.member(m, data, addr, depth)
		if !last {
			vp.b.WriteByte(',')
		}
		vp.b.WriteByte('\n')
	}
	_, err := io.WriteString(out, vp.b.String())
	return err
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
