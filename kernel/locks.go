package kernel

import (
	"fmt"
)

// The sleeping locks a task in D state waits on, and who holds them:
//
//   - a mutex or an rw_semaphore: the task's waiter (struct mutex_waiter,
//     struct rwsem_waiter: {list, task, ...}) lives on its stack, linked
//     into the lock's wait_list; the lock's owner word is the holder's
//     task_struct with flag bits in its low bits (a mutex's MUTEX_FLAG_*,
//     the low 3; an rw_semaphore's RWSEM_READER_OWNED (bit 0) and
//     RWSEM_*NONSPINNABLE (bits 1-2));
//   - an rt_mutex: the task's pi_blocked_on is its struct rt_mutex_waiter,
//     whose lock member is the rt_mutex (struct rt_mutex_base since 5.15),
//     whose owner is the holder's task_struct, RT_MUTEX_HAS_WAITERS in
//     bit 0.
//
// An rw_semaphore held by readers keeps no list of them: its owner word is
// the last reader to take it (RWSEM_READER_OWNED set), which may have
// released it since, and its count holds how many readers hold it.

// Lock kinds.
const (
	LockMutex   = "mutex"
	LockRWSem   = "rw_semaphore"
	LockRTMutex = "rt_mutex"
)

// LockWait is a lock a task waits on and its holder as the lock records
// it.
type LockWait struct {
	Kind  string
	Lock  uint64 // the lock's address
	Owner uint64 // the holder's task_struct (the owner word, flags masked); 0: none recorded
	Flags uint64 // the owner word's flag bits
	// An rw_semaphore's count: held for writing, or by Readers readers
	// (then Owner is only the last reader to take it, ReaderOwned set).
	Writer      bool
	Readers     uint64
	ReaderOwned bool
}

const (
	rwsemReaderOwned  = 1 << 0 // RWSEM_READER_OWNED
	rwsemOwnerFlags   = 7      // RWSEM_READER_OWNED, RWSEM_(RD_|WR_)NONSPINNABLE
	rwsemWriterLocked = 1 << 0 // RWSEM_WRITER_LOCKED in count
	rwsemReaderShift  = 8      // RWSEM_READER_SHIFT
	rtMutexHasWaiters = 1      // RT_MUTEX_HAS_WAITERS
	maxWaitersWalked  = 64     // the waiters walked from a task's to its lock's wait_list head
)

// offsets reads the offsets of members ("struct.member") as uint64s.
func offsets(l Layout, dst []*uint64, members ...[2]string) error {
	for i, m := range members {
		off, err := l.Offset(m[0], m[1])
		if err != nil {
			return err
		}
		*dst[i] = uint64(off)
	}
	return nil
}

// FindLockWaiter finds, on the stack [lo, hi) of task, a waiter structure
// whose task pointer (at waiterTask) is the task and whose list_head (at
// waiterList) is linked into a lock's wait list, and returns the wait
// list's head: walking the waiter's list forward (each node's next's prev
// coming back, at most 64 nodes), the first node isHead accepts.
func FindLockWaiter(read func(uint64) (uint64, error), lo, hi, task, waiterTask, waiterList uint64, isHead func(node uint64) bool) (head uint64, ok bool) {
	for a := lo; a+8 <= hi; a += 8 {
		if v, err := read(a); err != nil || v != task || a-lo < waiterTask {
			continue
		}
		node := a - waiterTask + waiterList
		p := node
		for n := 0; n < maxWaitersWalked; n++ {
			nx, err := read(p)
			if err != nil || nx == 0 || nx == node {
				break
			}
			if back, err := read(nx + 8); err != nil || back != p {
				break // not a list: next's prev does not come back
			}
			if isHead(nx) {
				return nx, true
			}
			p = nx
		}
	}
	return 0, false
}

// RWSemWaited finds the rw_semaphore task waits on from its struct
// rwsem_waiter on its stack [lo, hi), and the semaphore's holder: the
// wait list's head is the node whose semaphore has a non-zero count and
// an owner word that is 0 or a task (isTask) other than task.
func RWSemWaited(r Reader, l Layout, task, lo, hi uint64, isTask func(uint64) bool) (LockWait, error) {
	var wTask, wList, waitList, ownerOff, countOff uint64
	if err := offsets(l, []*uint64{&wTask, &wList, &waitList, &ownerOff, &countOff},
		[2]string{"rwsem_waiter", "task"}, [2]string{"rwsem_waiter", "list"}, [2]string{"rw_semaphore", "wait_list"},
		[2]string{"rw_semaphore", "owner"}, [2]string{"rw_semaphore", "count"}); err != nil {
		return LockWait{}, err
	}
	var lw LockWait
	isHead := func(node uint64) bool {
		sem := node - waitList
		owner, err1 := r.ReadU64(sem + ownerOff)
		count, err2 := r.ReadU64(sem + countOff)
		o := owner &^ rwsemOwnerFlags
		if err1 != nil || err2 != nil || count == 0 || o == task || o != 0 && !isTask(o) {
			return false
		}
		lw = LockWait{Kind: LockRWSem, Lock: sem, Owner: o, Flags: owner & rwsemOwnerFlags,
			Writer: count&rwsemWriterLocked != 0, Readers: count >> rwsemReaderShift, ReaderOwned: owner&rwsemReaderOwned != 0}
		return true
	}
	if _, ok := FindLockWaiter(r.ReadU64, lo, hi, task, wTask, wList, isHead); !ok {
		return LockWait{}, fmt.Errorf("no rw_semaphore waiter found on its stack")
	}
	return lw, nil
}

// RTMutexWaited reads the rt_mutex task is blocked on (task_struct's
// pi_blocked_on) and its owner; ok is false when it is blocked on none.
func RTMutexWaited(r Reader, l Layout, task uint64) (lw LockWait, ok bool, err error) {
	var blockedOff, wTask, wLock uint64
	if err := offsets(l, []*uint64{&blockedOff, &wTask, &wLock},
		[2]string{"task_struct", "pi_blocked_on"}, [2]string{"rt_mutex_waiter", "task"}, [2]string{"rt_mutex_waiter", "lock"}); err != nil {
		return LockWait{}, false, err
	}
	// The owner: struct rt_mutex_base (5.15 and later) or struct rt_mutex.
	ownerOff, err := l.Offset("rt_mutex_base", "owner")
	if err != nil {
		if ownerOff, err = l.Offset("rt_mutex", "owner"); err != nil {
			return LockWait{}, false, err
		}
	}
	w, err := r.ReadU64(task + blockedOff)
	if err != nil || w == 0 {
		return LockWait{}, false, err
	}
	if wt, err := r.ReadU64(w + wTask); err != nil {
		return LockWait{}, false, fmt.Errorf("rt_mutex waiter %x: %w", w, err)
	} else if wt != task {
		return LockWait{}, false, fmt.Errorf("rt_mutex waiter %x is task %x's, not this task's", w, wt)
	}
	lock, err := r.ReadU64(w + wLock)
	if err != nil {
		return LockWait{}, false, fmt.Errorf("rt_mutex waiter %x: %w", w, err)
	}
	owner, err := r.ReadU64(lock + uint64(ownerOff))
	if err != nil {
		return LockWait{}, false, fmt.Errorf("rt_mutex %x: %w", lock, err)
	}
	return LockWait{Kind: LockRTMutex, Lock: lock, Owner: owner &^ rtMutexHasWaiters, Flags: owner & rtMutexHasWaiters}, true, nil
}
