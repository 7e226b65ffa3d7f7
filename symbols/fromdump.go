package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
)

// A kernel image made from what a dump's memory holds, for a dump opened
// without any vmlinux: the symbols of the kernel's kallsyms tables, its
// in-memory BTF and ORC tables. They are laid out as the sections of a
// small ELF image in memory (.symtab, .BTF, .orc_unwind_ip, .orc_unwind)
// and opened as a vmlinux is, so that every reader of a *Vmlinux works
// unchanged; it has no DWARF, and what needs DWARF says so ("no debugging
// data available").

// DumpKernelName is the Path of a kernel image made from a dump.
const DumpKernelName = "(none: kallsyms + BTF from the dump)"

// DumpImage is what the dump's memory gives of the kernel image.
type DumpImage struct {
	Machine elf.Machine
	Order   binary.ByteOrder
	// Symbols are kallsyms' symbols at their link-time addresses, with
	// /proc/kallsyms's type letters.
	Symbols []Symbol
	BTF     []byte // __start_BTF..__stop_BTF; nil when the kernel has none
	// ORCIP and ORC are the ORC tables (x86_64), ORCIPAddr the link-time
	// address of ORCIP.
	ORCIP     []byte
	ORCIPAddr uint64
	ORC       []byte
	BuildID   string
	// Objects are the types of globals that BTF has no VAR for (it has
	// them for per-CPU variables alone), as the kernel model knows them:
	// "init_task": "struct task_struct".
	Objects map[string]string
}

// FromDump makes the kernel image of img. A symbol's size is the distance
// to the next symbol's address, as kallsyms reckons it (none for a section
// marker, __start_X, __X_end).
func FromDump(img DumpImage) (*Vmlinux, error) {
	if len(img.Symbols) == 0 {
		return nil, fmt.Errorf("no kernel symbols")
	}
	syms := append([]Symbol(nil), img.Symbols...)
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].Addr < syms[j].Addr })
	for i := range syms {
		// A linker script's section markers have no size in a vmlinux
		// either: naming an address, the other symbols there win.
		if syms[i].Size != 0 || lowerType(syms[i].Type) == 'a' || linkerProvided(syms[i].Name) {
			continue
		}
		for j := i + 1; j < len(syms); j++ {
			if syms[j].Addr > syms[i].Addr {
				syms[i].Size = syms[j].Addr - syms[i].Addr
				break
			}
		}
	}
	data, err := dumpELF(img, syms)
	if err != nil {
		return nil, err
	}
	// No caches: the image shares the real vmlinux's build-id, which names
	// them, and is rebuilt from the dump on every start.
	v, err := load(DumpKernelName, data, "off", 0, 0)
	if err != nil {
		return nil, err
	}
	v.BuildID = img.BuildID
	if img.BTF != nil {
		// The type model now, with the globals' declared types.
		ts, err := NewBTFTypes(img.BTF)
		if err != nil {
			return nil, fmt.Errorf("the kernel's BTF: %v", err)
		}
		ts.objects = img.Objects
		v.typesOnce.Do(func() { v.types = ts })
	}
	return v, nil
}

func lowerType(c byte) byte { return c | 0x20 }

// The sections of the image, in order after the null one.
const (
	dumpSecText = 1 + iota
	dumpSecData
	dumpSecBSS
	dumpSecRodata
	dumpSecBTF
	dumpSecORCIP
	dumpSecORC
	dumpSecSymtab
	dumpSecStrtab
	dumpSecShstrtab
	dumpSecCount
)

// symbolSection gives the section and binding that make symType answer
// kallsyms' letter c.
func symbolSection(c byte) (shndx uint16, bind elf.SymBind, typ elf.SymType) {
	bind = elf.STB_LOCAL
	if c >= 'A' && c <= 'Z' {
		bind = elf.STB_GLOBAL
	}
	switch c {
	case 'W':
		return dumpSecText, elf.STB_WEAK, elf.STT_FUNC
	case 'V':
		return dumpSecData, elf.STB_WEAK, elf.STT_OBJECT
	}
	switch lowerType(c) {
	case 't':
		return dumpSecText, bind, elf.STT_FUNC
	case 'd':
		return dumpSecData, bind, elf.STT_OBJECT
	case 'b':
		return dumpSecBSS, bind, elf.STT_OBJECT
	case 'a':
		return uint16(elf.SHN_ABS), bind, elf.STT_NOTYPE
	}
	return dumpSecRodata, bind, elf.STT_OBJECT
}

