package kernel

import (
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// PRStatusNotes gives the dump's NT_PRSTATUS notes, one per CPU that
// saved its registers (a *memory.Dump).
type PRStatusNotes interface {
	PRStatus(nregs int) ([]memory.PRStatus, error)
}

// Enumerators finds the value of an enumerator of the vmlinux's types (a
// *symbols.Layouts).
type Enumerators interface {
	Enumerator(name string) (int64, error)
}

// crashClock is VMCOREINFO's CRASHTIME (a *memory.VMCoreInfo).
type crashClock interface {
	CrashTime() (int64, bool)
}

// System answers the kernel's identity and clocks: utsname, CPUs, taint,
// HZ, uptime, load, crash and boot time, memory size and per-CPU offsets,
// over a Reader, a Layout and Symbols (and the dump's notes for the CPU
// count, VMCOREINFO's crash time, the vmlinux's enumerators when there
// is one).
type System struct {
	Reader
	Layout
	Symbols
	notes    PRStatusNotes
	nregs    int // the words of an NT_PRSTATUS register set
	vmcore   crashClock
	enums    Enumerators // nil without a vmlinux
	pageSize uint64
}

// NewSystem reads the kernel's facts through r, l and s; enums may be nil.
func NewSystem(r Reader, l Layout, s Symbols, notes PRStatusNotes, nregs int, vmcore crashClock, enums Enumerators, pageSize uint64) *System {
	return &System{Reader: r, Layout: l, Symbols: s, notes: notes, nregs: nregs, vmcore: vmcore, enums: enums, pageSize: pageSize}
}

// UTSName is the kernel's struct new_utsname.
type UTSName struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// UTS reads init_uts_ns.name.
func (k *System) UTS() (UTSName, error) {
	ns, err := k.SymbolAddr("init_uts_ns")
	if err != nil {
		return UTSName{}, err
	}
	off, err := k.Offset("uts_namespace", "name")
	if err != nil {
		return UTSName{}, err
	}
	const field = 65 // __NEW_UTS_LEN + 1
	b := make([]byte, 6*field)
	if err := k.ReadVirt(b, ns+uint64(off)); err != nil {
		return UTSName{}, err
	}
	f := func(i int) string { return cstr(b[i*field : (i+1)*field]) }
	return UTSName{f(0), f(1), f(2), f(3), f(4), f(5)}, nil
}

// CPUs returns the number of present CPUs and how many of them are offline,
// from __cpu_present_mask and __cpu_online_mask; without those symbols, the
// count of NT_PRSTATUS notes.
func (k *System) CPUs() (present, offline int, err error) {
	count := func(sym string) (int, error) {
		addr, err := k.SymbolAddr(sym)
		if err != nil {
			return 0, err
		}
		nr := uint64(64)
		if a, err := k.SymbolAddr("nr_cpu_ids"); err == nil {
			if n, err := k.ReadU32(a); err == nil && n > 0 && n <= 1<<16 {
				nr = uint64(n)
			}
		} else if !symbols.IsMissing(err) {
			return 0, err
		}
		n := 0
		for w := uint64(0); w*64 < nr; w++ {
			v, err := k.ReadU64(addr + 8*w)
			if err != nil {
				return 0, err
			}
			if rem := nr - w*64; rem < 64 {
				v &= 1<<rem - 1
			}
			n += bits.OnesCount64(v)
		}
		return n, nil
	}
	p, err := count("__cpu_present_mask")
	if err != nil {
		if _, e := k.SymbolAddr("__cpu_present_mask"); e != nil && !symbols.IsMissing(e) {
			return 0, 0, e
		}
		st, err2 := k.notes.PRStatus(k.nregs)
		if err2 != nil || len(st) == 0 {
			return 0, 0, err
		}
		return len(st), 0, nil
	}
	o, err := count("__cpu_online_mask")
	if err != nil {
		if _, e := k.SymbolAddr("__cpu_online_mask"); e != nil && !symbols.IsMissing(e) {
			return 0, 0, e
		}
		return p, 0, nil
	}
	return p, p - o, nil
}

// Tainted returns the kernel's taint flags (TAINT_* bits): tainted_mask, an
// unsigned long, or the int tainted of kernels before 2.6.28.
func (k *System) Tainted() (uint64, error) {
	if a, err := k.SymbolAddr("tainted_mask"); err == nil {
		return k.ReadU64(a)
	} else if !symbols.IsMissing(err) {
		return 0, err
	}
	a, err := k.SymbolAddr("tainted")
	if err != nil {
		return 0, err
	}
	v, err := k.ReadU32(a)
	return uint64(v), err
}

// HZ derives the kernel's tick rate from tick_nsec (NSEC_PER_SEC/HZ, give
// or take NTP's adjustment); without that symbol (a kallsyms of text
// alone), from the timekeeper's NTP tick length (ntp_tick: the
// nanoseconds of a tick, NTP_INTERVAL_LENGTH, adjusted as tick_nsec is,
// shifted up by NTP_SCALE_SHIFT, 32).
func (k *System) HZ() (uint64, error) {
	var ns uint64
	a, err := k.SymbolAddr("tick_nsec")
	if err == nil {
		ns, err = k.ReadU64(a)
	} else if symbols.IsMissing(err) {
		tk, tkErr := k.timekeeper()
		off, offErr := k.Offset("timekeeper", "ntp_tick")
		if tkErr != nil || offErr != nil {
			return 0, err
		}
		var tick uint64
		tick, err = k.ReadU64(tk + uint64(off))
		ns = tick >> 32
	}
	if err != nil {
		return 0, err
	}
	if ns == 0 {
		return 0, fmt.Errorf("tick_nsec is 0")
	}
	return (1e9 + ns/2) / ns, nil
}

// Uptime is jiffies_64 less INITIAL_JIFFIES (which starts the count 300
// seconds before wrapping 32 bits), divided by HZ.
func (k *System) Uptime() (time.Duration, error) {
	j, err := k.UptimeJiffies()
	if err != nil {
		return 0, err
	}
	hz, err := k.HZ()
	if err != nil {
		return 0, err
	}
	return time.Duration(j) * time.Second / time.Duration(hz), nil
}

// LoadAverage reads avenrun[3] (fixed point, 11 fractional bits).
func (k *System) LoadAverage() ([3]uint64, error) {
	var avg [3]uint64
	a, err := k.SymbolAddr("avenrun")
	if err != nil {
		return avg, err
	}
	for i := range avg {
		if avg[i], err = k.ReadU64(a + 8*uint64(i)); err != nil {
			return avg, err
		}
	}
	return avg, nil
}

// CrashTime is when the kernel crashed: VMCOREINFO's CRASHTIME (kdump), else
// the timekeeper's wall-clock seconds (shadow_timekeeper.xtime_sec, or
// tk_core's).
func (k *System) CrashTime() (time.Time, error) {
	if t, ok := k.vmcore.CrashTime(); ok {
		return time.Unix(t, 0), nil
	}
	a, err := k.timekeeper()
	if err != nil {
		return time.Time{}, err
	}
	off, err := k.Offset("timekeeper", "xtime_sec")
	if err != nil {
		return time.Time{}, err
	}
	s, err := k.ReadU64(a + uint64(off))
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(s), 0), nil
}

