package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/symbols"
)

func taskCommand() *Command {
	return &Command{
		Name:     "task",
		Synopsis: "task [-R member[,member]] [-x|-d] [pid | taskp | command] ...",
		Summary:  "task_struct and thread_info contents",
		Help: `Prints each chosen task's header line (PID, task_struct address, CPU and
command) and then its whole task_struct as gdb prints it, followed by its
struct thread_info when task_struct has a thread_info member (embedded in the
task on current kernels, which crash still prints separately). With no task
argument, the current context's task (see set) is shown. Tasks are chosen by
PID (every task with it: "task 0" shows each CPU's idle task), by task_struct
address, or by command name.

-R pares the output down to the named members, one or more in a
comma-separated list, which may also be given without -R: a top-level member
is found in the printed task_struct and thread_info as crash finds it (each
line that starts it, with the block it opens), a nested member as
member.sub[.sub...] prints only that member.`,
		Options: []Option{
			{"-R member[,member]", "only these task_struct or thread_info members (member.sub for a nested one)"},
			{"-x", "print integers in hexadecimal"},
			{"-d", "print integers in decimal (the default)"},
			{"pid", "the tasks with this PID"},
			{"taskp", "the task whose task_struct is at this hexadecimal address"},
			{"command", "the tasks with this command name"},
		},
		Examples: []string{
			"gocrash> task",
			"gocrash> task -x 1",
			"gocrash> task -R pid,comm,se.on_rq 1\nPID: 1        TASK: ffff8dde011f8000  CPU: 1    COMMAND: \"init\"\n  pid = 1,\n  comm = \"init\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\",\n  se.on_rq = 1,\n",
			"gocrash> task pid,tgid sleep",
		},
		Run: runTask,
	}
}

func runTask(ctx context.Context, s *Session, args []string, out io.Writer) error {
	var members []string
	radix := 0
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			words = append(words, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 'x', 'd':
				r := map[byte]int{'x': 16, 'd': 10}[c]
				if radix != 0 && radix != r {
					return &UsageError{"-d and -x are mutually exclusive"}
				}
				radix = r
			case 'R':
				list := a[j+1:]
				if list == "" {
					if i+1 >= len(args) {
						return &UsageError{"-R needs a member list"}
					}
					i++
					list = args[i]
				}
				members = append(members, splitMembers(list)...)
				j = len(a)
			default:
				return &UsageError{"invalid option: -" + string(c)}
			}
		}
	}
	ts, err := s.types()
	if err != nil {
		return err
	}
	tt, err := ts.Lookup("struct task_struct")
	if err != nil {
		return err
	}
	ti := threadInfoOf(ts, tt)
	tasks, err := s.Kernel.Tasks()
	if err != nil {
		return err
	}
	var chosen []kernel.Task
	bogus := false
	for _, w := range words {
		if picked, ok := tasksNamedBy(tasks, w); ok {
			chosen = append(chosen, picked...)
			continue
		}
		if isNumberWord(w) {
			bogus = true
			fmt.Fprintf(out, "task: invalid task or pid value: %s\n\n", w)
			continue
		}
		if _, err := tt.MemberPath(w); err == nil || strings.ContainsAny(w, ",.[") {
			members = append(members, splitMembers(w)...)
			continue
		}
		if picked := tasksByComm(tasks, w); len(picked) > 0 {
			chosen = append(chosen, picked...)
			continue
		}
		bogus = true
		fmt.Fprintf(out, "task: invalid task, pid, command or task_struct member: %s\n\n", w)
	}
	if len(chosen) == 0 && !bogus {
		addr, err := s.ContextTask()
		if err != nil {
			return err
		}
		t, err := s.Kernel.FindTask(addr)
		if err != nil {
			return err
		}
		chosen = append(chosen, t)
	}
	for _, t := range chosen {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := showTask(s, out, tt, ti, t, members, radix == 16); err != nil {
			return err
		}
	}
	return nil
}

func splitMembers(list string) []string {
	var out []string
	for _, m := range strings.Split(list, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// isNumberWord says whether crash would take w as a number (decimal or
// hexadecimal, with or without 0x).
func isNumberWord(w string) bool {
	w = strings.TrimPrefix(strings.TrimPrefix(w, "0x"), "0X")
	if w == "" {
		return false
	}
	_, err := strconv.ParseUint(w, 16, 64)
	return err == nil
}

// tasksNamedBy reads a task argument as crash does: a decimal PID (every
// task with it), else a hexadecimal task_struct address.
func tasksNamedBy(tasks []kernel.Task, w string) ([]kernel.Task, bool) {
	if pid, err := strconv.ParseInt(w, 10, 32); err == nil {
		var out []kernel.Task
		for _, t := range tasks {
			if int64(t.PID) == pid {
				out = append(out, t)
			}
		}
		if len(out) > 0 {
			return out, true
		}
	}
	if a, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(w, "0x"), "0X"), 16, 64); err == nil {
		for _, t := range tasks {
			if t.Addr == a {
				return []kernel.Task{t}, true
			}
		}
	}
	return nil, false
}