// dumpELF lays the image out.
func dumpELF(img DumpImage, syms []Symbol) ([]byte, error) {
	o := img.Order
	if o == nil {
		o = binary.LittleEndian
	}
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	symtab := make([]byte, 24, 24*(len(syms)+1))
	var ent [24]byte
	for _, s := range syms {
		shndx, bind, typ := symbolSection(s.Type)
		o.PutUint32(ent[0:], uint32(strtab.Len()))
		strtab.WriteString(s.Name)
		strtab.WriteByte(0)
		ent[4] = byte(bind)<<4 | byte(typ)
		ent[5] = 0
		o.PutUint16(ent[6:], shndx)
		o.PutUint64(ent[8:], s.Addr)
		o.PutUint64(ent[16:], s.Size)
		symtab = append(symtab, ent[:]...)
	}
	type sec struct {
		name    string
		typ     elf.SectionType
		flags   elf.SectionFlag
		addr    uint64
		data    []byte
		link    uint32
		entsize uint64
		nameOff uint32
		off     uint64
	}
	secs := [dumpSecCount]sec{
		dumpSecText:     {name: ".text", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR},
		dumpSecData:     {name: ".data", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE},
		dumpSecBSS:      {name: ".bss", typ: elf.SHT_NOBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE},
		dumpSecRodata:   {name: ".rodata", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC},
		dumpSecBTF:      {name: ".BTF", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, data: img.BTF},
		dumpSecORCIP:    {name: ".orc_unwind_ip", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, addr: img.ORCIPAddr, data: img.ORCIP},
		dumpSecORC:      {name: ".orc_unwind", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, data: img.ORC},
		dumpSecSymtab:   {name: ".symtab", typ: elf.SHT_SYMTAB, data: symtab, link: dumpSecStrtab, entsize: 24},
		dumpSecStrtab:   {name: ".strtab", typ: elf.SHT_STRTAB, data: strtab.Bytes()},
		dumpSecShstrtab: {name: ".shstrtab", typ: elf.SHT_STRTAB},
	}
	if img.BTF == nil {
		secs[dumpSecBTF].name = ".BTF.none" // no section of that name
	}
	if img.ORCIP == nil || img.ORC == nil {
		secs[dumpSecORCIP].name, secs[dumpSecORC].name = ".orc_unwind_ip.none", ".orc_unwind.none"
	}
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	for i := 1; i < dumpSecCount; i++ {
		secs[i].nameOff = uint32(shstr.Len())
		shstr.WriteString(secs[i].name)
		shstr.WriteByte(0)
	}
	secs[dumpSecShstrtab].data = shstr.Bytes()
	const ehsize, shentsize = 64, 64
	out := make([]byte, ehsize)
	for i := 1; i < dumpSecCount; i++ {
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
		secs[i].off = uint64(len(out))
		out = append(out, secs[i].data...)
	}
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	shoff := uint64(len(out))
	out = append(out, make([]byte, shentsize*dumpSecCount)...)
	// The ELF header.
	copy(out, elf.ELFMAG)
	out[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	out[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	if o == binary.ByteOrder(binary.BigEndian) {
		out[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	out[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	o.PutUint16(out[16:], uint16(elf.ET_EXEC))
	o.PutUint16(out[18:], uint16(img.Machine))
	o.PutUint32(out[20:], uint32(elf.EV_CURRENT))
	o.PutUint64(out[40:], shoff)
	o.PutUint16(out[52:], ehsize)
	o.PutUint16(out[58:], shentsize)
	o.PutUint16(out[60:], dumpSecCount)
	o.PutUint16(out[62:], dumpSecShstrtab)
	for i := 1; i < dumpSecCount; i++ {
		s := secs[i]
		h := out[shoff+uint64(i)*shentsize:]
		o.PutUint32(h[0:], s.nameOff)
		o.PutUint32(h[4:], uint32(s.typ))
		o.PutUint64(h[8:], uint64(s.flags))
		o.PutUint64(h[16:], s.addr)
		o.PutUint64(h[24:], s.off)
		o.PutUint64(h[32:], uint64(len(s.data)))
		o.PutUint32(h[40:], s.link)
		o.PutUint64(h[48:], 8)
		o.PutUint64(h[56:], s.entsize)
	}
	return out, nil
}
