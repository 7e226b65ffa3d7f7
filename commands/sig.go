package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func sigCommand() *Command {
	return &Command{
		Name:     "sig",
		Synopsis: "sig [[-l] | [-s sigset]] | [-g] [pid | taskp] ...",
		Summary:  "task signal handling",
		Help: `Displays a task's signal handling (the current context's task by default):
its thread group's struct signal_struct and number of threads, the
disposition of each of the 64 signals (the struct k_sigaction in its
sighand_struct, its handler, blocked mask and flags), whether a signal is
pending (TIF_SIGPENDING), the blocked set, and the task's private and the
thread group's shared pending sets with their queued signals.

-g shows the thread group: its dispositions and shared pending set once,
then each thread's own pending and blocked sets. -l lists the signal numbers
and names. -s translates a hexadecimal signal set into signal names.`,
		Options: []Option{
			{"-l", "the signal numbers and names"},
			{"-s sigset", "the names of the signals in a hexadecimal signal set"},
			{"-g", "each chosen task's whole thread group"},
			{"pid", "the task with this PID"},
			{"taskp", "the task whose task_struct is at this address"},
		},
		Examples: []string{"gocrash> sig", "gocrash> sig 1", "gocrash> sig -g 1", "gocrash> sig -l", "gocrash> sig -s 4000"},
		Results:  []Result{&SigResult{}, Message{}},
		Run:      runSig,
	}
}

// SigResult is sig's answer for each chosen task.
type SigResult struct {
	Tasks []SigTask `json:"tasks"`
	group bool
}

// SigTask is one task's signal state.
type SigTask struct {
	TaskRef
	SignalStruct Hex         `json:"signal_struct"`
	NrThreads    int         `json:"nr_threads"`
	Actions      []SigAction `json:"actions"`
	SigPending   bool        `json:"sigpending"`
	Blocked      Hex         `json:"blocked"`
	Pending      Hex         `json:"private_pending"`
	Queue        []SigQueued `json:"private_queue"`
	Shared       *Hex        `json:"shared_pending,omitempty"`
	SharedQueue  []SigQueued `json:"shared_queue"`
	Threads      []SigThread `json:"threads,omitempty"` // -g
}

// SigThread is one thread's own signal state (sig -g).
type SigThread struct {
	TaskRef
	SigPending bool        `json:"sigpending"`
	Blocked    Hex         `json:"blocked"`
	Pending    Hex         `json:"private_pending"`
	Queue      []SigQueued `json:"private_queue"`
	shared     bool
}

// SigAction is one signal's disposition.
type SigAction struct {
	Signal    int `json:"signal"`
	SigAction Hex `json:"sigaction"`
	Handler   Hex `json:"handler"`
	Mask      Hex `json:"mask"`
	Flags     Hex `json:"flags"`
}

// SigQueued is one queued signal.
type SigQueued struct {
	Signal  int `json:"signal"`
	SigInfo Hex `json:"siginfo"`
}

// Signal names, as crash lists them.
var sigNames = [32]string{1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT/SIGIOT", "SIGBUS", "SIGFPE", "SIGKILL",
	"SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD/SIGCLD", "SIGCONT", "SIGSTOP",
	"SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO/SIGPOLL",
	"SIGPWR", "SIGSYS/SIGUNUSED"}

// sigName is signal n's name: the first of its names for 1-31, and
// SIGRTMIN, SIGRTMIN+n (to 48), SIGRTMAX-n, SIGRTMAX for the real-time ones.
func sigName(n int, all bool) string {
	const rtmin, rtmax = 32, 64
	const minRT = 16 // (rtmax-rtmin-1) - (rtmax-rtmin-1)/2
	switch {
	case n == rtmin:
		return "SIGRTMIN"
	case n == rtmax:
		return "SIGRTMAX"
	case n > rtmin && n-rtmin <= minRT:
		return fmt.Sprintf("SIGRTMIN+%d", n-rtmin)
	case n > rtmin:
		return fmt.Sprintf("SIGRTMAX-%d", rtmax-n)
	case all:
		return sigNames[n]
	}
	name, _, _ := strings.Cut(sigNames[n], "/")
	return name
}

