package kernel

import (
	"errors"
	"fmt"
	"sort"
)

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

// rtQueues is the number of priority queues of an rt_prio_array: its
// queue array's length, or MAX_RT_PRIO (100) without the type.
func (s *Scheduler) rtQueues() int {
	n, err := s.d.memberArrayLen("rt_prio_array", "queue")
	if err != nil {
		return 100
	}
	return n
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
	n := s.rtQueues()
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
// the cfs_rq at cfs (tasks_timeline), in order. A node that cannot be
// read costs its subtree and an error visit returns costs that entity:
// the walk goes on, and the UnreadableObjectsError it returns names each
// ("cfs_rq ADDR: rb_node ADDR (rb_left of ADDR): REASON"). A node seen
// before (seen is shared by the walks of one gathering) or a tree deeper
// than any the kernel builds ends the walk with that error last.
func (o *obj) cfsEntities(cfs uint64, seen map[uint64]bool, visit func(se uint64) error) error {
	root := cfs + o.off("cfs_rq", "tasks_timeline")
	runNode := o.off("sched_entity", "run_node")
	left, right := o.off("rb_node", "rb_left"), o.off("rb_node", "rb_right")
	if o.err != nil {
		return o.err
	}
	var bad UnreadableObjectsError
	// child is node's child at off, 0 for none or for one that cannot be
	// read (named in bad).
	child := func(node, off uint64, side string) uint64 {
		c, err := o.d.ReadU64(node + off)
		if err == nil && c != 0 {
			if _, err = o.d.ReadU64(c + left); err == nil {
				_, err = o.d.ReadU64(c + right)
			}
			if err != nil {
				bad.add(fmt.Errorf("cfs_rq at %x: rb_node %x (%s of %x): %w", cfs, c, side, node, err))
				return 0
			}
		} else if err != nil {
			bad.add(fmt.Errorf("cfs_rq at %x: rb_node %x: %w", cfs, node, err))
			return 0
		}
		return c
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
		if err := walk(child(node, left, "rb_left"), n+1); err != nil {
			return err
		}
		if err := visit(node - runNode); err != nil {
			bad.add(err)
		}
		return walk(child(node, right, "rb_right"), n+1)
	}
	top, err := o.d.ReadU64(root)
	if err != nil {
		return fmt.Errorf("cfs_rq at %x: %w", cfs, err)
	}
	if top != 0 {
		if _, err := o.d.ReadU64(top + left); err != nil {
			return fmt.Errorf("cfs_rq at %x: rb_node %x: %w", cfs, top, err)
		}
	}
	return bad.or(walk(top, 0))
}

// add appends err's objects: each of an UnreadableObjectsError's, or err.
func (e *UnreadableObjectsError) add(err error) {
	var u UnreadableObjectsError
	if errors.As(err, &u) {
		*e = append(*e, u...)
		return
	}
	*e = append(*e, err)
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

// GroupEntry is one line of a task group's runqueue: a task (with
// Current set for the CPU's running task, which is not in the CFS tree),
// or a child group's runqueue with its own entries.
type GroupEntry struct {
	Prio    int // the task's priority (CFS: task_struct.prio; RT: its queue)
	Task    uint64
	Current bool
	Group   *GroupRunQueue
}

// GroupRunQueue is a task group's runqueue on one CPU: its struct cfs_rq
// (CONFIG_FAIR_GROUP_SCHED) or its struct rt_rq (CONFIG_RT_GROUP_SCHED).
type GroupRunQueue struct {
	TaskGroup uint64
	Name      string // the group's cgroup directory name ("" for none)
	CFSRq     uint64 // a CFS group's cfs_rq
	RTRq      uint64 // an RT group's rt_rq
	Prio      int    // an RT child group: the queue its entity is on in the parent's rt_rq
	Throttled bool   // cfs_rq.throttled, or rt_rq.rt_throttled where task_group.rt_bandwidth is
	Entries   []GroupEntry
}

// RootTaskGroup is root_task_group's address.
func (s *Scheduler) RootTaskGroup() (uint64, error) { return s.d.SymbolAddr("root_task_group") }

// HasRTGroups says whether the kernel schedules RT tasks in groups
// (task_group.rt_rq: CONFIG_RT_GROUP_SCHED).
func (s *Scheduler) HasRTGroups() bool { return s.d.obj().has("task_group", "rt_rq") }

// A group walk's objects that cannot be read cost those objects: the
// walk goes on, and returns the group read so far with an
// UnreadableObjectsError naming each left out.

// rootGroup is root_task_group's runqueue on cpu: member (cfs_rq or
// rt_rq) is task_group's array of per-CPU runqueue pointers.
func (s *Scheduler) rootGroup(member string, cpu int) (*GroupRunQueue, error) {
	o := s.d.obj()
	tg := o.sym("root_task_group")
	arr := o.u64(tg + o.off("task_group", member))
	rq := o.u64(arr + uint64(8*cpu))
	if o.err != nil {
		return nil, o.err
	}
	if member == "rt_rq" {
		return &GroupRunQueue{TaskGroup: tg, RTRq: rq}, nil
	}
	return &GroupRunQueue{TaskGroup: tg, CFSRq: rq}, nil
}

// GroupCFS reads cpu's CFS runqueue of root_task_group and, through the
// group entities on it, its child groups' (CONFIG_FAIR_GROUP_SCHED).
func (s *Scheduler) GroupCFS(cpu int, current uint64) (*GroupRunQueue, error) {
	return s.rootWalk("cfs_rq", cpu, func(w *groupWalk, g *GroupRunQueue) error { return s.groupCFS(w, g, current, 0) })
}

// rootWalk reads cpu's runqueue (member: cfs_rq, rt_rq) of
// root_task_group and walks it and its child groups' with walk.
func (s *Scheduler) rootWalk(member string, cpu int, walk func(*groupWalk, *GroupRunQueue) error) (*GroupRunQueue, error) {
	g, err := s.rootGroup(member, cpu)
	if err != nil {
		return nil, err
	}
	w, err := s.newGroupWalk(g.TaskGroup, cpu)
	var bad UnreadableObjectsError
	if err != nil {
		bad.add(err)
	}
	if err := walk(w, g); err != nil {
		bad.add(err)
	}
	return g, bad.or(nil)
}

// groupCFS reads g's entries from its cfs_rq: the current entity's (not
// in the tree), then the tree's.
func (s *Scheduler) groupCFS(w *groupWalk, g *GroupRunQueue, current uint64, depth int) error {
	if err := s.enterGroup(g, g.CFSRq, "cfs_rq", "throttled", depth); err != nil {
		return err
	}
	o := s.d.obj()
	myQ := o.off("sched_entity", "my_q")
	seOff := o.off("task_struct", "se")
	prioOff := o.off("task_struct", "prio")
	tgOff := o.off("cfs_rq", "tg")
	currOff := o.off("cfs_rq", "curr")
	if o.err != nil {
		return o.err
	}
	var bad UnreadableObjectsError
	// entity adds the sched_entity se: a child group's runqueue, or a
	// task (cur: the CPU's running one).
	entity := func(se uint64, cur bool) error {
		q, err := s.d.ReadU64(se + myQ)
		if err != nil {
			return fmt.Errorf("sched_entity %x: %w", se, err)
		}
		if q != 0 {
			sub := &GroupRunQueue{CFSRq: q}
			if sub.TaskGroup, err = s.d.ReadU64(q + tgOff); err != nil {
				return fmt.Errorf("cfs_rq %x: %w", q, err)
			}
			g.Entries = append(g.Entries, GroupEntry{Group: sub})
			w.shown[sub.TaskGroup] = true
			return s.groupCFS(w, sub, current, depth+1)
		}
		task := se - seOff
		if cur && task != current {
			return nil
		}
		prio, err := s.d.ReadU32(task + prioOff)
		g.Entries = append(g.Entries, GroupEntry{Prio: int(int32(prio)), Task: task, Current: cur})
		if err != nil {
			return fmt.Errorf("task %x prio: %w", task, err)
		}
		return nil
	}
	curr, err := s.d.ReadU64(g.CFSRq + currOff)
	if err != nil {
		return fmt.Errorf("cfs_rq %x: %w", g.CFSRq, err)
	}
	if curr != 0 {
		if err := entity(curr, true); err != nil {
			bad.add(err)
		}
	}
	if err := o.cfsEntities(g.CFSRq, map[uint64]bool{}, func(se uint64) error { return entity(se, false) }); err != nil {
		bad.add(err)
	}
	if err := s.lowerGroups(w, g, depth, false, func(sub *GroupRunQueue, d int) error { return s.groupCFS(w, sub, current, d) }); err != nil {
		bad.add(err)
	}
	return bad.or(nil)
}

// GroupRT reads cpu's RT runqueue of root_task_group (task_group.rt_rq)
// and, through the group entities queued on it (sched_rt_entity.my_q),
// its child groups' (CONFIG_RT_GROUP_SCHED), each priority's queue in
// order.
func (s *Scheduler) GroupRT(cpu int) (*GroupRunQueue, error) {
	return s.rootWalk("rt_rq", cpu, func(w *groupWalk, g *GroupRunQueue) error { return s.groupRT(w, g, 0) })
}

func (s *Scheduler) groupRT(w *groupWalk, g *GroupRunQueue, depth int) error {
	if err := s.enterGroup(g, g.RTRq, "rt_rq", "rt_throttled", depth); err != nil {
		return err
	}
	o := s.d.obj()
	queue := o.off("rt_prio_array", "queue")
	active := o.off("rt_rq", "active")
	runList := o.off("sched_rt_entity", "run_list")
	myQ := o.off("sched_rt_entity", "my_q")
	rtOff := o.off("task_struct", "rt")
	tgOff := o.off("rt_rq", "tg")
	if o.err != nil {
		return o.err
	}
	n := s.rtQueues()
	var bad UnreadableObjectsError
	for i := 0; i < n; i++ {
		head := g.RTRq + active + queue + uint64(16*i)
		err := walkList(s.d, head, func(node uint64) error {
			ent := node - runList
			q, err := s.d.ReadU64(ent + myQ)
			if err != nil { // the list cannot be followed past it
				return fmt.Errorf("sched_rt_entity %x: %w", ent, err)
			}
			if q == 0 {
				g.Entries = append(g.Entries, GroupEntry{Prio: i, Task: ent - rtOff})
				return nil
			}
			sub := &GroupRunQueue{RTRq: q, Prio: i}
			if sub.TaskGroup, err = s.d.ReadU64(q + tgOff); err != nil {
				bad.add(fmt.Errorf("rt_rq %x: %w", q, err))
				return nil
			}
			g.Entries = append(g.Entries, GroupEntry{Prio: i, Group: sub})
			w.shown[sub.TaskGroup] = true
			if err := s.groupRT(w, sub, depth+1); err != nil {
				bad.add(err)
			}
			return nil
		})
		if err != nil {
			bad.add(fmt.Errorf("rt_rq %x queue %d: %w", g.RTRq, i, err))
		}
	}
	if err := s.lowerGroups(w, g, depth, true, func(sub *GroupRunQueue, d int) error { return s.groupRT(w, sub, d) }); err != nil {
		bad.add(err)
	}
	return bad.or(nil)
}

// groupWalk is one CPU's walk of the task groups' runqueues: the task
// group hierarchy and the groups whose runqueue the walk has shown.
type groupWalk struct {
	cpu    int
	groups []taskGroupNode
	shown  map[uint64]bool
}

// taskGroupNode is a task group of the hierarchy, at its depth below
// root_task_group (0).
type taskGroupNode struct {
	tg, parent uint64
	depth      int
}

// newGroupWalk starts cpu's walk from root: the task groups under it
// (task_group.children, siblings), by depth, each depth in the order of
// a depth-first walk, as crash orders them; none where the kernel has
// no children lists. A list that cannot be read costs the groups on it.
func (s *Scheduler) newGroupWalk(root uint64, cpu int) (*groupWalk, error) {
	w := &groupWalk{cpu: cpu, shown: map[uint64]bool{root: true}}
	o := s.d.obj()
	if !o.has("task_group", "children") {
		return w, nil
	}
	children, siblings := o.off("task_group", "children"), o.off("task_group", "siblings")
	if o.err != nil {
		return w, o.err
	}
	var bad UnreadableObjectsError
	var walk func(tg, parent uint64, depth int)
	walk = func(tg, parent uint64, depth int) {
		w.groups = append(w.groups, taskGroupNode{tg, parent, depth})
		if depth > 8 || len(w.groups) > 1<<16 {
			return
		}
		err := walkList(s.d, tg+children, func(node uint64) error {
			walk(node-siblings, tg, depth+1)
			return nil
		})
		if err != nil {
			bad.add(fmt.Errorf("task_group %x children: %w", tg, err))
		}
	}
	walk(root, 0, 0)
	sort.SliceStable(w.groups, func(i, j int) bool { return w.groups[i].depth < w.groups[j].depth })
	return w, bad.or(nil)
}

// lowerGroups adds to g, after its queued entries, the child groups of
// g's task group whose runqueue on the CPU is not queued on g's
// (throttled, or dequeued) but has tasks, as crash's runq -g shows them:
// each read by walk at its depth (its entries; RT: at its runqueue's
// highest priority). A child with no tasks of its own is shown for its children
// that have some: its header, theirs nested under it.
func (s *Scheduler) lowerGroups(w *groupWalk, g *GroupRunQueue, depth int, rt bool, walk func(sub *GroupRunQueue, depth int) error) error {
	o := s.d.obj()
	typ, member, running, throttled, rq := "cfs_rq", "cfs_rq", "nr_running", "throttled", g.CFSRq
	if !o.has(typ, running) {
		running = "nr_queued"
	}
	if rt {
		typ, member, running, throttled, rq = "rt_rq", "rt_rq", "rt_nr_running", "rt_throttled", g.RTRq
	}
	var bad UnreadableObjectsError
	for _, c := range w.groups {
		if c.depth != depth+1 || c.parent != g.TaskGroup || w.shown[c.tg] {
			continue
		}
		q := o.u64(o.u64(c.tg+o.off("task_group", member)) + uint64(8*w.cpu))
		if o.err != nil {
			bad.add(fmt.Errorf("task_group %x %s: %w", c.tg, member, o.err))
			o.err = nil
			continue
		}
		if q == rq {
			continue
		}
		sub := &GroupRunQueue{TaskGroup: c.tg}
		n := o.u32(q + o.off(typ, running))
		if rt {
			sub.RTRq = q
			sub.Prio = int(int32(o.u32(q + o.off("rt_rq", "highest_prio"))))
		} else {
			sub.CFSRq = q
		}
		if o.err != nil {
			bad.add(fmt.Errorf("%s %x: %w", typ, q, o.err))
			o.err = nil
			continue
		}
		if n == 0 {
			s.groupHeader(sub, q, typ, throttled)
			if err := s.lowerGroups(w, sub, depth+1, rt, walk); err != nil {
				bad.add(err)
			}
			if len(sub.Entries) > 0 {
				w.shown[c.tg] = true
				g.Entries = append(g.Entries, GroupEntry{Prio: sub.Prio, Group: sub})
			}
			continue
		}
		w.shown[c.tg] = true
		g.Entries = append(g.Entries, GroupEntry{Prio: sub.Prio, Group: sub})
		if err := walk(sub, depth+1); err != nil {
			bad.add(err)
		}
	}
	return bad.or(nil)
}

// enterGroup starts the walk of g's runqueue rq (a typ: cfs_rq or rt_rq)
// at depth: an error for a nesting deeper than the kernel builds, and for
// a child group what its header shows: whether rq is throttled (its int
// member throttled where the kernel has it; RT only with
// task_group.rt_bandwidth) and its cgroup's name. What cannot be read of
// the header is left out.
func (s *Scheduler) enterGroup(g *GroupRunQueue, rq uint64, typ, throttled string, depth int) error {
	if depth > 8 {
		return fmt.Errorf("%s at %x: groups nested too deeply", typ, rq)
	}
	if depth > 0 {
		s.groupHeader(g, rq, typ, throttled)
	}
	return nil
}

// groupHeader reads g's header: rq's throttled member and the name.
func (s *Scheduler) groupHeader(g *GroupRunQueue, rq uint64, typ, throttled string) {
	o := s.d.obj()
	if typ == "rt_rq" && !o.has("task_group", "rt_bandwidth") {
		throttled = ""
	}
	if throttled != "" && o.has(typ, throttled) {
		g.Throttled = o.u32(rq+o.off(typ, throttled)) != 0
	}
	g.Name = s.TaskGroupName(g.TaskGroup)
}

// TaskGroupName is the name of the cgroup directory of task_group tg
// (task_group.css.cgroup->kn: "/" for the root, else kernfs_node.name),
// "" where the kernel or the dump has none.
func (s *Scheduler) TaskGroupName(tg uint64) string {
	o := s.d.obj()
	cg := o.u64(tg + o.off("task_group", "css") + o.off("cgroup_subsys_state", "cgroup"))
	if cg == 0 || o.err != nil {
		return ""
	}
	kn := o.u64(cg + o.off("cgroup", "kn"))
	if kn == 0 || o.err != nil {
		return ""
	}
	parent := "parent"
	if !o.has("kernfs_node", parent) {
		parent = "__parent"
	}
	if o.u64(kn+o.off("kernfs_node", parent)) == 0 {
		if o.err != nil {
			return ""
		}
		return "/"
	}
	name := o.strp(kn+o.off("kernfs_node", "name"), 256)
	if o.err != nil {
		return ""
	}
	return name
}
