package kernel

import "github.com/gocrash/gocrash/symbols"

// IRQClass is one of the interrupt classes a kernel counts per CPU apart
// from its interrupt descriptors (s390x: irqclass_sub_desc[]'s CLK, EXC,
// SCP, ... counted in each CPU's irq_stat.irqs[]), which /proc/interrupts
// lists after the numbered interrupts.
type IRQClass struct {
	Name, Desc string
	Counts     []uint32 // one per CPU
}

// IRQClasses reads the classes and their per-CPU counts for ncpu CPUs:
// none (nil, nil) where the kernel has no table of classes (probed by its
// irqclass_sub_desc array and per-CPU irq_stat).
func (q *Interrupts) IRQClasses(ncpu int) ([]IRQClass, error) {
	n, err := q.d.arrayLen("irqclass_sub_desc")
	if symbols.IsMissing(err) || err == nil && !q.has("irq_stat", "irqs") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o := q.d.obj()
	table, stat := o.sym("irqclass_sub_desc"), o.sym("irq_stat")
	size, irqs := o.size("irq_class"), o.off("irq_stat", "irqs")
	var out []IRQClass
	for i := 0; i < n && o.err == nil; i++ {
		e := table + uint64(i)*size
		c := IRQClass{Name: o.strp(e+o.off("irq_class", "name"), 16), Desc: o.strp(e+o.off("irq_class", "desc"), 64)}
		irq := uint64(o.u32(e + o.off("irq_class", "irq")))
		for cpu := 0; cpu < ncpu; cpu++ {
			c.Counts = append(c.Counts, o.u32(o.percpu(stat, cpu)+irqs+4*irq))
		}
		out = append(out, c)
	}
	return out, o.err
}

// has reports whether struct s has member m.
func (q *Interrupts) has(s, m string) bool {
	_, err := q.d.Offset(s, m)
	return err == nil
}
