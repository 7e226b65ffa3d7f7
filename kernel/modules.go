package kernel

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// Module is a loaded kernel module, read from the kernel's modules list.
type Module struct {
	Addr     uint64 // struct module
	Name     string
	Base     uint64 // start of its core text
	TextSize uint64 // bytes of text (or of the whole core layout on older kernels)
	// Size is the module's core size as crash shows it: core_layout.size,
	// or since 6.4 the sum of its text, data, rodata and ro_after_init
	// memory (init memory left out).
	Size     uint64
	Kallsyms bool           // the module has its own symbol table
	syms     []modSym       // its text symbols (STT_FUNC), sorted by address
	symtab   []ModuleSymbol // every symbol of its kallsyms, sorted by address
	regions  []ModuleRegion // its core memory
	orc      *symbols.ORC
}

type modSym struct {
	name string
	addr uint64
}

// ModuleSymbol is a symbol of a loaded module, from the module's own
// symbol table (mod->kallsyms).
type ModuleSymbol struct {
	Name   string
	Addr   uint64
	Type   byte   // kallsyms' letter (typetab, upper case when global; st_info where older kernels kept it): t T d D b B r R ...
	Text   bool   // in the module's text
	Module string // the module's name
}

// ModuleRegion is one extent of a module's core memory: the whole core
// layout before 6.4 (Kind ""), each of module.mem[]'s text, data, rodata
// and ro_after_init regions since (Kind "TEXT", "DATA", "RODATA",
// "RO_AFTER_INIT"). Init memory, freed after loading, is left out.
type ModuleRegion struct {
	Kind string
	Base uint64
	Size uint64
}

// Symbols is the module's symbol table in address order (symbols at one
// address in the table's order).
func (m *Module) Symbols() []ModuleSymbol { return m.symtab }

// Regions is the module's core memory, in the kernel's order.
func (m *Module) Regions() []ModuleRegion { return m.regions }

// Holds reports whether addr lies in the module's core memory.
func (m *Module) Holds(addr uint64) bool {
	_, ok := m.region(addr)
	return ok
}

func (m *Module) region(addr uint64) (ModuleRegion, bool) {
	for _, r := range m.regions {
		if addr >= r.Base && addr-r.Base < r.Size {
			return r, true
		}
	}
	return ModuleRegion{}, false
}

// coreText is what the modules' reader asks of the kernel's own text (an
// *Unwinder): whether an address is in it, and its ORC table, whose entry
// layout the modules' tables share.
type coreText interface {
	KernelText(addr uint64) bool
	kernelORC() *symbols.ORC
}

// ModuleList reads the kernel's modules list (names, text, sizes, their
// own symbol tables and ORC tables) and names text addresses in the kernel
// or a module, over a Reader, a Layout and Symbols, the kernel's text (a
// coreText), its relocated symbols and enumerators (nil without a
// vmlinux). The list is read once.
type ModuleList struct {
	Reader
	Layout
	Symbols
	text  coreText
	syms  *symbols.Relocated // nil without a vmlinux
	enums Enumerators        // nil without a vmlinux

	once sync.Once
	mods []*Module
	err  error
	btf  moduleBTFs // the modules' BTF (modbtf.go)
}

// NewModuleList reads modules through r, l and s, text's answers about
// the kernel's own text, syms and enums (both nil without a vmlinux).
func NewModuleList(r Reader, l Layout, s Symbols, text coreText, syms *symbols.Relocated, enums Enumerators) *ModuleList {
	return &ModuleList{Reader: r, Layout: l, Symbols: s, text: text, syms: syms, enums: enums}
}

// Modules reads the kernel's modules list: each module's name, text and
// its own symbol table (mod->kallsyms), and on x86_64 its ORC tables.
func (k *ModuleList) Modules() ([]*Module, error) {
	k.once.Do(func() { k.mods, k.err = k.readModules() })
	return k.mods, k.err
}

