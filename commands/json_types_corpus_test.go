package commands_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// The JSON forms of struct, union, whatis, p and sym, decoded as the
// commands write them.

type jsonCValue struct {
	Name       string       `json:"name"`
	Type       string       `json:"type"`
	Offset     int64        `json:"offset"`
	BitSize    int64        `json:"bit_size"`
	Value      any          `json:"value"`
	Enumerator string       `json:"enumerator"`
	Symbol     string       `json:"symbol"`
	String     *string      `json:"string"`
	Members    []jsonCValue `json:"members"`
	Elements   []jsonCValue `json:"elements"`
	Truncated  bool         `json:"truncated"`
	Error      string       `json:"error"`
}

type jsonMemberLayout struct {
	Name    string             `json:"name"`
	Type    string             `json:"type"`
	Offset  int64              `json:"offset"`
	Size    int64              `json:"size"`
	Address *commands.Hex      `json:"address"`
	BitSize int64              `json:"bit_size"`
	Members []jsonMemberLayout `json:"members"`
}

type jsonLayout struct {
	Kind    string             `json:"kind"`
	Name    string             `json:"name"`
	Size    int64              `json:"size"`
	Members []jsonMemberLayout `json:"members"`
}

type jsonDataType struct {
	Kind       string      `json:"kind"`
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Definition *jsonLayout `json:"definition"`
	Instances  []struct {
		Address commands.Hex `json:"address"`
		CPU     *int         `json:"cpu"`
		Value   *struct {
			Kind    string       `json:"kind"`
			Name    string       `json:"name"`
			Address commands.Hex `json:"address"`
			Members []jsonCValue `json:"members"`
		} `json:"value"`
		Layout *jsonLayout `json:"layout"`
	} `json:"instances"`
}

// number reads a CValue's value as an integer: a JSON number, or a Hex
// string for one too large for a JSON number.
func number(t *testing.T, what string, v any) uint64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		if x < 0 {
			return uint64(int64(x))
		}
		return uint64(x)
	case string:
		return hexField(t, what, x)
	}
	t.Fatalf("%s: %v (%T) is not a number", what, v, v)
	return 0
}

// textMembers reads the top-level "  name = value" lines of a struct as
// the text prints it (the members of the struct itself, at indent 2).
func textMembers(text string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if m := regexp.MustCompile(`^  ([A-Za-z_][A-Za-z0-9_.]*) = (.*?),?$`).FindStringSubmatch(l); m != nil {
			out[m[1]] = m[2]
		}
	}
	return out
}

// namedMembers lists a value's named members, looking through anonymous
// structs and unions as the text's indentation does not.
func topNames(ms []jsonCValue) []string {
	var out []string
	for _, m := range ms {
		if m.Name != "" {
			out = append(out, m.Name)
		}
	}
	return out
}

func findMember(ms []jsonCValue, name string) *jsonCValue {
	for i := range ms {
		if ms[i].Name == name {
			return &ms[i]
		}
		if ms[i].Name == "" {
			if m := findMember(ms[i].Members, name); m != nil {
				return m
			}
		}
	}
	return nil
}

var (
	offsetLineRE = regexp.MustCompile(`^\s*\[(\d+)\]\s+(.*);$`)
	declNameRE   = regexp.MustCompile(`\(\*([A-Za-z_][A-Za-z0-9_]*)\)|([A-Za-z_][A-Za-z0-9_]*)(?:\[\d*\])*(?: : \d+)?$`)
	hexWordRE    = regexp.MustCompile(`^0x[0-9a-f]+`)
	historyRE    = regexp.MustCompile(`\$(\d+) = `)
)

// textOffsets reads -o's "[offset] declaration;" lines: name -> offset.
func textOffsets(text string) map[string]int64 {
	out := map[string]int64{}
	for _, l := range strings.Split(text, "\n") {
		m := offsetLineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		d := declNameRE.FindStringSubmatch(m[2])
		if d == nil {
			continue
		}
		off, _ := strconv.ParseInt(m[1], 10, 64)
		out[d[1]+d[2]] = off
	}
	return out
}

