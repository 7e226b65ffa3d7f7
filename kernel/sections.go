package kernel

import (
	"fmt"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// MemSection is one present SPARSEMEM section (struct mem_section).
type MemSection struct {
	Nr   uint64
	Addr uint64 // the struct mem_section
	// Raw is section_mem_map as stored: the encoded map with the
	// SECTION_* state bits in its low bits.
	Raw uint64
	// Coded is the encoded map (mem_map less the section's first pfn's
	// offset), MemMap the section's first struct page.
	Coded, MemMap uint64
	PFN           uint64 // the section's first frame
}

// The low bits of section_mem_map (include/linux/mmzone.h).
const (
	SectionMarkedPresent = 1 << 0
	SectionHasMemMap     = 1 << 1
	SectionIsOnline      = 1 << 2
	SectionIsEarly       = 1 << 3
	SectionTaintZoneDev  = 1 << 4
)

// MemSections lists the present memory sections in section order; an
// error when the kernel's memory map is not SPARSEMEM.
func (k *Pages) MemSections() ([]MemSection, error) {
	c, err := k.pageInfo()
	if err != nil {
		return nil, err
	}
	s := c.sect
	if s == nil {
		return nil, fmt.Errorf("the memory map is not SPARSEMEM")
	}
	// crash decodes the map with SECTION_MAP_LAST_BIT as 1<<5 whatever
	// the kernel; the encoded maps are page-aligned, so any mask agrees.
	var out []MemSection
	for root := uint64(0); root < s.nRoots; root++ {
		base := s.roots + root*s.perRoot*s.size
		if s.extreme {
			r, err := k.ReadU64(s.roots + root*8)
			if err != nil {
				return out, fmt.Errorf("mem_section root %d: %w", root, err)
			}
			if r == 0 {
				continue
			}
			base = r
		}
		for i := uint64(0); i < s.perRoot; i++ {
			addr := base + i*s.size
			m, err := k.ReadU64(addr + uint64(s.memMapOff))
			if err != nil {
				return out, fmt.Errorf("mem_section %d: %w", root*s.perRoot+i, err)
			}
			if m&SectionMarkedPresent == 0 {
				continue
			}
			nr := root*s.perRoot + i
			pfn := nr << s.sectionShift
			coded := m & s.mask
			out = append(out, MemSection{Nr: nr, Addr: addr, Raw: m, Coded: coded, MemMap: coded + pfn*c.size, PFN: pfn})
		}
	}
	return out, nil
}

// PagesPerSection is the number of frames in a memory section.
func (k *Pages) PagesPerSection() (uint64, error) {
	c, err := k.pageInfo()
	if err != nil {
		return 0, err
	}
	if c.sect == nil {
		return 0, fmt.Errorf("the memory map is not SPARSEMEM")
	}
	return 1 << c.sect.sectionShift, nil
}

// MemoryBlock is one memory block device (struct memory_block) of the
// memory subsystem (/sys/devices/system/memory/memoryN).
type MemoryBlock struct {
	Addr         uint64 // the struct memory_block
	Name         string // its device's name: memoryN
	StartSection uint64 // start_section_nr
	// EndSection is end_section_nr; HasEnd says whether the kernel has it.
	EndSection uint64
	HasEnd     bool
	State      uint64 // MEM_ONLINE, MEM_OFFLINE, ...
	// StateName is the state without its MEM_ prefix: ONLINE, OFFLINE, ...;
	// UNKNOWN for a value the kernel does not name.
	StateName string
	Node      int // nid; -1 when the kernel's memory_block has none
}

// MemoryBlocks lists the memory block devices in the order the memory
// bus's device list holds them (memory_subsys.p->klist_devices).
func (k *Pages) MemoryBlocks() ([]MemoryBlock, error) {
	bus, err := k.SymbolAddr("memory_subsys")
	if err != nil {
		return nil, err
	}
	var errs []error
	off := func(s, m string) int64 {
		o, err := k.Offset(s, m)
		if err != nil {
			errs = append(errs, err)
		}
		return o
	}
	klistDev := off("subsys_private", "klist_devices")
	kList := off("klist", "k_list")
	nNode := off("klist_node", "n_node")
	knodeBus := off("device_private", "knode_bus")
	privDev := off("device_private", "device")
	mbDev := off("memory_block", "dev")
	kobjName := off("device", "kobj.name")
	startSec := off("memory_block", "start_section_nr")
	state := off("memory_block", "state")
	if len(errs) > 0 {
		return nil, errs[0]
	}
	endSec, errEnd := k.Offset("memory_block", "end_section_nr")
	nid, errNid := k.Offset("memory_block", "nid")
	for _, e := range []error{errEnd, errNid} {
		if e != nil && !symbols.IsMissing(e) {
			return nil, e
		}
	}
	priv, err := k.busPrivate(bus)
	if err != nil {
		return nil, err
	}
	head := priv + uint64(klistDev) + uint64(kList)
	// an unsigned long, an enum from 6.5
	stateSize := memberSize(k.types, "memory_block", "state", 8)
	stateName := k.memBlockStates()
	var out []MemoryBlock
	err = walkList(k, head, func(node uint64) error {
		dp := node - uint64(nNode) - uint64(knodeBus)
		dev, err := k.ReadU64(dp + uint64(privDev))
		if err != nil {
			return err
		}
		mb := dev - uint64(mbDev)
		b := MemoryBlock{Addr: mb, Node: -1}
		if name, err := k.ReadU64(dev + uint64(kobjName)); err == nil && name != 0 {
			b.Name, _ = k.ReadCString(name, 64)
		}
		if b.StartSection, err = k.ReadU64(mb + uint64(startSec)); err != nil {
			return err
		}
		if stateSize == 4 {
			v, err := k.ReadU32(mb + uint64(state))
			if err != nil {
				return err
			}
			b.State = uint64(v)
		} else if b.State, err = k.ReadU64(mb + uint64(state)); err != nil {
			return err
		}
		if errEnd == nil {
			b.HasEnd = true
			if b.EndSection, err = k.ReadU64(mb + uint64(endSec)); err != nil {
				return err
			}
		}
		if errNid == nil {
			v, err := k.ReadU32(mb + uint64(nid))
			if err != nil {
				return err
			}
			b.Node = int(int32(v))
		}
		b.StateName = stateName(b.State)
		out = append(out, b)
		return nil
	})
	return out, err
}

// memBlockStates names memory_block.state: the enumerators of enum
// memory_block_state (6.5+; MEM_ONLINE is 0), else the MEM_* bit values
// of include/linux/memory.h.
func (k *Pages) memBlockStates() func(uint64) string {
	bitsNames := map[uint64]string{1 << 0: "ONLINE", 1 << 1: "GOING_OFFLINE", 1 << 2: "OFFLINE", 1 << 3: "GOING_ONLINE",
		1 << 4: "CANCEL_ONLINE", 1 << 5: "CANCEL_OFFLINE"}
	names := bitsNames
	if k.types != nil {
		if ts, err := k.types.Types(); err == nil {
			if t, err := ts.Lookup("struct memory_block"); err == nil {
				if m, err := t.MemberPath("state"); err == nil && m.Type != nil {
					if et := m.Type.Strip(); et != nil && et.Kind == symbols.TypeEnum {
						if es, err := et.Enumerators(); err == nil && len(es) > 0 {
							names = map[uint64]string{}
							for _, e := range es {
								names[uint64(e.Value)] = strings.TrimPrefix(e.Name, "MEM_")
							}
						}
					}
				}
			}
		}
	}
	return func(v uint64) string {
		if n, ok := names[v]; ok {
			return n
		}
		return "UNKNOWN"
	}
}

// busPrivate finds a bus's struct subsys_private: bus_type.p, or from 6.3
// (which dropped it) the entry of bus_kset's list whose bus is this one.
func (k *Pages) busPrivate(bus uint64) (uint64, error) {
	p, err := k.Offset("bus_type", "p")
	if err == nil {
		priv, err := k.ReadU64(bus + uint64(p))
		if err != nil {
			return 0, fmt.Errorf("bus_type.p: %w", err)
		}
		return priv, nil
	} else if !symbols.IsMissing(err) {
		return 0, err
	}
	ksetSym, err := k.SymbolAddr("bus_kset")
	if err != nil {
		return 0, err
	}
	list, err1 := k.Offset("kset", "list")
	entry, err2 := k.Offset("kobject", "entry")
	kobj, err3 := k.Offset("subsys_private", "subsys.kobj")
	busOff, err4 := k.Offset("subsys_private", "bus")
	for _, e := range []error{err1, err2, err3, err4} {
		if e != nil {
			return 0, e
		}
	}
	kset, err := k.ReadU64(ksetSym)
	if err != nil {
		return 0, err
	}
	var found uint64
	err = walkList(k, kset+uint64(list), func(node uint64) error {
		sp := node - uint64(entry) - uint64(kobj)
		if b, err := k.ReadU64(sp + uint64(busOff)); err == nil && b == bus && found == 0 {
			found = sp
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if found == 0 {
		return 0, fmt.Errorf("the memory bus is not in bus_kset")
	}
	return found, nil
}
