package kerneltest

import (
	"fmt"
)

// Kernel variables are placed from varBase in the kernel's data page,
// objects (task_structs, mm_structs) from objBase in the direct map.
const (
	varBase = KData + 0x1000
	varEnd  = KData + 0x10000
	objBase = DirectMap + 0x10000
	objEnd  = DirectMap + 0x100000
)

// Var reserves n bytes (8-aligned) of kernel variables and returns their
// address, in the kernel's data page.
func (m *Machine) Var(n uint64) uint64 {
	if m.nextVar == 0 {
		m.nextVar = varBase
	}
	a := m.nextVar
	m.nextVar += (n + 7) &^ 7
	if m.nextVar > varEnd {
		panic("kerneltest: out of kernel variables")
	}
	return a
}

// Object reserves n bytes (64-aligned) of kernel memory in the direct map
// and returns their address.
func (m *Machine) Object(n uint64) uint64 {
	if m.nextObj == 0 {
		m.nextObj = objBase
	}
	a := m.nextObj
	m.nextObj += (n + 63) &^ 63
	if m.nextObj > objEnd {
		panic("kerneltest: out of objects")
	}
	return a
}

// The task_struct and mm_struct layouts the machine declares in
// VMCOREINFO (OFFSET(task_struct.pid)=...), as a 5.14+ kernel's members.
const (
	TaskState      = 0x00 // __state, u32
	TaskFlags      = 0x04 // u32
	TaskCPU        = 0x08 // u32
	TaskExitState  = 0x0c // u32
	TaskPID        = 0x10 // pid_t
	TaskTGID       = 0x14 // pid_t
	TaskTasks      = 0x18 // struct list_head
	TaskThreadNode = 0x28 // struct list_head
	TaskSignal     = 0x38 // struct signal_struct *
	TaskRealParent = 0x40 // struct task_struct *
	TaskMM         = 0x48 // struct mm_struct *
	TaskComm       = 0x50 // char[16]
	TaskSize       = 0x80

	MMTotalVM = 0x00 // unsigned long, pages
	MMRSSStat = 0x08 // the pre-6.2 mm_rss_stat: atomic_long_t count[4]
	MMSize    = 0x40
)

// PFKthread is task_struct.flags' PF_KTHREAD.
const PFKthread = 0x00200000

// Task is a task_struct to lay out.
type Task struct {
	Addr      uint64 // 0: the machine places it (see Object)
	PID, TGID int32
	Comm      string
	State     uint32 // __state: 0 running, 1 interruptible, 2 uninterruptible...
	Flags     uint32
	CPU       int
	Parent    uint64 // real_parent
	MM        *MM    // nil: a kernel thread
}

// MM is an mm_struct to lay out.
type MM struct {
	Addr    uint64 // set by the machine
	TotalVM uint64 // pages
	RSS     [4]uint64
}

func (m *Machine) declareTasks() {
	if m.tasksDeclared {
		return
	}
	m.tasksDeclared = true
	for _, o := range []struct {
		member string
		off    int64
	}{
		{"__state", TaskState}, {"flags", TaskFlags}, {"cpu", TaskCPU}, {"exit_state", TaskExitState},
		{"pid", TaskPID}, {"tgid", TaskTGID}, {"tasks", TaskTasks}, {"thread_node", TaskThreadNode},
		{"signal", TaskSignal}, {"real_parent", TaskRealParent}, {"mm", TaskMM}, {"comm", TaskComm},
	} {
		m.Offset("task_struct", o.member, o.off)
	}
	m.Size("task_struct", TaskSize)
	m.Offset("signal_struct", "thread_head", 0)
	m.Offset("mm_struct", "total_vm", MMTotalVM)
	m.Offset("mm_struct", "rss_stat", MMRSSStat)
	m.Size("mm_struct", MMSize)
}

// PutTask lays out a task_struct (and its mm_struct) and returns its
// address. Its tasks list links to itself until Tasks links it in; it has
// no signal_struct, so no threads beyond itself.
func (m *Machine) PutTask(t *Task) uint64 {
	m.declareTasks()
	if t.Addr == 0 {
		t.Addr = m.Object(TaskSize)
	}
	a := t.Addr
	m.PutU32(a+TaskState, t.State)
	m.PutU32(a+TaskFlags, t.Flags)
	m.PutU32(a+TaskCPU, uint32(t.CPU))
	m.PutU32(a+TaskPID, uint32(t.PID))
	m.PutU32(a+TaskTGID, uint32(t.TGID))
	m.PutU64(a+TaskTasks, a+TaskTasks)
	m.PutU64(a+TaskTasks+8, a+TaskTasks)
	m.PutU64(a+TaskRealParent, t.Parent)
	if len(t.Comm) > 15 {
		panic(fmt.Sprintf("kerneltest: comm %q is longer than 15 bytes", t.Comm))
	}
	m.PutString(a+TaskComm, t.Comm)
	if t.MM != nil {
		if t.MM.Addr == 0 {
			t.MM.Addr = m.Object(MMSize)
		}
		m.PutU64(a+TaskMM, t.MM.Addr)
		m.PutU64(t.MM.Addr+MMTotalVM, t.MM.TotalVM)
		for i, v := range t.MM.RSS {
			m.PutU64(t.MM.Addr+MMRSSStat+8*uint64(i), v)
		}
	}
	return a
}

