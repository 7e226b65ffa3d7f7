package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/repl"
)

// exprTable is p's expression corpus: every operator, literal, cast,
// format and kind of value p handles, each of which crash 8.0.2 (whose p
// is gdb's) evaluates on the 5.10 and the 6.1 kdump runs. The history
// ($N) runs in this order in both, so $1, $, $$3 name the same values.
// Left out, where crash is wrong: "p &runqueues" (crash relocates the
// per-CPU offset by the KASLR offset: 0x2f233440 for the symbol's 0x33440)
// and "p/x schedule" (gdb prints the function's first byte; gocrash asks
// for &schedule). crash's own command line eats operators gocrash keeps:
// a word starting with '-' is an option to it, "|" and ">" outside
// parentheses a pipe and a redirection, so those are written as crash
// takes them ((-10)/3, (1||0)).
var exprTable = strings.Split(strings.TrimSpace(`
p jiffies
p/x jiffies
p/d jiffies
p jiffies-jiffies
p (jiffies_64-jiffies)
p jiffies/250
p jiffies%250
p (jiffies>>8)&0xff
p ~jiffies
p (unsigned long)jiffies
p 1 + 2 * 3
p (1 + 2) * 3
p 2*3+4*5
p 2+3*4-5
p 100/10/5
p 10 / 3
p 10 % 3
p (-10)/3
p (-10)%3
p (5-7)
p (5u-7)
p 1 << 4
p 1<<2<<3
p 1+2<<3
p 0xf0 & 0x3c
p (0xf0|0x0f)
p 0xf0 ^ 0xff
p 3&5^6
p 3^5&6
p 6&3==3
p 1 + 2 == 3 & 1
p ~0
p (!0)
p (!5)
p (3>2)
p 3<2
p (3>=3)&&(2<=1)
p (1||0)
p 1 == 1
p (1!=1)
p 1 ? 10 : 20
p 0 ? 10 : 20
p 1?2:3?4:5
p 0?2:0?4:5
p 1 ,2
p 1,2,3
p 2147483647 + 1
p 4294967296
p 0x80000000
p 4294967295u
p 0xffffffffffffffff
p 18446744073709551615
p 1L
p 10UL
p 07
p +5
p 'A'
p 'A' + 1
p 'a'*2
p '\n'
p '\0'
p '\t'
p '\\'
p '\''
p '\x41'
p '\101'
p (int)'a'
p (char)65
p (unsigned char)0x1ff
p (int)-1
p (short)0x12345
p (unsigned int)-1
p (long)&init_task
p (_Bool)1
p (_Bool)0
p/c 65
p/c 0x141
p/x 255
p/x -1
p/x 0
p/x (char)-1
p/o 8
p/o 0
p/o 0777
p/t 10
p/t 0
p/t 255
p/t -1
p/d 0x10
p/d (unsigned char)200
p/u -1
p/u (char)-56
p/x 1 == 1
p sizeof(struct task_struct)
p sizeof(struct list_head)
p sizeof(int)
p sizeof(long)
p sizeof(char)
p sizeof(char *)
p sizeof(unsigned short)
p sizeof(long long)
p sizeof(int[10])
p sizeof(struct list_head *[3])
p sizeof(enum system_states)
p sizeof init_task
p sizeof init_task.comm
p sizeof(init_task.comm)
p sizeof(init_task.se)
p sizeof(jiffies)
p sizeof 'a'
p sizeof("abc")
p sizeof(struct task_struct) / sizeof(long)
p (unsigned long)sizeof(struct list_head)*3
p sizeof(init_task.comm)/sizeof(init_task.comm[0])
p init_task.pid
p init_task.prio
p init_task.normal_prio*2
p (init_task.static_prio-init_task.prio)
p init_task.policy
p init_task.rt.time_slice
p init_task.comm
p init_task.comm[0]
p init_task.comm[1]
p init_task.comm[2]+1
p init_task.comm[0]=='s'
p (char)init_task.comm[0]
p init_task.comm + 0
p &init_task.comm
p &init_task.comm[3]
p/x init_task.comm
p/c init_task.comm
p/d init_task.comm[0]
p/x init_task.comm[0]
p &init_task
p &*&init_task
p (void *)&init_task
p/a &init_task
p/x &init_task
p/d &init_task
p &init_task.tasks
p init_task.tasks
p/x init_task.tasks
p init_task.tasks.next
p *init_task.tasks.next
p init_task.tasks.next[0]
p init_task.tasks.next->next
p init_task.tasks.next == init_task.tasks.next
p &init_task.tasks + 1
p (char *)&init_task.tasks + 1
p &init_task.tasks-&init_task.tasks
p *(&init_task.tasks)
p (&init_task)->tasks.next
p *(struct list_head *)&init_task.tasks
p ((struct task_struct *)((char *)init_task.tasks.next - (unsigned long)&((struct task_struct *)0)->tasks))->pid
p ((struct task_struct *)((char *)init_task.tasks.next - (unsigned long)&((struct task_struct *)0)->tasks))->comm
p &((struct task_struct *)0)->tasks
p (unsigned long)&((struct task_struct *)0)->tasks
p ((struct task_struct *)&init_task)->comm
p ((struct task_struct *)(unsigned long)&init_task)->pid
p (*(struct task_struct *)&init_task).prio
p *(int *)&init_task.pid
p *&init_task.pid
p init_task.mm
p (struct list_head *)0
p (void *)0
p (int *)0 + 1
p ((int *)0x1000 - (int *)0x1000)
p ((int *)0x1010-(int *)0x1000)
p (char *)0 + 5
p *(unsigned char *)&init_task.comm
p *(unsigned short *)&init_task.comm
p *(unsigned int *)&init_task.comm
p/x *(unsigned long *)&init_task.comm
p *(char (*)[4])&init_task.comm
p init_task.se.load
p/x init_task.se.load
p *&init_task.se.load
p &init_task.se.load
p &init_task.se.load.weight
p/x init_task.se.load.weight
p init_task.thread_pid
p init_task.thread_pid->numbers
p init_task.thread_pid->numbers[0].nr
p init_task.pid_links
p init_task.cpus_ptr
p *init_task.cpus_ptr
p init_task.cpus_mask
p init_task.stack
p &init_task.stack
p init_task.fs->root
p init_task.nsproxy->uts_ns->name.nodename
p init_task.thread.tls_array
p init_task.thread.fsbase
p/x init_task.flags
p init_task.flags & 0x200000
p (init_task.flags >> 21) & 1
p init_task.sched_class
p *init_task.sched_class
p init_task.sched_class->pick_next_task
p/a init_task.sched_class
p/x init_task.sched_class
p schedule
p &schedule
p *schedule
p linux_banner
p &linux_banner[0]
p (char *)&linux_banner
p saved_command_line
p *saved_command_line
p saved_command_line[1]
p init_uts_ns.name
p init_uts_ns.name.release
p init_nsproxy
p *init_nsproxy.uts_ns
p modules
p &modules
p *modules.next
p system_state
p &system_state
p (int)system_state
p system_state==SYSTEM_RUNNING
p (enum pid_type)1
p (enum system_states)0
p (enum system_states)99
p PIDTYPE_MAX
p PIDTYPE_MAX + 0
p SYSTEM_RUNNING
p/d SYSTEM_RUNNING
p/x SYSTEM_RUNNING
p static_key_initialized
p cpu_number:a
p cpu_number:1
p this_cpu_off:0
p $1
p $
p $$
p $$3
p $5 + 1
`), "\n")