func tasksByComm(tasks []kernel.Task, comm string) []kernel.Task {
	var out []kernel.Task
	for _, t := range tasks {
		if t.Comm == comm {
			out = append(out, t)
		}
	}
	return out
}

// threadInfo says where a task's struct thread_info is: inside the
// task_struct (offset, embedded) or behind its thread_info pointer (old
// kernels). typ is nil when task_struct has no thread_info member.
type threadInfo struct {
	typ      *symbols.Type
	offset   int64
	embedded bool
}

func threadInfoOf(ts *symbols.Types, tt *symbols.Type) threadInfo {
	m, err := tt.MemberPath("thread_info")
	if err != nil {
		return threadInfo{}
	}
	mt := m.Type.Strip()
	if mt != nil && mt.Kind == symbols.TypeStruct {
		return threadInfo{typ: mt, offset: m.Offset, embedded: true}
	}
	if t, err := ts.Lookup("struct thread_info"); err == nil {
		return threadInfo{typ: t, offset: m.Offset}
	}
	return threadInfo{}
}

func (ti threadInfo) address(s *Session, task uint64) (uint64, error) {
	if ti.embedded {
		return task + uint64(ti.offset), nil
	}
	return s.Kernel.ReadU64(task + uint64(ti.offset))
}

// showTask writes one task as crash's task command does: the header, then
// the whole task_struct and thread_info, or only the members asked for,
// and a blank line.
func showTask(s *Session, out io.Writer, tt *symbols.Type, ti threadInfo, t kernel.Task, members []string, hex bool) error {
	var whole strings.Builder
	if err := printStructValue(s, &whole, tt, t.Addr, nil, hex); err != nil {
		return err
	}
	if ti.typ != nil {
		addr, err := ti.address(s, t.Addr)
		if err != nil {
			return readError(t.Addr+uint64(ti.offset), "thread_info pointer", err)
		}
		whole.WriteByte('\n')
		if err := printStructValue(s, &whole, ti.typ, addr, nil, hex); err != nil {
			return err
		}
	}
	var b strings.Builder
	b.WriteString(TaskHeader(t) + "\n")
	if members == nil {
		b.WriteString(whole.String())
	} else {
		lines := strings.Split(strings.TrimSuffix(whole.String(), "\n"), "\n")
		for _, m := range members {
			if strings.ContainsAny(m, ".[") {
				if _, err := tt.MemberPath(m); err != nil || strings.Contains(m, "[") {
					fmt.Fprintf(&b, "task: invalid data structure member reference: %s\n", m)
					continue
				}
				if err := printStructValue(s, &b, tt, t.Addr, []string{m}, hex); err != nil {
					return err
				}
				continue
			}
			_, errTask := tt.MemberPath(m)
			known := errTask == nil
			if ti.typ != nil && !known {
				_, errThread := ti.typ.MemberPath(m)
				known = errThread == nil
			}
			if !known {
				fmt.Fprintf(&b, "task: %s: not a task_struct or thread_info member\n", m)
			}
			b.WriteString(memberLines(lines, m))
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(out, b.String())
	return err
}

// memberLines picks a top-level member out of printed structs as crash's
// task -R does: every line "  name = ..." at the top level (or one level
// down inside the unnamed block a randomized layout prints), with the lines
// of the block it opens.
func memberLines(lines []string, name string) string {
	var b strings.Builder
	randomized := false
	until, untilIn := "", ""
	for _, ln := range lines {
		switch {
		case ln == "  {":
			randomized = true
		case randomized && (ln == "  }, " || ln == "  },"):
			randomized = false
		}
		if until != "" {
			b.WriteString(ln + "\n")
			if strings.HasPrefix(ln, until) {
				until = ""
			}
			continue
		}
		if untilIn != "" {
			b.WriteString(ln + "\n")
			if strings.Contains(ln, untilIn) {
				untilIn = ""
			}
			continue
		}
		indent := "  "
		if randomized {
			indent = "    "
		}
		if !strings.HasPrefix(ln, indent+name+" = ") {
			continue
		}
		b.WriteString(ln + "\n")
		switch {
		case strings.HasSuffix(ln, "{{"):
			until = indent + "  }},"
		case strings.HasSuffix(ln, " = {"):
			until = strings.Repeat(" ", len(ln)-len(strings.TrimLeft(ln, " "))) + "}"
		case strings.Count(ln, "{") > strings.Count(ln, "}"):
			// crash also goes on after a one-line value such as
			// "perf_event_ctxp = {0x0, 0x0}," up to the next "},",
			// printing members that were not asked for; only an
			// unclosed brace continues here.
			untilIn = "},"
		}
	}
	return b.String()
}
