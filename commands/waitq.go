package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func waitqCommand() *Command {
	return &Command{
		Name:     "waitq",
		Synopsis: "waitq  [ symbol ] | [ struct.member struct_addr ] | [ address ]",
		Summary:  "list tasks queued on a wait queue",
		Help: `Lists the tasks waiting on a wait queue (struct wait_queue_head): each
wait_queue_entry on its list whose private pointer is a task, with the
task's header line. The wait queue is named by a kernel symbol, by a
struct.member of a structure at an address, or by its own address.`,
		Options: []Option{
			{"symbol", "the wait queue head that is this kernel variable"},
			{"struct.member struct_addr", "the wait queue head that is this member of the structure at struct_addr"},
			{"address", "the wait queue head at this hexadecimal address"},
		},
		Examples: []string{"gocrash> waitq log_wait", "gocrash> waitq pipe_inode_info.rd_wait ffff8880045c9e40", "gocrash> waitq ffffffff82a5c2e8"},
		Results:  []Result{&WaitQueue{}, Message{}},
		Run:      runWaitq,
	}
}

// WaitQueue is the tasks on one wait queue.
type WaitQueue struct {
	Head  Hex       `json:"wait_queue_head"`
	Name  string    `json:"name,omitempty"`
	Tasks []TaskRef `json:"tasks"`
}

func runWaitq(ctx context.Context, s *Session, a *Args) (Result, error) {
	k := s.Kernel
	usage := &UsageError{"waitq  [ symbol ] | [ struct.member struct_addr ] | [ address ]"}
	if len(a.Words) < 1 || len(a.Words) > 2 {
		return nil, usage
	}
	w := &WaitQueue{Tasks: []TaskRef{}}
	arg := a.Words[0]
	if v, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64); err == nil && len(a.Words) == 1 {
		w.Head = Hex(v)
	} else if st, member, ok := strings.Cut(arg, "."); ok {
		if len(a.Words) != 2 {
			return Message{"must supply an address for " + st}, nil
		}
		base, err := strconv.ParseUint(strings.TrimPrefix(a.Words[1], "0x"), 16, 64)
		if err != nil {
			return nil, usage
		}
		off, err := k.Offset(st, member)
		if err != nil {
			return Message{fmt.Sprintf("%s is not a member of %s", member, st)}, nil
		}
		w.Head = Hex(base + uint64(off))
	} else {
		if len(a.Words) != 1 {
			return nil, usage
		}
		addr, err := k.SymbolAddr(arg)
		if err != nil {
			return nil, fmt.Errorf("symbol not found: %s", arg)
		}
		w.Head, w.Name = Hex(addr), arg
	}
	waiters, err := k.Scheduler().WaitQueue(uint64(w.Head))
	if err != nil {
		return nil, err
	}
	tasks, err := lookupTasks(k)
	if err != nil {
		return w, err
	}
	for _, p := range waiters {
		t, err := taskByAddr(tasks, p)
		if err != nil {
			break // not a task: crash stops there
		}
		w.Tasks = append(w.Tasks, taskRef(t))
	}
	return w, nil
}

func (w *WaitQueue) Text(out io.Writer) error {
	tw := &textWriter{w: out}
	if len(w.Tasks) == 0 {
		if w.Name != "" {
			tw.printf("wait queue %q (%x) is empty\n", w.Name, uint64(w.Head))
		} else {
			tw.printf("wait queue %x is empty\n", uint64(w.Head))
		}
	}
	for _, t := range w.Tasks {
		tw.println(t.Header())
	}
	return tw.err
}