// layoutOffsets gives every member's offset from the start of the type,
// through anonymous members (as -o shows them).
func layoutOffsets(ms []jsonMemberLayout, base int64, out map[string]int64) {
	for _, m := range ms {
		if m.Name == "" {
			layoutOffsets(m.Members, base+m.Offset, out)
			continue
		}
		if _, ok := out[m.Name]; !ok {
			out[m.Name] = base + m.Offset
		}
	}
}

func textHistory(t *testing.T, line, text string) int {
	t.Helper()
	m := historyRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%s: no $N in %q", line, text)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestCorpusTypesJSON runs struct, union, whatis, p and sym in JSON on
// every corpus run and wants the facts the text shows.
func TestCorpusTypesJSON(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		s.Kernel.Vmlinux.IndexCache = t.TempDir()
		initTask, err := s.Kernel.SymbolAddr("init_task")
		if err != nil {
			t.Fatal(err)
		}

		// struct without an address: the layout, its size and offsets.
		var def jsonDataType
		jsonData(t, s, "struct task_struct -o", &def)
		text := run(t, s, "struct task_struct -o")
		if def.Kind != "struct" || def.Name != "task_struct" || def.Definition == nil || def.Instances != nil {
			t.Fatalf("struct task_struct -o: %+v", def)
		}
		if want := fmt.Sprintf("SIZE: %d\n", def.Size); !strings.HasSuffix(text, want) || def.Definition.Size != def.Size {
			t.Errorf("struct task_struct -o: size %d, text ends %q", def.Size, text[max(0, len(text)-20):])
		}
		jsonOffs := map[string]int64{}
		layoutOffsets(def.Definition.Members, 0, jsonOffs)
		textOffs := textOffsets(text)
		if len(textOffs) < 50 {
			t.Errorf("struct task_struct -o: only %d offsets read from the text", len(textOffs))
		}
		for name, off := range textOffs {
			if got, ok := jsonOffs[name]; !ok || got != off {
				t.Errorf("struct task_struct -o: %s at %d in the text, JSON %d (%v)", name, off, got, ok)
			}
		}
		for _, m := range def.Definition.Members {
			if m.Name != "" && m.Type == "" {
				t.Errorf("struct task_struct: member %s has no type", m.Name)
			}
		}
		var u jsonDataType
		jsonData(t, s, "union rcu_special", &u)
		if u.Kind != "union" || u.Definition == nil || len(u.Definition.Members) == 0 {
			t.Errorf("union rcu_special: %+v", u)
		}
		if text := run(t, s, "union rcu_special"); !strings.HasSuffix(text, fmt.Sprintf("SIZE: %d\n", u.Size)) {
			t.Errorf("union rcu_special: size %d, text %q", u.Size, text)
		}
		var one jsonDataType
		jsonData(t, s, "struct task_struct.pid,comm", &one)
		if one.Definition == nil || len(one.Definition.Members) != 2 || one.Definition.Members[0].Name != "pid" || one.Definition.Members[0].Offset != jsonOffs["pid"] {
			t.Errorf("struct task_struct.pid,comm: %+v", one.Definition)
		}

		// struct with an address: the members' values as the text shows.
		var whole jsonDataType
		jsonData(t, s, "struct task_struct init_task", &whole)
		text = run(t, s, "struct task_struct init_task")
		if len(whole.Instances) != 1 || whole.Instances[0].Value == nil {
			t.Fatalf("struct task_struct init_task: %+v", whole)
		}
		in := whole.Instances[0]
		if uint64(in.Address) != initTask || uint64(in.Value.Address) != initTask {
			t.Errorf("struct task_struct init_task: address %x, want %x", uint64(in.Address), initTask)
		}
		tm := textMembers(text)
		names := topNames(in.Value.Members)
		if len(names) != len(tm) {
			t.Errorf("struct task_struct init_task: %d named members in JSON, %d in the text", len(names), len(tm))
		}
		for _, n := range names {
			if _, ok := tm[n]; !ok {
				t.Errorf("struct task_struct init_task: %s not in the text", n)
			}
		}
		pid := findMember(in.Value.Members, "pid")
		if pid == nil || fmt.Sprint(number(t, "pid", pid.Value)) != tm["pid"] {
			t.Errorf("struct task_struct init_task: pid %+v, text %q", pid, tm["pid"])
		}
		comm := findMember(in.Value.Members, "comm")
		if comm == nil || !strings.HasPrefix(tm["comm"], `"`+fmt.Sprint(comm.Value)) || comm.Value != "swapper" && !strings.HasPrefix(fmt.Sprint(comm.Value), "swapper/") {
			t.Errorf("struct task_struct init_task: comm %+v, text %q", comm, tm["comm"])
		}
		checked := 0
		for _, n := range names {
			m := findMember(in.Value.Members, n)
			tv := tm[n]
			if m.Members != nil || m.Elements != nil || m.BitSize != 0 {
				continue
			}
			if hx := hexWordRE.FindString(tv); hx != "" && strings.HasPrefix(tv, "0x") {
				// A pointer: Hex, and the symbol the text shows.
				want, _ := strconv.ParseUint(hx[2:], 16, 64)
				if got := hexField(t, n, m.Value); got != want {
					t.Errorf("struct task_struct init_task: %s = %x, text %q", n, got, tv)
				}
				if m.Symbol != "" && !strings.Contains(tv, "<"+m.Symbol+">") {
					t.Errorf("struct task_struct init_task: %s symbol %q, text %q", n, m.Symbol, tv)
				}
				checked++
			} else if _, err := strconv.ParseInt(tv, 10, 64); err == nil {
				if got := fmt.Sprint(int64(number(t, n, m.Value))); got != tv {
					if got = fmt.Sprint(number(t, n, m.Value)); got != tv {
						t.Errorf("struct task_struct init_task: %s = %v, text %q", n, m.Value, tv)
					}
				}
				checked++
			}
		}
		if checked < 20 {
			t.Errorf("struct task_struct init_task: only %d scalar members compared", checked)
		}
		tasks := findMember(in.Value.Members, "tasks")
		if tasks == nil || len(tasks.Members) != 2 || tasks.Members[0].Name != "next" || tasks.Members[1].Offset != 8 {
			t.Errorf("struct task_struct init_task: tasks %+v", tasks)
		}

		var two jsonDataType
		jsonData(t, s, "struct task_struct.pid,comm,tasks -x init_task", &two)
		text = run(t, s, "struct task_struct.pid,comm,tasks -x init_task")
		if len(two.Instances) != 1 || two.Instances[0].Value == nil || len(two.Instances[0].Value.Members) != 3 {
			t.Fatalf("struct task_struct.pid,comm,tasks -x: %+v", two)
		}
		tm = textMembers(text)
		for _, m := range two.Instances[0].Value.Members {
			if _, ok := tm[m.Name]; !ok {
				t.Errorf("struct task_struct.pid,comm,tasks -x: %s not in %q", m.Name, text)
			}
		}
		if v := two.Instances[0].Value.Members[0]; fmt.Sprintf("%#x", number(t, "pid", v.Value)) != tm["pid"] {
			t.Errorf("struct -x: pid %v, text %q", v.Value, tm["pid"])
		}

		// Per-CPU instances.
		var rqs jsonDataType
		jsonData(t, s, "struct rq.cpu,nr_running runqueues:a", &rqs)
		text = run(t, s, "struct rq.cpu,nr_running runqueues:a")
		labels := regexp.MustCompile(`(?m)^\[(\d+)\]: ([0-9a-f]+)$`).FindAllStringSubmatch(text, -1)
		if len(labels) == 0 || len(rqs.Instances) != len(labels) {
			t.Fatalf("runqueues:a: %d instances, %d in the text", len(rqs.Instances), len(labels))
		}
		for i, l := range labels {
			in := rqs.Instances[i]
			addr, _ := strconv.ParseUint(l[2], 16, 64)
			if in.CPU == nil || fmt.Sprint(*in.CPU) != l[1] || uint64(in.Address) != addr || in.Value == nil {
				t.Errorf("runqueues:a: instance %d %+v, text %v", i, in, l)
				continue
			}
			if cpu := findMember(in.Value.Members, "cpu"); cpu == nil || fmt.Sprint(number(t, "cpu", cpu.Value)) != l[1] {
				t.Errorf("runqueues:a: [%s] cpu %+v", l[1], cpu)
			}
		}

		// -o with an address: member addresses.
		var at jsonDataType
		jsonData(t, s, "struct list_head -o init_task", &at)
		if len(at.Instances) != 1 || at.Instances[0].Layout == nil || len(at.Instances[0].Layout.Members) != 2 {
			t.Fatalf("struct list_head -o init_task: %+v", at)
		}
		text = run(t, s, "struct list_head -o init_task")
		for _, m := range at.Instances[0].Layout.Members {
			if m.Address == nil || !strings.Contains(text, fmt.Sprintf("[%x]", uint64(*m.Address))) {
				t.Errorf("struct list_head -o init_task: %s at %v, text %q", m.Name, m.Address, text)
			}
		}

		testWhatisJSON(t, s)
		testPJSON(t, s, initTask)
		testSymJSON(t, s, initTask)
	})
}

