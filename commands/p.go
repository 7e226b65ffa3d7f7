package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

func pCommand() *Command {
	return &Command{
		Name:     "p",
		Aliases:  []string{"print"},
		Synopsis: "p[/x|/d] [-x|-d] expression",
		Summary:  "print the value of an expression",
		Help: `Prints the value of a kernel variable, of a member of one (init_task.comm,
init_mm.pgd, a pointer's member with ->, an array element with [n]), the
address of one (&init_task), or sizeof(type), as gdb prints them: "$N = value",
numbered in order. A plain variable is shown as "name = $N = value". A per-CPU
variable takes :cpu (runqueues:1); named alone, its type and its address on
each CPU are shown. Full C expressions are not supported yet.`,
		Options: []Option{
			{"/x, -x", "print integers in hexadecimal"},
			{"/d, -d", "print integers in decimal (the default)"},
		},
		Examples: []string{"gocrash> p jiffies", "gocrash> p init_task.comm", "gocrash> p/x init_task.flags", "gocrash> p &init_task", "gocrash> p sizeof(struct task_struct)", "gocrash> p runqueues", "gocrash> p cpu_number:1"},
		Run:      runP,
	}
}

var sizeofRE = regexp.MustCompile(`^sizeof\s*\(\s*(.+?)\s*\)$|^sizeof\s+(.+)$`)
var pathRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?::(\d+))?((?:\.[A-Za-z_][A-Za-z0-9_]*|->[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)$`)
var stepRE = regexp.MustCompile(`\.[A-Za-z_][A-Za-z0-9_]*|->[A-Za-z_][A-Za-z0-9_]*|\[\d+\]`)

func runP(ctx context.Context, s *Session, args []string, out io.Writer) error {
	hex, format := false, false
	var words []string
	for _, a := range args {
		switch a {
		case "/x", "-x":
			hex, format = true, true
		case "/d", "-d":
			hex, format = false, true
		default:
			words = append(words, a)
		}
	}
	expr := strings.TrimSpace(strings.Join(words, " "))
	if expr == "" {
		return &UsageError{"an expression is required"}
	}
	ts, err := s.types()
	if err != nil {
		return err
	}
	vp := s.newValuePrinter(hex, false)
	s.values++
	if m := sizeofRE.FindStringSubmatch(expr); m != nil {
		name := m[1] + m[2]
		t, err := ts.Lookup(name)
		if err != nil {
			if t2, _, err2 := s.objectType(ts, name); err2 == nil {
				t, err = t2, nil
			}
		}
		if err != nil {
			s.values--
			return fmt.Errorf("no symbol %q in current context", name)
		}
		fmt.Fprintf(&vp.b, "$%d = ", s.values)
		vp.integer(uint64(t.Sizeof()), 64, false)
		vp.b.WriteByte('\n')
		_, err = io.WriteString(out, vp.b.String())
		return err
	}
	addrOf := strings.HasPrefix(expr, "&")
	expr = strings.TrimSpace(strings.TrimPrefix(expr, "&"))
	m := pathRE.FindStringSubmatch(expr)
	if m == nil {
		s.values--
		return fmt.Errorf("unsupported expression: %s (a variable with .member, ->member and [n] steps, &, or sizeof)", expr)
	}
	name, cpu, steps := m[1], m[2], stepRE.FindAllString(m[3], -1)
	val, err := evalPath(s, ts, name, cpu, steps)
	var pc *perCPUError
	if errors.As(err, &pc) && len(steps) == 0 && !addrOf {
		// A per-CPU variable with no CPU named: its type and each CPU's
		// instance, as crash shows them.
		s.values--
		return perCPUAddresses(s, pc, out)
	}
	if err != nil {
		s.values--
		return err
	}
	if len(steps) == 0 && !addrOf && !format && val.kind != symbols.KindFunction {
		if cpu != "" {
			fmt.Fprintf(&vp.b, "per_cpu(%s, %s) = ", name, cpu)
		} else {
			fmt.Fprintf(&vp.b, "%s = ", name)
		}
	}
	fmt.Fprintf(&vp.b, "$%d = ", s.values)
	switch {
	case addrOf:
		if val.member.BitSize != 0 {
			s.values--
			return fmt.Errorf("cannot take the address of a bit-field")
		}
		fmt.Fprintf(&vp.b, "(%s) %#x", symbols.Declaration(val.t, "*", 0), val.addr)
		if sym := s.gdbSymbol(val.addr); sym != "" {
			fmt.Fprintf(&vp.b, " <%s>", sym)
		}
	case val.kind == symbols.KindFunction:
		fmt.Fprintf(&vp.b, "{%s} %#x", symbols.TypeName(val.t), val.addr)
		if sym := s.gdbSymbol(val.addr); sym != "" {
			fmt.Fprintf(&vp.b, " <%s>", sym)
		}
	default:
		size := val.t.Sizeof()
		if val.member.BitSize != 0 {
			size = (val.member.BitOffset%8 + val.member.BitSize + 7) / 8
		}
		if size < 0 {
			s.values--
			return fmt.Errorf("%s has an incomplete type", expr)
		}
		data := make([]byte, size)
		if err := s.Kernel.ReadVirt(data, val.addr); err != nil {
			s.values--
			return readError(val.addr, "gdb_readmem_callback", err)
		}
		st := val.t.Strip()
		switch {
		case val.member.BitSize != 0:
			bm := val.member
			bm.BitOffset %= 8
			vp.bitfield(bm, data)
		case st != nil && st.Kind == symbols.TypePointer && !isCharLike(st.Target):
			vp.pointer(st, data, true)
		default:
			vp.value(val.t, data, val.addr, 0)
		}
	}
	vp.b.WriteByte('\n')
	_, err = io.WriteString(out, vp.b.String())
	return err
}

// pValue is where an expression's value lives and its type.
type pValue struct {
	addr   uint64
	t      *symbols.Type
	kind   symbols.Kind
	member symbols.Member // the last member step (for bit-fields)
}

// perCPUError is a per-CPU variable named without a CPU.
type perCPUError struct {
	name   string
	t      *symbols.Type
	offset uint64 // the symbol's value: its offset in each CPU's area
}

func (e *perCPUError) Error() string {
	return fmt.Sprintf("%s is a per-CPU variable: name a CPU (%s:0)", e.name, e.name)
}

// perCPUAddresses prints a per-CPU variable's type and its address on each
// CPU.
func perCPUAddresses(s *Session, pc *perCPUError, out io.Writer) error {
	n, _, err := s.Kernel.CPUs()
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "PER-CPU DATA TYPE:\n  %s;\nPER-CPU ADDRESSES:\n", symbols.Declaration(pc.t, pc.name, 2))
	for cpu := range n {
		off, err := s.Kernel.PerCPUOffset(cpu)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "  [%d]: %x\n", cpu, pc.offset+off)
	}
	_, err = io.WriteString(out, b.String())
	return err
}

// evalPath follows a variable through member, pointer and index steps.
func evalPath(s *Session, ts *symbols.Types, name, cpu string, steps []string) (pValue, error) {
	t, kind, err := s.objectType(ts, name)
	if err != nil {
		if symbols.IsMissing(err) {
			return pValue{}, fmt.Errorf("no symbol %q in current context", name)
		}
		return pValue{}, err
	}
	arg := name
	if cpu != "" {
		arg += ":" + cpu
	}
	addr, err := parseAddress(s, arg)
	if err != nil {
		return pValue{}, err
	}
	if cpu == "" && kind == symbols.KindVariable && s.Kernel.IsPerCPU(addr) {
		return pValue{}, &perCPUError{name: name, t: t, offset: addr}
	}
	v := pValue{addr: addr, t: t, kind: kind}
	for _, st := range steps {
		v.member = symbols.Member{}
		switch {
		case strings.HasPrefix(st, "->") || strings.HasPrefix(st, "."):
			mname := strings.TrimPrefix(strings.TrimPrefix(st, "->"), ".")
			cur := v.t.Strip()
			if strings.HasPrefix(st, "->") {
				if cur == nil || cur.Kind != symbols.TypePointer {
					return pValue{}, fmt.Errorf("the value before %s is not a pointer", st)
				}
				p, err := s.Kernel.ReadU64(v.addr)
				if err != nil {
					return pValue{}, readError(v.addr, "gdb_readmem_callback", err)
				}
				v.addr, cur = p, cur.Target.Strip()
			}
			if cur == nil || cur.Kind != symbols.TypeStruct && cur.Kind != symbols.TypeUnion {
				return pValue{}, fmt.Errorf("attempt to extract a component of a value that is not a structure: %s", st)
			}
			m, err := cur.MemberPath(mname)
			if err != nil {
				return pValue{}, fmt.Errorf("there is no member named %s", mname)
			}
			v.addr += uint64(m.Offset)
			v.t, v.member = m.Type, m
		default: // [n]
			n, _ := strconv.ParseUint(st[1:len(st)-1], 10, 64)
			cur := v.t.Strip()
			switch {
			case cur != nil && cur.Kind == symbols.TypeArray:
				elem := cur.Element()
				esz := elem.Sizeof()
				v.addr += n * uint64(esz)
				v.t = elem
			case cur != nil && cur.Kind == symbols.TypePointer:
				p, err := s.Kernel.ReadU64(v.addr)
				if err != nil {
					return pValue{}, readError(v.addr, "gdb_readmem_callback", err)
				}
				v.addr = p + n*uint64(max(cur.Target.Sizeof(), 1))
				v.t = cur.Target
			default:
				return pValue{}, fmt.Errorf("cannot subscript something that is not an array or pointer: %s", st)
			}
		}
	}
	return v, nil
}
