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
		Synopsis: "timer [-r] [-C cpu(s)]",
		Summary:  "timer queue data",
		Help: `Displays the pending timers of the timer wheel (timer_bases, 4.8+), in
order of expiry: jiffies first, then for each CPU and each of its timer bases
(BASE_STD and BASE_DEF; BASE_LOCAL, BASE_GLOBAL and BASE_DEF from 6.9) the
address of the struct timer_base, and each pending struct timer_list: when it
expires (in jiffies), how many jiffies that is from now (TTE, negative when
overdue), its address and its function.

-r shows the high-resolution timers instead: for each CPU's struct
hrtimer_cpu_base, each clock base (its struct hrtimer_clock_base and clock
function) with the current time of that clock (jiffies since boot in
nanoseconds plus the base's offset) and its pending struct hrtimers in
expiry order: soft and hard expiry and time to expiry in nanoseconds, the
hrtimer's address and its function.

-C chooses the CPUs ("1,3", "0-2", "all" or "a").`,
		Options: []Option{
			{"-r", "the high-resolution timers (hrtimer_bases)"},
			{"-C cpus", "these CPUs only"},
		},
		Examples: []string{"gocrash> timer", "gocrash> timer -C 1", "gocrash> timer -r", "gocrash> timer -r -C 0"},
		Results:  []Result{&TimerWheel{}, &HRTimerList{}},
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
	if a.Has("r") {
		return hrTimers(ctx, s, cpus)
	}
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

// HRTimerList is timer -r.
type HRTimerList struct {
	CPUs []HRTimerCPUBase `json:"cpus"`
}

// HRTimerCPUBase is one CPU's hrtimer_cpu_base.
type HRTimerCPUBase struct {
	CPU   int           `json:"cpu"`
	Addr  Hex           `json:"hrtimer_cpu_base"`
	Bases []HRClockList `json:"clock_bases"`
}

// HRClockList is one clock base and its pending hrtimers.
type HRClockList struct {
	Clock   int          `json:"clock"`
	Addr    Hex          `json:"hrtimer_clock_base"`
	GetTime string       `json:"get_time"`
	Now     uint64       `json:"current"` // ns
	Timers  []HRTimerRow `json:"timers"`
}

// HRTimerRow is one pending hrtimer.
type HRTimerRow struct {
	SoftExpires uint64 `json:"softexpires"`
	Expires     uint64 `json:"expires"`
	TTE         int64  `json:"tte"`
	Timer       Hex    `json:"hrtimer"`
	Function    Hex    `json:"function"`
	Symbol      string `json:"symbol"`
}

func hrTimers(ctx context.Context, s *Session, cpus []int) (Result, error) {
	k := s.Kernel
	t := k.Timers()
	up, err := k.UptimeJiffies()
	if err != nil {
		return nil, err
	}
	hz, err := k.HZ()
	if err != nil {
		return nil, err
	}
	mono := up * (1000000000 / hz)
	res := &HRTimerList{}
	for _, c := range cpus {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		hc, err := t.HRTimers(c)
		cb := HRTimerCPUBase{CPU: c, Addr: Hex(hc.Addr)}
		for _, b := range hc.Bases {
			now := mono + b.Offset
			cl := HRClockList{Clock: b.Index, Addr: Hex(b.Addr), GetTime: symOf(s, b.GetTime), Now: now, Timers: []HRTimerRow{}}
			for _, h := range b.Timers {
				cl.Timers = append(cl.Timers, HRTimerRow{SoftExpires: h.SoftExpires, Expires: h.Expires, TTE: int64(h.Expires - now), Timer: Hex(h.Addr), Function: Hex(h.Function), Symbol: symOf(s, h.Function)})
			}
			cb.Bases = append(cb.Bases, cl)
		}
		res.CPUs = append(res.CPUs, cb)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func (l *HRTimerList) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, c := range l.CPUs {
		if i > 0 {
			tw.printf("\n")
		}
		tw.printf("CPU: %d  HRTIMER_CPU_BASE: %x\n", c.CPU, uint64(c.Addr))
		for j, b := range c.Bases {
			if j > 0 {
				tw.printf("\n")
			}
			tw.printf("  CLOCK: %d  HRTIMER_CLOCK_BASE: %x  [%s]\n", b.Clock, uint64(b.Addr), b.GetTime)
			if len(b.Timers) == 0 {
				tw.printf("  (empty)\n")
				continue
			}
			// crash sizes the columns by the last timer's values.
			last := b.Timers[len(b.Timers)-1]
			elen := max(len(strconv.FormatUint(last.Expires, 10)), 7)
			slen := max(len(strconv.FormatUint(last.SoftExpires, 10)), 11)
			tlen := len(strconv.FormatInt(last.TTE, 10))
			tw.printf("  %s\n", center(slen, "CURRENT", true))
			tw.printf("  %s\n", center(slen, strconv.FormatUint(b.Now, 10), true))
			tw.printf("  %s  %s  %s  %s  %s\n", center(slen, "SOFTEXPIRES", true), center(elen, "EXPIRES", true),
				center(tlen, "TTE", true), center(16, "HRTIMER", false), center(16, "FUNCTION", false))
			for _, h := range b.Timers {
				tw.printf("  %s  %s  %*d  %x  %x  <%s>\n", center(slen, strconv.FormatUint(h.SoftExpires, 10), true),
					center(elen, strconv.FormatUint(h.Expires, 10), true), tlen, h.TTE, uint64(h.Timer), uint64(h.Function), h.Symbol)
			}
		}
	}
	return tw.err
}
