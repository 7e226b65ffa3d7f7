package symbols

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// Layouts answers the layout questions the kernel model asks: the size of a
// struct and the byte offset of a (possibly nested) member. A missing type
// or member is an error of type *MissingError: that is how kernel versions
// are told apart.
//
// The answers come from the vmlinux's .BTF section (cilium/ebpf/btf),
// which every Debian kernel since 5.10 carries and which loads in well
// under 100 ms; a vmlinux without BTF (CONFIG_DEBUG_INFO_BTF off, or an
// unreadable section) is answered from the DWARF type model instead, at the
// cost of the DWARF index scan.
type Layouts struct {
	once  sync.Once
	data  []byte
	spec  *btf.Spec
	err   error
	dwarf func() (*Types, error) // the fallback
}

// MissingError reports a type or member the kernel does not have.
type MissingError struct{ What string }

func (e *MissingError) Error() string { return e.What + " does not exist in this kernel" }

// IsMissing reports whether err is a *MissingError.
func IsMissing(err error) bool {
	var m *MissingError
	return errors.As(err, &m)
}

// Layouts returns the vmlinux's type layouts, loaded on first use.
func (v *Vmlinux) Layouts() *Layouts {
	v.layoutsOnce.Do(func() {
		v.layouts = &Layouts{dwarf: v.Types}
		if s := v.File.Section(".BTF"); s != nil {
			v.layouts.data = v.sectionBytes(s)
		}
	})
	return v.layouts
}

// Preload parses the types now (callers start it in the background while
// other start-up work goes on).
func (l *Layouts) Preload() { l.load() }

func (l *Layouts) load() error {
	l.once.Do(func() {
		if l.data == nil {
			l.err = fmt.Errorf("the vmlinux has no .BTF section")
			return
		}
		l.spec, l.err = btf.LoadSpecFromReader(bytes.NewReader(l.data))
	})
	return l.err
}

func (l *Layouts) composite(name string) (btf.Type, error) {
	if err := l.load(); err != nil {
		return nil, err
	}
	types, err := l.spec.AnyTypesByName(name)
	if err != nil {
		return nil, &MissingError{What: "type " + name}
	}
	for _, t := range types {
		switch t := t.(type) {
		case *btf.Struct:
			if t.Size > 0 {
				return t, nil
			}
		case *btf.Union:
			return t, nil
		}
	}
	for _, t := range types {
		return btf.UnderlyingType(t), nil
	}
	return nil, &MissingError{What: "type " + name}
}

// fromDWARF returns the DWARF type model when the BTF cannot answer; nil
// when the BTF can.
func (l *Layouts) fromDWARF() (*Types, error) {
	if l.load() == nil || l.dwarf == nil {
		return nil, nil
	}
	ts, err := l.dwarf()
	if err != nil {
		return nil, fmt.Errorf("the vmlinux has neither BTF (%v) nor usable DWARF: %v", l.err, err)
	}
	return ts, nil
}

// compositeDWARF finds struct or union name in the DWARF types.
func compositeDWARF(ts *Types, name string) (*Type, error) {
	for _, q := range []string{"struct " + name, "union " + name, name} {
		if t, err := ts.Lookup(q); err == nil {
			if s := t.Strip(); s != nil && !s.Decl && s.Size >= 0 {
				return s, nil
			}
		}
	}
	return nil, &MissingError{What: "type " + name}
}

// Size is sizeof(struct or union name).
func (l *Layouts) Size(name string) (int64, error) {
	if ts, err := l.fromDWARF(); ts != nil || err != nil {
		if err != nil {
			return 0, err
		}
		t, err := compositeDWARF(ts, name)
		if err != nil {
			return 0, err
		}
		return t.Size, nil
	}
	t, err := l.composite(name)
	if err != nil {
		return 0, err
	}
	n, err := btf.Sizeof(t)
	return int64(n), err
}

// Offset is offsetof(struct name, path), where path may name nested members
// ("thread.sp", "signal.thread_head") and members of anonymous structs and
// unions are found as C finds them.
func (l *Layouts) Offset(name, path string) (int64, error) {
	if ts, err := l.fromDWARF(); ts != nil || err != nil {
		if err != nil {
			return 0, err
		}
		t, err := compositeDWARF(ts, name)
		if err != nil {
			return 0, err
		}
		m, err := t.MemberPath(path)
		if err != nil {
			return 0, &MissingError{What: fmt.Sprintf("member %s.%s", name, path)}
		}
		return m.Offset, nil
	}
	t, err := l.composite(name)
	if err != nil {
		return 0, err
	}
	var off int64
	for _, part := range strings.Split(path, ".") {
		m, moff, ok := findMember(t, part)
		if !ok {
			return 0, &MissingError{What: fmt.Sprintf("member %s.%s", name, path)}
		}
		off += moff
		t = btf.UnderlyingType(m.Type)
	}
	return off, nil
}

// findMember finds member name in struct or union t, looking inside
// anonymous members; the offset returned is in bytes from the start of t.
func findMember(t btf.Type, name string) (btf.Member, int64, bool) {
	var members []btf.Member
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = t.Members
	case *btf.Union:
		members = t.Members
	default:
		return btf.Member{}, 0, false
	}
	for _, m := range members {
		if m.Name == name {
			return m, int64(m.Offset.Bytes()), true
		}
	}
	for _, m := range members {
		if m.Name == "" {
			if inner, off, ok := findMember(m.Type, name); ok {
				return inner, int64(m.Offset.Bytes()) + off, true
			}
		}
	}
	return btf.Member{}, 0, false
}

// Enumerator returns the value of the enum constant name (e.g. N_ONLINE).
func (l *Layouts) Enumerator(name string) (int64, error) {
	if ts, err := l.fromDWARF(); ts != nil || err != nil {
		if err != nil {
			return 0, err
		}
		v, _, err := ts.Enumerator(name)
		return v, err
	}
	if err := l.load(); err != nil {
		return 0, err
	}
	for t, err := range l.spec.All() {
		if err != nil {
			return 0, err
		}
		if e, ok := t.(*btf.Enum); ok {
			for _, v := range e.Values {
				if v.Name == name {
					return int64(v.Value), nil
				}
			}
		}
	}
	return 0, &MissingError{What: "enumerator " + name}
}
