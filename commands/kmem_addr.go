package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// kmem ADDR: what an address is, as crash's kmem_search tells it: the
// kernel symbol it is in, the vmalloc area holding it (and the task whose
// stack that is), the slab object holding it, the task whose task_struct
// or stack holds it, and its page's struct page.

// KmemAddrResult is kmem ADDR for each address.
type KmemAddrResult struct {
	Addresses []*AddrIdentity `json:"addresses"`
}

// AddrIdentity is what one address was found to be.
type AddrIdentity struct {
	Addr     Hex            `json:"addr"`
	Physical bool           `json:"physical"` // given as a physical address
	Symbol   *SymResult     `json:"symbol,omitempty"`
	Task     *AddrTask      `json:"task,omitempty"` // the task whose stack or task_struct it is in
	Vmalloc  *VmapAreaRow   `json:"vmalloc,omitempty"`
	Slab     *SlabCacheInfo `json:"slab,omitempty"`
	Page     *PageTable     `json:"page,omitempty"`
	// NotFound: the address has no struct page (crash's "address not
	// found in mem map").
	NotFound bool `json:"not_found"`

	taskFirst bool // the task comes before the vmalloc area (a vmalloc'd stack)
}

// AddrTask is the task an address belongs to, as crash's context block
// shows it.
type AddrTask struct {
	TaskContext
	Stack bool `json:"stack"` // in its kernel stack (else in its task_struct)
	// OfPID and SamePID: the task is the OfPID-th of SamePID tasks with
	// its PID (the idle tasks share PID 0).
	OfPID   int `json:"of_pid"`
	SamePID int `json:"same_pid"`
}

// VmapAreaRow is one vmalloc area as kmem -v shows it.
type VmapAreaRow struct {
	VmapArea Hex    `json:"vmap_area"`
	VMStruct Hex    `json:"vm_struct"`
	Start    Hex    `json:"start"`
	End      Hex    `json:"end"`
	Size     uint64 `json:"size"`
}

func runKmemAddr(ctx context.Context, s *Session, a *Args) (Result, error) {
	res := &KmemAddrResult{Addresses: []*AddrIdentity{}}
	for _, w := range a.Words {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		addr, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
		if err != nil {
			if addr, err = s.Kernel.SymbolAddr(w); err != nil {
				return res, fmt.Errorf("invalid address: %s", w)
			}
		}
		id, err := identify(ctx, s, addr)
		res.Addresses = append(res.Addresses, id)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func identify(ctx context.Context, s *Session, addr uint64) (*AddrIdentity, error) {
	k := s.Kernel
	id := &AddrIdentity{Addr: Hex(addr)}
	vaddr := addr
	if addr>>63 == 0 {
		id.Physical = true
		v, err := k.Arch.PhysToVirt(addr)
		if err != nil {
			id.NotFound = true
			return id, nil
		}
		vaddr = v
	}
	if !id.Physical && (inKernelImage(s, addr) || isModuleAddr(s, addr)) && k.Syms != nil {
		if r, err := runSym(ctx, s, &Args{Words: []string{strconv.FormatUint(addr, 16)}}); err == nil {
			id.Symbol = r.(*SymResult)
		}
	}
	page := func(phys uint64) {
		if p, err := k.PageOf(phys); err == nil {
			id.Page = newPageTable(s, []kernel.Page{p})
		} else {
			id.NotFound = true
		}
	}
	taskOf := func(v uint64) {
		if t, inStruct, ok, _ := k.TaskOfAddr(v); ok {
			panicTask, _ := k.PanicTask()
			id.Task = &AddrTask{TaskContext: TaskContext{TaskRef: taskRef(t), State: t.StateName(), Panic: t.Addr == panicTask, Active: t.Active}, Stack: !inStruct}
			// Tasks sharing a PID (the idle tasks): crash says which.
			if all, err := lookupTasks(k); err == nil {
				for _, o := range all {
					if o.PID == t.PID {
						id.Task.SamePID++
						if o.Addr == t.Addr {
							id.Task.OfPID = id.Task.SamePID
						}
					}
				}
			}
		}
	}
	if !id.Physical {
		if va, ok, _ := k.VmapAreaOf(addr); ok {
			if phys, err := k.VirtToPhys(addr); err == nil {
				taskOf(addr)
				if id.Task != nil && !id.Task.Stack {
					id.Task = nil
				}
				id.taskFirst = true
				id.Vmalloc = &VmapAreaRow{VmapArea: Hex(va.Addr), VMStruct: Hex(va.VM), Start: Hex(va.Start), End: Hex(va.End), Size: va.End - va.Start}
				page(phys)
				return id, nil
			}
		}
	}
	sl := k.Slabs()
	if _, _, ok, err := sl.SlabOf(vaddr); err == nil && ok {
		if info, err := slabOfAddress(s, sl, vaddr, false); err == nil {
			id.Slab = info
		}
	}
	if pfn, ok := sl.PageFrame(addr); ok && !id.Physical {
		// A struct page: its slab, if it is one, and the page itself.
		if _, _, ok, err := sl.SlabOfPage(addr); err == nil && ok {
			if info, err := slabOfAddress(s, sl, addr, true); err == nil {
				id.Slab = info
			}
		}
		page(pfn * k.Arch.PageSize())
		return id, nil
	}
	taskOf(vaddr)
	phys := addr
	if !id.Physical {
		p, err := k.VirtToPhys(addr)
		if err != nil {
			id.NotFound = true
			return id, nil
		}
		phys = p
	}
	page(phys)
	return id, nil
}

// isModuleAddr reports whether addr is in a module's memory.
func isModuleAddr(s *Session, addr uint64) bool {
	_, _, ok := s.Kernel.ModuleSymbolAt(addr)
	return ok
}

func (r *KmemAddrResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, id := range r.Addresses {
		if i > 0 {
			tw.println("")
		}
		id.text(tw)
	}
	return tw.err
}

func (id *AddrIdentity) text(tw *textWriter) {
	if id.Symbol != nil {
		var b strings.Builder
		id.Symbol.Text(&b)
		tw.printf("%s\n", b.String())
	}
	task := func() {
		if id.Task == nil {
			return
		}
		c := id.Task
		state := c.State.Long() + " "
		switch {
		case c.Panic:
			state += "(PANIC)"
		case c.Active:
			state += "(ACTIVE)"
		}
		of := ""
		if c.SamePID > 1 {
			of = fmt.Sprintf("  (%d of %d)", c.OfPID, c.SamePID)
		}
		tw.printf("    PID: %d\nCOMMAND: %q\n   TASK: %x%s  [THREAD_INFO: %x]\n    CPU: %d\n  STATE: %s\n\n",
			c.PID, c.Command, uint64(c.Task), of, uint64(c.Task), c.CPU, state)
	}
	if id.taskFirst {
		task()
	}
	if v := id.Vmalloc; v != nil {
		tw.println("   VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE")
		tw.printf("%-16x  %-16x  %x - %x  %7d\n\n", uint64(v.VmapArea), uint64(v.VMStruct), uint64(v.Start), uint64(v.End), v.Size)
	}
	if id.Slab != nil {
		r := &KmemSlabResult{Caches: []*SlabCacheInfo{id.Slab}}
		r.Text(tw.w)
		tw.println("")
	}
	if !id.taskFirst {
		task()
	}
	if id.Page != nil {
		id.Page.text(tw)
	}
	if id.NotFound {
		space := "kernel virtual"
		if id.Physical {
			space = "physical"
		}
		tw.printf("%x: %s address not found in mem map\n", uint64(id.Addr), space)
	}
}
