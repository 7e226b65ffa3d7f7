package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// Counter is one named counter of the kernel's memory statistics.
type Counter struct {
	Name  string
	Value int64
}

// VMCounters are the kernel's global memory counters: vm_zone_stat[]
// (vm_stat[] before 4.8), vm_node_stat[] and vm_numa_stat[] (4.14 to
// 5.13), each named by its enum (zone_stat_item, node_stat_item,
// numa_stat_item). Node and Numa are nil when the kernel lacks them.
type VMCounters struct {
	Zone, Node, Numa []Counter
	// Split says the kernel keeps zone and node counters apart
	// (vm_zone_stat, from 4.8), which names the zone group VM_ZONE_STAT.
	Split bool
}

// VMStats reads the kernel's memory counters (vm_stat, vm_event_states)
// over a Reader, Symbols, the vmlinux's types (the counters' enums) and
// the System's CPUs and per-CPU offsets.
type VMStats struct {
	Reader
	Symbols
	types typeSource // nil without a vmlinux
	sys   *System
}

// NewVMStats reads counters through r and s; types may be nil.
func NewVMStats(r Reader, s Symbols, types typeSource, sys *System) *VMStats {
	return &VMStats{Reader: r, Symbols: s, types: types, sys: sys}
}

// enumNames lists the names of the enum whose enumerator end counts its
// items (NR_VM_ZONE_STAT_ITEMS, ...), by value below end's (the last name
// given to a value wins, as the kernel's aliases come after the names
// they alias, which is how crash names them).
func enumNames(types typeSource, end string) ([]string, error) {
	if types == nil {
		return nil, fmt.Errorf("the names of %s need the vmlinux's types", end)
	}
	var n int64
	var es []symbols.Enumerator
	var err error
	if l, ok := types.(interface{ Layouts() *symbols.Layouts }); ok {
		// BTF's enum when there is BTF: no DWARF read.
		n, es, err = l.Layouts().EnumeratorsOf(end)
	} else {
		var ts *symbols.Types
		if ts, err = types.Types(); err != nil {
			return nil, err
		}
		var t *symbols.Type
		if n, t, err = ts.Enumerator(end); err == nil {
			es, err = t.Enumerators()
		}
	}
	if err != nil {
		return nil, err
	}
	if n < 0 || n > 1<<12 {
		return nil, fmt.Errorf("%s = %d", end, n)
	}
	names := make([]string, n)
	for _, e := range es {
		if e.Value >= 0 && e.Value < n {
			names[e.Value] = e.Name
		}
	}
	return names, nil
}

// readCounters reads n longs at addr and names them.
func (k *VMStats) readCounters(addr uint64, names []string) ([]Counter, error) {
	buf := make([]byte, 8*len(names))
	if err := k.ReadVirt(buf, addr); err != nil {
		return nil, err
	}
	out := make([]Counter, len(names))
	for i, n := range names {
		out[i] = Counter{n, int64(k.ByteOrder().Uint64(buf[8*i:]))}
	}
	return out, nil
}

// ZoneStatNames are the names of a zone's vm_stat[] (enum
// zone_stat_item).
func (k *VMStats) ZoneStatNames() ([]string, error) {
	return enumNames(k.types, "NR_VM_ZONE_STAT_ITEMS")
}

// VMCounters reads the global counters.
func (k *VMStats) VMCounters() (VMCounters, error) {
	var c VMCounters
	zn, err := k.ZoneStatNames()
	if err != nil {
		return c, err
	}
	a, err := k.SymbolAddr("vm_zone_stat")
	if symbols.IsMissing(err) {
		a, err = k.SymbolAddr("vm_stat")
	} else if err == nil {
		c.Split = true
	}
	if err != nil {
		return c, err
	}
	if c.Zone, err = k.readCounters(a, zn); err != nil {
		return c, fmt.Errorf("vm_zone_stat: %w", err)
	}
	if !c.Split {
		return c, nil
	}
	if a, err := k.SymbolAddr("vm_node_stat"); err == nil {
		nn, err := enumNames(k.types, "NR_VM_NODE_STAT_ITEMS")
		if err != nil {
			return c, err
		}
		if c.Node, err = k.readCounters(a, nn); err != nil {
			return c, fmt.Errorf("vm_node_stat: %w", err)
		}
	} else if !symbols.IsMissing(err) {
		return c, err
	}
	if a, err := k.SymbolAddr("vm_numa_stat"); err == nil {
		nn, err := enumNames(k.types, "NR_VM_NUMA_STAT_ITEMS")
		if err != nil {
			return c, err
		}
		if len(nn) > 0 {
			if c.Numa, err = k.readCounters(a, nn); err != nil {
				return c, fmt.Errorf("vm_numa_stat: %w", err)
			}
		}
	} else if !symbols.IsMissing(err) {
		return c, err
	}
	return c, nil
}

// VMEvents sums the per-CPU vm_event_states counters (enum
// vm_event_item) over the present CPUs.
func (k *VMStats) VMEvents() ([]Counter, error) {
	names, err := enumNames(k.types, "NR_VM_EVENT_ITEMS")
	if err != nil {
		return nil, err
	}
	a, err := k.SymbolAddr("vm_event_states")
	if err != nil {
		return nil, err
	}
	cpus, _, err := k.sys.CPUs()
	if err != nil {
		return nil, err
	}
	sum := make([]Counter, len(names))
	for i, n := range names {
		sum[i].Name = n
	}
	for cpu := 0; cpu < cpus; cpu++ {
		off, err := k.sys.PerCPUOffset(cpu)
		if err != nil {
			return nil, err
		}
		c, err := k.readCounters(a+off, names)
		if err != nil {
			return nil, fmt.Errorf("vm_event_states of CPU %d: %w", cpu, err)
		}
		for i := range c {
			sum[i].Value = int64(uint64(sum[i].Value) + uint64(c[i].Value))
		}
	}
	return sum, nil
}

// Counter finds a counter by name in the groups.
func (c VMCounters) Counter(name string) (int64, bool) {
	for _, g := range [][]Counter{c.Zone, c.Node, c.Numa} {
		for _, x := range g {
			if x.Name == name {
				return x.Value, true
			}
		}
	}
	return 0, false
}
