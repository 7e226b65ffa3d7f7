package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/gocrash/gocrash/kernel"
)

// LogFormat says how FormatRecord renders a record, as crash's log options
// do.
type LogFormat struct {
	NoStamps    bool      // -t: no timestamp
	Boot        time.Time // -T: wall-clock stamps from this boot time (zero: seconds since boot)
	Caller      bool      // -c: the caller id, "[   T123]"
	CallerWidth int       // width of the caller field (6 for pid_max <= 99999)
	Level       bool      // -m: the level, "<N>"
	Dict        bool      // -d: the SUBSYSTEM= and DEVICE= lines
}

// FormatRecord renders a record as crash's log does: "[%5d.%06d] " (or
// the wall-clock time), "[T123] " with -c, "<N>" with -m, the text; the
// later lines of a multi-line record, and -d's dictionary lines, indented
// to the text column.
func FormatRecord(r kernel.LogRecord, f LogFormat) string {
	if r.NoText {
		return ""
	}
	var prefix strings.Builder
	if !f.NoStamps && !r.NoStamp {
		if !f.Boot.IsZero() {
			t := f.Boot.Add(time.Duration(r.TsNsec))
			prefix.WriteString("[" + t.Local().Format("Mon Jan _2 15:04:05 MST 2006") + "] ")
		} else {
			fmt.Fprintf(&prefix, "[%5d.%06d] ", r.TsNsec/1e9, r.TsNsec%1e9/1e3)
		}
	}
	if f.Caller && !r.NoCaller {
		fmt.Fprintf(&prefix, "[%*s] ", max(f.CallerWidth, 1), callerName(r.CallerID))
	}
	if f.Level && !r.NoLevel {
		fmt.Fprintf(&prefix, "<%x>", r.Level)
	}
	indent := strings.Repeat(" ", prefix.Len())
	lines := strings.Split(strings.TrimRight(r.Text, "\n"), "\n")
	var b strings.Builder
	b.WriteString(prefix.String())
	for i, ln := range lines {
		if i > 0 {
			b.WriteString("\n" + indent)
		}
		b.WriteString(ln)
	}
	if f.Dict {
		for _, d := range r.Dict {
			b.WriteString("\n" + indent + d)
		}
	}
	return b.String()
}

// callerName is a record's caller as the kernel writes it: "T<pid>", or
// in interrupt context "C<cpu>".
func callerName(id uint32) string {
	if id&0x80000000 != 0 {
		return fmt.Sprintf("C%d", id&^0x80000000)
	}
	return fmt.Sprintf("T%d", id)
}
