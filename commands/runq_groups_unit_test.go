package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// The made-up layouts of the scheduler structures the RT group machine
// declares: a task_struct of 0x100 bytes with prio, its sched_rt_entity
// (rt) and sched_entity (se); cfs_rq, rt_rq (whose rt_prio_array has 100
// list heads from 0x10), task_group, cgroup and kernfs_node.
const (
	rgTaskPrio = 0x60
	rgTaskRT   = 0x80 // sched_rt_entity: run_list 0x00, my_q 0x10
	rgTaskSE   = 0xa0 // sched_entity: run_node 0x00 (rb_node), my_q 0x18
	rgTaskSize = 0x100

	rgCFSCurr, rgCFSTG, rgCFSThrottled, rgCFSNr, rgCFSSize = 0x10, 0x18, 0x20, 0x28, 0x40
	rgRTQueue, rgRTTG, rgRTThrottled, rgRTSize             = 0x10, 0x700, 0x708, 0x740
	rgRTNr, rgRTHighest                                    = 0x710, 0x718

	rgTGCFS, rgTGRT, rgTGChildren, rgTGSiblings, rgTGSize = 0x10, 0x18, 0x28, 0x38, 0x50
)

// rtGroupMachine is a two-CPU dump with RT group scheduling. On CPU 0,
// bash runs (CFS, not in the tree); the root RT runqueue has the group
// rtgrp queued at priority 5 (holding rtchild, and throttled) and fifo at
// 10; the root CFS tree has worker and the group cgA (holding cgtask).
// Three groups are not queued on their parent's runqueue but hold tasks:
// the throttled RT group rtthr (thrtask, at priority 3), the throttled
// CFS group cgT (cgttask), and leaf (leaftask), a child of mid, which has
// no tasks of its own. CPU 1's runqueues are empty.
type rtGroupMachine struct {
	m                                         *kerneltest.Machine
	tasks                                     map[string]uint64
	rootTG, rtgrp, cga, rtthr, cgT, mid, leaf uint64
	rtT0, cfsT0, cfsM0, cfsL0                 uint64
	rt0, rt1, cfs0, cfs1, rtA0, rtA1, cfsB0   uint64
	workerSE, cgSE, rtgrpEnt, fifoEnt, chEnt  uint64
}

