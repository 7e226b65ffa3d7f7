package kernel

import (
	"fmt"
	"sort"

	"github.com/gocrash/gocrash/symbols"
)

// IRQAction is one handler (struct irqaction) on an interrupt line.
type IRQAction struct {
	Addr    uint64
	Name    string
	Handler uint64
}

// IRQ is one interrupt descriptor (struct irq_desc).
type IRQ struct {
	IRQ     int
	Desc    uint64
	Actions []IRQAction
	Chip    string   // irq_data.chip->name ("IO-APIC")
	Flow    string   // irq_desc.name, the flow handler's name ("edge")
	Counts  []uint32 // per CPU, from kstat_irqs
	// Affinity is the CPUs of irq_common_data.affinity (or
	// irq_data.affinity), as a bitmap of words.
	Affinity []uint64
}

// Interrupts reads the kernel's interrupt descriptors and softirq vector.
type Interrupts struct {
	d objDeps
	k *Kernel // for maple trees
}

// Interrupts returns the reader of the kernel's interrupt state.
func (k *Kernel) Interrupts() *Interrupts { return &Interrupts{k.objDeps(), k} }

// NrIRQs is nr_irqs, the number of interrupt numbers the kernel allocated
// descriptors for (or the length of a static irq_desc array).
func (q *Interrupts) NrIRQs() (int, error) {
	if a, err := q.d.SymbolAddr("nr_irqs"); err == nil {
		n, err := q.d.ReadU32(a)
		return int(n), err
	}
	if n, err := q.d.arrayLen("irq_desc"); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("cannot determine number of IRQs")
}

// Descs maps each interrupt number with a descriptor to its struct
// irq_desc address: a static irq_desc[] array, the irq_desc_tree radix
// tree (4.x-6.4), or the sparse_irqs maple tree (6.5+). When the tree
// cannot be walked whole, the descriptors it was read for come back with
// the error, and with them those the per-CPU vector tables (x86's
// vector_irq) point to.
func (q *Interrupts) Descs() (map[int]uint64, error) {
	out := map[int]uint64{}
	if a, err := q.d.SymbolAddr("sparse_irqs"); err == nil {
		ents, err := q.k.walkMaple(a)
		for _, e := range ents {
			for i := e.First; i <= e.Last && i < 1<<20; i++ {
				out[int(i)] = e.Value
			}
		}
		if err != nil {
			q.vectorDescs(out)
		}
		return out, err
	}
	if a, err := q.d.SymbolAddr("irq_desc_tree"); err == nil {
		ents, err := q.d.walkXArray(a)
		for _, e := range ents {
			out[int(e.Index)] = e.Value
		}
		return out, err
	}
	a, err := q.d.SymbolAddr("irq_desc")
	if err != nil {
		return nil, fmt.Errorf("neither irq_desc, irq_desc_tree nor sparse_irqs exist in this kernel")
	}
	n, err := q.d.arrayLen("irq_desc")
	if err != nil {
		return nil, err
	}
	sz, err := q.d.Size("irq_desc")
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		out[i] = a + uint64(i)*uint64(sz)
	}
	return out, nil
}

// vectorDescs adds to out the descriptors that each CPU's vector_irq
// (struct irq_desc *[NR_VECTORS]) holds, by their irq_data.irq, where out
// has none.
func (q *Interrupts) vectorDescs(out map[int]uint64) {
	a, err := q.d.SymbolAddr("vector_irq")
	if err != nil {
		return
	}
	n, err := q.d.arrayLen("vector_irq")
	if err != nil {
		return
	}
	ncpu, err := q.d.cpus()
	if err != nil {
		return
	}
	for cpu := 0; cpu < ncpu; cpu++ {
		o := q.d.obj()
		base := o.percpu(a, cpu)
		for v := 0; v < n && o.err == nil; v++ {
			desc := o.u64(base + uint64(8*v))
			if desc < 1<<63 || desc >= ^uint64(4095) { // NULL, VECTOR_SHUTDOWN, VECTOR_RETRIGGERED
				continue
			}
			d := q.d.obj()
			irq := int(d.u32(desc + d.off("irq_desc", "irq_data") + d.off("irq_data", "irq")))
			if _, ok := out[irq]; d.err == nil && !ok {
				out[irq] = desc
			}
		}
	}
}

// ReadIRQ reads the descriptor of interrupt irq at desc: its actions,
// chip and flow names, per-CPU counts (for ncpu CPUs) and affinity.
func (q *Interrupts) ReadIRQ(irq int, desc uint64, ncpu int) (IRQ, error) {
	o := q.d.obj()
	r := IRQ{IRQ: irq, Desc: desc}
	act := o.u64(desc + o.off("irq_desc", "action"))
	seen := map[uint64]bool{}
	for act != 0 && !seen[act] && o.err == nil {
		seen[act] = true
		a := IRQAction{Addr: act}
		a.Name = o.strp(act+o.off("irqaction", "name"), 64)
		a.Handler = o.u64(act + o.off("irqaction", "handler"))
		r.Actions = append(r.Actions, a)
		act = o.u64(act + o.off("irqaction", "next"))
	}
	if o.err != nil {
		return r, o.err
	}
	data := desc + o.off("irq_desc", "irq_data")
	if chip := o.u64(data + o.off("irq_data", "chip")); chip != 0 {
		r.Chip = o.strp(chip+o.off("irq_chip", "name"), 64)
	}
	r.Flow = o.strp(desc+o.off("irq_desc", "name"), 64)
	if ks := o.u64(desc + o.off("irq_desc", "kstat_irqs")); ks != 0 {
		for cpu := 0; cpu < ncpu; cpu++ {
			// unsigned int, or (6.10+) struct irqstat whose cnt comes first
			r.Counts = append(r.Counts, o.u32(o.percpu(ks, cpu)))
		}
	}
	var aff uint64
	var affStruct string
	switch {
	case o.has("irq_common_data", "affinity"):
		aff = desc + o.off("irq_desc", "irq_common_data") + o.off("irq_common_data", "affinity")
		affStruct = "irq_common_data"
	case o.has("irq_data", "affinity"):
		aff = data + o.off("irq_data", "affinity")
		affStruct = "irq_data"
	}
	if aff != 0 {
		// cpumask_var_t: a pointer with CONFIG_CPUMASK_OFFSTACK, else
		// the mask itself.
		if t, err := q.d.memberType(affStruct, "affinity"); err == nil && t.Kind == symbols.TypePointer {
			aff = o.u64(aff)
		}
		for w := 0; w*64 < ncpu; w++ {
			r.Affinity = append(r.Affinity, o.u64(aff+uint64(8*w)))
		}
	}
	return r, o.err
}

// Softirqs are the actions of softirq_vec[], by softirq number (0 for
// an unset vector).
func (q *Interrupts) Softirqs() ([]uint64, error) {
	o := q.d.obj()
	a := o.sym("softirq_vec")
	n, err := q.d.arrayLen("softirq_vec")
	if err != nil {
		return nil, err
	}
	sz := o.size("softirq_action")
	act := o.off("softirq_action", "action")
	var out []uint64
	for i := 0; i < n && o.err == nil; i++ {
		out = append(out, o.u64(a+uint64(i)*sz+act))
	}
	return out, o.err
}

// SortedIRQs lists the keys of descs in order.
func SortedIRQs(descs map[int]uint64) []int {
	out := make([]int, 0, len(descs))
	for i := range descs {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}
