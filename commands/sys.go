package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
)

func sysCommand() *Command {
	return &Command{
		Name:     "sys",
		Synopsis: "sys [-c [name|number]] [-t] [-i] [config]",
		Summary:  "system data",
		Help: `Displays essential system information: the vmlinux and dump file, the
number of CPUs (with how many were offline), when the kernel crashed, its
uptime and load average, the number of tasks, the utsname fields, the memory
size and the panic message found in the kernel log. A value that cannot be
read from this dump is shown as "(unavailable: reason)".

-c shows the system call table (sys_call_table): each entry's number, the
function it calls and that function's source file and line (the first
address of the function whose line is not in an include/ header), from the
vmlinux's line table; with a name, only the entries whose function's name
contains it, with a number, only that entry. -t shows the taint mask
(tainted_mask) and the letters of the taint flags set (taint_flags[]). -i
shows the DMI identification strings (dmi_ident[], named by enum
dmi_field). "config" shows the kernel's configuration when it was built
with CONFIG_IKCONFIG (kernel_config_data).`,
		Options: []Option{
			{"-c", "the system call table, with each function's source file and line"},
			{"name|number", "with -c: the entries whose function's name contains name, or entry number"},
			{"-t", "the taint mask and the letters of the taint flags set"},
			{"-i", "the DMI identification strings"},
			{"config", "the kernel's embedded configuration (CONFIG_IKCONFIG)"},
		},
		Results:  []Result{&SysInfo{}, &SyscallTable{}, &TaintInfo{}, &DMIInfo{}, &KernelConfig{}},
		Examples: []string{"gocrash> sys", "gocrash> sys -c", "gocrash> sys -c read", "gocrash> sys -c 15", "gocrash> sys -t\nTAINTED_MASK: 2000  E", "gocrash> sys -i", "gocrash> sys config"},
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			switch {
			case a.Has("c"):
				spec := ""
				if len(a.Words) > 1 {
					return nil, &UsageError{"invalid argument: " + a.Words[1]}
				} else if len(a.Words) == 1 {
					spec = a.Words[0]
				}
				return sysCalls(ctx, s, spec)
			case a.Has("t"):
				if err := a.NoWords(); err != nil {
					return nil, err
				}
				return sysTaint(s)
			case a.Has("i"):
				if err := a.NoWords(); err != nil {
					return nil, err
				}
				return sysDMI(s)
			case len(a.Words) == 1 && a.Words[0] == "config":
				return sysConfig(s)
			}
			if err := a.NoWords(); err != nil {
				return nil, err
			}
			si := SysSummary(s)
			return si, si.unavailableError()
		},
	}
}

// SysInfo is what 'sys' shows. A field that could not be read is left at
// its zero value and its reason is in Unavailable, keyed by the field's
// JSON name.
type SysInfo struct {
	Kernel      string            `json:"kernel"`
	Tainted     bool              `json:"tainted"`
	Dumpfiles   []string          `json:"dumpfiles"`
	DumpMarks   []string          `json:"dump_marks,omitempty"` // PARTIAL DUMP, INCOMPLETE, EXCLUDED VMEMMAP
	CPUs        int               `json:"cpus"`
	OfflineCPUs int               `json:"offline_cpus"`
	Date        *time.Time        `json:"date,omitempty"`
	Uptime      float64           `json:"uptime_seconds"`
	LoadAverage [3]float64        `json:"load_average"`
	Tasks       int               `json:"tasks"`
	Nodename    string            `json:"nodename"`
	Release     string            `json:"release"`
	Version     string            `json:"version"`
	Machine     string            `json:"machine"`
	MHz         uint64            `json:"mhz"` // 0: unknown
	Memory      uint64            `json:"memory_bytes"`
	Panic       *string           `json:"panic,omitempty"` // nil on a running kernel
	Unavailable map[string]string `json:"unavailable,omitempty"`

	split   bool          // the parts of a split dump: "DUMPFILES:"
	loadRaw [3]uint64     // the kernel's fixed-point averages, printed as crash does
	uptime  time.Duration // exact, for the text
}