func newRTGroupMachine(t *testing.T) *rtGroupMachine {
	m := kerneltest.New()
	g := &rtGroupMachine{m: m, tasks: map[string]uint64{}}
	const kthread = kerneltest.PFKthread
	task := func(pid int32, comm string, flags uint32, cpu int, prio uint32) *kerneltest.Task {
		tk := &kerneltest.Task{Addr: m.Object(rgTaskSize), PID: pid, TGID: pid, Comm: comm, Flags: flags, CPU: cpu}
		m.PutU32(tk.Addr+rgTaskPrio, prio)
		g.tasks[comm] = tk.Addr
		return tk
	}
	init := task(0, "swapper/0", kthread, 0, 120)
	bash := task(100, "bash", 0, 0, 120)
	fifo := task(200, "fifo", 0, 0, 89)
	rtchild := task(201, "rtchild", 0, 0, 94)
	worker := task(300, "worker", 0, 0, 120)
	cgtask := task(301, "cgtask", 0, 0, 120)
	thrtask := task(202, "thrtask", 0, 0, 96)
	cgttask := task(302, "cgttask", 0, 0, 120)
	leaftask := task(303, "leaftask", 0, 0, 120)
	idle1 := task(0, "swapper/1", kthread, 1, 120)
	m.Tasks(init, []*kerneltest.Task{bash, fifo, rtchild, worker, cgtask, thrtask, cgttask, leaftask})
	m.PutTask(idle1)
	m.CPUs([]kerneltest.CPU{{Curr: bash.Addr, Idle: init.Addr}, {Curr: idle1.Addr, Idle: idle1.Addr}}, 0)
	for _, o := range []struct {
		s, mem string
		off    int64
	}{
		{"task_struct", "prio", rgTaskPrio}, {"task_struct", "rt", rgTaskRT}, {"task_struct", "se", rgTaskSE},
		{"sched_rt_entity", "run_list", 0}, {"sched_rt_entity", "my_q", 0x10},
		{"sched_entity", "run_node", 0}, {"sched_entity", "my_q", 0x18},
		{"rb_root", "rb_node", 0}, {"rb_node", "rb_right", 8}, {"rb_node", "rb_left", 16},
		{"cfs_rq", "tasks_timeline", 0}, {"cfs_rq", "curr", rgCFSCurr}, {"cfs_rq", "tg", rgCFSTG}, {"cfs_rq", "throttled", rgCFSThrottled},
		{"rt_rq", "active", 0}, {"rt_prio_array", "queue", rgRTQueue}, {"rt_rq", "tg", rgRTTG}, {"rt_rq", "rt_throttled", rgRTThrottled},
		{"task_group", "css", 0}, {"cgroup_subsys_state", "cgroup", 0}, {"task_group", "cfs_rq", rgTGCFS}, {"task_group", "rt_rq", rgTGRT},
		{"task_group", "rt_bandwidth", 0x20}, {"cgroup", "kn", 0}, {"kernfs_node", "parent", 0}, {"kernfs_node", "name", 8},
		{"task_group", "children", rgTGChildren}, {"task_group", "siblings", rgTGSiblings},
		{"cfs_rq", "nr_running", rgCFSNr}, {"rt_rq", "rt_nr_running", rgRTNr}, {"rt_rq", "highest_prio", rgRTHighest},
	} {
		m.Offset(o.s, o.mem, o.off)
	}
	// A task group with its cgroup (parent nil: the root, "/") and
	// per-CPU runqueue arrays.
	group := func(name string, parent uint64, cfs, rt [2]uint64) uint64 {
		tg := m.Object(rgTGSize)
		cg, kn, str := m.Object(64), m.Object(64), m.Object(64)
		m.PutU64(tg, cg)
		m.PutU64(cg, kn)
		m.PutU64(kn, parent)
		m.PutU64(tg+rgTGChildren, tg+rgTGChildren)
		m.PutU64(tg+rgTGChildren+8, tg+rgTGChildren)
		if parent != 0 { // last on the parent's children list
			head := parent + rgTGChildren
			last := binary.LittleEndian.Uint64(m.At(head + 8))
			m.PutU64(last, tg+rgTGSiblings)
			m.PutU64(tg+rgTGSiblings, head)
			m.PutU64(tg+rgTGSiblings+8, last)
			m.PutU64(head+8, tg+rgTGSiblings)
		}
		m.PutString(str, name)
		m.PutU64(kn+8, str)
		for i, member := range []uint64{rgTGCFS, rgTGRT} {
			arr := m.Object(16)
			qs := [][2]uint64{cfs, rt}[i]
			m.PutU64(arr, qs[0])
			m.PutU64(arr+8, qs[1])
			m.PutU64(tg+member, arr)
		}
		return tg
	}
	rtq := func() uint64 {
		q := m.Object(rgRTSize)
		for i := uint64(0); i < 100; i++ {
			h := q + rgRTQueue + 16*i
			m.PutU64(h, h)
			m.PutU64(h+8, h)
		}
		return q
	}
	g.rt0, g.rt1, g.rtA0, g.rtA1 = rtq(), rtq(), rtq(), rtq()
	g.cfs0, g.cfs1, g.cfsB0 = m.Object(rgCFSSize), m.Object(rgCFSSize), m.Object(rgCFSSize)
	cfsB1 := m.Object(rgCFSSize)
	g.rootTG = group("", 0, [2]uint64{g.cfs0, g.cfs1}, [2]uint64{g.rt0, g.rt1})
	m.Symbol("root_task_group", g.rootTG)
	g.rtgrp = group("rtgrp", g.rootTG, [2]uint64{m.Object(rgCFSSize), m.Object(rgCFSSize)}, [2]uint64{g.rtA0, g.rtA1})
	g.cga = group("cgA", g.rootTG, [2]uint64{g.cfsB0, cfsB1}, [2]uint64{rtq(), rtq()})
	g.rtT0 = rtq()
	g.rtthr = group("rtthr", g.rootTG, [2]uint64{m.Object(rgCFSSize), m.Object(rgCFSSize)}, [2]uint64{g.rtT0, rtq()})
	g.cfsT0, g.cfsM0, g.cfsL0 = m.Object(rgCFSSize), m.Object(rgCFSSize), m.Object(rgCFSSize)
	g.cgT = group("cgT", g.rootTG, [2]uint64{g.cfsT0, m.Object(rgCFSSize)}, [2]uint64{rtq(), rtq()})
	g.mid = group("mid", g.rootTG, [2]uint64{g.cfsM0, m.Object(rgCFSSize)}, [2]uint64{rtq(), rtq()})
	g.leaf = group("leaf", g.mid, [2]uint64{g.cfsL0, m.Object(rgCFSSize)}, [2]uint64{rtq(), rtq()})
	// The groups not queued on their parent's runqueues: their own hold
	// their tasks.
	m.PutU64(g.rtT0+rgRTTG, g.rtthr)
	m.PutU32(g.rtT0+rgRTThrottled, 1)
	m.PutU32(g.rtT0+rgRTNr, 1)
	m.PutU32(g.rtT0+rgRTHighest, 3)
	for _, q := range []struct {
		rq, tg, task uint64
	}{{g.cfsT0, g.cgT, cgttask.Addr}, {g.cfsL0, g.leaf, leaftask.Addr}} {
		m.PutU64(q.rq+rgCFSTG, q.tg)
		m.PutU32(q.rq+rgCFSNr, 1)
		m.PutU64(q.rq, q.task+rgTaskSE)
	}
	m.PutU64(g.cfsM0+rgCFSTG, g.mid)
	m.PutU32(g.cfsT0+rgCFSThrottled, 1)
	for _, q := range []struct{ rq, tg uint64 }{{g.rt0, g.rootTG}, {g.rt1, g.rootTG}, {g.rtA0, g.rtgrp}, {g.rtA1, g.rtgrp}} {
		m.PutU64(q.rq+rgRTTG, q.tg)
	}
	m.PutU32(g.rtA0+rgRTThrottled, 1)
	for _, q := range []struct{ rq, tg uint64 }{{g.cfs0, g.rootTG}, {g.cfs1, g.rootTG}, {g.cfsB0, g.cga}, {cfsB1, g.cga}} {
		m.PutU64(q.rq+rgCFSTG, q.tg)
	}
	// The RT queues: list heads at priority p of rt_rq q.
	enqueue := func(q uint64, prio uint64, ents ...uint64) {
		h := q + rgRTQueue + 16*prio
		prev := h
		for _, e := range append(ents, h) {
			m.PutU64(prev, e)
			m.PutU64(e+8, prev)
			prev = e
		}
	}
	g.fifoEnt, g.chEnt = fifo.Addr+rgTaskRT, rtchild.Addr+rgTaskRT
	g.rtgrpEnt = m.Object(64) // the group's sched_rt_entity on CPU 0
	m.PutU64(g.rtgrpEnt+0x10, g.rtA0)
	enqueue(g.rt0, 5, g.rtgrpEnt)
	enqueue(g.rt0, 10, g.fifoEnt)
	enqueue(g.rtA0, 5, g.chEnt)
	enqueue(g.rtT0, 3, thrtask.Addr+rgTaskRT)
	// The CFS trees: cfs0's root is cgA's entity with worker on its left;
	// cgA's cfs_rq holds cgtask.
	g.workerSE, g.cgSE = worker.Addr+rgTaskSE, m.Object(64)
	m.PutU64(g.cgSE+0x18, g.cfsB0)
	m.PutU64(g.cgSE+16, g.workerSE)
	m.PutU64(g.cfs0, g.cgSE)
	m.PutU64(g.cfs0+rgCFSCurr, bash.Addr+rgTaskSE)
	m.PutU64(g.cfsB0, cgtask.Addr+rgTaskSE)
	return g
}

