package commands_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusJSONAgreesWithText runs ps, bt, foreach bt, log, sys, mod and
// set on every corpus dump in both renderers and checks that the JSON
// carries the facts the text shows: the same rows, frames, registers,
// records and fields.
func TestCorpusJSONAgreesWithText(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		for _, line := range []string{"ps", "ps -u", "ps 'kworker.*'"} {
			checkPSJSON(t, line, run(t, s, line), runJSON(t, s, line))
		}
		for _, line := range []string{"bt", "bt -a", "foreach bt", "bt -s 1"} {
			if _, ok := s.Kernel.Arch.(arch.BTLayout); ok {
				// crash's own layout of the architecture (ppc64, s390x).
				checkBTLayoutJSON(t, line, run(t, s, line), runJSON(t, s, line))
				continue
			}
			checkBTJSON(t, line, run(t, s, line), runJSON(t, s, line))
		}
		checkLogJSON(t, run(t, s, "log"), runJSON(t, s, "log"))
		checkSysJSON(t, run(t, s, "sys"), runJSON(t, s, "sys"))
		checkModJSON(t, run(t, s, "mod"), runJSON(t, s, "mod"))
		checkSetJSON(t, run(t, s, "set"), runJSON(t, s, "set"))
	})
}

var psRowRE = regexp.MustCompile(`^([> ]) +(\d+) +(\d+) +(\d+)  ([0-9a-f]{16})  (\S\S) +([\d.]+) +(\d+) +(\d+)  (.*)$`)

func checkPSJSON(t *testing.T, line, text string, env map[string]any) {
	t.Helper()
	rows := strings.Split(strings.TrimSuffix(text, "\n"), "\n")[1:]
	tasks := env["data"].(map[string]any)["tasks"].([]any)
	if len(rows) != len(tasks) || len(rows) == 0 {
		t.Fatalf("%s: %d rows in the text, %d tasks in the JSON", line, len(rows), len(tasks))
	}
	for i, row := range rows {
		m := psRowRE.FindStringSubmatch(row)
		if m == nil {
			t.Fatalf("%s: row %q not in ps's shape", line, row)
		}
		j := tasks[i].(map[string]any)
		comm := j["comm"].(string)
		if j["kernel_thread"] == true {
			comm = "[" + comm + "]"
		}
		got := fmt.Sprintf("%v %v %v %v %v %v %.1f %v %v %v", j["active"], j["pid"], j["ppid"], j["cpu"],
			fmt.Sprintf("%016x", hexField(t, "task", j["task"])), j["state"], j["mem_percent"], j["vsz"], j["rss"], comm)
		want := fmt.Sprintf("%v %s %s %s %s %s %s %s %s %s", m[1] == ">", m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10])
		if got != want {
			t.Errorf("%s: row %d: JSON %q, text %q", line, i, got, want)
		}
	}
}

var (
	btTaskRE  = regexp.MustCompile(`^PID: (\d+) +TASK: ([0-9a-f]{16})  CPU: (\d+) +COMMAND: "(.*)"$`)
	btFrameJR = regexp.MustCompile(`^ ?#(\d+) \[([0-9a-f]{16})\] (\S+) at ([0-9a-f]{16})(?: \[(\S+)\])?$`)
	regPairRE = regexp.MustCompile(`([A-Z][A-Z0-9_]*): ([0-9a-f]+)`)
)

// textTrace is what bt's text shows of one task.
type textTrace struct {
	header []string
	frames [][]string
	blocks []map[string]string // register blocks, in order
}

func parseBTText(t *testing.T, text string) []*textTrace {
	var out []*textTrace
	var cur *textTrace
	inBlock := false
	for _, ln := range strings.Split(text, "\n") {
		if m := btTaskRE.FindStringSubmatch(ln); m != nil {
			cur = &textTrace{header: m[1:]}
			out = append(out, cur)
			inBlock = false
			continue
		}
		if cur == nil {
			continue
		}
		if m := btFrameJR.FindStringSubmatch(ln); m != nil {
			cur.frames = append(cur.frames, m[1:])
			inBlock = false
			continue
		}
		if strings.HasPrefix(ln, "    [exception RIP:") {
			cur.blocks = append(cur.blocks, map[string]string{})
			inBlock = true
			continue
		}
		if pairs := regPairRE.FindAllStringSubmatch(ln, -1); strings.HasPrefix(ln, "    ") && len(pairs) > 0 {
			if !inBlock {
				cur.blocks = append(cur.blocks, map[string]string{})
				inBlock = true
			}
			for _, p := range pairs {
				cur.blocks[len(cur.blocks)-1][p[1]] = p[2]
			}
			continue
		}
		inBlock = false
	}
	return out
}

// regAliases maps crash's register labels to the names of the JSON's
// register map where they differ.
var regAliases = map[string]string{"rflags": "eflags", "lr": "x30"}

