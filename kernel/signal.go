package kernel

// SigAction is one struct k_sigaction of a sighand_struct.
type SigAction struct {
	Addr    uint64
	Handler uint64
	Flags   uint64
	Mask    uint64
}

// QueuedSignal is one struct sigqueue on a pending list.
type QueuedSignal struct {
	Signo int
	Info  uint64 // the sigqueue's siginfo
}

// TaskSignals is a task's signal state: its thread group's signal_struct
// and dispositions, and its own pending and blocked sets.
type TaskSignals struct {
	Signal      uint64 // signal_struct
	NrThreads   int
	Sighand     uint64
	Actions     []SigAction // signals 1..64
	ThreadFlags uint64      // thread_info.flags
	Blocked     uint64
	Pending     uint64 // task->pending.signal
	Queue       []QueuedSignal
	HasShared   bool
	Shared      uint64 // signal->shared_pending.signal
	SharedQueue []QueuedSignal
}

// Signals reads tasks' signal state.
type Signals struct{ d objDeps }

// Signals returns the reader of tasks' signal state.
func (k *Kernel) Signals() *Signals { return &Signals{k.objDeps()} }

// nsig is _NSIG: 64 signals, in two 32-bit or one 64-bit sigset word.
const nsig = 64

// Task reads the signal state of the task at task.
func (s *Signals) Task(task uint64) (TaskSignals, error) {
	o := s.d.obj()
	var ts TaskSignals
	ts.Signal = o.u64(task + o.off("task_struct", "signal"))
	if ts.Signal != 0 {
		ts.NrThreads = int(int32(o.u32(ts.Signal + o.off("signal_struct", "nr_threads"))))
	}
	ts.Sighand = o.u64(task + o.off("task_struct", "sighand"))
	if ts.Sighand != 0 && o.err == nil {
		action := ts.Sighand + o.off("sighand_struct", "action")
		size := o.size("k_sigaction")
		sa := o.off("k_sigaction", "sa")
		handler := o.off("sigaction", "sa_handler")
		flags := o.off("sigaction", "sa_flags")
		mask := o.off("sigaction", "sa_mask")
		for i := 0; i < nsig && o.err == nil; i++ {
			a := action + uint64(i)*size
			ts.Actions = append(ts.Actions, SigAction{Addr: a, Handler: o.u64(a + sa + handler), Flags: o.u64(a + sa + flags), Mask: o.u64(a + sa + mask)})
		}
	}
	if o.has("task_struct", "thread_info") {
		ts.ThreadFlags = o.u64(task + o.off("task_struct", "thread_info") + o.off("thread_info", "flags"))
	}
	ts.Blocked = o.u64(task + o.off("task_struct", "blocked"))
	pending := task + o.off("task_struct", "pending")
	ts.Pending = o.u64(pending + o.off("sigpending", "signal"))
	if o.err != nil {
		return ts, o.err
	}
	var err error
	if ts.Queue, err = s.queue(pending); err != nil {
		return ts, err
	}
	if ts.Signal != 0 && o.has("signal_struct", "shared_pending") {
		ts.HasShared = true
		sp := ts.Signal + o.off("signal_struct", "shared_pending")
		ts.Shared = o.u64(sp + o.off("sigpending", "signal"))
		if o.err != nil {
			return ts, o.err
		}
		if ts.SharedQueue, err = s.queue(sp); err != nil {
			return ts, err
		}
	}
	return ts, nil
}

// queue reads the sigqueues on a struct sigpending's list.
func (s *Signals) queue(pending uint64) ([]QueuedSignal, error) {
	o := s.d.obj()
	head := pending + o.off("sigpending", "list")
	link := o.off("sigqueue", "list")
	info := o.off("sigqueue", "info")
	signo := o.off("kernel_siginfo", "si_signo")
	if o.err != nil {
		// Older kernels name it siginfo.
		o = s.d.obj()
		head = pending + o.off("sigpending", "list")
		link, info = o.off("sigqueue", "list"), o.off("sigqueue", "info")
		signo = o.off("siginfo", "si_signo")
		if o.err != nil {
			return nil, o.err
		}
	}
	var out []QueuedSignal
	err := walkList(s.d, head, func(node uint64) error {
		q := node - link
		out = append(out, QueuedSignal{Signo: int(int32(o.u32(q + info + signo))), Info: q + info})
		return o.err
	})
	return out, err
}
