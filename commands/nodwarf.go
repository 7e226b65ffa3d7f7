package commands

import (
	"context"
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// moduleBTFTypes are, for a dump opened without a vmlinux (whose types are
// the kernel's BTF), the loaded modules' types from their BTF as the
// kernel keeps it; none otherwise (a module's types then come from its
// debuginfo object, mod -s). A module whose BTF cannot be read is left
// out: its types are then not found.
func (s *Session) moduleBTFTypes(base *symbols.Types) []*symbols.Types {
	k := s.Kernel
	if k == nil || k.Vmlinux == nil || k.ModuleList == nil || k.Vmlinux.Path != symbols.DumpKernelName {
		return nil
	}
	ts, _ := k.ModuleTypes(base)
	return ts
}

// linesNeedDWARF wraps a command whose -l adds source lines: without the
// kernel's DWARF (a dump opened with no vmlinux) the result is given
// without them, with one line saying why.
func linesNeedDWARF(run func(ctx context.Context, s *Session, a *Args) (Result, error)) func(ctx context.Context, s *Session, a *Args) (Result, error) {
	return func(ctx context.Context, s *Session, a *Args) (Result, error) {
		r, err := run(ctx, s, a)
		if err != nil || !a.Has("l") || s.Kernel == nil || s.Kernel.Vmlinux == nil {
			return r, err
		}
		if _, derr := s.Kernel.Vmlinux.DWARF(); derr != nil {
			return r, fmt.Errorf("-l: no source lines: %v", derr)
		}
		return r, nil
	}
}

// textOnlySymbols reports whether the kernel's symbols are those of a
// kallsyms of text alone from the dump (CONFIG_KALLSYMS_ALL off: Debian's
// arm64 kernels): a data symbol missing then says nothing of the kernel.
func (s *Session) textOnlySymbols() bool {
	k := s.Kernel
	if k == nil || k.Vmlinux == nil || k.Vmlinux.Path != symbols.DumpKernelName {
		return false
	}
	for _, sym := range k.Vmlinux.Symbols() {
		if sym.Type == 'd' || sym.Type == 'b' || sym.Type == 'r' {
			return false
		}
	}
	return true
}