type jsonWhatis struct {
	Name        string      `json:"name"`
	What        string      `json:"what"`
	Declaration string      `json:"declaration"`
	Type        string      `json:"type"`
	Size        *int64      `json:"size"`
	Value       *int64      `json:"value"`
	Definition  *jsonLayout `json:"definition"`
	Enumerators []struct {
		Name  string `json:"name"`
		Value int64  `json:"value"`
	} `json:"enumerators"`
}

func testWhatisJSON(t *testing.T, s *commands.Session) {
	for _, c := range []struct{ line, what string }{
		{"whatis task_struct", "struct"},
		{"whatis union rcu_special", "union"},
		{"whatis enum pid_type", "enum"},
		{"whatis PIDTYPE_PID", "enumerator"},
		{"whatis pid_t", "typedef"},
		{"whatis int", "base"},
		{"whatis unsigned long", "base"},
		{"whatis jiffies", "variable"},
		{"whatis init_task", "variable"},
		{"whatis schedule", "function"},
		{"whatis panic", "function"},
	} {
		var w jsonWhatis
		jsonData(t, s, c.line, &w)
		text := run(t, s, c.line)
		if w.What != c.what {
			t.Errorf("%s: what %q, want %q", c.line, w.What, c.what)
			continue
		}
		switch w.What {
		case "struct", "union":
			if w.Definition == nil || w.Size == nil || !strings.HasSuffix(text, fmt.Sprintf("SIZE: %d\n", *w.Size)) {
				t.Errorf("%s: %+v, text ends %q", c.line, w, text[max(0, len(text)-20):])
			}
		case "enum":
			lines := regexp.MustCompile(`(?m)^  (\w+) = (-?\d+)$`).FindAllStringSubmatch(text, -1)
			if len(lines) == 0 || len(lines) != len(w.Enumerators) {
				t.Errorf("%s: %d constants, %d in the text", c.line, len(w.Enumerators), len(lines))
				continue
			}
			for i, l := range lines {
				if e := w.Enumerators[i]; e.Name != l[1] || fmt.Sprint(e.Value) != l[2] {
					t.Errorf("%s: %+v, text %v", c.line, e, l)
				}
			}
		case "enumerator":
			if w.Value == nil || text != fmt.Sprintf("%s = %d\n", w.Type, *w.Value) || *w.Value != 0 {
				t.Errorf("%s: %+v, text %q", c.line, w, text)
			}
		case "typedef":
			if w.Size == nil || text != fmt.Sprintf("typedef %s %s;\nSIZE: %d\n", w.Type, w.Name, *w.Size) || w.Type != "int" {
				t.Errorf("%s: %+v, text %q", c.line, w, text)
			}
		case "base":
			if w.Size == nil || text != fmt.Sprintf("SIZE: %d\n", *w.Size) {
				t.Errorf("%s: %+v, text %q", c.line, w, text)
			}
		default:
			if w.Declaration == "" || text != w.Declaration+";\n" || w.Type == "" {
				t.Errorf("%s: %+v, text %q", c.line, w, text)
			}
		}
	}
}

