package commands

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
)

func sysCommand() *Command {
	return &Command{
		Name:     "sys",
		Synopsis: "sys",
		Summary:  "system data",
		Help: `Displays essential system information: the vmlinux and dump file, the
number of CPUs (with how many were offline), when the kernel crashed, its
uptime and load average, the number of tasks, the utsname fields, the memory
size and the panic message found in the kernel log. A value that cannot be
read from this dump is shown as "(unavailable: reason)".`,
		Examples: []string{"gocrash> sys"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			if len(args) > 0 {
				return &UsageError{"options are not supported yet"}
			}
			return SysSummary(s).Render(out)
		},
	}
}

// SysSummary gathers the 'sys' fields. It is also what gocrash prints when
// it starts.
func SysSummary(s *Session) KeyValues {
	k := s.Kernel
	var kv KeyValues
	unavailable := func(key string, err error) { kv.Add(key, "(unavailable: %v)", err) }
	// crash marks a tainted kernel (an unsigned module, a warning...).
	if mask, err := k.Tainted(); err == nil && mask != 0 {
		kv.Add("KERNEL", "%s  [TAINTED]", s.VmlinuxPath)
	} else {
		kv.Add("KERNEL", "%s", s.VmlinuxPath)
	}
	key, value := dumpfileLine(s)
	kv.Add(key, "%s", value)
	if n, off, err := k.CPUs(); err != nil {
		unavailable("CPUS", err)
	} else if off > 0 {
		kv.Add("CPUS", "%d [OFFLINE: %d]", n, off)
	} else {
		kv.Add("CPUS", "%d", n)
	}
	if t, err := k.CrashTime(); err != nil {
		unavailable("DATE", err)
	} else {
		kv.Add("DATE", "%s", t.Local().Format("Mon Jan _2 15:04:05 MST 2006"))
	}
	if up, err := k.Uptime(); err != nil {
		unavailable("UPTIME", err)
	} else {
		kv.Add("UPTIME", "%s", FormatUptime(up))
	}
	if avg, err := k.LoadAverage(); err != nil {
		unavailable("LOAD AVERAGE", err)
	} else {
		kv.Add("LOAD AVERAGE", "%s, %s, %s", loadavg(avg[0]), loadavg(avg[1]), loadavg(avg[2]))
	}
	if tasks, err := k.TaskAddrs(); err != nil {
		unavailable("TASKS", err)
	} else {
		kv.Add("TASKS", "%d", len(tasks))
	}
	uts, err := k.UTS()
	if err != nil {
		for _, key := range []string{"NODENAME", "RELEASE", "VERSION", "MACHINE"} {
			unavailable(key, err)
		}
	} else {
		kv.Add("NODENAME", "%s", uts.Nodename)
		kv.Add("RELEASE", "%s", uts.Release)
		kv.Add("VERSION", "%s", uts.Version)
		mhz := "unknown"
		if a, err := k.SymbolAddr("cpu_khz"); err == nil {
			if khz, err := k.ReadU32(a); err == nil && khz > 0 {
				mhz = fmt.Sprint(khz / 1000)
			}
		}
		kv.Add("MACHINE", "%s  (%s Mhz)", uts.Machine, mhz)
	}
	if m, err := k.MemorySize(); err != nil {
		unavailable("MEMORY", err)
	} else {
		kv.Add("MEMORY", "%s", FormatMemory(m))
	}
	if k.Dump.Live {
		// A running kernel has not panicked: crash prints no PANIC line.
	} else if recs, err := k.Log(); err != nil {
		unavailable("PANIC", err)
	} else {
		msg := kernel.PanicMessage(recs)
		if strings.Contains(msg, "Oops: ") {
			kv.Add("PANIC", "%q (check log for details)", msg)
		} else {
			kv.Add("PANIC", "%q", msg)
		}
	}
	return kv
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

// dumpfileLine gives the DUMPFILE line as crash words it: the path with
// [PARTIAL DUMP] (a dump level was applied), [INCOMPLETE] and
// [EXCLUDED VMEMMAP] marks for kdump-compressed files; a split dump is
// "DUMPFILES:", one part per line.
func dumpfileLine(s *Session) (key, value string) {
	d := s.Kernel.Dump
	var marks string
	if d.Format != memory.FormatELF {
		if d.Filtered {
			marks += " [PARTIAL DUMP]"
		}
		if d.Incomplete {
			marks += " [INCOMPLETE]"
		}
		if d.ExcludedVmemmap {
			marks += " [EXCLUDED VMEMMAP]"
		}
	}
	if d.SplitPart {
		lines := make([]string, len(s.DumpPaths))
		for i, p := range s.DumpPaths {
			lines[i] = p + marks
		}
		return "DUMPFILES", strings.Join(lines, "\n"+strings.Repeat(" ", 14))
	}
	if marks != "" {
		marks = " " + marks
	}
	return "DUMPFILE", s.DumpPaths[0] + marks
}
