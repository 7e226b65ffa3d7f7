package commands

import (
	"context"
	"fmt"
)

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
