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
		Options: []Option{
			{"-s", "load a module's debuginfo (not supported yet)"},
			{"-S", "load every module's debuginfo (not supported yet)"},
			{"name | address", "the module with this name, or whose struct module or text is at this address"},
		},
		Examples: []string{"gocrash> mod", "gocrash> mod loop", "gocrash> mod ffffffffc02c12c0"},
		Results:  []Result{&ModList{}},
		Run:      runMod,
	}
}

func runMod(ctx context.Context, s *Session, a *Args) (Result, error) {
	if s.Kernel == nil {
		return nil, fmt.Errorf("no kernel")
	}
	if o := a.Given("s", "S"); len(o) > 0 {
		return nil, &UsageError{fmt.Sprintf("option -%s is not supported (loading module debuginfo is not implemented)", o[0])}
	}
	args := a.Words
	if len(args) > 1 {
		return nil, &UsageError{"one module name or address at most"}
	}
	mods, err := s.Kernel.Modules()
	if err != nil {
		return nil, err
	}
	r := &ModList{Modules: []ModRow{}, base: "BASE"}
	if len(mods) == 0 {
		return r, nil
	}
	if _, err := s.Kernel.Offset("module", "mem"); err == nil {
		r.base = "TEXT_BASE"
	}
	// Like crash, the name and size columns are as wide as the widest of
	// all modules, listed or not.
	for _, m := range mods {
		r.nameW = max(r.nameW, len(m.Name))
		r.sizeW = max(r.sizeW, len(strconv.FormatUint(m.Size, 10)))
	}
	var addr uint64
	if len(args) == 1 {
		addr, _ = strconv.ParseUint(strings.TrimPrefix(args[0], "0x"), 16, 64)
	}
	for _, m := range mods {
		if len(args) == 1 && m.Name != args[0] && m.Addr != addr && m.Base != addr {
			continue
		}
		r.Modules = append(r.Modules, ModRow{Module: Hex(m.Addr), Name: m.Name, Base: Hex(m.Base), Size: m.Size, Kallsyms: m.Kallsyms})
	}
	if len(r.Modules) == 0 {
		return nil, fmt.Errorf("%s: not a loaded module's name or address", args[0])
	}
	return r, nil
}

// ModRow is one loaded module.
type ModRow struct {
	Module   Hex    `json:"module"` // its struct module
	Name     string `json:"name"`
	Base     Hex    `json:"base"`     // its text
	Size     uint64 `json:"size"`     // core memory, bytes
	Kallsyms bool   `json:"kallsyms"` // its symbols come from its own symbol table
}

// ModList is mod's table.
type ModList struct {
	Modules      []ModRow `json:"modules"`
	base         string   // the base column's header: BASE, or TEXT_BASE (6.4+)
	nameW, sizeW int
}

func (r *ModList) Text(w io.Writer) error {
	if len(r.Modules) == 0 {
		_, err := fmt.Fprintln(w, "no modules loaded")
		return err
	}
	t := Table{Cols: []Column{
		{Header: "MODULE", Align: AlignRight, HeaderAlign: AlignCenter, Width: 16},
		{Header: "NAME", Align: AlignLeft, HeaderAlign: AlignLeft, Width: r.nameW},
		{Header: r.base, Align: AlignRight, HeaderAlign: AlignCenter, Width: 16},
		{Header: "SIZE", Align: AlignRight, HeaderAlign: AlignRight, Width: r.sizeW},
		{Header: "OBJECT FILE", Align: AlignLeft, HeaderAlign: AlignLeft},
	}}
	for _, m := range r.Modules {
		obj := "(not loaded)"
		if m.Kallsyms {
			obj += "  [CONFIG_KALLSYMS]"
		}
		t.Add(fmt.Sprintf("%016x", uint64(m.Module)), m.Name, fmt.Sprintf("%016x", uint64(m.Base)), strconv.FormatUint(m.Size, 10), obj)
	}
	return t.Text(w)
}