func (k *ModuleList) readModules() ([]*Module, error) {
	k.text.kernelORC() // the kernel's ORC layout, for the modules' tables
	head, err := k.SymbolAddr("modules")
	if err != nil {
		return nil, err
	}
	listOff, err := k.Offset("module", "list")
	if err != nil {
		return nil, err
	}
	nameOff, err := k.Offset("module", "name")
	if err != nil {
		return nil, err
	}
	// The text's place: module.mem[MOD_TEXT] since 6.4, core_layout before.
	var baseOff, sizeOff int64
	var coreSizeOffs []int64 // the sizes summed as the module's core size
	var regionOffsets []regionOffs
	m, err := k.Offset("module", "mem")
	if err != nil && !symbols.IsMissing(err) {
		return nil, err
	}
	if err == nil {
		b, err1 := k.Offset("module_memory", "base")
		s, err2 := k.Offset("module_memory", "size")
		n, err3 := k.Size("module_memory")
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("struct module_memory has no base or size")
		}
		baseOff, sizeOff = m+b, m+s
		// MOD_TEXT, MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT come before
		// the init types.
		last := int64(4)
		if k.enums != nil {
			if v, err := k.enums.Enumerator("MOD_INIT_TEXT"); err == nil {
				last = v
			}
		}
		kinds := []string{"TEXT", "DATA", "RODATA", "RO_AFTER_INIT"}
		for t := int64(0); t < last; t++ {
			coreSizeOffs = append(coreSizeOffs, m+t*n+s)
			kind := fmt.Sprint(t)
			if t < int64(len(kinds)) {
				kind = kinds[t]
			}
			regionOffsets = append(regionOffsets, regionOffs{kind, m + t*n + b, m + t*n + s})
		}
	} else {
		if o, err := k.Offset("module", "core_layout.size"); err == nil {
			coreSizeOffs = []int64{o}
		} else if !symbols.IsMissing(err) {
			return nil, err
		}
		if baseOff, err = k.Offset("module", "core_layout.base"); err != nil {
			return nil, err
		}
		if len(coreSizeOffs) == 1 {
			regionOffsets = []regionOffs{{"", baseOff, coreSizeOffs[0]}}
		}
		if sizeOff, err = k.Offset("module", "core_layout.text_size"); symbols.IsMissing(err) {
			if sizeOff, err = k.Offset("module", "core_layout.size"); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	}
	if err := k.probeOptional(); err != nil {
		return nil, err
	}
	// A module that cannot be read costs that module (named in the
	// UnreadableObjectsError); the walk goes on while its list does.
	var mods []*Module
	var bad UnreadableObjectsError
	err = walkList(k, head, func(node uint64) error {
		m := &Module{Addr: node - uint64(listOff)}
		if err := k.readModule(m, nameOff, baseOff, sizeOff, coreSizeOffs, regionOffsets); err != nil {
			bad = append(bad, fmt.Errorf("module %x: %w", m.Addr, err))
			return nil
		}
		mods = append(mods, m)
		return nil
	})
	sort.Slice(mods, func(i, j int) bool { return mods[i].Base < mods[j].Base })
	return mods, bad.or(err)
}

// readModule reads the struct module at m.Addr: name, text, sizes,
// regions, symbols and ORC tables.
func (k *ModuleList) readModule(m *Module, nameOff, baseOff, sizeOff int64, coreSizeOffs []int64, regionOffsets []regionOffs) error {
	var err error
	if m.Name, err = k.ReadCString(m.Addr+uint64(nameOff), 56); err != nil {
		return err
	}
	if m.Base, err = k.ReadU64(m.Addr + uint64(baseOff)); err != nil {
		return err
	}
	size, err := k.ReadU32(m.Addr + uint64(sizeOff))
	if err != nil {
		return err
	}
	m.TextSize = uint64(size)
	for _, o := range coreSizeOffs {
		n, err := k.ReadU32(m.Addr + uint64(o))
		if err != nil {
			return err
		}
		m.Size += uint64(n)
	}
	for _, o := range regionOffsets {
		b, err := k.ReadU64(m.Addr + uint64(o.base))
		if err != nil {
			return err
		}
		n, err := k.ReadU32(m.Addr + uint64(o.size))
		if err != nil {
			return err
		}
		if b != 0 && n != 0 {
			m.regions = append(m.regions, ModuleRegion{Kind: o.kind, Base: b, Size: uint64(n)})
		}
	}
	if len(m.regions) == 0 && m.TextSize > 0 {
		m.regions = []ModuleRegion{{Base: m.Base, Size: m.TextSize}}
	}
	m.syms, m.symtab, _ = k.moduleSymbols(m) // a module without kallsyms still has a name
	m.Kallsyms = len(m.syms) > 0
	m.orc, _ = k.moduleORC(m.Addr)
	return nil
}

