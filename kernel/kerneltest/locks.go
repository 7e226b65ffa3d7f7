package kerneltest

// The sleeping locks' layouts the machine declares in VMCOREINFO, as a
// 6.1 kernel's members: task_struct.pi_blocked_on, struct rw_semaphore and
// struct rwsem_waiter, struct rt_mutex_base and struct rt_mutex_waiter.
const (
	TaskPIBlockedOn = 0x70 // struct rt_mutex_waiter *

	RWSemCount      = 0x00 // atomic_long_t
	RWSemOwner      = 0x08 // atomic_long_t: task | RWSEM_* flags
	RWSemWaitList   = 0x20 // struct list_head
	RWSemSize       = 0x40
	RWSemWaiterList = 0x00 // struct list_head
	RWSemWaiterTask = 0x10 // struct task_struct *

	RTMutexOwner   = 0x18 // struct task_struct * | RT_MUTEX_HAS_WAITERS
	RTMutexSize    = 0x20
	RTWaiterTask   = 0x30 // struct task_struct *
	RTWaiterLock   = 0x38 // struct rt_mutex_base *
	RTWaiterSize   = 0x60
	StackSize      = 0x400 // the stacks the machine gives waiters
	stackWaiterOff = 0x200 // where a waiter lies on its stack
)

func (m *Machine) declareLocks() {
	if m.locksDeclared {
		return
	}
	m.locksDeclared = true
	m.Offset("task_struct", "pi_blocked_on", TaskPIBlockedOn)
	m.Offset("rw_semaphore", "count", RWSemCount)
	m.Offset("rw_semaphore", "owner", RWSemOwner)
	m.Offset("rw_semaphore", "wait_list", RWSemWaitList)
	m.Offset("rwsem_waiter", "list", RWSemWaiterList)
	m.Offset("rwsem_waiter", "task", RWSemWaiterTask)
	m.Offset("rt_mutex_base", "owner", RTMutexOwner)
	m.Offset("rt_mutex_waiter", "task", RTWaiterTask)
	m.Offset("rt_mutex_waiter", "lock", RTWaiterLock)
}

// RWSem lays out an rw_semaphore with its count and owner word and the
// tasks waiting on it, in order: each waiter gets a stack (StackSize
// bytes) holding its struct rwsem_waiter, linked into the wait list, and
// a stray copy of its task pointer below it. It returns the semaphore and
// the waiters' stacks. Tasks are laid out first (PutTask, Tasks).
func (m *Machine) RWSem(count, owner uint64, waiters []uint64) (sem uint64, stacks []uint64) {
	m.declareLocks()
	sem = m.Object(RWSemSize)
	m.PutU64(sem+RWSemCount, count)
	m.PutU64(sem+RWSemOwner, owner)
	nodes := []uint64{sem + RWSemWaitList}
	for _, w := range waiters {
		st := m.Object(StackSize)
		stacks = append(stacks, st)
		m.PutU64(st+0x40, w)
		m.PutU64(st+stackWaiterOff+RWSemWaiterTask, w)
		nodes = append(nodes, st+stackWaiterOff+RWSemWaiterList)
	}
	for i, n := range nodes {
		m.PutU64(n, nodes[(i+1)%len(nodes)])
		m.PutU64(n+8, nodes[(i+len(nodes)-1)%len(nodes)])
	}
	return sem, stacks
}

// RTMutex lays out an rt_mutex held by owner and blocks each waiter on it
// (pi_blocked_on, a struct rt_mutex_waiter of its own); the owner word
// has RT_MUTEX_HAS_WAITERS when there are waiters. Tasks are laid out
// first.
func (m *Machine) RTMutex(owner uint64, waiters []uint64) uint64 {
	m.declareLocks()
	lock := m.Object(RTMutexSize)
	word := owner
	if len(waiters) > 0 {
		word |= 1
	}
	m.PutU64(lock+RTMutexOwner, word)
	for _, w := range waiters {
		wt := m.Object(RTWaiterSize)
		m.PutU64(wt+RTWaiterTask, w)
		m.PutU64(wt+RTWaiterLock, lock)
		m.PutU64(w+TaskPIBlockedOn, wt)
	}
	return lock
}
