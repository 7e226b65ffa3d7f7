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
		Synopsis: "log [-T|-t] [-m] [-c] [-d] [-a] [-s]",
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
'gocrash --log DUMP' prints the log with no vmlinux.

-a prints the audit records the kernel still held in its audit queues
(audit_hold_queue, audit_retry_queue, audit_queue) as "type=N text". -s
prints the per-CPU printk safe buffers (nmi_print_seq and safe_print_seq,
kernels 4.11 to 5.14) with their length and lost-message count; a kernel
without them prints nothing.`,
		Options: []Option{
			{"-T", "wall-clock timestamps: the kernel's boot time (from its timekeeper) plus the record's seconds"},
			{"-t", "leave out the timestamps"},
			{"-m", "the log level of each record, as <N> after the timestamp"},
			{"-c", "the caller of each record: [T<pid>] or, in interrupt context, [C<cpu>] (kernels that record it: 5.1 and later)"},
			{"-d", "the SUBSYSTEM= and DEVICE= lines of records from device drivers (3.5 and later)"},
			{"-a", "the audit records still queued in the kernel"},
			{"-s", "the per-CPU printk safe buffers (4.11 to 5.14); with -m, their records' levels"},
		},
		Examples: []string{"gocrash> log", "gocrash> log -t", "gocrash> log -T | tail -3", "gocrash> log -m -c"},
		Results:  []Result{&LogResult{}, &AuditLog{}, &SafeBuffers{}},
		Run:      runLog,
	}
}

// LogEntry is one printk record as 'log' gives it.
type LogEntry struct {
	Seconds  float64  `json:"seconds"` // since boot (local_clock)
	Nsec     uint64   `json:"nsec"`    // the same, exact
	Level    int      `json:"level"`
	Facility int      `json:"facility"`
	Caller   string   `json:"caller,omitempty"` // "T123" (a task) or "C1" (a CPU)
	Text     string   `json:"text"`
	Dict     []string `json:"dict,omitempty"`

	rec kernel.LogRecord
}

// LogResult is the kernel log.
type LogResult struct {
	Records []LogEntry `json:"records"`
	format  LogFormat
}

func (l *LogResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, e := range l.Records {
		tw.println(FormatRecord(e.rec, l.format))
	}
	return tw.err
}

func runLog(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	switch {
	case a.Has("a"):
		return logAudit(s)
	case a.Has("s"):
		return logSafe(s, a.Has("m"))
	}
	f := LogFormat{NoStamps: a.Has("t"), Level: a.Has("m"), Caller: a.Has("c"), Dict: a.Has("d")}
	k := s.Kernel
	if a.Has("T") {
		boot, err := k.BootTime()
		if err != nil {
			return nil, fmt.Errorf("-T needs the boot time: %v", err)
		}
		f.Boot = boot
	}
	if f.Caller {
		f.CallerWidth = 8
		if addr, err := k.SymbolAddr("pid_max"); err == nil {
			if n, err := k.ReadU32(addr); err == nil && n <= 99999 {
				f.CallerWidth = 6
			} else if err == nil && n <= 999999 {
				f.CallerWidth = 7
			}
		}
	}
	recs, err := k.Log()
	if err != nil {
		return nil, err
	}
	res := &LogResult{Records: make([]LogEntry, 0, len(recs)), format: f}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := LogEntry{Seconds: float64(r.TsNsec) / 1e9, Nsec: r.TsNsec, Level: r.Level, Facility: r.Facility, Text: r.Text, Dict: r.Dict, rec: r}
		if !r.NoCaller {
			e.Caller = callerName(r.CallerID)
		}
		res.Records = append(res.Records, e)
	}
	return res, nil
}
