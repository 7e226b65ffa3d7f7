package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
		Results: []Result{&TaskResult{}},
		Run:     runTask,
	}
}

func runTask(ctx context.Context, s *Session, a *Args) (Result, error) {
	if a.Has("x") && a.Has("d") {
		return nil, &UsageError{"-d and -x are mutually exclusive"}
	}
	hex := a.Has("x")
	var members []string
	for _, list := range a.Values("R") {
		members = append(members, splitMembers(list)...)
	}
	ts, err := s.types()
	if err != nil {
		return nil, err
	}
	tt, err := ts.Lookup("struct task_struct")
	if err != nil {
		return nil, err
	}
	ti := threadInfoOf(ts, tt)
	tasks, err := lookupTasks(s.Kernel)
	if err != nil {
		return nil, err
	}
	res := &TaskResult{Tasks: []TaskEntry{}}
	var chosen []kernel.Task
	for _, w := range a.Words {
		arg, err := parseTaskArg(w)
		if err != nil {
			return nil, err
		}
		if picked := arg.byNumber(tasks); len(picked) > 0 {
			chosen = append(chosen, picked...)
			continue
		}
		if isNumberWord(w) {
			res.Invalid = append(res.Invalid, "invalid task or pid value: "+w)
			continue
		}
		if _, err := tt.MemberPath(w); err == nil || strings.ContainsAny(w, ",.[") {
			members = append(members, splitMembers(w)...)
			continue
		}
		if picked := arg.byName(tasks); len(picked) > 0 {
			chosen = append(chosen, picked...)
			continue
		}
		res.Invalid = append(res.Invalid, "invalid task, pid, command or task_struct member: "+w)
	}
	if len(chosen) == 0 && len(res.Invalid) == 0 {
		addr, err := s.ContextTask()
		if err != nil {
			return nil, err
		}
		t, err := taskByAddr(tasks, addr)
		if err != nil {
			return nil, err
		}
		chosen = append(chosen, t)
	}
	for _, t := range chosen {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		e, err := gatherTask(s, tt, ti, t, members, hex)
		if err != nil {
			return res, err
		}
		res.Tasks = append(res.Tasks, e)
	}
	if len(res.Invalid) > 0 {
		// The tasks that were named are shown; the arguments that name
		// none are the command's error (stderr, and a failed status).
		return res, errors.New(strings.Join(res.Invalid, "; "))
	}
	return res, nil
}

// TaskResult is the task command's answer: the arguments it could not
// use, then each chosen task.
type TaskResult struct {
	// Invalid are crash's messages for the arguments that name no task
	// and no member ("invalid task or pid value: 99999"): the command's
	// error, not its text.
	Invalid []string    `json:"invalid,omitempty"`
	Tasks   []TaskEntry `json:"tasks"`
}

func (r *TaskResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, e := range r.Tasks {
		tw.printf("%s", e.text)
	}
	return tw.err
}