func (g *rtGroupMachine) session(t *testing.T) *Session {
	return &Session{Kernel: g.m.Kernel(t), Registry: NewRegistry(), VmlinuxPath: "vmlinux", DumpPaths: []string{"vmcore"}}
}

func (g *rtGroupMachine) line(comm string) string {
	pid := map[string]int{"swapper/0": 0, "swapper/1": 0, "bash": 100, "fifo": 200, "rtchild": 201, "thrtask": 202,
		"worker": 300, "cgtask": 301, "cgttask": 302, "leaftask": 303}[comm]
	return fmt.Sprintf("PID: %-5d  TASK: %x  COMMAND: %q", pid, g.tasks[comm], comm)
}

// TestRunqGroupsRT: runq -g on a kernel with RT group scheduling prints,
// for each CPU, the root group's RT runqueue before its CFS runqueue, as
// crash 8.0.2's dump_tasks_by_task_group does: an RT child group at the
// priority its entity is queued at, its header (TASK_GROUP, RT_RQ, the
// cgroup's name, THROTTLED) on the same line and its tasks six columns
// further in; a CFS child group's header (two spaces before its name)
// where its parent's tasks are, its own tasks three columns further in;
// after the queued entries, the groups not queued on their parent's
// runqueue that hold tasks (throttled), a group without tasks of its own
// shown for a child's.
func TestRunqGroupsRT(t *testing.T) {
	g := newRTGroupMachine(t)
	s := g.session(t)
	text, js := runUnit(t, s, "runq -g")
	want := fmt.Sprintf(`CPU 0
  CURRENT: %s
  ROOT_TASK_GROUP: %x  RT_RQ: %x
     [  5] TASK_GROUP: %x  RT_RQ: %x <rtgrp> (THROTTLED)
           [  5] %s
     [ 10] %s
     [  3] TASK_GROUP: %x  RT_RQ: %x <rtthr> (THROTTLED)
           [  3] %s
  ROOT_TASK_GROUP: %x  CFS_RQ: %x
     [120] %s [CURRENT]
     [120] %s
     TASK_GROUP: %x  CFS_RQ: %x  <cgA>
        [120] %s
     TASK_GROUP: %x  CFS_RQ: %x  <cgT> (THROTTLED)
        [120] %s
     TASK_GROUP: %x  CFS_RQ: %x  <mid>
        TASK_GROUP: %x  CFS_RQ: %x  <leaf>
           [120] %s

CPU 1
  CURRENT: %s
  ROOT_TASK_GROUP: %x  RT_RQ: %x
     [no tasks queued]
  ROOT_TASK_GROUP: %x  CFS_RQ: %x
     [no tasks queued]
`, g.line("bash"), g.rootTG, g.rt0, g.rtgrp, g.rtA0, g.line("rtchild"), g.line("fifo"), g.rtthr, g.rtT0, g.line("thrtask"),
		g.rootTG, g.cfs0, g.line("bash"), g.line("worker"), g.cga, g.cfsB0, g.line("cgtask"),
		g.cgT, g.cfsT0, g.line("cgttask"), g.mid, g.cfsM0, g.leaf, g.cfsL0, g.line("leaftask"),
		g.line("swapper/1"), g.rootTG, g.rt1, g.rootTG, g.cfs1)
	if text != want {
		t.Errorf("runq -g:\n%s\nwant:\n%s", text, want)
	}
	for _, frag := range []string{
		fmt.Sprintf(`"rt_rq":{"task_group":"%x","rt_rq":"%x","prio":0,"entries":[{"task":{"prio":0,"pid":0,"task":"0000000000000000","comm":""},"group":{"task_group":"%x","name":"rtgrp","rt_rq":"%x","prio":5,"throttled":true,`, g.rootTG, g.rt0, g.rtgrp, g.rtA0),
		fmt.Sprintf(`{"task":{"prio":10,"pid":200,"task":"%x","comm":"fifo"}}`, g.tasks["fifo"]),
	} {
		if !strings.Contains(js, frag) {
			t.Errorf("runq -g JSON lacks %s:\n%s", frag, js)
		}
	}
}

