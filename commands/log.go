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
		Synopsis: "log [-t] [-m]",
		Summary:  "dump system message buffer",
		Help: `Prints the kernel's printk log from the dump, oldest record first, each
line stamped "[seconds.microseconds]" since boot. The later lines of a
multi-line record are indented to the text column.
Only the lockless ring buffer of Linux 5.10 and later is read so far.`,
		Options: []Option{
			{"-t", "leave out the timestamps"},
			{"-m", "prefix each record with its log level, as <N>"},
		},
		Examples: []string{"gocrash> log", "gocrash> log -t"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			stamps, levels := true, false
			for _, a := range args {
				switch a {
				case "-t":
					stamps = false
				case "-m":
					levels = true
				default:
					return &UsageError{fmt.Sprintf("invalid option or argument: %s", a)}
				}
			}
			recs, err := s.Kernel.Log()
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := ctx.Err(); err != nil {
					return err
				}
				line := kernel.FormatRecord(r, stamps)
				if levels {
					line = fmt.Sprintf("<%d>%s", r.Level, line)
				}
				if _, err := fmt.Fprintln(out, line); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
