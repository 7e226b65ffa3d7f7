package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func irqCommand() *Command {
	return &Command{
		Name:     "irq",
		Synopsis: "irq [[[index ...] | -u ] | -d | -b | -a | -s [-c cpu]]",
		Summary:  "IRQ data",
		Help: `Displays the kernel's interrupt descriptors: for each interrupt number below
nr_irqs, the address of its struct irq_desc (or "(unused)" when none was
allocated), each struct irqaction on the line and the name the driver gave
it. The descriptors are found in the static irq_desc[] array, the
irq_desc_tree radix tree or the sparse_irqs maple tree, whichever the kernel
has. Interrupt numbers given as arguments show only those lines.

-u shows only the interrupts that have a descriptor. -s shows, like
/proc/interrupts, each interrupt with a handler: its count on each CPU
(irq_desc.kstat_irqs), the chip and flow names and the handlers' names; -c
chooses the CPUs of -s ("1,3", "0-2", "all" or "a"). -a shows the CPU
affinity of each interrupt with a handler. -b shows the softirq vector: each
softirq's number and action function. -d shows, on x86_64, the handler of
each of the 256 vectors of the interrupt descriptor table (idt_table).`,
		Options: []Option{
			{"-u", "only the interrupts that have a descriptor"},
			{"-s", "each interrupt's count on each CPU, as /proc/interrupts"},
			{"-c cpus", "with -s: these CPUs only"},
			{"-a", "each interrupt's CPU affinity"},
			{"-b", "the softirq vector's actions"},
			{"-d", "the interrupt descriptor table's handlers (x86_64)"},
			{"index", "an interrupt number"},
		},
		Examples: []string{"gocrash> irq 0 1", "gocrash> irq -u", "gocrash> irq -s", "gocrash> irq -s -c 1", "gocrash> irq -a", "gocrash> irq -b", "gocrash> irq -d"},
		Results:  []Result{&IRQTable{}, &IRQStats{}, &IRQAffinity{}, &SoftirqTable{}, &IDTTable{}},
		Run:      runIRQ,
	}
}

// IRQTable is irq's default listing.
type IRQTable struct {
	Rows []IRQRow `json:"irqs"`
}

// IRQRow is one interrupt number: its descriptor (0 when none) and actions.
type IRQRow struct {
	IRQ     int            `json:"irq"`
	Desc    Hex            `json:"irq_desc"`
	Actions []IRQActionRow `json:"actions"`
}

// IRQActionRow is one struct irqaction.
type IRQActionRow struct {
	Action  Hex    `json:"irqaction"`
	Name    string `json:"name"`
	Handler Hex    `json:"handler"`
}

// IRQStats is irq -s.
type IRQStats struct {
	CPUs []int        `json:"cpus"`
	Rows []IRQStatRow `json:"irqs"`
	// Classes are the interrupt classes the kernel counts per CPU apart
	// from its descriptors (s390x's CLK, EXC, ...), as /proc/interrupts
	// lists them.
	Classes []IRQClassRow `json:"classes,omitempty"`
}

// IRQClassRow is one interrupt class of irq -s.
type IRQClassRow struct {
	Name   string   `json:"name"`
	Counts []uint32 `json:"counts"` // one per chosen CPU, in CPUs' order
	Desc   string   `json:"desc,omitempty"`
}

// IRQStatRow is one interrupt of irq -s.
type IRQStatRow struct {
	IRQ    int      `json:"irq"`
	Counts []uint32 `json:"counts"` // one per chosen CPU, in CPUs' order
	Chip   string   `json:"chip"`
	Flow   string   `json:"flow"`
	Names  []string `json:"names"`
}

// IRQAffinity is irq -a.
type IRQAffinity struct {
	Rows []IRQAffinityRow `json:"irqs"`
}

// IRQAffinityRow is one interrupt's affinity.
type IRQAffinityRow struct {
	IRQ   int      `json:"irq"`
	Names []string `json:"names"`
	CPUs  []int    `json:"cpus"`
	cpus  string
}

// SoftirqTable is irq -b.
type SoftirqTable struct {
	Rows []SoftirqRow `json:"softirqs"`
}

// SoftirqRow is one softirq vector entry.
type SoftirqRow struct {
	Vec    int    `json:"vec"`
	Action Hex    `json:"action"`
	Symbol string `json:"symbol"`
	Module string `json:"module,omitempty"`
}