func runSig(ctx context.Context, s *Session, a *Args) (Result, error) {
	if a.Has("l") {
		var b strings.Builder
		for i := 1; i <= 64; i++ {
			if i < 10 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "[%d] %s\n", i, sigName(i, true))
		}
		return Message{strings.TrimSuffix(b.String(), "\n")}, nil
	}
	if v, ok := a.Value("s"); ok {
		set, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
		if err != nil {
			return nil, &UsageError{"invalid signal set: " + v}
		}
		return Message{translateSigset(set)}, nil
	}
	k := s.Kernel
	tasks, chosen, err := wordTasks(s, a.Words)
	if err != nil {
		return nil, err
	}
	sigs := k.Signals()
	tif := tifSigpending(s)
	res := &SigResult{Tasks: []SigTask{}, group: a.Has("g")}
	for _, t := range chosen {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if res.group && t.PID != t.TGID {
			// The thread group's leader stands for it.
			for _, l := range tasks {
				if l.PID == t.TGID {
					t = l
					break
				}
			}
		}
		st, err := sigs.Task(t.Addr)
		row := SigTask{TaskRef: taskRef(t), SignalStruct: Hex(st.Signal), NrThreads: st.NrThreads, SigPending: st.ThreadFlags>>tif&1 != 0,
			Blocked: Hex(st.Blocked), Pending: Hex(st.Pending), Queue: sigQueue(st.Queue), SharedQueue: sigQueue(st.SharedQueue), Actions: []SigAction{}}
		for i, ac := range st.Actions {
			row.Actions = append(row.Actions, SigAction{Signal: i + 1, SigAction: Hex(ac.Addr), Handler: Hex(ac.Handler), Mask: Hex(ac.Mask), Flags: Hex(ac.Flags)})
		}
		if st.HasShared {
			h := Hex(st.Shared)
			row.Shared = &h
		}
		if err != nil {
			res.Tasks = append(res.Tasks, row)
			return res, err
		}
		if res.group {
			row.Threads = append(row.Threads, SigThread{TaskRef: row.TaskRef, SigPending: row.SigPending, Blocked: row.Blocked, Pending: row.Pending, Queue: row.Queue})
			for _, o := range tasks {
				if o.TGID != t.TGID || o.Addr == t.Addr || o.PID == 0 && t.PID != 0 {
					continue
				}
				ost, err := sigs.Task(o.Addr)
				if err != nil {
					return res, err
				}
				row.Threads = append(row.Threads, SigThread{TaskRef: taskRef(o), SigPending: ost.ThreadFlags>>tif&1 != 0, Blocked: Hex(ost.Blocked), Pending: Hex(ost.Pending), Queue: sigQueue(ost.Queue)})
			}
		}
		res.Tasks = append(res.Tasks, row)
	}
	return res, nil
}

// tifSigpending is TIF_SIGPENDING, the thread_info.flags bit of a pending
// signal: an architecture's ABI constant (arch/*/include/asm/thread_info.h).
func tifSigpending(s *Session) uint {
	if s.Kernel.Arch.Name() == "x86_64" {
		return 2
	}
	return 0 // arm64 and the asm-generic layout
}

func sigQueue(q []kernel.QueuedSignal) []SigQueued {
	out := []SigQueued{}
	for _, e := range q {
		out = append(out, SigQueued{Signal: e.Signo, SigInfo: Hex(e.Info)})
	}
	return out
}