// regionOffs is where a module's region of one kind keeps its base and
// size.
type regionOffs struct {
	kind       string
	base, size int64
}

// probeOptional checks the layouts of a module's own symbols and ORC
// tables, which are optional (a module may have neither): a member the
// kernel lacks is one it does not have, any other failure to find out is
// an error.
func (k *ModuleList) probeOptional() error {
	for _, m := range [][2]string{
		{"module", "kallsyms"}, {"mod_kallsyms", "symtab"}, {"mod_kallsyms", "num_symtab"}, {"mod_kallsyms", "strtab"}, {"mod_kallsyms", "typetab"},
		{"module", "arch.num_orcs"}, {"module", "arch.orc_unwind_ip"}, {"module", "arch.orc_unwind"},
	} {
		if _, err := k.Offset(m[0], m[1]); err != nil && !symbols.IsMissing(err) {
			return err
		}
	}
	return nil
}

// moduleSymbols reads a module's symbol table (struct mod_kallsyms: an
// Elf64_Sym array, its string table and, since 5.x, its type letters):
// the text symbols (STT_FUNC) for naming code, and every defined symbol
// with its type letter.
func (k *ModuleList) moduleSymbols(m *Module) ([]modSym, []ModuleSymbol, error) {
	ksOff, err := k.Offset("module", "kallsyms")
	if err != nil {
		return nil, nil, err
	}
	ks, err := k.ReadU64(m.Addr + uint64(ksOff))
	if err != nil || ks == 0 {
		return nil, nil, err
	}
	symtabOff, err1 := k.Offset("mod_kallsyms", "symtab")
	numOff, err2 := k.Offset("mod_kallsyms", "num_symtab")
	strtabOff, err3 := k.Offset("mod_kallsyms", "strtab")
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, fmt.Errorf("struct mod_kallsyms lacks symtab, num_symtab or strtab")
	}
	symtab, _ := k.ReadU64(ks + uint64(symtabOff))
	num, _ := k.ReadU32(ks + uint64(numOff))
	strtab, _ := k.ReadU64(ks + uint64(strtabOff))
	if num == 0 || num > 1<<20 || symtab == 0 || strtab == 0 {
		return nil, nil, fmt.Errorf("module %x: empty symbol table", m.Addr)
	}
	const entSize = 24 // Elf64_Sym
	tab := make([]byte, int(num)*entSize)
	if err := k.ReadVirt(tab, symtab); err != nil {
		return nil, nil, err
	}
	// The type letters: mod_kallsyms.typetab since 5.x; before, the
	// kernel kept the letter in st_info.
	var types []byte
	if o, err := k.Offset("mod_kallsyms", "typetab"); err == nil {
		if tt, err := k.ReadU64(ks + uint64(o)); err == nil && tt != 0 {
			types = make([]byte, num)
			if err := k.ReadVirt(types, tt); err != nil {
				types = nil
			}
		}
	}
	var text []modSym
	var all []ModuleSymbol
	for i := 0; i < int(num); i++ {
		e := tab[i*entSize:]
		nameOff := k.ByteOrder().Uint32(e)
		info := e[4]
		shndx := k.ByteOrder().Uint16(e[6:])
		val := k.ByteOrder().Uint64(e[8:])
		if shndx == 0 || val == 0 { // undefined
			continue
		}
		name, err := k.ReadCString(strtab+uint64(nameOff), 128)
		if err != nil || name == "" {
			continue
		}
		typ := info
		if types != nil {
			// typetab's letter is lower case but for weak symbols; a
			// global symbol's is upper case, as nm shows it.
			typ = types[i]
			if info>>4 == 1 && typ >= 'a' && typ <= 'z' { // STB_GLOBAL
				typ -= 'a' - 'A'
			}
		}
		r, _ := m.region(val)
		isText := val >= m.Base && val-m.Base < m.TextSize && (r.Kind == "" || r.Kind == "TEXT")
		if typ < 'A' || typ > 'z' {
			typ = '?'
		}
		if !isMappingSymbol(name) {
			all = append(all, ModuleSymbol{Name: name, Addr: val, Type: typ, Text: isText, Module: m.Name})
		}
		if info&0xf == 2 { // STT_FUNC
			text = append(text, modSym{name: name, addr: val})
		}
	}
	sort.Slice(text, func(i, j int) bool { return text[i].addr < text[j].addr })
	sort.SliceStable(all, func(i, j int) bool { return all[i].Addr < all[j].Addr })
	return text, all, nil
}

