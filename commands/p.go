package commands

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

func pCommand() *Command {
	return &Command{
		Name:     "p",
		Aliases:  []string{"print"},
		Synopsis: "p[/FMT] [-x|-d] expression | symbol[:cpuspec]",
		Summary:  "print the value of an expression",
		Help: `Prints the value of a C expression as gdb prints it for crash: "$N = value",
numbered in gdb's value history. A plain variable is shown as
"name = $N = value". Expressions are C's: literals (integers with C's types,
'c' characters, "strings"), kernel and module symbols, enum constants, casts
(to base types, typedefs, struct/union/enum types and pointers to them,
"(char (*)[16])"), sizeof(type) and sizeof expr, unary - + ~ ! * &, members
with . and ->, subscripts [i], * / % + - << >> < > <= >= == != & ^ | && ||
with C's precedence and conversions, ?: and the comma operator. Pointer
arithmetic is scaled by the pointee's size, and the difference of two
pointers counts elements, so container_of is written as
((struct task_struct *)((char *)PTR - (unsigned long)&((struct task_struct *)0)->tasks)).
$, $$, $N and $$N are earlier values. A per-CPU variable takes :cpu
(runqueues:1, also inside an expression), :a for every CPU, or a list of
CPUs (:0,2-3); named alone, its type and its address on each CPU are shown.
Assignment, ++/--, function calls and floating-point arithmetic are refused.

/FMT is one of gdb's print formats: x hexadecimal, d signed decimal,
u unsigned decimal, o octal, t binary, c character, a address with its
symbol, s as the default.`,
		Options: []Option{
			{"/x, -x", "print integers in hexadecimal"},
			{"/d, -d", "print integers in decimal (the default)"},
			{"/u", "print integers as unsigned decimal"},
			{"/o", "print integers in octal"},
			{"/t", "print integers in binary"},
			{"/c", "print integers as characters"},
			{"/a", "print integers as addresses with <symbol+offset>"},
		},
		Examples: []string{"gocrash> p jiffies", "gocrash> p init_task.comm", "gocrash> p/x init_task.flags", "gocrash> p &init_task",
			"gocrash> p sizeof(struct task_struct)", "gocrash> p runqueues", "gocrash> p cpu_number:1", "gocrash> p cpu_number:a",
			"gocrash> p init_task.se.load.weight >> 10", "gocrash> p ((struct task_struct *)init_task.tasks.next)->comm",
			"gocrash> p *init_task.sched_class", "gocrash> p $1"},
		Expression: true,
		Results:    []Result{&PResult{}, &PResults{}, &PerCPUResult{}},
		Run:        runP,
	}
}

// PResult is one value p printed: "$N = value", with "name = " before it
// for a plain variable.
type PResult struct {
	Expression string `json:"expression"`
	// History is N of "$N", the value's number in gdb's value history.
	History int `json:"history"`
	// Name is the variable the expression starts from ("" when it starts
	// from none).
	Name string `json:"name,omitempty"`
	// CPU is the per-CPU instance named (runqueues:1).
	CPU  *int   `json:"cpu,omitempty"`
	Type string `json:"type"`
	// Address is where the value lives (absent for a value computed, not
	// read: sizeof, &, arithmetic).
	Address *Hex   `json:"address,omitempty"`
	Value   CValue `json:"value"`

	prefix string // "name = " or "per_cpu(name, cpu) = " before "$N = "
	fn     bool   // a plain function: crash breaks the line after "$N = "
}

func (r *PResult) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s$%d = ", r.prefix, r.History)
	if r.fn && r.prefix != "" {
		b.WriteString("\n ")
	}
	r.Value.writeText(&b, 0)
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// PResults are the values of a per-CPU variable on several CPUs (p var:a),
// one "per_cpu(var, cpu) = $N = value" each.
type PResults struct {
	Values []*PResult `json:"values"`
}