// MemorySize is the memory the kernel manages: the sum of node_present_pages
// over the online NUMA nodes (node_data[]) or of contig_page_data.
func (k *System) MemorySize() (uint64, error) {
	off, err := k.Offset("pglist_data", "node_present_pages")
	if err != nil {
		return 0, err
	}
	var pages uint64
	nd, err := k.SymbolAddr("node_data")
	if err != nil && !symbols.IsMissing(err) {
		return 0, err
	}
	if err == nil {
		words, err := k.Size("nodemask_t")
		if symbols.IsMissing(err) {
			words = 8
		} else if err != nil {
			return 0, err
		}
		// node_online_map is a macro for node_states[N_ONLINE]; VMCOREINFO
		// names it, a vmlinux knows node_states and the enum.
		mask, err := k.SymbolAddr("node_online_map")
		if err != nil && !symbols.IsMissing(err) {
			return 0, err
		}
		if err != nil {
			states, err2 := k.SymbolAddr("node_states")
			if err2 != nil || k.enums == nil {
				return 0, err
			}
			online, err2 := k.enums.Enumerator("N_ONLINE")
			if err2 != nil {
				return 0, err2
			}
			mask = states + uint64(online)*uint64(words)
		}
		for w := uint64(0); w < uint64(words)/8; w++ {
			m, err := k.ReadU64(mask + 8*w)
			if err != nil {
				return 0, err
			}
			for m != 0 {
				node := w*64 + uint64(bits.TrailingZeros64(m))
				m &= m - 1
				pgdat, err := k.ReadU64(nd + 8*node)
				if err != nil {
					return 0, err
				}
				n, err := k.ReadU64(pgdat + uint64(off))
				if err != nil {
					return 0, err
				}
				pages += n
			}
		}
	} else {
		cp, err := k.SymbolAddr("contig_page_data")
		if err != nil {
			return 0, err
		}
		if pages, err = k.ReadU64(cp + uint64(off)); err != nil {
			return 0, err
		}
	}
	return pages * k.pageSize, nil
}

