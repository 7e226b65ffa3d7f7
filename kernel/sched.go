package kernel

import "fmt"

// QueuedTask is a task on a runqueue, with its priority (the RT queue's
// index, or task_struct.prio for CFS).
type QueuedTask struct {
	Prio int
	Task uint64
}

// RunQueue is one CPU's struct rq: its current task, the RT priority array
// and the CFS red-black tree with the tasks queued on each.
type RunQueue struct {
	CPU     int
	Addr    uint64
	Curr    uint64
	RTArray uint64 // rq.rt.active
	RT      []QueuedTask
	CFSRoot uint64 // rq.cfs.tasks_timeline
	CFS     []QueuedTask
}

// Scheduler reads the per-CPU runqueues.
type Scheduler struct{ d objDeps }

// Scheduler returns the reader of the kernel's runqueues.
func (k *Kernel) Scheduler() *Scheduler { return &Scheduler{k.objDeps()} }

// RunQueue reads cpu's runqueue and the tasks queued on it. Group
// scheduling entities (sched_entity.my_q, sched_rt_entity.my_q) are
// descended into, as crash does, so that the tasks of every group show.
func (s *Scheduler) RunQueue(cpu int) (RunQueue, error) {
	o := s.d.obj()
	rq := o.percpu(o.sym("runqueues"), cpu)
	r := RunQueue{CPU: cpu, Addr: rq}
	r.Curr = o.u64(rq + o.off("rq", "curr"))
	r.RTArray = rq + o.off("rq", "rt") + o.off("rt_rq", "active")
	cfs := rq + o.off("rq", "cfs")
	r.CFSRoot = cfs + o.off("cfs_rq", "tasks_timeline")
	if o.err != nil {
		return r, o.err
	}
	var err error
	if r.RT, err = s.rtTasks(r.RTArray, 0); err != nil {
		return r, err
	}
	seen := map[uint64]bool{}
	r.CFS, err = s.cfsTasks(cfs, seen, 0)
	return r, err
}

