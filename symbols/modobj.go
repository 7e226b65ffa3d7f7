package symbols

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// A module's debuginfo object: the relocatable (ET_REL) .ko a module was
// loaded from, or its debug twin, read and relocated to where one running
// kernel placed the module. Its DWARF sections' relocations (.rela.debug_*)
// are applied in memory with each allocated section's run-time base, so
// that the module's types, variables, functions and line table carry
// run-time addresses.

// ObjSection is an allocated (SHF_ALLOC) section of a module object.
type ObjSection struct {
	Index int // in the section header table
	Name  string
	Flags elf.SectionFlag
	Size  uint64
	Align uint64
	// EntSize is sh_entsize: the kernel's loader skips sections it has
	// already placed by it.
	EntSize uint64
}

// ObjSymbol is a symbol of a module object defined in one of its sections.
type ObjSymbol struct {
	Name    string
	Section int // section header index
	Value   uint64
	Type    elf.SymType
}

// ModuleObject is an opened module object file, not yet relocated.
type ModuleObject struct {
	Path    string
	Machine elf.Machine
	file    *elf.File
	data    []byte
	// Sections are its allocated sections in section header order;
	// Symbols its symbols defined in them.
	Sections []ObjSection
	Symbols  []ObjSymbol
}

// OpenModuleObject reads the module object at path: a .ko, or one
// compressed with xz (.ko.xz, as Debian ships modules since 6.x), gzip
// (.ko.gz) or zstd (.ko.zst), told apart by content.
func OpenModuleObject(path string) (*ModuleObject, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data, err := decompressObject(path, raw)
	if err != nil {
		return nil, err
	}
	return ReadModuleObject(path, data)
}

func decompressObject(path string, raw []byte) ([]byte, error) {
	var r io.Reader
	switch {
	case bytes.HasPrefix(raw, []byte("\xfd7zXZ\x00")):
		xr, err := xz.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		r = xr
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		r = zr
	case bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(bytes.NewReader(raw), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		defer zr.Close()
		r = zr
	default:
		return raw, nil
	}
	// A module is megabytes; a stream that claims more is not one.
	b, err := io.ReadAll(io.LimitReader(r, maxModuleObject+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: decompressing: %v", path, err)
	case len(b) > maxModuleObject:
		return nil, fmt.Errorf("%s: decompresses to more than %d MiB: not a module object", path, maxModuleObject>>20)
	}
	return b, nil
}

// maxModuleObject bounds a decompressed module object.
const maxModuleObject = 1 << 30

// ReadModuleObject reads a module object from its (uncompressed) bytes.
func ReadModuleObject(path string, data []byte) (*ModuleObject, error) {
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not an ELF file", path)
	}
	if ef.Type != elf.ET_REL {
		return nil, fmt.Errorf("%s: ELF %v file, not a kernel module object (ET_REL)", path, ef.Type)
	}
	if ef.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("%s: 32-bit module objects are not supported", path)
	}
	o := &ModuleObject{Path: path, Machine: ef.Machine, file: ef, data: data}
	for i, s := range ef.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 {
			o.Sections = append(o.Sections, ObjSection{Index: i, Name: s.Name, Flags: s.Flags, Size: s.Size, Align: s.Addralign, EntSize: s.Entsize})
		}
	}
	syms, err := ef.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, sy := range syms {
		typ := elf.ST_TYPE(sy.Info)
		if sy.Section == elf.SHN_UNDEF || sy.Section >= elf.SHN_LORESERVE || typ == elf.STT_SECTION || typ == elf.STT_FILE || sy.Name == "" {
			continue
		}
		o.Symbols = append(o.Symbols, ObjSymbol{Name: sy.Name, Section: int(sy.Section), Value: sy.Value, Type: typ})
	}
	if ef.Section(".debug_info") == nil {
		return nil, fmt.Errorf("%s: no debugging data available (no .debug_info)", path)
	}
	return o, nil
}

// ModuleName is the module's name as its .modinfo records it ("name="),
// or "" when it does not.
func (o *ModuleObject) ModuleName() string {
	s := o.file.Section(".modinfo")
	if s == nil || s.Type == elf.SHT_NOBITS {
		return ""
	}
	b, err := s.Data()
	if err != nil {
		return ""
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if v, ok := strings.CutPrefix(string(kv), "name="); ok {
			return v
		}
	}
	return ""
}

// sectionData is a copy of section i's bytes (decompressed when it is
// SHF_COMPRESSED), which relocation may change.
func (o *ModuleObject) sectionData(s *elf.Section) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	if s.Offset > uint64(len(o.data)) || s.Size > uint64(len(o.data))-s.Offset {
		return nil, fmt.Errorf("section %s runs past the end of the file", s.Name)
	}
	b := o.data[s.Offset : s.Offset+s.Size]
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		return decompressSection(o.file, s.Name, b)
	}
	return bytes.Clone(b), nil
}

