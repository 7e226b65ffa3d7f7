package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// parseAddress reads an address argument as crash does: a hexadecimal
// number (with or without 0x), a symbol, symbol+offset, or a per-CPU
// symbol:cpu (the symbol's address in that CPU's per-CPU area).
//
// What is none of these is read as a C expression (see p): its value when
// it is a pointer or an integer ("init_task.tasks.next",
// "(char *)&init_task + 8"), its address when it is a struct, array or
// function.
func parseAddress(s *Session, arg string) (uint64, error) {
	a, err := parsePlainAddress(s, arg)
	if err != nil && s != nil && s.Kernel != nil && s.Kernel.Vmlinux != nil {
		if v, xerr := exprAddress(s, arg); xerr == nil {
			return v, nil
		}
	}
	return a, err
}

func parsePlainAddress(s *Session, arg string) (uint64, error) {
	if name, cpuStr, ok := strings.Cut(arg, ":"); ok {
		cpu, err := strconv.Atoi(cpuStr)
		if err != nil {
			return 0, fmt.Errorf("invalid cpu in %q", arg)
		}
		a, err := s.Kernel.SymbolAddr(name)
		if err != nil {
			return 0, err
		}
		off, err := cpuOffset(s, cpu)
		if err != nil {
			return 0, err
		}
		return a + off, nil
	}
	base, plus, hasOff := strings.Cut(arg, "+")
	var off uint64
	if hasOff {
		v, err := strconv.ParseUint(strings.TrimPrefix(plus, "0x"), 0, 64)
		if err != nil {
			if v, err = strconv.ParseUint(plus, 16, 64); err != nil {
				return 0, fmt.Errorf("invalid offset in %q", arg)
			}
		}
		off = v
	}
	if v, err := strconv.ParseUint(strings.TrimPrefix(base, "0x"), 16, 64); err == nil {
		return v + off, nil
	}
	a, err := s.Kernel.SymbolAddr(base)
	if symbols.IsMissing(err) {
		if ma, ok := s.Kernel.ModuleSymbolAddr(base); ok {
			a, err = ma, nil
		}
	}
	if err != nil {
		if symbols.IsMissing(err) {
			return 0, fmt.Errorf("invalid address or symbol: %s", base)
		}
		return 0, err
	}
	return a + off, nil
}

// readError words a failed kernel virtual read as crash does.
func readError(addr uint64, kind string, err error) error {
	var te *arch.TranslationError
	space := "kernel"
	if strings.Contains(kind, "UVADDR") {
		space = "user"
	}
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("invalid %s virtual address: %x  type: %q", space, addr, kind)
	case memory.IsExcluded(err):
		return fmt.Errorf("page excluded: %s virtual address: %x  type: %q", space, addr, kind)
	}
	return fmt.Errorf("cannot read %x (%s): %v", addr, kind, err)
}
