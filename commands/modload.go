package commands

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/symbols"
)

// Module debuginfo objects (mod -s, -S, -d, -D): a module's .ko read,
// placed where the dump has the module (kernel.Module.PlaceObject) and its
// DWARF relocated to there; kept in the Session, its name index built when
// a type lookup first needs it.

// loadedModObject is one module's loaded debuginfo object.
type loadedModObject struct {
	name    string // the module's
	path    string
	debug   *symbols.ModuleDebug
	defines map[string]bool // the names the object's symbol table defines
}

// moduleTypes are the loaded modules' C types, in load order (one whose
// DWARF cannot be indexed is left out).
func (s *Session) moduleTypes() []*symbols.Types {
	var out []*symbols.Types
	for _, lm := range s.modObjects {
		if t, err := lm.debug.Types(); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// modObject is the loaded object of the module called name, or nil.
func (s *Session) modObject(name string) *loadedModObject {
	for _, lm := range s.modObjects {
		if lm.name == name {
			return lm
		}
	}
	return nil
}

// sourceLine is the source file and line of a text address: of a module's
// code from its loaded object, else from the vmlinux.
func (s *Session) sourceLine(addr uint64) (string, int, error) {
	k := s.Kernel
	if m := k.ModuleHolding(addr); m != nil {
		if lm := s.modObject(m.Name); lm != nil {
			return lm.debug.LineForPC(addr)
		}
		return "", 0, fmt.Errorf("no debuginfo loaded for module %s", m.Name)
	}
	return k.SourceLine(addr)
}

// objectSuffixes are the names a module's object may have: plain,
// compressed, or a separate debuginfo file.
var objectSuffixes = [...]string{".ko", ".ko.debug", ".ko.zst", ".ko.gz", ".ko.xz"}

// moduleFileNames are the file names module name's object may have; the
// kernel's module names have '_' where the file may have '-'.
func moduleFileNames(name string) []string {
	var out []string
	for _, n := range []string{name, strings.ReplaceAll(name, "_", "-")} {
		for _, suf := range objectSuffixes {
			out = append(out, n+suf)
		}
		if !strings.Contains(name, "_") {
			break
		}
	}
	return out
}

// moduleSearchDirs are where mod -s and -S look for an object when none is
// named: crash's /lib/modules/RELEASE and its debug twin, then the
// directories of the dump and the vmlinux.
func (s *Session) moduleSearchDirs() []string {
	var dirs []string
	if uts, err := s.Kernel.UTS(); err == nil && uts.Release != "" {
		dirs = append(dirs, "/lib/modules/"+uts.Release, "/usr/lib/debug/lib/modules/"+uts.Release)
	}
	for _, p := range s.DumpPaths {
		dirs = append(dirs, filepath.Dir(p))
	}
	if s.VmlinuxPath != "" {
		dirs = append(dirs, filepath.Dir(s.VmlinuxPath))
	}
	return dirs
}

// findModuleObject looks for module name's object under dirs (each
// searched recursively), the first found in the order of dirs.
func findModuleObject(name string, dirs []string) (string, bool) {
	want := map[string]bool{}
	for _, n := range moduleFileNames(name) {
		want[n] = true
	}
	for _, d := range dirs {
		found := ""
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if e != nil && e.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !e.IsDir() && want[e.Name()] {
				found = p
				return fs.SkipAll
			}
			return nil
		})
		if found != "" {
			return found, true
		}
	}
	return "", false
}

// loadModuleObject reads path as module m's object, places and relocates
// it, and keeps it (replacing one loaded before).
func (s *Session) loadModuleObject(m *kernel.Module, path string) error {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	o, err := symbols.OpenModuleObject(path)
	if err != nil {
		return err
	}
	p, err := m.PlaceObject(o)
	if err != nil {
		return err
	}
	resolve := func(name string) (uint64, bool) {
		if a, ok := s.Kernel.Syms.Addr(name); ok {
			return a, true
		}
		return s.Kernel.ModuleSymbolAddr(name)
	}
	md, err := o.Relocate(p.Bases, resolve)
	if err != nil {
		return err
	}
	s.unloadModuleObject(m.Name)
	defines := map[string]bool{}
	for _, sy := range o.Symbols {
		// Functions and objects; not the assembler's local labels
		// (.LC0), which crash does not know either.
		defines[sy.Name] = sy.Type == elf.STT_FUNC || sy.Type == elf.STT_OBJECT
	}
	s.modObjects = append(s.modObjects, &loadedModObject{name: m.Name, path: path, debug: md, defines: defines})
	return nil
}

func (s *Session) unloadModuleObject(name string) bool {
	for i, lm := range s.modObjects {
		if lm.name == name {
			s.modObjects = append(s.modObjects[:i:i], s.modObjects[i+1:]...)
			return true
		}
	}
	return false
}

// statModuleObject checks that path names a file, for crash's message.
func statModuleObject(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err.(*fs.PathError).Err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: is a directory", path)
	}
	return nil
}