// exprLine runs one p line as the shell does (its words split with C's
// quotes kept) and returns what crash would print: the text, or "p: error".
func exprLine(s *commands.Session, line string) string {
	l, err := repl.ParseExpressionLine(line)
	if err != nil {
		return err.Error() + "\n"
	}
	var b bytes.Buffer
	if err := s.Registry.Run(context.Background(), s, l.Words, &b); err != nil {
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

// exprKdumpRuns are the kdump runs crash 8.0.2 opens: x86_64 5.10 and
// 6.1 (Debian's crash is built for x86_64 only).
func exprKdumpRuns(t *testing.T) []*corpus.Run {
	var out []*corpus.Run
	for _, r := range corpus.Runs(t) {
		if r.Method == "kdump" && r.Arch == "x86_64" && strings.HasSuffix(r.Name, "-kdump") {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Skip("no kdump run")
	}
	return out
}

// TestCorpusExprAgainstCrash runs the expression table in crash 8.0.2 and
// in gocrash on the 5.10 and 6.1 kdump runs and wants crash's text for
// every expression.
func TestCorpusExprAgainstCrash(t *testing.T) {
	if len(exprTable) < 60 {
		t.Fatalf("the table has %d expressions", len(exprTable))
	}
	for _, r := range exprKdumpRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			want := crashAnswers(t, r, f, exprTable)
			s := openSession(t, r, f)
			same := 0
			for i, line := range exprTable {
				got := exprLine(s, line)
				if got != want[i] {
					t.Errorf("%s:\n got: %q\nwant: %q", line, got, want[i])
					continue
				}
				same++
			}
			t.Logf("%s: %d of %d expressions print as crash prints them", r.Name, same, len(exprTable))
		})
	}
}

