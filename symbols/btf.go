package symbols

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Layouts answers the layout questions the kernel model asks: the size of a
// struct and the byte offset of a (possibly nested) member. A missing type
// or member is an error of type *MissingError: that is how kernel versions
// are told apart.
//
// The answers come from the vmlinux's .BTF section, which every Debian
// kernel since 5.10 carries, read in place by a small lazy reader (btfraw.go):
// one pass over the types indexes them in a few milliseconds and only the
// types asked about are decoded. A vmlinux without BTF (CONFIG_DEBUG_INFO_BTF
// off, or an unreadable section) is answered from the DWARF type model
// instead: before the name index exists, from the first definition of each
// type asked about, which a scan of the units in order reaches without
// reading the rest (quick.go's firstComposite).
type Layouts struct {
	once  sync.Once
	data  []byte
	btf   *btfRaw
	err   error
	dwarf func() (*Types, error) // the fallback
	memo  *layoutMemo            // remembered answers (layoutcache.go); nil when not cached

	// The BTF is read from the vmlinux's mapping: Close takes mu to mark
	// the layouts closed before unmapping, and every question holds it for
	// reading.
	mu     sync.RWMutex
	closed bool
}

// MissingError reports a type or member the kernel does not have.
type MissingError struct{ What string }

func (e *MissingError) Error() string { return e.What + " does not exist in this kernel" }

// IsMissing reports whether err is a *MissingError.
func IsMissing(err error) bool {
	var m *MissingError
	return errors.As(err, &m)
}

var errClosed = errors.New("the vmlinux is closed")

// Layouts returns the vmlinux's type layouts, loaded on first use.
func (v *Vmlinux) Layouts() *Layouts {
	v.layoutsOnce.Do(func() {
		v.layouts = &Layouts{dwarf: v.Types}
		if s := v.File.Section(".BTF"); s != nil {
			v.layouts.data = v.sectionBytes(s)
		}
		if len(v.syms) >= symCacheMin {
			v.layouts.memo = &layoutMemo{path: v.cachePath("layouts-"), size: v.size, mtime: v.modTime,
				btfLen: uint64(len(v.layouts.data))}
		}
	})
	return v.layouts
}

