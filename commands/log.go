package commands

import (
	"context"
	"fmt"
	"io"

	"github.com/gocrash/gocrash/kernel"
)

func logCommand() *Command {
	return &Command{
		Name:     "log",
		Synopsis: "log [-T|-t] [-m] [-c] [-d]",
		Summary:  "dump system message buffer",
		Help: `Prints the kernel's printk log from the dump, oldest record first, each
line stamped "[seconds.microseconds]" since boot. The later lines of a
multi-line record are indented to the text column.
All three of the kernel's buffers are read, told apart by their symbols:
the lockless ring buffer (5.10 and later), the variable-length printk_log
records (3.5 to 5.9; each continuation fragment is a line of its own, as
crash prints them) and the plain character buffer before 3.5, whose lines
carry their own "<N>" level and "[seconds]" stamp (a line written without
a stamp is printed without one; when the buffer has wrapped, its first line
is the tail of an overwritten one). Their layouts come from VMCOREINFO, so
'gocrash --log DUMP' prints the log with no vmlinux.`,
		Options: []Option{
			{"-T", "wall-clock timestamps: the kernel's boot time (from its timekeeper) plus the record's seconds"},
			{"-t", "leave out the timestamps"},
			{"-m", "the log level of each record, as <N> after the timestamp"},
			{"-c", "the caller of each record: [T<pid>] or, in interrupt context, [C<cpu>] (kernels that record it: 5.1 and later)"},
			{"-d", "the SUBSYSTEM= and DEVICE= lines of records from device drivers (3.5 and later)"},
		},
		Examples: []string{"gocrash> log", "gocrash> log -t", "gocrash> log -T | tail -3", "gocrash> log -m -c"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			var f kernel.LogFormat
			wall := false
			for _, a := range args {
				if len(a) < 2 || a[0] != '-' {
					return &UsageError{"invalid argument: " + a}
				}
				for _, c := range a[1:] {
					switch c {
					case 't':
						f.NoStamps = true
					case 'T':
						wall = true
					case 'm':
						f.Level = true
					case 'c':
						f.Caller = true
					case 'd':
						f.Dict = true
					default:
						return &UsageError{fmt.Sprintf("invalid option: -%c", c)}
					}
				}
			}
			k := s.Kernel
			if wall {
				boot, err := k.BootTime()
				if err != nil {
					return fmt.Errorf("-T needs the boot time: %v", err)
				}
				f.Boot = boot
			}
			if f.Caller {
				f.CallerWidth = 8
				if a, err := k.SymbolAddr("pid_max"); err == nil {
					if n, err := k.ReadU32(a); err == nil && n <= 99999 {
						f.CallerWidth = 6
					} else if err == nil && n <= 999999 {
						f.CallerWidth = 7
					}
				}
			}
			recs, err := k.Log()
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := ctx.Err(); err != nil {
					return err
				}
				if _, err := fmt.Fprintln(out, kernel.FormatRecord(r, f)); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