var pValueRE = regexp.MustCompile(`^(?:\S+ = )?\$(\d+) = (.*)\n$`)

// pValue is the text after "$N = " of a one-line p answer.
func pValue(t *testing.T, s *commands.Session, line string) string {
	t.Helper()
	out := exprLine(s, line)
	m := pValueRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: %q", line, out)
	}
	return m[2]
}

// TestCorpusExprKnownValues checks expressions whose values are known on
// every run, crash's or not (arm64, 6.12, QEMU dumps): init_task's pid and
// name, list_head's size, the jiffies alias, container_of of init_task's
// first child (the guest's pid 1), the kernel release in init_uts_ns, each
// CPU's cpu_number, and pointer arithmetic against the symbol table.
func TestCorpusExprKnownValues(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		tr, err := r.Truth()
		if err != nil {
			t.Fatal(err)
		}
		check := func(line, want string) {
			t.Helper()
			if got := pValue(t, s, line); got != want {
				t.Errorf("%s = %s, want %s", line, got, want)
			}
		}
		check("p init_task.pid", "0")
		check("p sizeof(struct list_head)", "16")
		check("p sizeof(struct list_head *[3])", "24")
		check("p (unsigned long)jiffies == jiffies_64", "1")
		check("p jiffies-jiffies_64", "0")
		check("p (jiffies_64 & 0xff) == (jiffies & 0xff)", "1")
		check("p init_task.comm[0]", "115 's'")
		check("p sizeof(init_task.comm)/sizeof(init_task.comm[0])", "16")
		var pid1 string
		for _, p := range tr.PS {
			if p.PID == 1 {
				pid1 = p.Comm
			}
		}
		first := "((struct task_struct *)((char *)init_task.tasks.next - (unsigned long)&((struct task_struct *)0)->tasks))"
		check("p "+first+"->pid", "1")
		if comm := pValue(t, s, "p "+first+"->comm"); pid1 == "" || !strings.HasPrefix(comm, `"`+pid1) {
			t.Errorf("pid 1's comm %s, the guest's ps says %q", comm, pid1)
		}
		if rel := pValue(t, s, "p init_uts_ns.name.release"); !strings.HasPrefix(rel, `"`+r.Release+`\000`) {
			t.Errorf("init_uts_ns.name.release = %s, want %q", rel, r.Release)
		}
		initTask, err := s.Kernel.SymbolAddr("init_task")
		if err != nil {
			t.Fatal(err)
		}
		off := pValue(t, s, "p (unsigned long)&((struct task_struct *)0)->tasks")
		n, _ := strconv.ParseUint(off, 10, 64)
		check("p &init_task.tasks + 1", fmt.Sprintf("(struct list_head *) %#x <init_task+%d>", initTask+n+16, n+16))
		check("p/x (char *)&init_task.tasks - (char *)&init_task", fmt.Sprintf("%#x", n))
		check("p (long)(&init_task.tasks + 3) - (long)&init_task.tasks", "48")
		cpus, _, err := s.Kernel.CPUs()
		if err != nil {
			t.Fatal(err)
		}
		for cpu := range cpus {
			check(fmt.Sprintf("p runqueues:%d.cpu", cpu), fmt.Sprint(cpu))
			check(fmt.Sprintf("p &runqueues:%d == (struct rq *)((char *)&runqueues + __per_cpu_offset[%d])", cpu, cpu), "1")
		}
		if _, err := s.Kernel.SymbolAddr("cpu_number"); err == nil { // 6.12 keeps it in pcpu_hot
			out := exprLine(s, "p cpu_number:a")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != cpus {
				t.Fatalf("p cpu_number:a on %d CPUs:\n%s", cpus, out)
			}
			for i, ln := range lines {
				if !regexp.MustCompile(fmt.Sprintf(`^per_cpu\(cpu_number, %d\) = \$\d+ = %d$`, i, i)).MatchString(ln) {
					t.Errorf("p cpu_number:a line %d: %q", i, ln)
				}
			}
		}
		h := pValue(t, s, "p init_task.prio")
		check("p $", h)
		check("p $$1 + 0 == "+h, "1")
	})
}

