package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

func timerCommand() *Command {
	return &Command{
		Name:     "timer",
		Synopsis: "timer [-C cpu(s)]",
		Summary:  "timer queue data",
		Help: `Displays the pending timers of the timer wheel (timer_bases, 4.8+), in
order of expiry: jiffies first, then for each CPU and each of its timer bases
(BASE_STD and BASE_DEF; BASE_LOCAL, BASE_GLOBAL and BASE_DEF from 6.9) the
address of the struct timer_base, and each pending struct timer_list: when it
expires (in jiffies), how many jiffies that is from now (TTE, negative when
overdue), its address and its function.

-C chooses the CPUs ("1,3", "0-2", "all" or "a").`,
		Options: []Option{
			{"-C cpus", "these CPUs only"},
		},
		Examples: []string{"gocrash> timer", "gocrash> timer -C 1"},
		Results:  []Result{&TimerWheel{}},
		Run:      runTimer,
	}
}

// TimerWheel is timer's listing.
type TimerWheel struct {
	Jiffies uint64          `json:"jiffies"`
	Bases   []TimerBaseList `json:"bases"`
}

// TimerBaseList is one CPU's timer base.
type TimerBaseList struct {
	CPU    int        `json:"cpu"`
	Base   string     `json:"base"`
	Addr   Hex        `json:"timer_base"`
	Timers []TimerRow `json:"timers"`
}

// TimerRow is one pending timer.
type TimerRow struct {
	Expires  uint64 `json:"expires"`
	TTE      int64  `json:"tte"`
	Timer    Hex    `json:"timer_list"`
	Function Hex    `json:"function"`
	Symbol   string `json:"symbol"`
}

func runTimer(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	spec, _ := a.Value("C")
	cpus, err := sessionCPUs(s, spec)
	if err != nil {
		return nil, err
	}
	t := s.Kernel.Timers()
	j, err := t.Jiffies()
	if err != nil {
		return nil, err
	}
	w := &TimerWheel{Jiffies: j}
	for _, c := range cpus {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		bases, err := t.Bases(c)
		if err != nil {
			return w, err
		}
		for _, b := range bases {
			bl := TimerBaseList{CPU: c, Base: b.Name, Addr: Hex(b.Addr), Timers: []TimerRow{}}
			for _, tm := range b.Timers {
				bl.Timers = append(bl.Timers, TimerRow{Expires: tm.Expires, TTE: int64(tm.Expires - j), Timer: Hex(tm.Addr), Function: Hex(tm.Function), Symbol: symOf(s, tm.Function)})
			}
			w.Bases = append(w.Bases, bl)
		}
	}
	return w, nil
}

func (w *TimerWheel) Text(out io.Writer) error {
	tw := &textWriter{w: out}
	js := strconv.FormatUint(w.Jiffies, 10)
	flen := max(len(js), len("JIFFIES"))
	tw.printf("%-*s\n%*s\n\n", flen, "JIFFIES", flen, js)
	for i, b := range w.Bases {
		if i > 0 && b.CPU != w.Bases[i-1].CPU {
			tw.printf("\n")
		}
		tw.printf("TIMER_BASES[%d][%s]: %x\n", b.CPU, b.Base, uint64(b.Addr))
		var high int64
		for _, t := range b.Timers {
			high = max(high, t.TTE, -t.TTE)
		}
		tlen := max(len(strconv.FormatInt(high, 10))+1, len("TTE"))
		tw.printf("  %-*s     %-*s     TIMER_LIST     FUNCTION\n", flen, "EXPIRES", tlen, "TTE")
		for _, t := range b.Timers {
			tw.printf("  %*d  %*d  %s  %016x  <%s>\n", flen, t.Expires, tlen, t.TTE,
				center(16, fmt.Sprintf("%16x", uint64(t.Timer)), false), uint64(t.Function), t.Symbol)
		}
		if len(b.Timers) == 0 {
			tw.printf("  (none)\n")
		}
	}
	return tw.err
}