// Tasks lays out init_task and the tasks linked after it on
// init_task.tasks, in order, and names init_task in VMCOREINFO. It returns
// their addresses, init_task's first.
func (m *Machine) Tasks(init *Task, tasks []*Task) []uint64 {
	all := append([]*Task{init}, tasks...)
	addrs := make([]uint64, len(all))
	for i, t := range all {
		addrs[i] = m.PutTask(t)
	}
	for i, a := range addrs {
		next := addrs[(i+1)%len(addrs)]
		prev := addrs[(i+len(addrs)-1)%len(addrs)]
		m.PutU64(a+TaskTasks, next+TaskTasks)
		m.PutU64(a+TaskTasks+8, prev+TaskTasks)
	}
	m.Symbol("init_task", addrs[0])
	return addrs
}

// CPU is one CPU's runqueue: the task it was running and its idle task.
type CPU struct {
	Curr, Idle uint64
	Clock      uint64 // rq.clock, nanoseconds
}

// RQ members the machine declares.
const (
	RQCurr  = 0x00
	RQIdle  = 0x08
	RQClock = 0x10
	rqSize  = 0x40
)

// CPUs lays out the per-CPU runqueues (runqueues, a per-CPU variable at
// __per_cpu_offset[cpu] from its template), the present and online masks
// (all CPUs online) and nr_cpu_ids; panicCPU is panic_cpu.
func (m *Machine) CPUs(cpus []CPU, panicCPU int) {
	n := uint64(len(cpus))
	offs := m.Var(8 * n)
	rq := m.Var(rqSize) // the template; CPU i's copy is i*rqSize beyond
	m.Var(rqSize * n)
	for i, c := range cpus {
		m.PutU64(offs+8*uint64(i), uint64(i)*rqSize)
		base := rq + uint64(i)*rqSize
		m.PutU64(base+RQCurr, c.Curr)
		m.PutU64(base+RQIdle, c.Idle)
		m.PutU64(base+RQClock, c.Clock)
	}
	m.Symbol("__per_cpu_offset", offs)
	m.Symbol("runqueues", rq)
	m.Offset("rq", "curr", RQCurr)
	m.Offset("rq", "idle", RQIdle)
	m.Offset("rq", "clock", RQClock)
	present, online, nr := m.Var(8), m.Var(8), m.Var(4)
	m.PutU64(present, 1<<n-1)
	m.PutU64(online, 1<<n-1)
	m.PutU32(nr, uint32(n))
	m.Symbol("__cpu_present_mask", present)
	m.Symbol("__cpu_online_mask", online)
	m.Symbol("nr_cpu_ids", nr)
	p := m.Var(4)
	m.PutU32(p, uint32(panicCPU))
	m.Symbol("panic_cpu", p)
}

// Sys is what sys reads besides tasks, CPUs and the log.
type Sys struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
	HZ                                                       uint64
	Uptime                                                   uint64 // ticks since boot
	Avenrun                                                  [3]uint64
	Tainted                                                  uint64
	CPUKHz                                                   uint32
	MemoryPages                                              uint64 // contig_page_data.node_present_pages
	CrashTime                                                int64  // VMCOREINFO CRASHTIME, seconds since the epoch
}

// Sys lays out utsname (init_uts_ns), the clock (tick_nsec, jiffies_64),
// avenrun, tainted_mask, cpu_khz and the memory size (one node,
// contig_page_data), and VMCOREINFO's CRASHTIME.
func (m *Machine) Sys(s Sys) {
	const field = 65
	uts := m.Var(6 * field)
	for i, f := range []string{s.Sysname, s.Nodename, s.Release, s.Version, s.Machine, s.Domainname} {
		m.PutString(uts+uint64(i*field), f)
	}
	m.Symbol("init_uts_ns", uts)
	m.Offset("uts_namespace", "name", 0)
	tick, jiffies := m.Var(8), m.Var(8)
	m.PutU64(tick, 1e9/s.HZ)
	m.PutU64(jiffies, s.Uptime+uint64(uint32(-300*int64(s.HZ))))
	m.Symbol("tick_nsec", tick)
	m.Symbol("jiffies_64", jiffies)
	avg := m.Var(24)
	for i, v := range s.Avenrun {
		m.PutU64(avg+8*uint64(i), v)
	}
	m.Symbol("avenrun", avg)
	taint := m.Var(8)
	m.PutU64(taint, s.Tainted)
	m.Symbol("tainted_mask", taint)
	khz := m.Var(4)
	m.PutU32(khz, s.CPUKHz)
	m.Symbol("cpu_khz", khz)
	pg := m.Var(64)
	m.PutU64(pg+8, s.MemoryPages)
	m.Symbol("contig_page_data", pg)
	m.Offset("pglist_data", "node_present_pages", 8)
	m.Info("CRASHTIME=%d", s.CrashTime)
}
