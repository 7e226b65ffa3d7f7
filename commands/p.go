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
		Results:  []Result{&PResult{}, &PerCPUResult{}},
		Run:      runP,
	}
}

var sizeofRE = regexp.MustCompile(`^sizeof\s*\(\s*(.+?)\s*\)$|^sizeof\s+(.+)$`)
var pathRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?::(\d+))?((?:\.[A-Za-z_][A-Za-z0-9_]*|->[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)$`)
var stepRE = regexp.MustCompile(`\.[A-Za-z_][A-Za-z0-9_]*|->[A-Za-z_][A-Za-z0-9_]*|\[\d+\]`)

// PResult is one value p printed: "$N = value", with "name = " before it
// for a plain variable.
type PResult struct {
	Expression string `json:"expression"`
	// History is N of "$N", the value's number in gdb's value history.
	History int `json:"history"`
	// Name is the variable the expression starts from ("" for sizeof).
	Name string `json:"name,omitempty"`
	// CPU is the per-CPU instance named (runqueues:1).
	CPU  *int   `json:"cpu,omitempty"`
	Type string `json:"type"`
	// Address is where the value lives (absent for sizeof and &).
	Address *Hex   `json:"address,omitempty"`
	Value   CValue `json:"value"`

	prefix string // "name = " or "per_cpu(name, cpu) = " before "$N = "
}

func (r *PResult) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s$%d = ", r.prefix, r.History)
	r.Value.writeText(&b, 0)
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// PerCPUResult is a per-CPU variable named without a CPU: its type and its
// address on each CPU.
type PerCPUResult struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Addresses []PerCPUAddress `json:"addresses"`

	t *symbols.Type
}

// PerCPUAddress is one CPU's instance of a per-CPU variable.
type PerCPUAddress struct {
	CPU     int `json:"cpu"`
	Address Hex `json:"address"`
}

func (r *PerCPUResult) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "PER-CPU DATA TYPE:\n  %s;\nPER-CPU ADDRESSES:\n", symbols.Declaration(r.t, r.Name, 2))
	for _, a := range r.Addresses {
		fmt.Fprintf(&b, "  [%d]: %x\n", a.CPU, uint64(a.Address))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runP(ctx context.Context, s *Session, a *Args) (Result, error) {
	// "p/x expr" comes as the word "/x" (see Registry.Exec); -x and -d
	// are options.
	words := a.Words
	hex, format := false, false
	for len(words) > 0 && (words[0] == "/x" || words[0] == "/d") {
		hex, format = words[0] == "/x", true
		words = words[1:]
	}
	if f := a.Last("x", "d"); f != "" {
		hex, format = f == "x", true
	}
	expr := strings.TrimSpace(strings.Join(words, " "))
	if expr == "" {
		return nil, &UsageError{"an expression is required"}
	}
	ts, err := s.types()
	if err != nil {
		return nil, err
	}
	vp := s.newValuePrinter(hex, false)
	s.values++
	r := &PResult{Expression: expr, History: s.values}
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
			return nil, fmt.Errorf("no symbol %q in current context", name)
		}
		r.Type = "unsigned long"
		r.Value.Type = r.Type
		vp.integer(&r.Value, uint64(t.Sizeof()), 64, false)
		return r, nil
	}
	addrOf := strings.HasPrefix(expr, "&")
	path := strings.TrimSpace(strings.TrimPrefix(expr, "&"))
	m := pathRE.FindStringSubmatch(path)
	if m == nil {
		s.values--
		return nil, fmt.Errorf("unsupported expression: %s (a variable with .member, ->member and [n] steps, &, or sizeof)", path)
	}
	name, cpu, steps := m[1], m[2], stepRE.FindAllString(m[3], -1)
	val, err := evalPath(s, ts, name, cpu, steps)
	var pc *perCPUError
	if errors.As(err, &pc) && len(steps) == 0 && !addrOf {
		// A per-CPU variable with no CPU named: its type and each CPU's
		// instance, as crash shows them.
		s.values--
		return perCPUAddresses(s, pc)
	}
	if err != nil {
		s.values--
		return nil, err
	}
	r.Name = name
	if cpu != "" {
		n, _ := strconv.Atoi(cpu)
		r.CPU = &n
	}
	if len(steps) == 0 && !addrOf && !format && val.kind != symbols.KindFunction {
		if cpu != "" {
			r.prefix = fmt.Sprintf("per_cpu(%s, %s) = ", name, cpu)
		} else {
			r.prefix = name + " = "
		}
	}
	switch {
	case addrOf:
		if val.member.BitSize != 0 {
			s.values--
			return nil, fmt.Errorf("cannot take the address of a bit-field")
		}
		r.Type = symbols.Declaration(val.t, "*", 0)
		r.Value = CValue{Type: r.Type, Value: Hex(val.addr), text: fmt.Sprintf("(%s) %#x", r.Type, val.addr)}
		if sym := s.gdbSymbol(val.addr); sym != "" {
			r.Value.Symbol = sym
			r.Value.text += " <" + sym + ">"
		}
	case val.kind == symbols.KindFunction:
		r.Type = symbols.TypeName(val.t)
		r.Value.Type = r.Type
		vp.function(&r.Value, val.t, val.addr)
		addr := Hex(val.addr)
		r.Address = &addr
	default:
		size := val.t.Sizeof()
		if val.member.BitSize != 0 {
			size = (val.member.BitOffset%8 + val.member.BitSize + 7) / 8
		}
		if size < 0 {
			s.values--
			return nil, fmt.Errorf("%s has an incomplete type", path)
		}
		data := make([]byte, size)
		if err := s.Kernel.ReadVirt(data, val.addr); err != nil {
			s.values--
			return nil, readError(val.addr, "gdb_readmem_callback", err)
		}
		addr := Hex(val.addr)
		r.Address = &addr
		r.Type = symbols.TypeName(val.t)
		st := val.t.Strip()
		switch {
		case val.member.BitSize != 0:
			bm := val.member
			bm.BitOffset %= 8
			r.Value = vp.bitfield(bm, data)
			r.Value.BitOffset, r.Value.BitSize = bm.BitOffset, bm.BitSize
		case st != nil && st.Kind == symbols.TypePointer && !isCharLike(st.Target):
			r.Value.Type = r.Type
			vp.pointer(&r.Value, st, data, true)
		default:
			r.Value = vp.value(val.t, data, val.addr)
		}
	}
	return r, nil
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

// perCPUAddresses gathers a per-CPU variable's type and its address on
// each CPU.
func perCPUAddresses(s *Session, pc *perCPUError) (Result, error) {
	n, _, err := s.Kernel.CPUs()
	if err != nil {
		return nil, err
	}
	r := &PerCPUResult{Name: pc.name, Type: symbols.TypeName(pc.t), t: pc.t}
	for cpu := range n {
		off, err := s.Kernel.PerCPUOffset(cpu)
		if err != nil {
			return nil, err
		}
		r.Addresses = append(r.Addresses, PerCPUAddress{cpu, Hex(pc.offset + off)})
	}
	return r, nil
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
