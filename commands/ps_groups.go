package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// schedPolicies are the scheduling policies ps -y takes, by number.
var schedPolicies = []string{"NORMAL", "FIFO", "RR", "BATCH", "ISO", "IDLE", "DEADLINE"}

// parseSchedPolicies reads ps -y's list as crash does: each entry a
// policy's number (also 0X-prefixed) or a name it starts with, in any case;
// the result has bit N set for policy N.
func parseSchedPolicies(spec string) (uint64, error) {
	var mask uint64
	for _, p := range strings.Split(spec, ",") {
		up := strings.ToUpper(p)
		found := false
		for n, name := range schedPolicies {
			if strings.HasPrefix(up, name) || up == strconv.Itoa(n) || up == fmt.Sprintf("0X%X", n) {
				mask |= 1 << n
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("%s: invalid scheduling policy", p)
		}
	}
	return mask, nil
}

// PSGroups is ps -g: each thread group, its leader and its other threads.
type PSGroups struct {
	Groups []PSGroup `json:"groups"`
}

// PSGroup is one thread group.
type PSGroup struct {
	Leader  TaskRef   `json:"leader"`
	Threads []TaskRef `json:"threads"`
}

func (r *PSGroups) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, g := range r.Groups {
		tw.println(g.Leader.Header())
		for _, t := range g.Threads {
			tw.printf("  %s\n", t.Header())
		}
		if len(g.Threads) == 0 {
			tw.println("  (no threads)")
		}
		tw.println("")
	}
	return tw.err
}

// psGroups gathers ps -g as crash does: a chosen task that is not its
// group's leader is skipped when listing every task, and stands for its
// leader when named; the idle tasks (thread group 0) are one group.
func psGroups(all, chosen []kernel.Task, named bool) *PSGroups {
	r := &PSGroups{Groups: []PSGroup{}}
	byPID := map[int32]kernel.Task{}
	for _, t := range all {
		if _, ok := byPID[t.PID]; !ok {
			byPID[t.PID] = t
		}
	}
	idleShown := false
	for _, t := range chosen {
		if t.PID != t.TGID {
			if !named {
				continue
			}
			l, ok := byPID[t.TGID]
			if !ok {
				continue
			}
			t = l
		}
		if t.PID == 0 && idleShown {
			continue
		}
		g := PSGroup{Leader: taskRef(t), Threads: []TaskRef{}}
		for _, o := range all {
			if o.Addr != t.Addr && o.TGID == t.TGID {
				g.Threads = append(g.Threads, taskRef(o))
				if o.PID == 0 {
					idleShown = true
				}
			}
		}
		r.Groups = append(r.Groups, g)
	}
	return r
}

// rlimitNames are the RLIMIT_ names by number, as crash prints them.
var rlimitNames = []string{"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS",
	"LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"}

// PSRlimits is ps -r: each task's resource limits.
type PSRlimits struct {
	Tasks []PSRlimitTask `json:"tasks"`
}

// PSRlimitTask is one task's limits, by RLIMIT_ number.
type PSRlimitTask struct {
	Task   TaskRef    `json:"task"`
	Limits []PSRlimit `json:"limits"`
}

// PSRlimit is one limit; a nil value is unlimited (RLIM_INFINITY).
type PSRlimit struct {
	Name    string  `json:"name"`
	Current *uint64 `json:"current"`
	Maximum *uint64 `json:"maximum"`
}

func (r *PSRlimits) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	width := 0
	for _, n := range rlimitNames {
		width = max(width, len(n))
	}
	const lim = len("(unlimited)")
	val := func(v *uint64) string {
		if v == nil {
			return "(unlimited)"
		}
		return center(lim, strconv.FormatUint(*v, 10), false)
	}
	for _, t := range r.Tasks {
		tw.println(t.Task.Header())
		tw.printf("  %*s   %s   %s\n", width, "RLIMIT", center(lim, "CURRENT", true), center(lim, "MAXIMUM", true))
		for _, l := range t.Limits {
			tw.printf("  %*s   %s   %s\n", width, l.Name, val(l.Current), val(l.Maximum))
		}
		tw.println("")
	}
	return tw.err
}

func psRlimits(ctx context.Context, k *kernel.Kernel, tasks []kernel.Task) (*PSRlimits, error) {
	r := &PSRlimits{Tasks: []PSRlimitTask{}}
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		lims, err := k.TaskRlimits(t.Addr)
		if err != nil {
			return r, err
		}
		rt := PSRlimitTask{Task: taskRef(t)}
		for i, l := range lims {
			name := "(unknown)"
			if i < len(rlimitNames) {
				name = rlimitNames[i]
			}
			pl := PSRlimit{Name: name}
			if l.Cur != kernel.RlimInfinity {
				pl.Current = new(l.Cur)
			}
			if l.Max != kernel.RlimInfinity {
				pl.Maximum = new(l.Max)
			}
			rt.Limits = append(rt.Limits, pl)
		}
		r.Tasks = append(r.Tasks, rt)
	}
	return r, nil
}
