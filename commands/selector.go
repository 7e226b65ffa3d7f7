package commands

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// A task argument, as crash reads one (str_to_context, then the names ps
// and foreach add): a decimal PID, else a hexadecimal task_struct address,
// else a command name, else a 'regex' matched against command names. The
// command line's quote removal leaves a 'regex' without its quotes, so a
// word with regular-expression characters is tried as one, anchored.

// taskArg is one parsed task argument.
type taskArg struct {
	word  string
	pid   int64
	isPID bool
	addr  uint64
	isHex bool
	re    *regexp.Regexp // a 'regex' or a word with regex characters
}

func parseTaskArg(w string) (taskArg, error) {
	a := taskArg{word: w}
	if pid, err := strconv.ParseInt(w, 10, 32); err == nil && pid >= 0 {
		a.pid, a.isPID = pid, true
	}
	if v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(w, "0x"), "0X"), 16, 64); err == nil {
		a.addr, a.isHex = v, true
	}
	switch {
	case len(w) > 2 && w[0] == '\'' && w[len(w)-1] == '\'':
		re, err := regexp.Compile(w[1 : len(w)-1])
		if err != nil {
			return a, fmt.Errorf("invalid regular expression %s: %v", w, err)
		}
		a.re = re
	case strings.ContainsAny(w, ".*+?[]()|^$\\"):
		a.re, _ = regexp.Compile("^(?:" + w + ")$")
	}
	return a, nil
}

// byNumber gives the tasks a PID or address argument names: every task
// with the PID (the idle tasks share PID 0), else the task at the address.
func (a taskArg) byNumber(tasks []kernel.Task) []kernel.Task {
	var out []kernel.Task
	if a.isPID {
		for _, t := range tasks {
			if int64(t.PID) == a.pid {
				out = append(out, t)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	if a.isHex {
		for _, t := range tasks {
			if t.Addr == a.addr {
				return []kernel.Task{t}
			}
		}
	}
	return nil
}

// byName gives the tasks whose command is the word, else those its regex
// matches.
func (a taskArg) byName(tasks []kernel.Task) []kernel.Task {
	var out []kernel.Task
	for _, t := range tasks {
		if t.Comm == a.word {
			out = append(out, t)
		}
	}
	if len(out) > 0 || a.re == nil {
		return out
	}
	for _, t := range tasks {
		if a.re.MatchString(t.Comm) {
			out = append(out, t)
		}
	}
	return out
}

// selectTasks gives the tasks any of words names (PID, address, command or
// regex), in the order of tasks, each once; no words choose every task.
func selectTasks(tasks []kernel.Task, words []string) ([]kernel.Task, error) {
	if len(words) == 0 {
		return tasks, nil
	}
	chosen := map[uint64]bool{}
	for _, w := range words {
		a, err := parseTaskArg(w)
		if err != nil {
			return nil, err
		}
		picked := a.byNumber(tasks)
		if len(picked) == 0 {
			picked = a.byName(tasks)
		}
		for _, t := range picked {
			chosen[t.Addr] = true
		}
	}
	var out []kernel.Task
	for _, t := range tasks {
		if chosen[t.Addr] {
			out = append(out, t)
		}
	}
	return out, nil
}

// oneTask gives the single task a PID or address argument names, as bt
// and set take one: of the tasks with a PID, the thread-group leader (PID
// 0: the first idle task).
func oneTask(tasks []kernel.Task, w string) (kernel.Task, error) {
	a, err := parseTaskArg(w)
	if err != nil {
		return kernel.Task{}, err
	}
	picked := a.byNumber(tasks)
	for _, t := range picked {
		if t.PID == t.TGID || t.PID == 0 {
			return t, nil
		}
	}
	if len(picked) > 0 {
		return picked[0], nil
	}
	return kernel.Task{}, fmt.Errorf("invalid task or pid value: %s", w)
}

// taskByAddr finds the task whose task_struct is at addr.
func taskByAddr(tasks []kernel.Task, addr uint64) (kernel.Task, error) {
	for _, t := range tasks {
		if t.Addr == addr {
			return t, nil
		}
	}
	return kernel.Task{}, fmt.Errorf("no task at %x", addr)
}