// panicMessages are the log strings that name a crash, most telling first
// (the order crash uses).
func panicMessages() []string {
	return []string{
		"SysRq : Crash",
		"SysRq : Trigger a crash",
		"SysRq : Netdump",
		"Kernel panic: ",
		"Kernel panic - ",
		"Kernel BUG at",
		"kernel BUG at",
		"Unable to handle kernel paging request",
		"Unable to handle kernel NULL pointer dereference",
		"BUG: unable to handle kernel ",
		"general protection fault: ",
		"double fault: ",
		"divide error: ",
		"stack segment: ",
		"[Hardware Error]: ",
		"Bad mode in ",
		"Oops: ",
	}
}

// PanicMessage finds the log line that says why the kernel crashed, or "".
func PanicMessage(recs []LogRecord) string {
	for _, m := range panicMessages() {
		for _, r := range recs {
			if !strings.Contains(r.Text, m) {
				continue // no line of it can hold m (and splitting every record is most of a warm sys)
			}
			for _, line := range strings.Split(r.Text, "\n") {
				if strings.Contains(line, m) {
					return strings.TrimSpace(line)
				}
			}
		}
	}
	return ""
}

// BootTime is when the kernel booted, by its own clock: the timekeeper's
// offset from monotonic to wall time (-wall_to_monotonic) less the time
// spent suspended (offs_boot); else the crash time less the uptime.
func (k *System) BootTime() (time.Time, error) {
	if a, err := k.timekeeper(); err == nil {
		w2m, err1 := k.Offset("timekeeper", "wall_to_monotonic")
		offsBoot, err2 := k.Offset("timekeeper", "offs_boot")
		for _, err := range []error{err1, err2} {
			if err != nil && !symbols.IsMissing(err) {
				return time.Time{}, err
			}
		}
		if err1 == nil && err2 == nil {
			sec, e1 := k.ReadU64(a + uint64(w2m))
			nsec, e2 := k.ReadU64(a + uint64(w2m) + 8)
			boot, e3 := k.ReadU64(a + uint64(offsBoot))
			if e1 == nil && e2 == nil && e3 == nil {
				w := time.Duration(int64(sec))*time.Second + time.Duration(int64(nsec))
				return time.Unix(0, 0).Add(-w - time.Duration(int64(boot))), nil
			}
		}
	} else if !symbols.IsMissing(err) {
		return time.Time{}, err
	}
	crash, err := k.CrashTime()
	if err != nil {
		return time.Time{}, err
	}
	up, err := k.Uptime()
	if err != nil {
		return time.Time{}, err
	}
	return crash.Add(-up), nil
}

// timekeeper is the address of the kernel's struct timekeeper:
// shadow_timekeeper, the copy timekeeping_advance() updates and then
// copies into tk_core; without that symbol (a kallsyms of text alone,
// where tk_core is found in the image), tk_core's, past its sequence
// count.
func (k *System) timekeeper() (uint64, error) {
	a, err := k.SymbolAddr("shadow_timekeeper")
	if !symbols.IsMissing(err) {
		return a, err
	}
	core, err2 := k.SymbolAddr("tk_core")
	if err2 != nil {
		return 0, err
	}
	seq, err2 := k.Size("seqcount_raw_spinlock")
	if err2 != nil {
		return 0, err2
	}
	return core + tkCoreTimekeeper(seq), nil
}

// PerCPUOffset returns __per_cpu_offset[cpu].
func (k *System) PerCPUOffset(cpu int) (uint64, error) {
	a, err := k.SymbolAddr("__per_cpu_offset")
	if err != nil {
		return 0, err
	}
	return k.ReadU64(a + 8*uint64(cpu))
}

// IsPerCPU reports whether a (relocated) symbol address lies in the
// per-CPU section, [__per_cpu_start, __per_cpu_end): a template whose
// instances are at address + PerCPUOffset(cpu). On x86_64 the section is
// linked at 0; on arm64 it is in the kernel image.
func (k *System) IsPerCPU(addr uint64) bool {
	start, err1 := k.SymbolAddr("__per_cpu_start")
	end, err2 := k.SymbolAddr("__per_cpu_end")
	return err1 == nil && err2 == nil && addr >= start && addr < end
}

// UptimeJiffies is jiffies_64 less INITIAL_JIFFIES: the ticks since boot.
func (k *System) UptimeJiffies() (uint64, error) {
	hz, err := k.HZ()
	if err != nil {
		return 0, err
	}
	a, err := k.SymbolAddr("jiffies_64")
	if err != nil {
		return 0, err
	}
	j, err := k.ReadU64(a)
	if err != nil {
		return 0, err
	}
	return j - uint64(uint32(-300*int64(hz))), nil
}
