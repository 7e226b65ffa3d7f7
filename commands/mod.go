package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func modCommand() *Command {
	return &Command{
		Name:     "mod",
		Synopsis: "mod [name | address]",
		Summary:  "list the loaded kernel modules",
		Help: `Lists the kernel's loaded modules as crash does: the address of each struct
module, its name, the base address of its text (TEXT_BASE on kernels with
module memory regions, 6.4 and later; BASE before), its core size (text, data,
read-only and ro_after_init memory; init memory left out), and where its
debuginfo comes from. gocrash names module text through each module's own
symbol table (CONFIG_KALLSYMS), shown as "(not loaded)  [CONFIG_KALLSYMS]";
loading a module's debuginfo object (crash's -s and -S) is not supported. With
a module name or the address of its struct module or its text, lists that
module only.`,
		Examples: []string{"gocrash> mod", "gocrash> mod loop", "gocrash> mod ffffffffc02c12c0"},
		Run:      runMod,
	}
}

func runMod(ctx context.Context, s *Session, args []string, out io.Writer) error {
	if s.Kernel == nil {
		return fmt.Errorf("no kernel")
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return &UsageError{fmt.Sprintf("option %s is not supported (loading module debuginfo is not implemented)", a)}
		}
	}
	if len(args) > 1 {
		return &UsageError{"one module name or address at most"}
	}
	mods, err := s.Kernel.Modules()
	if err != nil {
		return err
	}
	if len(mods) == 0 {
		fmt.Fprintln(out, "no modules loaded")
		return nil
	}
	base := "BASE"
	if _, err := s.Kernel.Offset("module", "mem"); err == nil {
		base = "TEXT_BASE"
	}
	// Like crash, the name and size columns are as wide as the widest of
	// all modules, listed or not.
	nameW, sizeW := 0, 0
	for _, m := range mods {
		nameW = max(nameW, len(m.Name))
		sizeW = max(sizeW, len(strconv.FormatUint(m.Size, 10)))
	}
	t := Table{Cols: []Column{
		{Header: "MODULE", Align: AlignRight, HeaderAlign: AlignCenter, Width: 16},
		{Header: "NAME", Align: AlignLeft, HeaderAlign: AlignLeft, Width: nameW},
		{Header: base, Align: AlignRight, HeaderAlign: AlignCenter, Width: 16},
		{Header: "SIZE", Align: AlignRight, HeaderAlign: AlignRight, Width: sizeW},
		{Header: "OBJECT FILE", Align: AlignLeft, HeaderAlign: AlignLeft},
	}}
	var addr uint64
	if len(args) == 1 {
		addr, _ = strconv.ParseUint(strings.TrimPrefix(args[0], "0x"), 16, 64)
	}
	for _, m := range mods {
		if len(args) == 1 && m.Name != args[0] && m.Addr != addr && m.Base != addr {
			continue
		}
		obj := "(not loaded)"
		if m.Kallsyms {
			obj += "  [CONFIG_KALLSYMS]"
		}
		t.Add(fmt.Sprintf("%016x", m.Addr), m.Name, fmt.Sprintf("%016x", m.Base), strconv.FormatUint(m.Size, 10), obj)
	}
	if len(t.Rows) == 0 {
		return fmt.Errorf("%s: not a loaded module's name or address", args[0])
	}
	return t.Render(out)
}
