package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// objDeps is what the readers of the kernel's system state (interrupts,
// timers, devices, network, IPC, signals, runqueues) read through: memory,
// layouts, symbols, the System (CPUs, per-CPU offsets) and, when there is
// a vmlinux, its types (array bounds, enumerators).
type objDeps struct {
	Reader
	Layout
	Symbols
	sys   *System
	types typeSource // nil without a vmlinux
}

func (k *Kernel) objDeps() objDeps {
	d := objDeps{Reader: k.Memory, Layout: k.TypeLayout, Symbols: k.SymbolTable, sys: k.System}
	if k.Vmlinux != nil {
		d.types = k.Vmlinux
	}
	return d
}

// obj reads kernel structures member by member and keeps the first error,
// so that a reader can read a whole object and check once.
type obj struct {
	d   objDeps
	err error
}

func (d objDeps) obj() *obj { return &obj{d: d} }

func (o *obj) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// off is offsetof(s, m); a member the kernel lacks is an error.
func (o *obj) off(s, m string) uint64 {
	v, err := o.d.Offset(s, m)
	if err != nil {
		o.fail(err)
		return 0
	}
	return uint64(v)
}

// has reports whether struct s has member m (without failing).
func (o *obj) has(s, m string) bool {
	_, err := o.d.Offset(s, m)
	return err == nil
}

func (o *obj) size(s string) uint64 {
	v, err := o.d.Size(s)
	if err != nil {
		o.fail(err)
		return 0
	}
	return uint64(v)
}

func (o *obj) sym(name string) uint64 {
	a, err := o.d.SymbolAddr(name)
	if err != nil {
		o.fail(err)
	}
	return a
}

func (o *obj) u64(addr uint64) uint64 {
	if o.err != nil {
		return 0
	}
	v, err := o.d.ReadU64(addr)
	if err != nil {
		o.fail(err)
	}
	return v
}

func (o *obj) u32(addr uint64) uint32 {
	if o.err != nil {
		return 0
	}
	v, err := o.d.ReadU32(addr)
	if err != nil {
		o.fail(err)
	}
	return v
}

func (o *obj) u16(addr uint64) uint16 {
	if o.err != nil {
		return 0
	}
	v, err := o.d.ReadU16(addr)
	if err != nil {
		o.fail(err)
	}
	return v
}

func (o *obj) u8(addr uint64) uint8 {
	if o.err != nil {
		return 0
	}
	var b [1]byte
	if err := o.d.ReadVirt(b[:], addr); err != nil {
		o.fail(err)
	}
	return b[0]
}

func (o *obj) bytes(addr uint64, n int) []byte {
	b := make([]byte, n)
	if o.err != nil {
		return b
	}
	if err := o.d.ReadVirt(b, addr); err != nil {
		o.fail(err)
	}
	return b
}

// str reads the NUL-terminated string at addr (at most max bytes); a NULL
// pointer is "".
func (o *obj) str(addr uint64, max int) string {
	if o.err != nil || addr == 0 {
		return ""
	}
	s, err := readCString(o.d, addr, max)
	if err != nil {
		o.fail(err)
	}
	return s
}

// strp reads the string a char * at addr points to.
func (o *obj) strp(addr uint64, max int) string { return o.str(o.u64(addr), max) }

// readCString reads a string that may end near the end of a mapping:
// page by page rather than max bytes at once.
func readCString(r Reader, addr uint64, max int) (string, error) {
	var out []byte
	for len(out) < max {
		n := 256 - int(addr%256)
		if n > max-len(out) {
			n = max - len(out)
		}
		b := make([]byte, n)
		if err := r.ReadVirt(b, addr); err != nil {
			if len(out) > 0 {
				return string(out), nil
			}
			return "", err
		}
		for i, c := range b {
			if c == 0 {
				return string(append(out, b[:i]...)), nil
			}
		}
		out = append(out, b...)
		addr += uint64(n)
	}
	return string(out), nil
}

// percpu is the address of a per-CPU variable's instance on cpu.
func (o *obj) percpu(addr uint64, cpu int) uint64 {
	off, err := o.d.sys.PerCPUOffset(cpu)
	if err != nil {
		o.fail(err)
	}
	return addr + off
}

// cpus is the number of present CPUs.
func (d objDeps) cpus() (int, error) {
	n, _, err := d.sys.CPUs()
	return n, err
}

// arrayLen is the number of elements of the array variable name, from
// its DWARF type.
func (d objDeps) arrayLen(name string) (int, error) {
	t, err := d.varType(name)
	if err != nil {
		return 0, err
	}
	if t.Kind != symbols.TypeArray || len(t.Dims) == 0 || t.Dims[0] < 0 {
		return 0, fmt.Errorf("%s is not an array of known size", name)
	}
	return int(t.Dims[0]), nil
}

// varType is the (typedef-stripped) type of the variable name.
func (d objDeps) varType(name string) (*symbols.Type, error) {
	if d.types == nil {
		return nil, fmt.Errorf("no vmlinux: the type of %s is not known", name)
	}
	ts, err := d.types.Types()
	if err != nil {
		return nil, err
	}
	t, _, err := ts.ObjectType(name)
	if err != nil {
		return nil, err
	}
	return t.Strip(), nil
}

// memberType is the (typedef-stripped) type of member m of struct s.
func (d objDeps) memberType(s, m string) (*symbols.Type, error) {
	if d.types == nil {
		return nil, fmt.Errorf("no vmlinux: the type of %s.%s is not known", s, m)
	}
	ts, err := d.types.Types()
	if err != nil {
		return nil, err
	}
	st, err := ts.Lookup("struct " + s)
	if err != nil {
		return nil, err
	}
	mem, err := st.MemberPath(m)
	if err != nil {
		return nil, err
	}
	return mem.Type.Strip(), nil
}

// memberArrayLen is the number of elements of array member m of struct s.
func (d objDeps) memberArrayLen(s, m string) (int, error) {
	t, err := d.memberType(s, m)
	if err != nil {
		return 0, err
	}
	if t.Kind != symbols.TypeArray || len(t.Dims) == 0 || t.Dims[0] < 0 {
		return 0, fmt.Errorf("%s.%s is not an array of known size", s, m)
	}
	return int(t.Dims[0]), nil
}

// enumerators lists the constants of enum name, in declaration order.
func (d objDeps) enumerators(name string) ([]symbols.Enumerator, error) {
	if d.types == nil {
		return nil, fmt.Errorf("no vmlinux: enum %s is not known", name)
	}
	ts, err := d.types.Types()
	if err != nil {
		return nil, err
	}
	t, err := ts.Lookup("enum " + name)
	if err != nil {
		return nil, err
	}
	return t.Strip().Enumerators()
}

// walkHlist calls fn with each node of the hlist whose first pointer is
// at head.
func walkHlist(r Reader, head uint64, fn func(node uint64) error) error {
	seen := map[uint64]bool{}
	node, err := r.ReadU64(head)
	if err != nil {
		return err
	}
	for node != 0 {
		if seen[node] || len(seen) > maxListLen {
			return fmt.Errorf("corrupt hlist at %x", head)
		}
		seen[node] = true
		if err := fn(node); err != nil {
			return err
		}
		if node, err = r.ReadU64(node); err != nil {
			return err
		}
	}
	return nil
}