// SysSummary gathers the 'sys' fields. It is also what gocrash prints when
// it starts.
func SysSummary(s *Session) *SysInfo {
	k := s.Kernel
	si := &SysInfo{Kernel: s.VmlinuxPath, Unavailable: map[string]string{}}
	unavailable := func(key string, err error) { si.Unavailable[key] = err.Error() }
	// crash marks a tainted kernel (an unsigned module, a warning...).
	if mask, err := k.Tainted(); err == nil && mask != 0 {
		si.Tainted = true
	}
	si.Dumpfiles, si.DumpMarks, si.split = dumpfiles(s)
	if n, off, err := k.CPUs(); err != nil {
		unavailable("cpus", err)
	} else {
		si.CPUs, si.OfflineCPUs = n, off
	}
	if t, err := k.CrashTime(); err != nil {
		unavailable("date", err)
	} else {
		si.Date = &t
	}
	if up, err := k.Uptime(); err != nil {
		unavailable("uptime_seconds", err)
	} else {
		si.Uptime, si.uptime = up.Seconds(), up
	}
	if avg, err := k.LoadAverage(); err != nil {
		unavailable("load_average", err)
	} else {
		si.loadRaw = avg
		for i, v := range avg {
			si.LoadAverage[i] = float64(v) / (1 << 11)
		}
	}
	var broken *kernel.BrokenWalkError
	if n, err := k.CountTasks(); err != nil && !errors.As(err, &broken) {
		unavailable("tasks", err)
	} else {
		// (A damaged task list: the tasks found by the other links.)
		si.Tasks = n
	}
	if uts, err := k.UTS(); err != nil {
		for _, key := range []string{"nodename", "release", "version", "machine"} {
			unavailable(key, err)
		}
	} else {
		si.Nodename, si.Release, si.Version, si.Machine = uts.Nodename, uts.Release, uts.Version, uts.Machine
		if a, err := k.SymbolAddr("cpu_khz"); err == nil {
			if khz, err := k.ReadU32(a); err == nil && khz > 0 {
				si.MHz = uint64(khz / 1000)
			}
		}
	}
	if m, err := k.MemorySize(); err != nil {
		unavailable("memory_bytes", err)
	} else {
		si.Memory = m
	}
	if k.Dump.Live {
		// A running kernel has not panicked: crash prints no PANIC line.
	} else if recs, err := k.Log(); err != nil {
		unavailable("panic", err)
	} else {
		msg := kernel.PanicMessage(recs)
		si.Panic = &msg
	}
	return si
}

// unavailableError is sys's failure when fields could not be read (their
// reasons are in the text), so that a batch's exit status says so.
func (si *SysInfo) unavailableError() error {
	if len(si.Unavailable) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(si.Unavailable))
	return fmt.Errorf("%d field%s unavailable: %s", len(keys), map[bool]string{true: "s"}[len(keys) > 1], strings.Join(keys, ", "))
}

