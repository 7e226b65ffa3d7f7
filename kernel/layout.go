package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// Layout gives the kernel's struct layouts: what code reading kernel
// structures needs, and what a test can fake. A member or type the kernel
// lacks is a *symbols.MissingError; any other error (a corrupt BTF) is a
// failure to find out.
type Layout interface {
	Offset(structName, member string) (int64, error)
	Size(structName string) (int64, error)
}

// Symbols finds kernel symbols' run-time addresses; a symbol the kernel
// lacks is a *symbols.MissingError.
type Symbols interface {
	SymbolAddr(name string) (uint64, error)
}

// vmcoreLayouts is what VMCOREINFO says about layouts (a *memory.VMCoreInfo).
type vmcoreLayouts interface {
	Offset(name string) (int64, bool)
	Size(name string) (int64, bool)
	Length(name string) (int64, bool)
}

// vmcoreSymbols is VMCOREINFO's SYMBOL() list (a *memory.VMCoreInfo).
type vmcoreSymbols interface {
	Symbol(name string) (uint64, bool)
}

// TypeLayout answers Layout from VMCOREINFO's OFFSET() and SIZE() lines,
// else from the vmlinux's types (nil without a vmlinux).
type TypeLayout struct {
	vmcore vmcoreLayouts
	types  Layout
}

// NewTypeLayout prefers vi's entries to types'; types may be nil.
func NewTypeLayout(vi vmcoreLayouts, types Layout) *TypeLayout {
	return &TypeLayout{vmcore: vi, types: types}
}

// SymbolTable answers Symbols from the vmlinux's symbols at this kernel's
// run-time addresses, else from VMCOREINFO's SYMBOL() list.
type SymbolTable struct {
	// Syms is the vmlinux's symbols at this kernel's run-time (KASLR)
	// addresses; nil when only VMCOREINFO is available.
	Syms   *symbols.Relocated
	vmcore vmcoreSymbols
}

// SymbolAddr returns a kernel symbol's run-time address: from the vmlinux,
// else from VMCOREINFO's SYMBOL() list.
func (k *SymbolTable) SymbolAddr(name string) (uint64, error) {
	if k.Syms != nil {
		if a, ok := k.Syms.Addr(name); ok {
			return a, nil
		}
	}
	if a, ok := k.vmcore.Symbol(name); ok {
		return a, nil
	}
	return 0, &symbols.MissingError{What: "symbol " + name}
}

// Offset is offsetof(structName, member): from VMCOREINFO when it has it,
// else from the vmlinux's types.
func (k *TypeLayout) Offset(structName, member string) (int64, error) {
	if o, ok := k.vmcore.Offset(structName + "." + member); ok {
		return o, nil
	}
	if k.types == nil {
		return 0, &symbols.MissingError{What: "member " + structName + "." + member + " (no vmlinux and not in VMCOREINFO)"}
	}
	return k.types.Offset(structName, member)
}

// MemberLen is the element count of the array member structName.member
// whose elements are elem (a struct's name): VMCOREINFO's LENGTH() when it
// has it (the kernel's own count: zone.free_area, free_area.free_list),
// else the member's size over the element's, from the vmlinux's types.
func (k *TypeLayout) MemberLen(structName, member, elem string) (int, error) {
	if n, ok := k.vmcore.Length(structName + "." + member); ok && n > 0 && n <= 1<<20 {
		return int(n), nil
	}
	ms, ok := k.types.(MemberSizer)
	if k.types == nil || !ok {
		return 0, &symbols.MissingError{What: "length of " + structName + "." + member + " (not in VMCOREINFO)"}
	}
	size, err := ms.MemberSize(structName, member)
	if err != nil {
		return 0, err
	}
	es, err := k.types.Size(elem)
	if err != nil {
		return 0, err
	}
	if es <= 0 || size < 0 || size%es != 0 {
		return 0, fmt.Errorf("%s.%s: %d bytes, not an array of struct %s (%d bytes)", structName, member, size, elem, es)
	}
	return int(size / es), nil
}

// SymbolSize is the size the vmlinux's symbol table gives name (an
// array's whole size); false when it gives none.
func (k *SymbolTable) SymbolSize(name string) (uint64, bool) {
	if k.Syms == nil {
		return 0, false
	}
	s, ok := k.Syms.Lookup(name)
	return s.Size, ok && s.Size > 0
}

// Size is sizeof(structName), from VMCOREINFO or the vmlinux's types.
func (k *TypeLayout) Size(structName string) (int64, error) {
	if s, ok := k.vmcore.Size(structName); ok {
		return s, nil
	}
	if k.types == nil {
		return 0, &symbols.MissingError{What: "type " + structName + " (no vmlinux and not in VMCOREINFO)"}
	}
	return k.types.Size(structName)
}
