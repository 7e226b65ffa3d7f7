package kernel

import (
	"fmt"
	"sort"
)

// Timer is one pending struct timer_list of the timer wheel.
type Timer struct {
	Addr     uint64
	Expires  uint64 // jiffies
	Function uint64
}

// TimerBase is one CPU's struct timer_base with its pending timers,
// sorted by expiry.
type TimerBase struct {
	CPU    int
	Index  int    // 0: BASE_STD (or BASE_LOCAL), ...
	Name   string // BASE_STD, BASE_DEF; BASE_LOCAL, BASE_GLOBAL, BASE_DEF on 6.9+
	Addr   uint64
	Timers []Timer
}

// Timers reads the timer wheel (timer_bases, 4.8+).
type Timers struct{ d objDeps }

// Timers returns the reader of the kernel's timers.
func (k *Kernel) Timers() *Timers { return &Timers{k.objDeps()} }

// Jiffies is the kernel's jiffies counter.
func (t *Timers) Jiffies() (uint64, error) {
	a, err := t.d.SymbolAddr("jiffies")
	if err != nil {
		return 0, err
	}
	return t.d.ReadU64(a)
}

// Bases reads each timer base of cpu: the per-CPU timer_bases[NR_BASES].
func (t *Timers) Bases(cpu int) ([]TimerBase, error) {
	o := t.d.obj()
	sym := o.sym("timer_bases")
	if o.err != nil {
		return nil, fmt.Errorf("timer_bases does not exist in this kernel (timers before 4.8 are not supported)")
	}
	n, err := t.d.arrayLen("timer_bases")
	if err != nil {
		n = 1
		if _, err := t.d.SymbolAddr("sysctl_timer_migration"); err == nil {
			n = 2
		}
	}
	names := map[int][]string{1: {"BASE_STD"}, 2: {"BASE_STD", "BASE_DEF"}, 3: {"BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF"}}[n]
	nvec, err := t.d.memberArrayLen("timer_base", "vectors")
	if err != nil {
		return nil, fmt.Errorf("cannot determine timer_base.vectors[] array size: %w", err)
	}
	size := o.size("timer_base")
	vecOff := o.off("timer_base", "vectors")
	entry := o.off("timer_list", "entry")
	expOff := o.off("timer_list", "expires")
	fnOff := o.off("timer_list", "function")
	base := o.percpu(sym, cpu)
	if o.err != nil {
		return nil, o.err
	}
	var out []TimerBase
	for i := 0; i < n; i++ {
		b := TimerBase{CPU: cpu, Index: i, Addr: base + uint64(i)*size}
		if i < len(names) {
			b.Name = names[i]
		}
		for v := 0; v < nvec; v++ {
			// A faulty chain is skipped, as crash does.
			_ = walkHlist(t.d, b.Addr+vecOff+uint64(8*v), func(node uint64) error {
				tl := node - entry
				exp, err1 := t.d.ReadU64(tl + expOff)
				fn, err2 := t.d.ReadU64(tl + fnOff)
				if err1 == nil && err2 == nil {
					b.Timers = append(b.Timers, Timer{Addr: tl, Expires: exp, Function: fn})
				}
				return nil
			})
		}
		sort.SliceStable(b.Timers, func(x, y int) bool { return b.Timers[x].Expires < b.Timers[y].Expires })
		out = append(out, b)
	}
	return out, nil
}

// HRTimer is one pending struct hrtimer.
type HRTimer struct {
	Addr        uint64
	SoftExpires uint64 // ns
	Expires     uint64 // ns
	Function    uint64
}

// HRClockBase is one struct hrtimer_clock_base of a CPU with its pending
// timers in expiry order.
type HRClockBase struct {
	Index   int
	Addr    uint64
	GetTime uint64 // the clock's get_time function
	Offset  uint64 // ns added to the monotonic clock
	Timers  []HRTimer
}

// HRTimerCPU is one CPU's struct hrtimer_cpu_base.
type HRTimerCPU struct {
	CPU   int
	Addr  uint64
	Bases []HRClockBase
}

// HRTimers reads cpu's hrtimer_bases: each clock base's timerqueue.
func (t *Timers) HRTimers(cpu int) (HRTimerCPU, error) {
	o := t.d.obj()
	cb := o.percpu(o.sym("hrtimer_bases"), cpu)
	r := HRTimerCPU{CPU: cpu, Addr: cb}
	n, err := t.d.memberArrayLen("hrtimer_cpu_base", "clock_base")
	if err != nil {
		return r, err
	}
	first := cb + o.off("hrtimer_cpu_base", "clock_base")
	size := o.size("hrtimer_clock_base")
	getTime := o.off("hrtimer_clock_base", "get_time")
	active := o.off("hrtimer_clock_base", "active") + o.off("timerqueue_head", "rb_root")
	hasOffset := o.has("hrtimer_clock_base", "offset")
	var offOff uint64
	if hasOffset {
		offOff = o.off("hrtimer_clock_base", "offset")
	}
	nodeOff := o.off("hrtimer", "node")
	nodeNode := o.off("timerqueue_node", "node")
	expOff := o.off("timerqueue_node", "expires")
	softOff := o.off("hrtimer", "_softexpires")
	fnOff := o.off("hrtimer", "function")
	left, right := o.off("rb_node", "rb_left"), o.off("rb_node", "rb_right")
	if o.err != nil {
		return r, o.err
	}
	for i := 0; i < n; i++ {
		b := HRClockBase{Index: i, Addr: first + uint64(i)*size}
		b.GetTime = o.u64(b.Addr + getTime)
		if hasOffset {
			b.Offset = o.u64(b.Addr + offOff)
		}
		seen := map[uint64]bool{}
		var walk func(node uint64, depth int)
		walk = func(node uint64, depth int) {
			if node == 0 || o.err != nil {
				return
			}
			if depth > 64 || seen[node] {
				o.fail(fmt.Errorf("hrtimer_clock_base %x: corrupt red-black tree at %x", b.Addr, node))
				return
			}
			seen[node] = true
			walk(o.u64(node+left), depth+1)
			h := node - nodeNode - nodeOff
			b.Timers = append(b.Timers, HRTimer{Addr: h, Expires: o.u64(h + nodeOff + expOff), SoftExpires: o.u64(h + softOff), Function: o.u64(h + fnOff)})
			walk(o.u64(node+right), depth+1)
		}
		walk(o.u64(b.Addr+active), 0)
		if o.err != nil {
			return r, o.err
		}
		r.Bases = append(r.Bases, b)
	}
	return r, nil
}