// translateSigset names the signals of a set, as crash's sig -s: lines of
// at most 80 characters.
func translateSigset(set uint64) string {
	if set == 0 {
		return "(none)"
	}
	var b strings.Builder
	n, count := 0, 0
	for i := 1; i <= 64; i++ {
		if set>>(i-1)&1 == 0 {
			continue
		}
		word := sigName(i, false)
		if count > 0 {
			word = " " + word
		}
		count++
		if n+len(word) > 80 {
			word = strings.TrimPrefix(word, " ")
			b.WriteString("\n")
			n = 0
		}
		n += len(word)
		b.WriteString(word)
	}
	return b.String()
}

// Flags of sa_flags, in crash's order.
var saFlags = []struct {
	bit  uint64
	name string
}{{0x1, "SA_NOCLDSTOP"}, {0x04000000, "SA_RESTORER"}, {0x2, "SA_NOCLDWAIT"}, {0x4, "SA_SIGINFO"}, {0x08000000, "SA_ONSTACK"},
	{0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"}}

func (r *SigResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	pending := func(indent string, sigpending bool, blocked, set Hex, queue []SigQueued, shared bool) {
		yes := "no"
		if sigpending {
			yes = "yes"
		}
		tw.printf("%sSIGPENDING: %s\n", indent, yes)
		tw.printf("%s   BLOCKED: %016x\n", indent, uint64(blocked))
		if shared {
			tw.printf("%sPRIVATE_PENDING\n", indent)
		}
		tw.printf("%s    SIGNAL: %016x\n", indent, uint64(set))
		sigQueueText(tw, indent, queue)
	}
	for _, t := range r.Tasks {
		tw.println(t.Header())
		tw.printf("SIGNAL_STRUCT: %x  NR_THREADS: %d\n", uint64(t.SignalStruct), t.NrThreads)
		tw.printf(" SIG %s %10s %s %-16s\n", center(16, "SIGACTION", false), "HANDLER", center(16, "MASK", false), "FLAGS")
		for _, ac := range t.Actions {
			sp := ""
			if ac.Signal < 10 {
				sp = " "
			}
			var h string
			switch int64(ac.Handler) {
			case -1:
				h = "SIG_ERR"
			case 0:
				h = "SIG_DFL"
			case 1:
				h = "SIG_IGN"
			default:
				h = fmt.Sprintf("%x", uint64(ac.Handler))
			}
			tw.printf("%s[%d] %-16x %10s %016x %x ", sp, ac.Signal, uint64(ac.SigAction), h, uint64(ac.Mask), uint64(ac.Flags))
			var names []string
			for _, f := range saFlags {
				if uint64(ac.Flags)&f.bit != 0 {
					names = append(names, f.name)
				}
			}
			if len(names) > 0 {
				tw.printf("(%s)", strings.Join(names, "|"))
			}
			tw.printf("\n")
		}
		if r.group {
			if t.Shared != nil {
				tw.printf("SHARED_PENDING\n    SIGNAL: %016x\n", uint64(*t.Shared))
				sigQueueText(tw, "", t.SharedQueue)
			}
			for _, th := range t.Threads {
				tw.printf("\n  %s\n", th.Header())
				pending("  ", th.SigPending, th.Blocked, th.Pending, th.Queue, t.Shared != nil)
			}
			tw.printf("\n")
			continue
		}
		pending("", t.SigPending, t.Blocked, t.Pending, t.Queue, t.Shared != nil)
		if t.Shared != nil {
			tw.printf("SHARED_PENDING\n    SIGNAL: %016x\n", uint64(*t.Shared))
			sigQueueText(tw, "", t.SharedQueue)
		}
		tw.printf("\n")
	}
	return tw.err
}

func sigQueueText(tw *textWriter, indent string, q []SigQueued) {
	if len(q) == 0 {
		tw.printf("%s  SIGQUEUE: (empty)\n", indent)
		return
	}
	tw.printf("%s  SIGQUEUE:  SIG  %s\n", indent, center(16, "SIGINFO", false))
	for _, e := range q {
		tw.printf("             %3d  %x\n", e.Signal, uint64(e.SigInfo))
	}
}