func runIRQ(ctx context.Context, s *Session, a *Args) (Result, error) {
	k := s.Kernel
	q := k.Interrupts()
	if a.Has("d") {
		if k.Arch.Name() != "x86_64" {
			return nil, fmt.Errorf("-d option not supported or applicable on this architecture or kernel")
		}
		idt, err := k.Machine().IDT()
		t := &IDTTable{Vectors: []IDTRow{}}
		for i, g := range idt {
			t.Vectors = append(t.Vectors, IDTRow{Vector: i, Handler: Hex(g.Handler), IST: g.IST, Symbol: symOf(s, g.Handler)})
		}
		return t, err
	}
	if a.Has("b") {
		acts, err := q.Softirqs()
		t := &SoftirqTable{}
		for i, v := range acts {
			if v != 0 {
				t.Rows = append(t.Rows, SoftirqRow{Vec: i, Action: Hex(v), Symbol: symOf(s, v), Module: k.ModuleOf(v)})
			}
		}
		return t, err
	}
	if _, ok := a.Value("c"); ok && !a.Has("s") {
		return nil, &UsageError{"-c is only applicable with -s"}
	}
	nr, err := q.NrIRQs()
	if err != nil {
		return nil, err
	}
	// A descriptor tree walked in part, or a descriptor that cannot be
	// read, costs those interrupts (one line each), not the command.
	descs, err := q.Descs()
	if err != nil && len(descs) == 0 {
		return nil, err
	}
	var missing linesError
	if err != nil {
		missing = append(missing, err)
	}
	partial := err != nil
	fail := func(res Result) (Result, error) {
		if len(missing) == 0 {
			return res, nil
		}
		return res, missing
	}
	ncpu, _, cerr := k.CPUs()
	if cerr != nil {
		return nil, cerr
	}
	read := func(i int) (kernel.IRQ, bool, error) {
		d, ok := descs[i]
		if !ok || d == 0 {
			return kernel.IRQ{IRQ: i}, false, nil
		}
		r, err := q.ReadIRQ(i, d, ncpu)
		return r, true, err
	}
	names := func(r kernel.IRQ) []string {
		var out []string
		for _, ac := range r.Actions {
			if ac.Name != "" {
				out = append(out, ac.Name)
			}
		}
		return out
	}
	switch {
	case a.Has("s"):
		spec, _ := a.Value("c")
		cpus, err := sessionCPUs(s, spec)
		if err != nil {
			return nil, err
		}
		st := &IRQStats{CPUs: cpus}
		for i := 0; i < nr; i++ {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			r, ok, err := read(i)
			if err != nil {
				missing = append(missing, fmt.Errorf("irq %d: %w", i, err))
				continue
			}
			if !ok || len(r.Actions) == 0 {
				continue
			}
			row := IRQStatRow{IRQ: i, Chip: r.Chip, Flow: r.Flow, Names: names(r)}
			for _, c := range cpus {
				var n uint32
				if c < len(r.Counts) {
					n = r.Counts[c]
				}
				row.Counts = append(row.Counts, n)
			}
			st.Rows = append(st.Rows, row)
		}
		if err := irqClasses(s, st); err != nil {
			return st, err
		}
		return fail(st)
	case a.Has("a"):
		t := &IRQAffinity{}
		for i := 0; i < nr; i++ {
			r, ok, err := read(i)
			if err != nil {
				missing = append(missing, fmt.Errorf("irq %d: %w", i, err))
				continue
			}
			if !ok || len(r.Actions) == 0 {
				continue
			}
			row := IRQAffinityRow{IRQ: i, Names: names(r), cpus: cpuRanges(r.Affinity, ncpu)}
			for c := 0; c < ncpu; c++ {
				if c/64 < len(r.Affinity) && r.Affinity[c/64]>>(c%64)&1 != 0 {
					row.CPUs = append(row.CPUs, c)
				}
			}
			t.Rows = append(t.Rows, row)
		}
		return fail(t)
	}
	var which []int
	if len(a.Words) == 0 {
		for i := 0; i < nr; i++ {
			which = append(which, i)
		}
	} else {
		for _, w := range a.Words {
			i, err := strconv.Atoi(w)
			if err != nil || i < 0 {
				return nil, &UsageError{"invalid IRQ value: " + w}
			}
			if i >= nr {
				return nil, fmt.Errorf("invalid IRQ value: %d  (%d max)", i, nr-1)
			}
			which = append(which, i)
		}
	}
	t := &IRQTable{}
	for _, i := range which {
		if err := ctx.Err(); err != nil {
			return t, err
		}
		r, ok, err := read(i)
		if err != nil {
			missing = append(missing, fmt.Errorf("irq %d: %w", i, err))
			continue
		}
		if !ok && (a.Has("u") || partial) && len(a.Words) == 0 {
			continue // unused, or not known to be used: the tree is partial
		}
		row := IRQRow{IRQ: i, Desc: Hex(r.Desc), Actions: []IRQActionRow{}}
		for _, ac := range r.Actions {
			row.Actions = append(row.Actions, IRQActionRow{Action: Hex(ac.Addr), Name: ac.Name, Handler: Hex(ac.Handler)})
		}
		t.Rows = append(t.Rows, row)
	}
	return fail(t)
}

