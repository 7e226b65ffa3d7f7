package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// KmemVmapArea is one vmalloc area of kmem -v.
type KmemVmapArea struct {
	VmapArea Hex    `json:"vmap_area"`
	VMStruct Hex    `json:"vm_struct"`
	Start    Hex    `json:"start"`
	End      Hex    `json:"end"`
	Size     uint64 `json:"size"`
}

// KmemVmalloc is kmem -v.
type KmemVmalloc struct {
	Areas []KmemVmapArea `json:"areas"`
	// Empty says the kernel has no vmalloc areas at all (no header is
	// printed); with addresses none may hold, the header comes alone.
	Empty bool `json:"empty"`
}

func kmemVmalloc(s *Session, words []string) (Result, error) {
	k := s.Kernel
	var addrs []uint64
	for _, w := range words {
		a, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid address: %s", w)
		}
		addrs = append(addrs, a)
	}
	areas, err := k.VmapAreas()
	r := &KmemVmalloc{Areas: []KmemVmapArea{}, Empty: len(areas) == 0}
	for _, a := range areas {
		keep := len(addrs) == 0
		for _, x := range addrs {
			keep = keep || (x >= a.Start && x < a.End)
		}
		if keep {
			r.Areas = append(r.Areas, KmemVmapArea{VmapArea: Hex(a.Addr), VMStruct: Hex(a.VM), Start: Hex(a.Start), End: Hex(a.End), Size: a.End - a.Start})
		}
	}
	return r, err
}

func (r *KmemVmalloc) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if r.Empty {
		return nil
	}
	tw.printf("%s  %s  %s     SIZE\n", center(16, "VMAP_AREA", false), center(16, "VM_STRUCT", false), center(35, "ADDRESS RANGE", false))
	for _, a := range r.Areas {
		tw.printf("%s  %s  %16x - %-16x  %7d\n", center(16, strconv.FormatUint(uint64(a.VmapArea), 16), false),
			center(16, strconv.FormatUint(uint64(a.VMStruct), 16), false), uint64(a.Start), uint64(a.End), a.Size)
	}
	return tw.err
}

// KmemVMStat is kmem -V: the global vm_stat counters and the vm_event
// counters summed over the CPUs.
type KmemVMStat struct {
	// Split names the zone group VM_ZONE_STAT (vm_zone_stat), else VM_STAT.
	Split  bool          `json:"split"`
	Zone   []KmemCounter `json:"zone_stat"`
	Node   []KmemCounter `json:"node_stat,omitempty"`
	Numa   []KmemCounter `json:"numa_stat,omitempty"`
	Events []KmemCounter `json:"vm_events,omitempty"` // unsigned
}

func kmemVMStat(s *Session) (Result, error) {
	k := s.Kernel
	vc, err := k.VMCounters()
	if err != nil {
		return nil, err
	}
	r := &KmemVMStat{Split: vc.Split}
	for _, c := range vc.Zone {
		r.Zone = append(r.Zone, KmemCounter{c.Name, c.Value})
	}
	for _, c := range vc.Node {
		r.Node = append(r.Node, KmemCounter{c.Name, c.Value})
	}
	for _, c := range vc.Numa {
		r.Numa = append(r.Numa, KmemCounter{c.Name, c.Value})
	}
	ev, err := k.VMEvents()
	for _, c := range ev {
		r.Events = append(r.Events, KmemCounter{c.Name, c.Value})
	}
	return r, err
}

func (r *KmemVMStat) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	width := longestName(r.Zone, r.Node, r.Numa)
	if r.Split {
		tw.println("  VM_ZONE_STAT:")
	} else {
		tw.println("  VM_STAT:")
	}
	writeCounters(tw, r.Zone, width, false)
	if len(r.Node) > 0 {
		tw.println("\n  VM_NODE_STAT:")
		writeCounters(tw, r.Node, width, false)
	}
	if len(r.Numa) > 0 {
		tw.println("\n  VM_NUMA_STAT:")
		writeCounters(tw, r.Numa, width, false)
	}
	if len(r.Events) > 0 {
		tw.println("\n  VM_EVENT_STATES:")
		writeCounters(tw, r.Events, longestName(r.Events), true)
	}
	return tw.err
}