func (s *Scheduler) rtTasks(array uint64, depth int) ([]QueuedTask, error) {
	if depth > 8 {
		return nil, fmt.Errorf("rt_rq at %x: groups nested too deeply", array)
	}
	o := s.d.obj()
	queue := o.off("rt_prio_array", "queue")
	runList := o.off("sched_rt_entity", "run_list")
	rtOff := o.off("task_struct", "rt")
	hasMyQ := o.has("sched_rt_entity", "my_q")
	var myQ uint64
	if hasMyQ {
		myQ = o.off("sched_rt_entity", "my_q")
	}
	active := o.off("rt_rq", "active")
	if o.err != nil {
		return nil, o.err
	}
	n, err := s.d.memberArrayLen("rt_prio_array", "queue")
	if err != nil {
		n = 100 // MAX_RT_PRIO
	}
	var out []QueuedTask
	for i := 0; i < n; i++ {
		head := array + queue + uint64(16*i)
		err := walkList(s.d, head, func(node uint64) error {
			ent := node - runList
			if hasMyQ {
				if q := o.u64(ent + myQ); q != 0 {
					sub, err := s.rtTasks(q+active, depth+1)
					out = append(out, sub...)
					return err
				}
			}
			out = append(out, QueuedTask{Prio: i, Task: ent - rtOff})
			return o.err
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (s *Scheduler) cfsTasks(cfs uint64, seen map[uint64]bool, depth int) ([]QueuedTask, error) {
	if depth > 8 {
		return nil, fmt.Errorf("cfs_rq at %x: groups nested too deeply", cfs)
	}
	o := s.d.obj()
	seOff := o.off("task_struct", "se")
	prioOff := o.off("task_struct", "prio")
	hasMyQ := o.has("sched_entity", "my_q")
	var myQ uint64
	if hasMyQ {
		myQ = o.off("sched_entity", "my_q")
	}
	if o.err != nil {
		return nil, o.err
	}
	var out []QueuedTask
	// The current entity's group first, as crash does: its tasks are
	// not in the tree.
	if hasMyQ {
		if curr := o.u64(cfs + o.off("cfs_rq", "curr")); curr != 0 {
			if q := o.u64(curr + myQ); q != 0 {
				sub, err := s.cfsTasks(q, seen, depth+1)
				out = append(out, sub...)
				if err != nil {
					return out, err
				}
			}
		}
	}
	err := o.cfsEntities(cfs, seen, func(se uint64) error {
		if hasMyQ {
			if q := o.u64(se + myQ); q != 0 {
				sub, err := s.cfsTasks(q, seen, depth+1)
				out = append(out, sub...)
				return err
			}
		}
		task := se - seOff
		out = append(out, QueuedTask{Prio: int(int32(o.u32(task + prioOff))), Task: task})
		return nil
	})
	return out, err
}

// cfsEntities calls visit with each sched_entity on the red-black tree of
// the cfs_rq at cfs (tasks_timeline), in order, ending with an error at a
// node seen before (seen is shared by the walks of one gathering) or a tree
// deeper than any the kernel builds, and at the first read error.
func (o *obj) cfsEntities(cfs uint64, seen map[uint64]bool, visit func(se uint64) error) error {
	root := cfs + o.off("cfs_rq", "tasks_timeline")
	runNode := o.off("sched_entity", "run_node")
	left, right := o.off("rb_node", "rb_left"), o.off("rb_node", "rb_right")
	if o.err != nil {
		return o.err
	}
	var walk func(node uint64, n int) error
	walk = func(node uint64, n int) error {
		if node == 0 {
			return nil
		}
		if n > 64 || seen[node] {
			return fmt.Errorf("cfs_rq at %x: corrupt red-black tree at %x", cfs, node)
		}
		seen[node] = true
		if err := walk(o.u64(node+left), n+1); err != nil {
			return err
		}
		if err := visit(node - runNode); err != nil {
			return err
		}
		if o.err != nil {
			return o.err
		}
		return walk(o.u64(node+right), n+1)
	}
	return walk(o.u64(root), 0)
}

// WaitQueue lists the private pointers (the waiting tasks) of the entries
// on the struct wait_queue_head at head (wait_queue_entry 4.13+, else
// __wait_queue).
func (s *Scheduler) WaitQueue(head uint64) ([]uint64, error) {
	o := s.d.obj()
	var listOff, link, priv uint64
	if o.has("wait_queue_head", "head") {
		listOff = o.off("wait_queue_head", "head")
		link = o.off("wait_queue_entry", "entry")
		priv = o.off("wait_queue_entry", "private")
	} else {
		listOff = o.off("__wait_queue_head", "task_list")
		link = o.off("__wait_queue", "task_list")
		priv = o.off("__wait_queue", "private")
	}
	if o.err != nil {
		return nil, fmt.Errorf("cannot determine wait queue structures: %w", o.err)
	}
	var out []uint64
	err := walkList(s.d, head+listOff, func(node uint64) error {
		out = append(out, o.u64(node-link+priv))
		return o.err
	})
	return out, err
}

// GroupEntry is one line of a task group's CFS runqueue: a task (with
// Current set for the CPU's running task, which is not in the tree), or a
// child group's runqueue with its own entries.
type GroupEntry struct {
	Prio    int
	Task    uint64
	Current bool
	Group   *GroupRunQueue
}

// GroupRunQueue is a task group's struct cfs_rq on one CPU.
type GroupRunQueue struct {
	TaskGroup uint64
	CFSRq     uint64
	Entries   []GroupEntry
}

// RootTaskGroup is root_task_group's address.
func (s *Scheduler) RootTaskGroup() (uint64, error) { return s.d.SymbolAddr("root_task_group") }

// GroupCFS reads cpu's CFS runqueue of root_task_group and, through the
// group entities on it, its child groups' (CONFIG_FAIR_GROUP_SCHED).
func (s *Scheduler) GroupCFS(cpu int, current uint64) (*GroupRunQueue, error) {
	o := s.d.obj()
	tg := o.sym("root_task_group")
	cfsArr := o.u64(tg + o.off("task_group", "cfs_rq"))
	if o.err != nil {
		return nil, o.err
	}
	cfs := o.u64(cfsArr + uint64(8*cpu))
	if o.err != nil {
		return nil, o.err
	}
	return s.groupCFS(tg, cfs, current, 0)
}

func (s *Scheduler) groupCFS(tg, cfs, current uint64, depth int) (*GroupRunQueue, error) {
	if depth > 8 {
		return nil, fmt.Errorf("cfs_rq at %x: groups nested too deeply", cfs)
	}
	o := s.d.obj()
	g := &GroupRunQueue{TaskGroup: tg, CFSRq: cfs}
	myQ := o.off("sched_entity", "my_q")
	seOff := o.off("task_struct", "se")
	prioOff := o.off("task_struct", "prio")
	tgOff := o.off("cfs_rq", "tg")
	curr := o.u64(cfs + o.off("cfs_rq", "curr"))
	if o.err != nil {
		return nil, o.err
	}
	child := func(q uint64) error {
		sub, err := s.groupCFS(o.u64(q+tgOff), q, current, depth+1)
		if sub != nil {
			g.Entries = append(g.Entries, GroupEntry{Group: sub})
		}
		return err
	}
	if curr != 0 {
		if q := o.u64(curr + myQ); q != 0 {
			if err := child(q); err != nil {
				return g, err
			}
		} else if curr-seOff == current {
			g.Entries = append(g.Entries, GroupEntry{Prio: int(int32(o.u32(current + prioOff))), Task: current, Current: true})
		}
	}
	err := o.cfsEntities(cfs, map[uint64]bool{}, func(se uint64) error {
		if q := o.u64(se + myQ); q != 0 {
			return child(q)
		}
		task := se - seOff
		g.Entries = append(g.Entries, GroupEntry{Prio: int(int32(o.u32(task + prioOff))), Task: task})
		return nil
	})
	return g, err
}