// TestCorpusExprJSON wants p's JSON to hold what its text shows: the
// history number, the type, and the value (numbers, pointers and their
// symbols, strings, members).
func TestCorpusExprJSON(t *testing.T) {
	type jsonCValue struct {
		Type    string            `json:"type"`
		Value   any               `json:"value"`
		Symbol  string            `json:"symbol"`
		String  *string           `json:"string"`
		Members []json.RawMessage `json:"members"`
	}
	type jsonPResult struct {
		Expression string     `json:"expression"`
		History    int        `json:"history"`
		Name       string     `json:"name"`
		CPU        *int       `json:"cpu"`
		Type       string     `json:"type"`
		Address    string     `json:"address"`
		Value      jsonCValue `json:"value"`
	}
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		for _, c := range []struct {
			expr string
			text func(v jsonPResult) string // the value's text from the JSON
		}{
			{"init_task.pid", func(v jsonPResult) string { return fmt.Sprint(v.Value.Value) }},
			{"sizeof(struct task_struct) / sizeof(long)", func(v jsonPResult) string { return fmt.Sprint(v.Value.Value) }},
			{"(unsigned char)0x1ff", func(v jsonPResult) string { return fmt.Sprintf("%v '\\377'", v.Value.Value) }},
			{"&init_task.tasks + 1", func(v jsonPResult) string {
				return fmt.Sprintf("(%s) 0x%s <%s>", v.Type, strings.TrimLeft(fmt.Sprint(v.Value.Value), "0"), v.Value.Symbol)
			}},
			{"saved_command_line", func(v jsonPResult) string {
				return fmt.Sprintf("0x%s %q", strings.TrimLeft(fmt.Sprint(v.Value.Value), "0"), *v.Value.String)
			}},
			{"SYSTEM_RUNNING", func(v jsonPResult) string { return "SYSTEM_RUNNING" }},
		} {
			line := "p " + c.expr
			text := exprLine(s, line)
			m := pValueRE.FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("%s: %q", line, text)
			}
			var v jsonPResult
			jsonData(t, s, line, &v)
			if n, _ := strconv.Atoi(m[1]); v.History != n+1 || v.Expression != c.expr || v.Type == "" {
				t.Errorf("%s: JSON %+v after text $%s", line, v, m[1])
			}
			if got := c.text(v); got != m[2] {
				t.Errorf("%s: JSON gives %q, text %q", line, got, m[2])
			}
		}
		var v jsonPResult
		jsonData(t, s, "p init_task.se.load", &v)
		if v.Name != "init_task" || v.Address == "" || len(v.Value.Members) != 2 {
			t.Errorf("p init_task.se.load: %+v", v)
		}
		var all struct {
			Values []jsonPResult `json:"values"`
		}
		jsonData(t, s, "p runqueues:a", &all)
		cpus, _, err := s.Kernel.CPUs()
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Values) != cpus {
			t.Errorf("p runqueues:a: %d values on %d CPUs", len(all.Values), cpus)
		}
		for i, v := range all.Values {
			if v.CPU == nil || *v.CPU != i || v.Name != "runqueues" || len(v.Value.Members) == 0 {
				t.Errorf("p runqueues:a value %d: %+v", i, v)
			}
		}
	})
}