// TestRunqGroupsUnreadable: a group walk that meets an object the dump
// lacks (a CFS tree node, an RT queue's entity, a group's runqueue) costs
// that object: the rest is shown, each object left out is one error line
// "runq: cpu N: ... ADDR ...: REASON", and the command fails.
func TestRunqGroupsUnreadable(t *testing.T) {
	g := newRTGroupMachine(t)
	const gone1, gone2, gone3 = 0xffff888000f00000, 0xffff888000f40000, 0xffff888000f80000
	g.m.PutU64(g.workerSE+8, gone1)    // worker's right child: lost
	g.m.PutU64(g.fifoEnt, gone2)       // fifo's next entity: the rest of priority 10 lost
	g.m.PutU64(g.rtgrpEnt+0x10, gone3) // rtgrp's rt_rq on CPU 0: lost
	s := g.session(t)
	var b strings.Builder
	err := s.Registry.Run(context.Background(), s, []string{"runq", "-g"}, &b)
	if err == nil {
		t.Fatalf("runq -g on a damaged group walk succeeded:\n%s", b.String())
	}
	text := b.String()
	for _, l := range []string{
		"     [ 10] " + g.line("fifo"), "     [120] " + g.line("worker"), "        [120] " + g.line("cgtask"),
		"CPU 1",
	} {
		if !strings.Contains(text, l+"\n") {
			t.Errorf("the damaged walk's output lacks %q:\n%s", l, text)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	for i, a := range []uint64{gone3, gone2, gone1} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, "runq: cpu 0: ") && strings.Contains(l, fmt.Sprintf("%x", a))
		}
		if !found {
			t.Errorf("object %d (%x) is not named in the errors:\n%s", i, a, err)
		}
	}
	if len(lines) != 3 {
		t.Errorf("%d error lines, want one per object:\n%s", len(lines), err)
	}
}