// isMappingSymbol reports whether name is an ARM mapping symbol ($x, $d,
// $a, $t, possibly with a "." suffix), which the kernel's kallsyms never
// lists as a symbol.
func isMappingSymbol(name string) bool {
	return len(name) >= 2 && name[0] == '$' && strings.IndexByte("adtx", name[1]) >= 0 && (len(name) == 2 || name[2] == '.')
}

// moduleORC reads an x86_64 module's ORC tables (mod->arch).
func (k *ModuleList) moduleORC(mod uint64) (*symbols.ORC, error) {
	orc := k.text.kernelORC()
	if orc == nil {
		return nil, fmt.Errorf("no ORC")
	}
	numOff, err1 := k.Offset("module", "arch.num_orcs")
	ipOff, err2 := k.Offset("module", "arch.orc_unwind_ip")
	entOff, err3 := k.Offset("module", "arch.orc_unwind")
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("struct module has no ORC tables")
	}
	n, _ := k.ReadU32(mod + uint64(numOff))
	ipAddr, _ := k.ReadU64(mod + uint64(ipOff))
	entAddr, _ := k.ReadU64(mod + uint64(entOff))
	if n == 0 || n > 1<<22 || ipAddr == 0 || entAddr == 0 {
		return nil, fmt.Errorf("module %x has no ORC entries", mod)
	}
	lay := orc.Layout()
	ips := make([]byte, 4*int(n))
	ents := make([]byte, lay.Size*int(n))
	if err := k.ReadVirt(ips, ipAddr); err != nil {
		return nil, err
	}
	if err := k.ReadVirt(ents, entAddr); err != nil {
		return nil, err
	}
	return symbols.NewORC(ips, ipAddr, ents, lay, k.ByteOrder())
}

// moduleAt returns the module whose text holds addr.
func (k *ModuleList) moduleAt(addr uint64) *Module {
	mods, _ := k.Modules()
	i := sort.Search(len(mods), func(i int) bool { return mods[i].Base > addr }) - 1
	if i < 0 || addr-mods[i].Base >= mods[i].TextSize {
		return nil
	}
	return mods[i]
}

// ModuleOf names the module whose text holds addr ("" for none).
func (k *ModuleList) ModuleOf(addr uint64) string {
	if k.text.KernelText(addr) {
		return ""
	}
	if m := k.moduleAt(addr); m != nil {
		return m.Name
	}
	return ""
}

// IsText reports whether addr is kernel or module text.
func (k *ModuleList) IsText(addr uint64) bool {
	return k.text.KernelText(addr) || k.moduleAt(addr) != nil
}

// Symbolize names a kernel text address as the kernel's own traces do:
// the ELF symbol at or before it and the offset into it; in a module, the
// module's own symbol.
func (k *ModuleList) Symbolize(addr uint64) (name string, off uint64, ok bool) {
	if k.syms == nil {
		return "", 0, false
	}
	if !k.text.KernelText(addr) {
		if m := k.moduleAt(addr); m != nil {
			i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].addr > addr }) - 1
			if i < 0 {
				return "", 0, false
			}
			return m.syms[i].name, addr - m.syms[i].addr, true
		}
	}
	s, off, ok := k.syms.Nearest(addr)
	if !ok || !k.inImage(addr) {
		return "", 0, false
	}
	return s.Name, off, true
}

// inImage reports whether addr lies in the kernel image (_text to _end),
// where the vmlinux's symbols name addresses: a direct-map, vmalloc or
// module data address past _end is no symbol's, however near the last.
func (k *ModuleList) inImage(addr uint64) bool {
	lo, ok1 := k.syms.Addr("_text")
	hi, ok2 := k.syms.Addr("_end")
	return !ok1 || !ok2 || addr >= lo && addr < hi
}

