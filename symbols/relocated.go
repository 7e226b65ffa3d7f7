package symbols

import (
	"sort"
	"sync"
)

// Relocated is a vmlinux's symbols as one running kernel placed them: the
// link-time table displaced by that kernel's KASLR offset. The Vmlinux
// itself is never changed, so one Vmlinux can serve several dumps, each
// through its own Relocated view.
type Relocated struct {
	v      *Vmlinux
	offset uint64

	once sync.Once
	syms []Symbol // v.syms with the offset applied; v.syms when it is 0
}

// NewRelocated returns the view of v's symbols displaced by offset.
func NewRelocated(v *Vmlinux, offset uint64) *Relocated {
	return &Relocated{v: v, offset: offset}
}

// Vmlinux is the file the view is of.
func (r *Relocated) Vmlinux() *Vmlinux { return r.v }

// Offset is the KASLR displacement: a run-time address minus its link-time
// address, for symbols in the kernel's address space.
func (r *Relocated) Offset() uint64 { return r.offset }

// relocatable reports whether s moves with the kernel image: not absolute
// symbols nor per-CPU offsets, which live near zero.
func relocatable(s *Symbol) bool {
	return s.Type != 'a' && s.Type != 'A' && s.Addr >= 1<<63
}

// absolute reports whether s is an absolute symbol (SHN_ABS): a value the
// linker script computed, which the kernel's kallsyms leaves out, so no
// address is named by it.
func absolute(s *Symbol) bool { return s.Type == 'a' || s.Type == 'A' }

// shift returns s at its run-time address.
func (r *Relocated) shift(s Symbol) Symbol {
	if relocatable(&s) {
		s.Addr += r.offset
	}
	return s
}

// table is the relocated symbol table, built on first use. Its order is
// the link-time table's (sorted by link-time address).
func (r *Relocated) table() []Symbol {
	r.once.Do(func() {
		if r.offset == 0 {
			r.syms = r.v.syms
			return
		}
		r.syms = make([]Symbol, len(r.v.syms))
		for i, s := range r.v.syms {
			r.syms[i] = r.shift(s)
		}
	})
	return r.syms
}

// Lookup returns the symbol called name, at its run-time address.
func (r *Relocated) Lookup(name string) (Symbol, bool) {
	s, ok := r.v.Lookup(name)
	if !ok {
		return Symbol{}, false
	}
	return r.shift(s), true
}

// Addr returns the run-time address of name; it has the shape of
// arch.Symbols.
func (r *Relocated) Addr(name string) (uint64, bool) {
	s, ok := r.Lookup(name)
	return s.Addr, ok
}

// LookupDemangled finds a symbol by its demangled Rust name, at its
// run-time address.
func (r *Relocated) LookupDemangled(name string) (Symbol, bool) {
	s, ok := r.v.LookupDemangled(name)
	if !ok {
		return Symbol{}, false
	}
	return r.shift(s), true
}

// Nearest returns the symbol at or before the run-time address addr that
// the kernel would name addr by, and addr's offset into it.
//
// It searches the link-time table, shifting as it compares, rather than
// building the relocated table (a copy of ~150,000 symbols): the same
// search over the same run-time addresses, then the aliases picked among
// the run of symbols sharing the run-time address found.
func (r *Relocated) Nearest(addr uint64) (Symbol, uint64, bool) {
	syms := r.v.syms
	at := func(i int) uint64 {
		if relocatable(&syms[i]) {
			return syms[i].Addr + r.offset
		}
		return syms[i].Addr
	}
	// The search orders an absolute symbol in the kernel's range
	// (arm64's _GLOBAL_OFFSET_TABLE_, x86_64's init_per_cpu__*) by
	// where it lies among its neighbours, displaced as they are: left
	// at its link-time address it would break the order the search
	// needs. Never named by it, though (below).
	order := func(i int) uint64 {
		if s := &syms[i]; absolute(s) && s.Addr >= 1<<63 {
			return s.Addr + r.offset
		}
		return at(i)
	}
	i := sort.Search(len(syms), func(i int) bool { return order(i) > addr }) - 1
	for i >= 0 && absolute(&syms[i]) {
		i--
	}
	if i < 0 {
		return Symbol{}, 0, false
	}
	lo := i
	for lo > 0 && order(lo-1) == order(i) {
		lo--
	}
	run := make([]Symbol, 0, i-lo+1)
	for j := lo; j <= i; j++ {
		if !absolute(&syms[j]) {
			run = append(run, r.shift(syms[j]))
		}
	}
	s := run[kallsymsAlias(run, preferredAlias(run, len(run)-1))]
	return s, addr - s.Addr, true
}

// Symbols returns every symbol at its run-time address, in the link-time
// table's order. The slice is shared.
func (r *Relocated) Symbols() []Symbol { return r.table() }

// LinkAddr is the link-time address of the run-time kernel address addr.
func (r *Relocated) LinkAddr(addr uint64) uint64 { return addr - r.offset }

// ReadRunAddr reads size bytes of the vmlinux's initialized data at the
// run-time address addr, e.g. an instruction of the kernel's text.
func (r *Relocated) ReadRunAddr(addr uint64, size int) ([]byte, bool) {
	return r.v.ReadLinkAddr(addr-r.offset, size)
}

// LineForPC returns the source file and line of the code at the run-time
// address pc, as gdb names the file.
func (r *Relocated) LineForPC(pc uint64) (string, int, error) {
	return r.v.lineForPC(pc, r.offset)
}