func (t *IRQTable) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	const col = 16 // MAX(VADDR_PRLEN, strlen("IRQ_DESC/_DATA"))
	tw.printf(" IRQ  %s  %s  NAME\n", center(col, "IRQ_DESC/_DATA", false), center(col, "IRQACTION", false))
	for _, r := range t.Rows {
		desc := center(col, "(unused)", false)
		if r.Desc != 0 {
			desc = fmt.Sprintf("%016x", uint64(r.Desc))
		}
		tw.printf("%s  %s  ", center(4, strconv.Itoa(r.IRQ), true), desc)
		if len(r.Actions) == 0 {
			tw.printf("%s  \n", center(col, "(unused)", false))
			continue
		}
		for i, ac := range r.Actions {
			if i > 0 {
				tw.printf("\n%s", strings.Repeat(" ", 4+2+col+2))
			}
			tw.printf("%016x  %q", uint64(ac.Action), ac.Name)
		}
		tw.printf("\n")
	}
	return tw.err
}

// irqClasses adds the kernel's interrupt classes, where it has them, for
// the chosen CPUs.
func irqClasses(s *Session, st *IRQStats) error {
	n, _, err := s.Kernel.CPUs()
	if err != nil {
		return err
	}
	classes, err := s.Kernel.Interrupts().IRQClasses(n)
	for _, c := range classes {
		row := IRQClassRow{Name: c.Name, Desc: c.Desc, Counts: []uint32{}}
		for _, cpu := range st.CPUs {
			var v uint32
			if cpu < len(c.Counts) {
				v = c.Counts[cpu]
			}
			row.Counts = append(row.Counts, v)
		}
		st.Classes = append(st.Classes, row)
	}
	return err
}

// writeIRQCounts starts a line of irq -s: the interrupt's number or
// class, then each CPU's count.
func writeIRQCounts(tw *textWriter, label string, counts []uint32) {
	tw.printf("%s: ", label)
	for _, n := range counts {
		tw.printf("%10d ", n)
	}
}

func (t *IRQStats) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("     ")
	for _, c := range t.CPUs {
		tw.printf("%10s ", fmt.Sprintf("CPU%d", c))
	}
	tw.printf("\n")
	for _, r := range t.Rows {
		writeIRQCounts(tw, fmt.Sprintf("%3d", r.IRQ), r.Counts)
		if r.Chip != "" {
			tw.printf("%8s", r.Chip)
		}
		if r.Flow != "" {
			tw.printf("-%-8s", r.Flow)
		}
		tw.printf(" %s\n", strings.Join(r.Names, ","))
	}
	for _, c := range t.Classes {
		// As the kernel's show_interrupts prints them.
		writeIRQCounts(tw, c.Name, c.Counts)
		if c.Desc != "" {
			tw.printf("  %s", c.Desc)
		}
		tw.printf("\n")
	}
	return tw.err
}

func (t *IRQAffinity) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("IRQ NAME                 AFFINITY\n")
	for _, r := range t.Rows {
		tw.printf("%3d %-20s %s\n", r.IRQ, strings.Join(r.Names, ","), r.cpus)
	}
	return tw.err
}

func (t *SoftirqTable) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("SOFTIRQ_VEC %s\n", center(16, "ACTION", true))
	for _, r := range t.Rows {
		sp := "    "
		if r.Vec >= 10 {
			sp = "   "
		}
		tw.printf("    [%d]%s %016x  <%s>", r.Vec, sp, uint64(r.Action), r.Symbol)
		if r.Module != "" {
			tw.printf("  [%s]", r.Module)
		}
		tw.printf("\n")
	}
	return tw.err
}

// IDTTable is irq -d: the interrupt descriptor table.
type IDTTable struct {
	Vectors []IDTRow `json:"vectors"`
}

// IDTRow is one vector's gate.
type IDTRow struct {
	Vector  int    `json:"vector"`
	Handler Hex    `json:"handler"`
	IST     int    `json:"ist"`
	Symbol  string `json:"symbol"`
}

func (t *IDTTable) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, v := range t.Vectors {
		switch {
		case v.Vector < 10:
			tw.printf("  ")
		case v.Vector < 100:
			tw.printf(" ")
		}
		name := v.Symbol
		if name == "" {
			name = fmt.Sprintf("%016x", uint64(v.Handler))
		}
		tw.printf("[%d] %s\n", v.Vector, name)
	}
	return tw.err
}