type jsonP struct {
	Expression string        `json:"expression"`
	History    int           `json:"history"`
	Name       string        `json:"name"`
	CPU        *int          `json:"cpu"`
	Type       string        `json:"type"`
	Address    *commands.Hex `json:"address"`
	Value      jsonCValue    `json:"value"`
	// a per-CPU variable named alone
	Addresses []struct {
		CPU     int          `json:"cpu"`
		Address commands.Hex `json:"address"`
	} `json:"addresses"`
}

// pText runs p as text and then in JSON, and checks the JSON's value
// number is the next one.
func pBoth(t *testing.T, s *commands.Session, line string) (string, jsonP) {
	t.Helper()
	text := run(t, s, line)
	var p jsonP
	jsonData(t, s, line, &p)
	if p.Addresses == nil {
		if n := textHistory(t, line, text); p.History != n+1 {
			t.Errorf("%s: history $%d after the text's $%d", line, p.History, n)
		}
	}
	return text, p
}

func testPJSON(t *testing.T, s *commands.Session, initTask uint64) {
	jiffiesAddr, _ := s.Kernel.SymbolAddr("jiffies")
	text, p := pBoth(t, s, "p jiffies")
	m := regexp.MustCompile(`^jiffies = \$\d+ = (\d+)\n$`).FindStringSubmatch(text)
	if m == nil || fmt.Sprint(number(t, "jiffies", p.Value.Value)) != m[1] || p.Name != "jiffies" || p.Type == "" ||
		p.Address == nil || uint64(*p.Address) != jiffiesAddr {
		t.Errorf("p jiffies: %+v, text %q", p, text)
	}
	text, p = pBoth(t, s, "p/x jiffies")
	if !strings.HasSuffix(text, fmt.Sprintf(" = %#x\n", number(t, "jiffies", p.Value.Value))) {
		t.Errorf("p/x jiffies: %+v, text %q", p, text)
	}
	text, p = pBoth(t, s, "p init_task.comm")
	if str, ok := p.Value.Value.(string); !ok || !strings.Contains(text, ` = "`+str) || p.Name != "init_task" || p.Address == nil {
		t.Errorf("p init_task.comm: %+v, text %q", p, text)
	}
	text, p = pBoth(t, s, "p init_task.pid")
	if !strings.HasSuffix(text, fmt.Sprintf(" = %d\n", number(t, "pid", p.Value.Value))) {
		t.Errorf("p init_task.pid: %+v, text %q", p, text)
	}
	text, p = pBoth(t, s, "p &init_task")
	if hexField(t, "&init_task", p.Value.Value) != initTask || p.Value.Symbol != "init_task" ||
		!strings.HasSuffix(text, fmt.Sprintf("(%s) %#x <init_task>\n", p.Type, initTask)) {
		t.Errorf("p &init_task: %+v, text %q", p, text)
	}
	text, p = pBoth(t, s, "p init_task.tasks")
	if len(p.Value.Members) != 2 {
		t.Fatalf("p init_task.tasks: %+v", p)
	}
	for _, mv := range p.Value.Members {
		if !strings.Contains(text, fmt.Sprintf("  %s = %#x", mv.Name, hexField(t, mv.Name, mv.Value))) {
			t.Errorf("p init_task.tasks: %s %v, text %q", mv.Name, mv.Value, text)
		}
	}
	text, p = pBoth(t, s, "p init_mm.pgd")
	if !strings.Contains(text, fmt.Sprintf(") %#x", hexField(t, "pgd", p.Value.Value))) {
		t.Errorf("p init_mm.pgd: %+v, text %q", p, text)
	}
	var size jsonDataType
	jsonData(t, s, "struct task_struct", &size)
	text, p = pBoth(t, s, "p sizeof(struct task_struct)")
	if number(t, "sizeof", p.Value.Value) != uint64(size.Size) || !strings.HasSuffix(text, fmt.Sprintf(" = %d\n", size.Size)) {
		t.Errorf("p sizeof(struct task_struct): %+v, text %q, size %d", p, text, size.Size)
	}
	text, p = pBoth(t, s, "p runqueues")
	lines := regexp.MustCompile(`(?m)^  \[(\d+)\]: ([0-9a-f]+)$`).FindAllStringSubmatch(text, -1)
	if len(lines) == 0 || len(lines) != len(p.Addresses) {
		t.Fatalf("p runqueues: %d addresses, text %q", len(p.Addresses), text)
	}
	for i, l := range lines {
		if a := p.Addresses[i]; fmt.Sprint(a.CPU) != l[1] || fmt.Sprintf("%x", uint64(a.Address)) != l[2] {
			t.Errorf("p runqueues: %+v, text %v", a, l)
		}
	}
	text, p = pBoth(t, s, "p process_counts:1")
	if p.CPU == nil || *p.CPU != 1 || !strings.HasPrefix(text, "per_cpu(process_counts, 1) = ") ||
		!strings.HasSuffix(text, fmt.Sprintf(" = %d\n", number(t, "process_counts", p.Value.Value))) {
		t.Errorf("p process_counts:1: %+v, text %q", p, text)
	}
}