// Text prints the fields as crash's sys does; a value that could not be
// read is "(unavailable: reason)".
func (si *SysInfo) Text(w io.Writer) error {
	var kv KeyValues
	field := func(key, json string, format string, args ...any) {
		if why, bad := si.Unavailable[json]; bad {
			kv.Add(key, "(unavailable: %s)", why)
			return
		}
		kv.Add(key, format, args...)
	}
	if si.Tainted {
		kv.Add("KERNEL", "%s  [TAINTED]", si.Kernel)
	} else {
		kv.Add("KERNEL", "%s", si.Kernel)
	}
	marks := ""
	for _, m := range si.DumpMarks {
		marks += " [" + m + "]"
	}
	if si.split {
		lines := make([]string, len(si.Dumpfiles))
		for i, p := range si.Dumpfiles {
			lines[i] = p + marks
		}
		kv.Add("DUMPFILES", "%s", strings.Join(lines, "\n"+strings.Repeat(" ", 14)))
	} else {
		if marks != "" {
			marks = " " + marks
		}
		kv.Add("DUMPFILE", "%s", si.Dumpfiles[0]+marks)
	}
	if si.OfflineCPUs > 0 {
		field("CPUS", "cpus", "%d [OFFLINE: %d]", si.CPUs, si.OfflineCPUs)
	} else {
		field("CPUS", "cpus", "%d", si.CPUs)
	}
	date := ""
	if si.Date != nil {
		date = si.Date.Local().Format("Mon Jan _2 15:04:05 MST 2006")
	}
	field("DATE", "date", "%s", date)
	field("UPTIME", "uptime_seconds", "%s", FormatUptime(si.uptime))
	field("LOAD AVERAGE", "load_average", "%s, %s, %s", loadavg(si.loadRaw[0]), loadavg(si.loadRaw[1]), loadavg(si.loadRaw[2]))
	field("TASKS", "tasks", "%d", si.Tasks)
	field("NODENAME", "nodename", "%s", si.Nodename)
	field("RELEASE", "release", "%s", si.Release)
	field("VERSION", "version", "%s", si.Version)
	mhz := "unknown"
	if si.MHz > 0 {
		mhz = fmt.Sprint(si.MHz)
	}
	field("MACHINE", "machine", "%s  (%s Mhz)", si.Machine, mhz)
	field("MEMORY", "memory_bytes", "%s", FormatMemory(si.Memory))
	switch {
	case si.Unavailable["panic"] != "":
		field("PANIC", "panic", "")
	case si.Panic == nil:
	case strings.Contains(*si.Panic, "Oops: "):
		kv.Add("PANIC", "%q (check log for details)", *si.Panic)
	default:
		kv.Add("PANIC", "%q", *si.Panic)
	}
	return kv.Text(w)
}

// FormatUptime prints a duration as crash does: "HH:MM:SS", or
// "N days, HH:MM:SS".
func FormatUptime(d time.Duration) string {
	t := int64(d / time.Second)
	days, h, m, s := t/86400, t%86400/3600, t%3600/60, t%60
	if days > 0 {
		return fmt.Sprintf("%d days, %02d:%02d:%02d", days, h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

func loadavg(v uint64) string {
	const fshift, fixed1 = 11, 1 << 11
	v += fixed1 / 200
	return fmt.Sprintf("%d.%02d", v>>fshift, (v&(fixed1-1))*100>>fshift)
}

// FormatMemory prints a memory size as crash does: rounded up to a whole GiB
// when within 64 MiB of one, then "%.1f GB" / "%.1f MB" / "N KB" with ".0"
// dropped.
func FormatMemory(total uint64) string {
	const gib, mib = 1 << 30, 1 << 20
	if next := (total + gib - 1) / gib * gib; next-total <= 64*mib {
		total = next
	}
	var s string
	switch f := float64(total); {
	case total == 0:
		return "0"
	case total >= gib:
		s = fmt.Sprintf("%.1f GB", f/gib)
	case total >= mib:
		s = fmt.Sprintf("%.1f MB", f/mib)
	default:
		return fmt.Sprintf("%d KB", total/1024)
	}
	if n := len(s); n > 5 && s[n-5:n-3] == ".0" {
		s = s[:n-5] + s[n-3:]
	}
	return s
}

// dumpfiles gives the dump's files and the marks crash adds to the
// DUMPFILE line of a kdump-compressed file: PARTIAL DUMP (a dump level was
// applied), INCOMPLETE, EXCLUDED VMEMMAP; split is true for the parts of a
// split dump (crash's "DUMPFILES:", one part per line).
func dumpfiles(s *Session) (files, marks []string, split bool) {
	d := s.Kernel.Dump
	if d.Format != memory.FormatELF {
		if d.Filtered {
			marks = append(marks, "PARTIAL DUMP")
		}
		if d.Incomplete {
			marks = append(marks, "INCOMPLETE")
		}
		if d.ExcludedVmemmap {
			marks = append(marks, "EXCLUDED VMEMMAP")
		}
	}
	if d.Truncated != nil && !slices.Contains(marks, "PARTIAL DUMP") {
		// A file cut short: crash's mark for a dump that lacks pages.
		marks = append(marks, "PARTIAL DUMP")
	}
	return s.DumpPaths, marks, d.SplitPart
}
