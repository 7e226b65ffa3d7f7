package kernel

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// UTSName is the kernel's struct new_utsname.
type UTSName struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// UTS reads init_uts_ns.name.
func (k *Kernel) UTS() (UTSName, error) {
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
func (k *Kernel) CPUs() (present, offline int, err error) {
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
		st, err2 := k.Dump.PRStatus(k.Arch.PRStatusRegs())
		if err2 != nil || len(st) == 0 {
			return 0, 0, err
		}
		return len(st), 0, nil
	}
	o, err := count("__cpu_online_mask")
	if err != nil {
		return p, 0, nil
	}
	return p, p - o, nil
}

// Tainted returns the kernel's taint flags (TAINT_* bits): tainted_mask, an
// unsigned long, or the int tainted of kernels before 2.6.28.
func (k *Kernel) Tainted() (uint64, error) {
	if a, err := k.SymbolAddr("tainted_mask"); err == nil {
		return k.ReadU64(a)
	}
	a, err := k.SymbolAddr("tainted")
	if err != nil {
		return 0, err
	}
	v, err := k.ReadU32(a)
	return uint64(v), err
}

// HZ derives the kernel's tick rate from tick_nsec (NSEC_PER_SEC/HZ, give
// or take NTP's adjustment).
func (k *Kernel) HZ() (uint64, error) {
	a, err := k.SymbolAddr("tick_nsec")
	if err != nil {
		return 0, err
	}
	ns, err := k.ReadU64(a)
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
func (k *Kernel) Uptime() (time.Duration, error) {
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
func (k *Kernel) LoadAverage() ([3]uint64, error) {
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
// the timekeeper's wall-clock seconds (shadow_timekeeper.xtime_sec).
func (k *Kernel) CrashTime() (time.Time, error) {
	if t, ok := k.Dump.VMCoreInfo.CrashTime(); ok {
		return time.Unix(t, 0), nil
	}
	a, err := k.SymbolAddr("shadow_timekeeper")
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
func (k *Kernel) MemorySize() (uint64, error) {
	off, err := k.Offset("pglist_data", "node_present_pages")
	if err != nil {
		return 0, err
	}
	var pages uint64
	if nd, err := k.SymbolAddr("node_data"); err == nil {
		words, err := k.Size("nodemask_t")
		if err != nil {
			words = 8
		}
		// node_online_map is a macro for node_states[N_ONLINE]; VMCOREINFO
		// names it, a vmlinux knows node_states and the enum.
		mask, err := k.SymbolAddr("node_online_map")
		if err != nil {
			states, err2 := k.SymbolAddr("node_states")
			if err2 != nil || k.Vmlinux == nil {
				return 0, err
			}
			online, err2 := k.Vmlinux.Layouts().Enumerator("N_ONLINE")
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
	return pages * k.Arch.PageSize(), nil
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
func (k *Kernel) BootTime() (time.Time, error) {
	if a, err := k.SymbolAddr("shadow_timekeeper"); err == nil {
		w2m, err1 := k.Offset("timekeeper", "wall_to_monotonic")
		offsBoot, err2 := k.Offset("timekeeper", "offs_boot")
		if err1 == nil && err2 == nil {
			sec, e1 := k.ReadU64(a + uint64(w2m))
			nsec, e2 := k.ReadU64(a + uint64(w2m) + 8)
			boot, e3 := k.ReadU64(a + uint64(offsBoot))
			if e1 == nil && e2 == nil && e3 == nil {
				w := time.Duration(int64(sec))*time.Second + time.Duration(int64(nsec))
				return time.Unix(0, 0).Add(-w - time.Duration(int64(boot))), nil
			}
		}
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
