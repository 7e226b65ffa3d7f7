package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func modCommand() *Command {
	return &Command{
		Name:     "mod",
		Synopsis: "mod [name | address] | -s module [objfile] | -S [directory] | -d module | -D",
		Summary:  "list the loaded kernel modules, load their debuginfo",
		Help: `Lists the kernel's loaded modules as crash does: the address of each struct
module, its name, the base address of its text (TEXT_BASE on kernels with
module memory regions, 6.4 and later; BASE before), its core size (text, data,
read-only and ro_after_init memory; init memory left out), and where its
debuginfo comes from: the object file mod -s or -S loaded, else the module's
own symbol table (CONFIG_KALLSYMS), shown as "(not loaded)  [CONFIG_KALLSYMS]".
With a module name or the address of its struct module or its text, lists
that module only.

mod -s reads a module's debuginfo object (its .ko, plain or compressed as
.ko.xz, .ko.gz or .ko.zst), the named file or, without one, the
first <module>.ko found under /lib/modules/RELEASE, /usr/lib/debug/lib/modules/RELEASE
and the directories of the dump and the vmlinux (each searched recursively).
Each of the object's allocated sections is placed where the dump has it, by
the object's symbols that are in the module's symbol table in the dump (all
of a section's must agree; struct module is .gnu.linkonce.this_module), and
the object's DWARF relocations (.rela.debug_*) are applied with those bases.
Then whatis, struct, union and p find the module's types, variables and
functions (the vmlinux's first, as crash), and bt -l shows module frames'
source lines. An object whose symbols do not match the dump's module is
refused. mod -S loads every module's object found under the directory (or
the default ones), naming those it finds none for; mod -d unloads a module's
object, mod -D all of them.`,
		Options: []Option{
			{"-s", "load the debuginfo object of module (mod -s module [objfile])"},
			{"-S", "load every module's debuginfo object found under directory (or the default directories)"},
			{"-d", "unload module's debuginfo object"},
			{"-D", "unload every module's debuginfo object"},
			{"name | address", "the module with this name, or whose struct module or text is at this address"},
		},
		Examples: []string{"gocrash> mod", "gocrash> mod loop", "gocrash> mod ffffffffc02c12c0",
			"gocrash> mod -s gocrash_test /tmp/gocrash_test.ko", "gocrash> mod -S /usr/lib/debug/lib/modules", "gocrash> mod -d gocrash_test"},
		Results: []Result{&ModList{}, &ModUnload{}},
		Run:     runMod,
	}
}

func runMod(ctx context.Context, s *Session, a *Args) (Result, error) {
	if s.Kernel == nil {
		return nil, fmt.Errorf("no kernel")
	}
	if err := a.Exclusive("s", "S", "d", "D"); err != nil {
		return nil, err
	}
	if o := a.Given("s", "S", "d", "D"); len(o) > 0 {
		return runModLoad(s, o[0], a.Words)
	}
	args := a.Words
	if len(args) > 1 {
		return nil, &UsageError{"one module name or address at most"}
	}
	// A module that cannot be read costs its line (partialErr).
	var missing linesError
	mods, err := s.Kernel.Modules()
	if err != nil && !partialErr(err, &missing) {
		return nil, err
	}
	if len(mods) == 0 {
		return &ModList{Modules: []ModRow{}, base: "BASE"}, missingErr(missing)
	}
	// Like crash, the name and size columns are as wide as the widest of
	// all modules, listed or not.
	r := s.newModList(mods)
	var addr uint64
	if len(args) == 1 {
		addr, _ = strconv.ParseUint(strings.TrimPrefix(args[0], "0x"), 16, 64)
	}
	for _, m := range mods {
		if len(args) == 1 && m.Name != args[0] && m.Addr != addr && m.Base != addr {
			continue
		}
		r.Modules = append(r.Modules, s.modRow(m))
	}
	if len(r.Modules) == 0 && len(missing) == 0 {
		return nil, fmt.Errorf("%s: not a loaded module's name or address", args[0])
	}
	return r, missingErr(missing)
}

func (s *Session) modRow(m *kernel.Module) ModRow {
	row := ModRow{Module: Hex(m.Addr), Name: m.Name, Base: Hex(m.Base), Size: m.Size, Kallsyms: m.Kallsyms}
	if lm := s.modObject(m.Name); lm != nil {
		row.Object = lm.path
	}
	return row
}