// moduleORCFind finds a module's ORC entry for addr.
func (k *ModuleList) moduleORCFind(addr uint64) (symbols.ORCEntry, bool) {
	m := k.moduleAt(addr)
	if m == nil || m.orc == nil {
		return symbols.ORCEntry{}, false
	}
	return m.orc.Find(addr)
}

// TextSymbolAddr finds a text symbol by name: in the kernel image, else in
// a loaded module's symbol table.
func (k *ModuleList) TextSymbolAddr(name string) (uint64, bool) {
	if k.syms != nil {
		if s, ok := k.syms.Lookup(name); ok {
			switch s.Type {
			case 't', 'T', 'w', 'W':
				return s.Addr, true
			}
		}
	}
	mods, _ := k.Modules()
	for _, m := range mods {
		for _, s := range m.syms {
			if s.name == name && s.addr >= m.Base && s.addr-m.Base < m.TextSize {
				return s.addr, true
			}
		}
	}
	return 0, false
}

// FunctionBounds returns the extent [start, end) of the function holding
// the text address addr: in the kernel image, the ELF symbol's size (or
// up to the next symbol when it has none); in a module, up to the next
// symbol or the end of the module's text.
func (k *ModuleList) FunctionBounds(addr uint64) (start, end uint64, ok bool) {
	if k.syms == nil {
		return 0, 0, false
	}
	if !k.text.KernelText(addr) {
		m := k.moduleAt(addr)
		if m == nil {
			return 0, 0, false
		}
		i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].addr > addr })
		if i == 0 {
			return 0, 0, false
		}
		start, end = m.syms[i-1].addr, m.Base+m.TextSize
		for ; i < len(m.syms); i++ {
			if m.syms[i].addr > start {
				end = min(end, m.syms[i].addr)
				break
			}
		}
		return start, end, true
	}
	syms := k.syms.Symbols()
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > addr })
	if i == 0 {
		return 0, 0, false
	}
	s := syms[i-1]
	start = s.Addr
	// The largest size among the symbols at start (aliases may carry none).
	var size uint64
	for j := i - 1; j >= 0 && syms[j].Addr == start; j-- {
		size = max(size, syms[j].Size)
	}
	if size > 0 && addr-start < size {
		return start, start + size, true
	}
	if i < len(syms) {
		return start, syms[i].Addr, true
	}
	return 0, 0, false
}

// ModuleSymbolsNamed returns every loaded module's symbols called name,
// modules in address order.
func (k *ModuleList) ModuleSymbolsNamed(name string) []ModuleSymbol {
	mods, _ := k.Modules()
	var out []ModuleSymbol
	for _, m := range mods {
		for _, s := range m.symtab {
			if s.Name == name {
				out = append(out, s)
			}
		}
	}
	return out
}

// ModuleSymbolAddr is the address of the first module symbol called name
// (modules in address order).
func (k *ModuleList) ModuleSymbolAddr(name string) (uint64, bool) {
	if s := k.ModuleSymbolsNamed(name); len(s) > 0 {
		return s[0].Addr, true
	}
	return 0, false
}

// ModuleHolding returns the module whose core memory (text, data, rodata)
// holds addr.
func (k *ModuleList) ModuleHolding(addr uint64) *Module {
	if k.text.KernelText(addr) {
		return nil
	}
	mods, _ := k.Modules()
	for _, m := range mods {
		if m.Holds(addr) {
			return m
		}
	}
	return nil
}

// ModuleSymbolAt returns the module symbol holding addr: the last of the
// module's symbols at or before addr in the same memory region, and
// addr's offset into it. Of several symbols at one address, the first in
// the module's table is given.
func (k *ModuleList) ModuleSymbolAt(addr uint64) (ModuleSymbol, uint64, bool) {
	m := k.ModuleHolding(addr)
	if m == nil {
		return ModuleSymbol{}, 0, false
	}
	r, _ := m.region(addr)
	syms := m.symtab
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > addr }) - 1
	if i < 0 || syms[i].Addr < r.Base {
		return ModuleSymbol{}, 0, false
	}
	at := syms[i].Addr
	for i > 0 && syms[i-1].Addr == at {
		i--
	}
	return syms[i], addr - at, true
}