func (r *PResults) Text(w io.Writer) error {
	for _, v := range r.Values {
		if err := v.Text(w); err != nil {
			return err
		}
	}
	return nil
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

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
var cpuSpecRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*):(a|all|[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*)$`)

// pFormat is the print format p was given: gdb's /FMT letter, or -x/-d.
func pFormat(a *Args) (byte, error) {
	var f byte
	if a.Format != "" {
		if len(a.Format) != 1 || !strings.Contains("xduotcas", a.Format) {
			return 0, &UsageError{fmt.Sprintf("invalid format: /%s (x, d, u, o, t, c, a or s)", a.Format)}
		}
		f = a.Format[0]
	}
	if l := a.Last("x", "d"); l != "" {
		f = l[0]
	}
	if f == 's' {
		f = 0
	}
	return f, nil
}

func runP(ctx context.Context, s *Session, a *Args) (Result, error) {
	format, err := pFormat(a)
	if err != nil {
		return nil, err
	}
	expr := strings.TrimSpace(strings.Join(a.Words, " "))
	if expr == "" {
		return nil, &UsageError{"an expression is required"}
	}
	e, err := newExprEnv(s)
	if err != nil {
		return nil, err
	}
	if m := cpuSpecRE.FindStringSubmatch(expr); m != nil && strings.ContainsAny(m[2], "a,-") {
		cpus, err := pCPUs(s, m[2])
		if err != nil {
			return nil, err
		}
		out := &PResults{}
		for _, cpu := range cpus {
			r, err := pOne(s, e, fmt.Sprintf("%s:%d", m[1], cpu), format)
			if err != nil {
				return out, err
			}
			out.Values = append(out.Values, r)
		}
		return out, nil
	}
	if identRE.MatchString(expr) {
		if t, kind, err := s.objectType(e.ts, expr); err == nil && kind == symbols.KindVariable {
			if addr, err := e.symbolAddr(expr); err == nil && s.Kernel.IsPerCPU(addr) {
				return perCPUAddresses(s, &perCPUVar{name: expr, t: t, offset: addr})
			}
		}
	}
	r, err := pOne(s, e, expr, format)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// pCPUs reads a cpuspec: a, all, or a list of CPUs and ranges.
func pCPUs(s *Session, spec string) ([]int, error) {
	n, _, err := s.Kernel.CPUs()
	if err != nil {
		return nil, err
	}
	if spec == "a" || spec == "all" {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	var out []int
	for _, part := range strings.Split(spec, ",") {
		var lo, hi int
		if _, err := fmt.Sscanf(part, "%d-%d", &lo, &hi); err != nil {
			if _, err := fmt.Sscanf(part, "%d", &lo); err != nil {
				return nil, &UsageError{"invalid cpuspec: " + spec}
			}
			hi = lo
		}
		if lo > hi || hi >= n {
			return nil, fmt.Errorf("invalid cpu in cpuspec: %s", spec)
		}
		for c := lo; c <= hi; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// pOne evaluates one expression and enters its value in the history.
func pOne(s *Session, e *exprEnv, expr string, format byte) (*PResult, error) {
	n, err := e.parse(expr)
	if err != nil {
		return nil, err
	}
	v, err := e.eval(n)
	if err != nil {
		return nil, err
	}
	vp := s.newValuePrinter(format == 'x', false)
	if format != 'x' {
		vp.format = format
	}
	r := &PResult{Expression: expr, Type: symbols.TypeName(v.t)}
	root := n
	for root != nil && (root.op == "." || root.op == "[]" || root.op == "u&" || root.op == "->") {
		root = root.kids[0]
	}
	if root != nil && root.op == "ident" {
		if _, _, err := s.objectType(e.ts, root.tok.text); err == nil {
			r.Name = root.tok.text
			if root.cpu >= 0 {
				cpu := root.cpu
				r.CPU = &cpu
			}
		}
	}
	if n.op == "ident" && r.Name != "" && format == 0 {
		if n.cpu >= 0 {
			r.prefix = fmt.Sprintf("per_cpu(%s, %d) = ", n.tok.text, n.cpu)
		} else {
			r.prefix = n.tok.text + " = "
		}
	}
	if r.Value, err = e.cvalue(v, vp); err != nil {
		return nil, err
	}
	r.fn = kindOf(v.t) == symbols.TypeFunc
	if v.lval && v.bits == nil {
		addr := Hex(v.addr)
		r.Address = &addr
	}
	s.history = append(s.history, v)
	s.values = len(s.history)
	r.History = s.values
	return r, nil
}

// cvalue reads v into the value p prints.
func (e *exprEnv) cvalue(v xval, vp *valuePrinter) (CValue, error) {
	if k := kindOf(v.t); k == symbols.TypeStruct || k == symbols.TypeUnion || k == symbols.TypeEnum {
		v.t = e.complete(v.t)
	}
	cv := CValue{Type: symbols.TypeName(v.t)}
	st := v.t.Strip()
	switch {
	case v.notype == 't':
		cv.Value = Hex(v.addr)
		cv.text = fmt.Sprintf("{%s} %#x", cv.Type, v.addr)
		if sym := e.s.gdbSymbol(v.addr); sym != "" {
			cv.Symbol = sym
			cv.text += " <" + sym + ">"
		}
		return cv, nil
	case v.notype != 0:
		return cv, xerrf("the symbol has unknown type; cast it to its declared type")
	case st == nil || st.Kind == symbols.TypeVoid:
		cv.text = "void"
		return cv, nil
	case st.Kind == symbols.TypeFunc:
		if vp.format != 0 || vp.hex {
			return cv, xerrf("a print format does not apply to a function: print its address (&f)")
		}
		vp.function(&cv, v.t, v.addr)
		return cv, nil
	case v.bits != nil:
		var buf [8]byte
		e.s.byteOrder().PutUint64(buf[:], v.u)
		switch {
		case st.Kind == symbols.TypeEnum:
			vp.enum(&cv, st, buf[:])
		case st.Kind == symbols.TypeBase && st.Encoding == symbols.EncBoolean:
			vp.base(&cv, st, []byte{byte(v.u)})
		default:
			vp.integer(&cv, v.u, int(v.bits.BitSize), isSigned(v.t))
		}
		cv.BitOffset, cv.BitSize = v.bits.BitOffset, v.bits.BitSize
		return cv, nil
	}
	data, err := e.bytes(v)
	if err != nil {
		return cv, err
	}
	if st.Kind == symbols.TypePointer && vp.hex {
		u := vp.uint(data)
		cv.Value, cv.text = Hex(u), fmt.Sprintf("%#x", u)
		return cv, nil
	}
	if st.Kind == symbols.TypePointer && !isCharLike(st.Target) {
		vp.pointer(&cv, st, data, true)
		return cv, nil
	}
	addr := v.addr
	if !v.lval {
		addr = 0
	}
	c := vp.value(v.t, data, addr)
	return c, nil
}

// perCPUVar is a per-CPU variable named without a CPU.
type perCPUVar struct {
	name   string
	t      *symbols.Type
	offset uint64 // the symbol's value: its offset in each CPU's area
}

// perCPUAddresses gathers a per-CPU variable's type and its address on
// each CPU.
func perCPUAddresses(s *Session, pc *perCPUVar) (Result, error) {
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