type jsonSym struct {
	Symbols []struct {
		Address   commands.Hex `json:"address"`
		Type      string       `json:"type"`
		Name      string       `json:"name"`
		Offset    uint64       `json:"offset"`
		Module    *string      `json:"module"`
		Demangled string       `json:"demangled"`
		File      string       `json:"file"`
		Line      int          `json:"line"`
	} `json:"symbols"`
}

func testSymJSON(t *testing.T, s *commands.Session, initTask uint64) {
	symLine := regexp.MustCompile(`^([0-9a-f]{16}) \((.)\) (\S+?)(?:\+(\d+))?(?: \((.*)\))?(?: (\S+): (\d+))?$`)
	for _, line := range []string{
		"sym init_task", "sym jiffies", "sym schedule", "sym panic",
		fmt.Sprintf("sym %x", initTask+5),
		"sym -q sysrq",
	} {
		var js jsonSym
		jsonData(t, s, line, &js)
		text := strings.Split(strings.TrimSuffix(run(t, s, line), "\n"), "\n")
		if len(js.Symbols) == 0 || len(js.Symbols) != len(text) {
			t.Errorf("%s: %d rows, %d lines of text", line, len(js.Symbols), len(text))
			continue
		}
		for i, l := range text {
			m := symLine.FindStringSubmatch(l)
			row := js.Symbols[i]
			if m == nil {
				t.Errorf("%s: text line %q", line, l)
				continue
			}
			if fmt.Sprintf("%016x", uint64(row.Address)) != m[1] || row.Type != m[2] || row.Name != m[3] ||
				m[4] != "" && fmt.Sprint(row.Offset) != m[4] || m[4] == "" && row.Offset != 0 ||
				row.Demangled != m[5] || row.File != m[6] || m[7] != "" && fmt.Sprint(row.Line) != m[7] ||
				row.Module == nil || *row.Module != "" {
				t.Errorf("%s: %+v, text %q", line, row, l)
			}
		}
	}
	var js jsonSym
	jsonData(t, s, fmt.Sprintf("sym %x", initTask+5), &js)
	if r := js.Symbols[0]; r.Name != "init_task" || r.Offset != 5 || uint64(r.Address) != initTask+5 {
		t.Errorf("sym init_task+5: %+v", r)
	}
}