// close marks the layouts unusable (the mapping is about to go), after any
// load or question under way is done.
func (l *Layouts) close() {
	if l.memo != nil {
		l.memo.save()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.once.Do(func() { l.err = errClosed })
	l.btf, l.data = nil, nil
}

// Preload parses the types now (callers start it in the background while
// other start-up work goes on).
func (l *Layouts) Preload() {
	if l.memo != nil {
		if l.memo.load(); l.memo.loaded {
			return // the probes are answered from the cache
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	l.load()
}

// load indexes the BTF; the caller holds mu for reading.
func (l *Layouts) load() error {
	if l.closed {
		return errClosed
	}
	l.once.Do(func() {
		if l.data == nil {
			l.err = fmt.Errorf("the vmlinux has no .BTF section")
			return
		}
		l.btf, l.err = parseBTF(l.data)
	})
	return l.err
}

// lock holds the layouts open for one question; false when the vmlinux is
// closed (then nothing is held).
func (l *Layouts) lock() bool {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return false
	}
	return true
}

func (l *Layouts) composite(name string) (uint32, error) {
	if err := l.load(); err != nil {
		return 0, err
	}
	id, ok, err := l.btf.composite(name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &MissingError{What: "type " + name}
	}
	return id, nil
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

// compositeDWARF finds struct or union name in the DWARF types when the
// BTF cannot answer: fromDWARF is false when the BTF can.
func (l *Layouts) compositeDWARF(name string) (t *Type, fromDWARF bool, err error) {
	ts, err := l.fromDWARF()
	if ts == nil && err == nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if t, ok := ts.firstComposite(name); ok {
		return t, true, nil
	}
	for _, q := range []string{"struct " + name, "union " + name, name} {
		if t, err := ts.Lookup(q); err == nil {
			if s := t.Strip(); s != nil && !s.Decl && s.Size >= 0 {
				return s, true, nil
			}
		}
	}
	return nil, true, &MissingError{What: "type " + name}
}

// Size is sizeof(struct or union name).
func (l *Layouts) Size(name string) (int64, error) {
	if l.memo != nil {
		return l.memo.answer("S "+name, func() (int64, error) { return l.size(name) })
	}
	return l.size(name)
}

func (l *Layouts) size(name string) (int64, error) {
	if !l.lock() {
		return 0, errClosed
	}
	defer l.mu.RUnlock()
	if t, ok, err := l.compositeDWARF(name); ok {
		if err != nil {
			return 0, err
		}
		return t.Size, nil
	}
	id, err := l.composite(name)
	if err != nil {
		return 0, err
	}
	return l.btf.sizeof(id)
}

// Offset is offsetof(struct name, path), where path may name nested members
// ("thread.sp", "signal.thread_head") and members of anonymous structs and
// unions are found as C finds them.
func (l *Layouts) Offset(name, path string) (int64, error) {
	if l.memo != nil {
		return l.memo.answer("O "+name+" "+path, func() (int64, error) { return l.member(name, path, false) })
	}
	return l.member(name, path, false)
}

// MemberSize is sizeof(((struct name *)0)->path): the size of a member
// (an array member's whole size), found as Offset finds the member.
func (l *Layouts) MemberSize(name, path string) (int64, error) {
	if l.memo != nil {
		return l.memo.answer("M "+name+" "+path, func() (int64, error) { return l.member(name, path, true) })
	}
	return l.member(name, path, true)
}

// member finds the member path of struct or union name as C does (nested
// members, members of anonymous structs and unions) and returns its
// offset, or with size its size (its type's).
func (l *Layouts) member(name, path string, size bool) (int64, error) {
	if !l.lock() {
		return 0, errClosed
	}
	defer l.mu.RUnlock()
	if t, ok, err := l.compositeDWARF(name); ok {
		if err != nil {
			return 0, err
		}
		m, err := t.MemberPath(path)
		if err != nil {
			return 0, &MissingError{What: fmt.Sprintf("member %s.%s", name, path)}
		}
		if !size {
			return m.Offset, nil
		}
		if sz := m.Type.Sizeof(); sz >= 0 {
			return sz, nil
		}
		return 0, fmt.Errorf("member %s.%s has no size", name, path)
	}
	id, err := l.composite(name)
	if err != nil {
		return 0, err
	}
	var off int64
	for _, part := range strings.Split(path, ".") {
		m, moff, ok, err := l.btf.findMember(id, part)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, &MissingError{What: fmt.Sprintf("member %s.%s", name, path)}
		}
		off += moff
		id = m.typ
	}
	if !size {
		return off, nil
	}
	return l.btf.sizeof(id)
}

// EnumeratorsOf returns the value of the enum constant name and every
// constant of its enumeration, in order (the first enumeration with that
// constant, as Enumerator finds it): a table of names indexed by value,
// such as zone_stat_item's for the vm counters.
func (l *Layouts) EnumeratorsOf(name string) (int64, []Enumerator, error) {
	if !l.lock() {
		return 0, nil, errClosed
	}
	defer l.mu.RUnlock()
	if ts, err := l.fromDWARF(); ts != nil || err != nil {
		if err != nil {
			return 0, nil, err
		}
		v, t, err := ts.Enumerator(name)
		if err != nil {
			return 0, nil, err
		}
		es, err := t.Enumerators()
		return v, es, err
	}
	if err := l.load(); err != nil {
		return 0, nil, err
	}
	if v, es, ok := l.btf.enumOf(name, true); ok {
		return v, es, nil
	}
	return 0, nil, &MissingError{What: "enumerator " + name}
}

// Enumerator returns the value of the enum constant name (e.g. N_ONLINE).
func (l *Layouts) Enumerator(name string) (int64, error) {
	if l.memo != nil {
		return l.memo.answer("E "+name, func() (int64, error) { return l.enumerator(name) })
	}
	return l.enumerator(name)
}

func (l *Layouts) enumerator(name string) (int64, error) {
	if !l.lock() {
		return 0, errClosed
	}
	defer l.mu.RUnlock()
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
	if v, ok := l.btf.enumerator(name); ok {
		return v, nil
	}
	return 0, &MissingError{What: "enumerator " + name}
}