// newModList is an empty table with its columns sized for mods.
func (s *Session) newModList(mods []*kernel.Module) *ModList {
	r := &ModList{Modules: []ModRow{}, base: "BASE"}
	if _, err := s.Kernel.Offset("module", "mem"); err == nil {
		r.base = "TEXT_BASE"
	}
	for _, m := range mods {
		r.nameW = max(r.nameW, len(m.Name))
		r.sizeW = max(r.sizeW, len(strconv.FormatUint(m.Size, 10)))
	}
	return r
}

// runModLoad is mod -s module [objfile], -S [dir], -d module and -D.
func runModLoad(s *Session, opt string, words []string) (Result, error) {
	mods, err := s.Kernel.Modules()
	if err != nil {
		return nil, err
	}
	find := func(name string) *kernel.Module {
		for _, m := range mods {
			if m.Name == name {
				return m
			}
		}
		return nil
	}
	r := s.newModList(mods)
	switch opt {
	case "s":
		if len(words) < 1 || len(words) > 2 {
			return nil, &UsageError{"mod -s module [objfile]"}
		}
		m := find(words[0])
		if m == nil {
			return nil, fmt.Errorf("%s: not a loaded module", words[0])
		}
		path := ""
		if len(words) == 2 {
			path = words[1]
			if err := statModuleObject(path); err != nil {
				return nil, err
			}
		} else {
			p, ok := findModuleObject(m.Name, s.moduleSearchDirs())
			if !ok {
				return nil, fmt.Errorf("cannot find or load object file for %s module", m.Name)
			}
			path = p
		}
		if err := s.loadModuleObject(m, path); err != nil {
			return nil, err
		}
		r.Modules = append(r.Modules, s.modRow(m))
		return r, nil
	case "S":
		if len(words) > 1 {
			return nil, &UsageError{"mod -S [directory]"}
		}
		dirs := s.moduleSearchDirs()
		if len(words) == 1 {
			if fi, err := os.Stat(words[0]); err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("%s: not a directory", words[0])
			}
			dirs = []string{words[0]}
		}
		for _, m := range mods {
			p, ok := findModuleObject(m.Name, dirs)
			if ok {
				if err := s.loadModuleObject(m, p); err == nil {
					r.Modules = append(r.Modules, s.modRow(m))
					continue
				}
			}
			r.Missing = append(r.Missing, m.Name)
		}
		return r, nil
	case "d":
		if len(words) != 1 {
			return nil, &UsageError{"mod -d module"}
		}
		if find(words[0]) == nil {
			return nil, fmt.Errorf("%s: not a loaded module", words[0])
		}
		if !s.unloadModuleObject(words[0]) {
			return nil, fmt.Errorf("%s: no object file is loaded for it", words[0])
		}
		return &ModUnload{Modules: []string{words[0]}}, nil
	default: // D
		if len(words) > 0 {
			return nil, &UsageError{"mod -D takes no argument"}
		}
		u := &ModUnload{Modules: []string{}}
		for _, lm := range s.modObjects {
			u.Modules = append(u.Modules, lm.name)
		}
		s.modObjects = nil
		return u, nil
	}
}

// ModUnload is what mod -d and -D unloaded; it prints nothing, as crash.
type ModUnload struct {
	Modules []string `json:"modules"` // whose object files were unloaded
}

func (r *ModUnload) Text(w io.Writer) error { return nil }

// ModRow is one loaded module.
type ModRow struct {
	Module   Hex    `json:"module"` // its struct module
	Name     string `json:"name"`
	Base     Hex    `json:"base"`             // its text
	Size     uint64 `json:"size"`             // core memory, bytes
	Kallsyms bool   `json:"kallsyms"`         // its symbols come from its own symbol table
	Object   string `json:"object,omitempty"` // its loaded debuginfo object file (mod -s, -S)
}

// ModList is mod's table.
type ModList struct {
	Modules []ModRow `json:"modules"`
	// Missing are the modules mod -S found no object file for.
	Missing      []string `json:"missing,omitempty"`
	base         string   // the base column's header: BASE, or TEXT_BASE (6.4+)
	nameW, sizeW int
}

func (r *ModList) Text(w io.Writer) error {
	for _, m := range r.Missing {
		if _, err := fmt.Fprintf(w, "mod: cannot find or load object file for %s module\n", m); err != nil {
			return err
		}
	}
	if len(r.Modules) == 0 && r.Missing != nil {
		return nil
	}
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
		if m.Object != "" {
			obj = m.Object + " " // crash ends the path with a space
		}
		t.Add(fmt.Sprintf("%016x", uint64(m.Module)), m.Name, fmt.Sprintf("%016x", uint64(m.Base)), strconv.FormatUint(m.Size, 10), obj)
	}
	return t.Text(w)
}