func checkBTJSON(t *testing.T, line, text string, env map[string]any) {
	t.Helper()
	want := parseBTText(t, text)
	traces := env["data"].(map[string]any)["traces"].([]any)
	if len(want) != len(traces) || len(want) == 0 {
		t.Fatalf("%s: %d traces in the text, %d in the JSON", line, len(want), len(traces))
	}
	for i, w := range want {
		j := traces[i].(map[string]any)
		head := []string{fmt.Sprint(j["pid"]), fmt.Sprintf("%016x", hexField(t, "task", j["task"])), fmt.Sprint(j["cpu"]), j["command"].(string)}
		if strings.Join(head, " ") != strings.Join(w.header, " ") {
			t.Errorf("%s: trace %d: JSON %v, text %v", line, i, head, w.header)
			continue
		}
		frames, _ := j["frames"].([]any)
		if len(frames) != len(w.frames) {
			t.Errorf("%s: pid %s: %d frames in the JSON, %d in the text", line, w.header[0], len(frames), len(w.frames))
			continue
		}
		var blocks []map[string]any
		for k, f := range frames {
			jf := f.(map[string]any)
			tf := w.frames[k]
			name := tf[2]
			if fn, _ := jf["function"].(string); fn != "" && !strings.HasPrefix(name, fn) {
				t.Errorf("%s: pid %s frame %d: function %q, text %q", line, w.header[0], k, fn, name)
			}
			mod, _ := jf["module"].(string)
			if fmt.Sprint(jf["level"]) != tf[0] || fmt.Sprintf("%016x", hexField(t, "sp", jf["sp"])) != tf[1] ||
				fmt.Sprintf("%016x", hexField(t, "pc", jf["pc"])) != tf[3] || mod != tf[4] {
				t.Errorf("%s: pid %s frame %d: JSON %v, text %v", line, w.header[0], k, jf, tf)
			}
			if e, ok := jf["exception"].(map[string]any); ok {
				blocks = append(blocks, e["registers"].(map[string]any))
			}
		}
		if u, ok := j["user_registers"].(map[string]any); ok {
			blocks = append(blocks, u["registers"].(map[string]any))
		}
		if len(blocks) != len(w.blocks) {
			t.Errorf("%s: pid %s: %d register blocks in the JSON, %d in the text", line, w.header[0], len(blocks), len(w.blocks))
			continue
		}
		for k, tb := range w.blocks {
			matched := 0
			for label, v := range tb {
				name := strings.ToLower(label)
				if a, ok := regAliases[name]; ok {
					name = a
				}
				jv, ok := blocks[k][name]
				if !ok {
					continue // ORIG_X0, SYSCALLNO: pt_regs words past the note's registers
				}
				tv, _ := strconv.ParseUint(v, 16, 64)
				if hexField(t, name, jv) != tv {
					t.Errorf("%s: pid %s block %d: %s %v in the JSON, %s in the text", line, w.header[0], k, name, jv, v)
				}
				matched++
			}
			if matched < 10 {
				t.Errorf("%s: pid %s block %d: only %d registers of the text in the JSON", line, w.header[0], k, matched)
			}
		}
	}
}

func checkLogJSON(t *testing.T, text string, env map[string]any) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	recs := env["data"].(map[string]any)["records"].([]any)
	if len(recs) < 100 {
		t.Fatalf("log: %d records in the JSON", len(recs))
	}
	at := 0
	for i, r := range recs {
		j := r.(map[string]any)
		nsec := uint64(j["nsec"].(float64))
		body := strings.Split(strings.TrimRight(j["text"].(string), "\n"), "\n")
		stamp := fmt.Sprintf("[%5d.%06d] ", nsec/1e9, nsec%1e9/1e3)
		if at >= len(lines) {
			t.Fatalf("log: record %d of %d has no line in the text", i, len(recs))
		}
		if lines[at] != stamp+body[0] && !(body[0] == "" && lines[at] == "") {
			t.Fatalf("log: record %d: text line %q, JSON %q", i, lines[at], stamp+body[0])
		}
		at += len(body)
	}
	if at != len(lines) {
		t.Errorf("log: the JSON's records cover %d lines of the text's %d", at, len(lines))
	}
}

func checkSysJSON(t *testing.T, text string, env map[string]any) {
	t.Helper()
	d := env["data"].(map[string]any)
	kv := map[string]string{}
	for _, ln := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(ln, ": "); ok {
			kv[strings.TrimSpace(k)] = v
		}
	}
	for key, field := range map[string]string{"RELEASE": "release", "NODENAME": "nodename", "VERSION": "version", "TASKS": "tasks"} {
		if got := fmt.Sprint(d[field]); got != kv[key] {
			t.Errorf("sys: %s %q in the JSON, %q in the text", field, got, kv[key])
		}
	}
	if cpus := fmt.Sprint(d["cpus"]); !strings.HasPrefix(kv["CPUS"], cpus) {
		t.Errorf("sys: cpus %s, text %q", cpus, kv["CPUS"])
	}
	if p, _ := d["panic"].(string); p == "" || !strings.HasPrefix(kv["PANIC"], strconv.Quote(p)) {
		t.Errorf("sys: panic %q, text %q", p, kv["PANIC"])
	}
	if !strings.HasPrefix(kv["MACHINE"], d["machine"].(string)+"  (") {
		t.Errorf("sys: machine %v, text %q", d["machine"], kv["MACHINE"])
	}
}

func checkModJSON(t *testing.T, text string, env map[string]any) {
	t.Helper()
	rows := strings.Split(strings.TrimSuffix(text, "\n"), "\n")[1:]
	mods := env["data"].(map[string]any)["modules"].([]any)
	if len(rows) != len(mods) || len(mods) == 0 {
		t.Fatalf("mod: %d rows in the text, %d modules in the JSON", len(rows), len(mods))
	}
	for i, row := range rows {
		f := strings.Fields(row)
		j := mods[i].(map[string]any)
		got := fmt.Sprintf("%016x %v %016x %v", hexField(t, "module", j["module"]), j["name"], hexField(t, "base", j["base"]), j["size"])
		if got != strings.Join(f[:4], " ") {
			t.Errorf("mod: row %d: JSON %q, text %q", i, got, row)
		}
	}
}

func checkSetJSON(t *testing.T, text string, env map[string]any) {
	t.Helper()
	d := env["data"].(map[string]any)
	want := fmt.Sprintf("    PID: %v\nCOMMAND: %q\n   TASK: %x", d["pid"], d["comm"], hexField(t, "task", d["task"]))
	if !strings.HasPrefix(text, want) || d["panic"] != true {
		t.Errorf("set: JSON %v, text %q", d, text)
	}
}