// Relocate applies the object's .rela.debug_* relocations to its DWARF
// sections with bases as the run-time address of each allocated section
// (by section header index; a section without a base is taken at 0, as
// are the non-allocated sections relocations refer to, e.g. .debug_str).
// undefined resolves a symbol the object does not define (a kernel
// symbol); it may be nil.
func (o *ModuleObject) Relocate(bases map[int]uint64, undefined func(name string) (uint64, bool)) (*ModuleDebug, error) {
	secs := map[string]*[]byte{}
	d := &Dwarf{abbrevs: map[uint64]*abbrevTable{}, strBase: map[uint64]uint64{}}
	d.sec.order = o.file.ByteOrder
	for name, dst := range map[string]*[]byte{
		".debug_info": &d.sec.info, ".debug_abbrev": &d.sec.abbrev, ".debug_str": &d.sec.str,
		".debug_line_str": &d.sec.lineStr, ".debug_str_offsets": &d.sec.strOffsets,
		".debug_addr": &d.sec.addr, ".debug_line": &d.sec.line, ".debug_aranges": &d.sec.aranges,
	} {
		s := o.file.Section(name)
		if s == nil {
			continue
		}
		b, err := o.sectionData(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", o.Path, err)
		}
		*dst = b
		secs[name] = dst
	}
	syms, err := o.file.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", o.Path, err)
	}
	for _, rs := range o.file.Sections {
		if rs.Type != elf.SHT_RELA || int(rs.Info) >= len(o.file.Sections) {
			continue
		}
		target := o.file.Sections[rs.Info]
		dst, ok := secs[target.Name]
		if !ok {
			continue
		}
		rb, err := o.sectionData(rs)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", o.Path, err)
		}
		if err := applyRela(o.Machine, o.file.ByteOrder, *dst, rb, syms, bases, undefined); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", o.Path, rs.Name, err)
		}
	}
	if d.sec.info == nil || d.sec.abbrev == nil {
		return nil, fmt.Errorf("%s: no debugging data available (no .debug_info)", o.Path)
	}
	if err := d.readUnits(); err != nil {
		return nil, fmt.Errorf("%s: %v", o.Path, err)
	}
	return &ModuleDebug{Path: o.Path, d: d}, nil
}

// Relocation types applied to DWARF sections.
const (
	rX8664None    = 0
	rX866464      = 1
	rX866432      = 10
	rX866432S     = 11
	rAArch64None  = 0
	rAArch64Abs64 = 257
	rAArch64Abs32 = 258
)

// applyRela applies one SHT_RELA section's entries to sec. syms is the
// object's symbol table as debug/elf returns it (without the null symbol:
// symbol index i is syms[i-1]).
func applyRela(m elf.Machine, bo binary.ByteOrder, sec, rela []byte, syms []elf.Symbol, bases map[int]uint64, undefined func(string) (uint64, bool)) error {
	const entSize = 24
	for i := 0; i+entSize <= len(rela); i += entSize {
		off := bo.Uint64(rela[i:])
		info := bo.Uint64(rela[i+8:])
		addend := bo.Uint64(rela[i+16:])
		symIdx, typ := info>>32, uint32(info)
		var s uint64
		if symIdx != 0 {
			if symIdx > uint64(len(syms)) {
				return fmt.Errorf("relocation %d: symbol %d out of range", i/entSize, symIdx)
			}
			sy := syms[symIdx-1]
			switch {
			case sy.Section == elf.SHN_UNDEF:
				if undefined == nil {
					return fmt.Errorf("relocation %d: undefined symbol %s", i/entSize, sy.Name)
				}
				a, ok := undefined(sy.Name)
				if !ok {
					return fmt.Errorf("relocation %d: undefined symbol %s", i/entSize, sy.Name)
				}
				s = a
			case sy.Section == elf.SHN_ABS:
				s = sy.Value
			case sy.Section < elf.SHN_LORESERVE:
				s = bases[int(sy.Section)] + sy.Value
			default:
				return fmt.Errorf("relocation %d: symbol %s in section %#x", i/entSize, sy.Name, uint16(sy.Section))
			}
		}
		v := s + addend
		size := 0
		switch {
		case m == elf.EM_X86_64 && typ == rX8664None, m == elf.EM_AARCH64 && typ == rAArch64None:
			continue
		case m == elf.EM_X86_64 && typ == rX866464, m == elf.EM_AARCH64 && typ == rAArch64Abs64:
			size = 8
		case m == elf.EM_X86_64 && typ == rX866432:
			size = 4
			if v > 0xffffffff {
				return fmt.Errorf("relocation %d: R_X86_64_32 value %#x does not fit", i/entSize, v)
			}
		case m == elf.EM_X86_64 && typ == rX866432S:
			size = 4
			if int64(v) != int64(int32(v)) {
				return fmt.Errorf("relocation %d: R_X86_64_32S value %#x does not fit", i/entSize, v)
			}
		case m == elf.EM_AARCH64 && typ == rAArch64Abs32:
			size = 4
			if v > 0xffffffff && int64(v) < -1<<31 {
				return fmt.Errorf("relocation %d: R_AARCH64_ABS32 value %#x does not fit", i/entSize, v)
			}
		default:
			return fmt.Errorf("relocation %d: type %d is not supported for %v", i/entSize, typ, m)
		}
		if off > uint64(len(sec)) || uint64(size) > uint64(len(sec))-off {
			return fmt.Errorf("relocation %d: offset %#x outside the section", i/entSize, off)
		}
		if size == 8 {
			bo.PutUint64(sec[off:], v)
		} else {
			bo.PutUint32(sec[off:], uint32(v))
		}
	}
	return nil
}

// ModuleDebug is a module object's DWARF relocated to a running kernel's
// placement of the module. Its name index is built on first use.
type ModuleDebug struct {
	Path string
	d    *Dwarf

	once  sync.Once
	types *Types
	err   error
}

// Types is the module's C types, variables and functions.
func (m *ModuleDebug) Types() (*Types, error) {
	m.once.Do(func() {
		ix, err := m.d.BuildIndex(nil)
		if err != nil {
			m.err = fmt.Errorf("%s: %v", m.Path, err)
			return
		}
		m.types = NewTypes(m.d, ix)
	})
	return m.types, m.err
}

// LineForPC returns the source file and line of the module code at the
// run-time address pc.
func (m *ModuleDebug) LineForPC(pc uint64) (string, int, error) {
	return m.d.lineForPC(pc, 0)
}