// TaskEntry is one task: its header and its task_struct (and
// thread_info), whole or only the members asked for.
type TaskEntry struct {
	TaskRef
	// TaskStruct is the task_struct's members by name (with -R, the
	// members asked for, a nested one by its path "se.on_rq"); a struct
	// or union is an object of its members, an array a list, and any
	// other value the text gdb prints for it.
	TaskStruct taskMembers `json:"task_struct"`
	// ThreadInfo is the struct thread_info, on kernels whose task_struct
	// has one (with -R, its members asked for).
	ThreadInfo taskMembers `json:"thread_info,omitempty"`
	// Errors are crash's messages for the -R members that are no member.
	Errors []string `json:"errors,omitempty"`

	text string // the block crash prints, header to blank line
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

// gatherTask gathers one task as crash's task command shows it: the
// header, then the whole task_struct and thread_info, or only the members
// asked for, and a blank line.
func gatherTask(s *Session, tt *symbols.Type, ti threadInfo, t kernel.Task, members []string, hex bool) (TaskEntry, error) {
	e := TaskEntry{TaskRef: taskRef(t)}
	var whole strings.Builder
	if err := printStructValue(s, &whole, tt, t.Addr, nil, hex); err != nil {
		return e, err
	}
	taskData, err := readStruct(s, tt, t.Addr)
	if err != nil {
		return e, err
	}
	vp := s.newValuePrinter(false, hex)
	var tiAddr uint64
	var tiData []byte
	if ti.typ != nil {
		if tiAddr, err = ti.address(s, t.Addr); err != nil {
			return e, readError(t.Addr+uint64(ti.offset), "thread_info pointer", err)
		}
		whole.WriteByte('\n')
		if err := printStructValue(s, &whole, ti.typ, tiAddr, nil, hex); err != nil {
			return e, err
		}
		if tiData, err = readStruct(s, ti.typ, tiAddr); err != nil {
			return e, err
		}
	}
	var b strings.Builder
	b.WriteString(e.Header() + "\n")
	if members == nil {
		b.WriteString(whole.String())
		e.TaskStruct = membersOf(vp, tt, taskData, t.Addr)
		if ti.typ != nil {
			e.ThreadInfo = membersOf(vp, ti.typ, tiData, tiAddr)
		}
	} else {
		lines := strings.Split(strings.TrimSuffix(whole.String(), "\n"), "\n")
		for _, m := range members {
			if strings.ContainsAny(m, ".[") {
				mp, err := tt.MemberPath(m)
				if err != nil || strings.Contains(m, "[") {
					msg := "invalid data structure member reference: " + m
					e.Errors = append(e.Errors, msg)
					b.WriteString("task: " + msg + "\n")
					continue
				}
				if err := printStructValue(s, &b, tt, t.Addr, []string{m}, hex); err != nil {
					return e, err
				}
				e.TaskStruct = append(e.TaskStruct, taskMember{m, memberValue(vp, mp, taskData, t.Addr)})
				continue
			}
			mp, errTask := tt.MemberPath(m)
			known := errTask == nil
			if known {
				e.TaskStruct = append(e.TaskStruct, taskMember{m, memberValue(vp, mp, taskData, t.Addr)})
			}
			if ti.typ != nil {
				if mp, err := ti.typ.MemberPath(m); err == nil {
					known = true
					e.ThreadInfo = append(e.ThreadInfo, taskMember{m, memberValue(vp, mp, tiData, tiAddr)})
				}
			}
			if !known {
				msg := m + ": not a task_struct or thread_info member"
				e.Errors = append(e.Errors, msg)
				b.WriteString("task: " + msg + "\n")
			}
			b.WriteString(memberLines(lines, m))
		}
	}
	b.WriteByte('\n')
	e.text = b.String()
	if e.TaskStruct == nil {
		e.TaskStruct = taskMembers{}
	}
	return e, nil
}

// readStruct reads the struct of type t at addr.
func readStruct(s *Session, t *symbols.Type, addr uint64) ([]byte, error) {
	data := make([]byte, max(t.Sizeof(), 0))
	if err := s.Kernel.ReadVirt(data, addr); err != nil {
		return nil, readError(addr, "gdb_readmem_callback", err)
	}
	return data, nil
}

// taskMember is one member of a struct in task's JSON.
type taskMember struct {
	Name  string
	Value any // string, []any or taskMembers
}

// taskMembers is a struct's members, in order: a JSON object.
type taskMembers []taskMember

func (taskMembers) jsonShape() string {
	return "object (each member by name: a struct or union an object of its members, an array a list, any other value the text gdb prints for it)"
}

func (ms taskMembers) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.Name)
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// membersOf is the members of the struct or union t held in data (at
// addr) as task's JSON gives them.
func membersOf(vp *valuePrinter, t *symbols.Type, data []byte, addr uint64) taskMembers {
	v := vp.value(t, data, addr)
	return taskMembersOf(v)
}

// taskMembersOf is a struct's or union's members by name; the members of
// an anonymous struct or union stand in its place, as C names them.
func taskMembersOf(v CValue) taskMembers {
	out := taskMembers{}
	for _, m := range v.Members {
		if m.Name == "" && m.kind == cvComposite {
			out = append(out, taskMembersOf(m)...)
			continue
		}
		out = append(out, taskMember{m.Name, taskJSONValue(m)})
	}
	return out
}

// taskJSONValue is a C value as task's JSON gives it: a struct or union as
// its members, an array (other than a string) as a list of the elements
// gdb prints, anything else as the text gdb prints for it.
func taskJSONValue(v CValue) any {
	switch v.kind {
	case cvComposite:
		return taskMembersOf(v)
	case cvArray:
		out := []any{}
		for _, e := range v.Elements {
			out = append(out, taskJSONValue(e))
		}
		return out
	}
	return v.text
}

// memberValue is the value of member m of the struct held in data.
func memberValue(vp *valuePrinter, m symbols.Member, data []byte, addr uint64) any {
	return taskJSONValue(vp.member(m, data, addr))
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
