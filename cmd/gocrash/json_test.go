package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusJSONBatch runs every command in a batch with --json on every
// corpus dump file: standard output holds one JSON object per command
// line and nothing else, each with the line as typed and data or error;
// stderr is empty; a failed command makes the exit status 1. 'set output
// text' returns to crash's text, and 'set output json' back.
func TestCorpusJSONBatch(t *testing.T) {
	lines := []string{
		"sys", "ps", "ps -S", "bt", "bt -a", "foreach bt", "log", "mod", "set", "task -R pid",
		"struct list_head", "whatis jiffies", "p jiffies", "sym schedule", "dis schedule 5", "rd linux_banner 2",
		"vtop linux_banner", "help", "help ps", "help -D", "alias", "eval 128m", "ascii 41", "repeat -n 2 ascii 41",
		"vm", "files", "mount", "fuser /init", "swap", "pte d8e067", "btop 1000", "ptob 1",
		"irq -s", "timer", "net", "net -s 1", "dev", "dev -d", "ipcs", "runq", "sig 1", "waitq log_wait", "mach",
		"search -s linux_banner -l 256 -c Linux", "list -H modules", "triage", "tree -t rbtree -o vmap_area.rb_node free_vmap_area_root",
	}
	for _, c := range commands.NewRegistry().Commands() {
		found := false
		for _, l := range lines {
			found = found || strings.Fields(l)[0] == c.Name
		}
		if !found && c.Name != "ptov" && c.Name != "kmem" && c.Name != "union" && c.Name != "foreach" && c.Name != "*" {
			t.Errorf("command %s is not in the JSON batch", c.Name)
		}
	}
	failing := []string{"bt -Z", "nosuchcommand", "rd 1"}
	corpus.ForEachFile(t, func(t *testing.T, r *corpus.Run, f corpus.File) {
		failing := failing
		lines := lines
		if r.Arch == "s390x" {
			// Address 1 is mapped there (the kernel maps memory at its
			// own address, the lowcore first); beyond the top table's
			// 4T is not.
			failing = []string{"bt -Z", "nosuchcommand", "rd 40000000000"}
		}
		if r.Arch == "ppc64le" {
			// An x86 entry has no radix _PAGE_PRESENT (bit 63): a swap
			// entry, whose location pte cannot tell.
			lines = slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.HasPrefix(l, "pte ") })
			failing = append(failing, "pte d8e067")
		}
		input := strings.Join(append(append(append([]string{}, lines...), failing...), "set output text", "sys", "set output json", "mod"), "\n") + "\n"
		code, out, errs := runGocrash(t, input, append([]string{"--json"}, append(f.Paths(), r.Vmlinux)...)...)
		if code != 1 || errs != "" {
			t.Fatalf("exit %d (want 1: some commands fail), stderr %q", code, errs)
		}
		text, rest, ok := strings.Cut(out, `{"schema_version":1,"command":"set output text"`)
		if !ok {
			t.Fatalf("no set output text in %q", out)
		}
		// Up to 'set output text', JSON only.
		got := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(got) != len(lines)+len(failing) {
			t.Fatalf("%d JSON lines for %d commands", len(got), len(lines)+len(failing))
		}
		for i, ln := range got {
			var env struct {
				SchemaVersion int             `json:"schema_version"`
				Command       string          `json:"command"`
				Data          json.RawMessage `json:"data"`
				Error         string          `json:"error"`
			}
			if err := json.Unmarshal([]byte(ln), &env); err != nil {
				t.Fatalf("line %d does not parse: %v: %.200s", i, err, ln)
			}
			want := append(append([]string{}, lines...), failing...)[i]
			if env.Command != want || env.SchemaVersion != commands.SchemaVersion {
				t.Errorf("line %d: command %q, want %q", i, env.Command, want)
			}
			if fails := i >= len(lines); fails != (env.Error != "") || !fails && len(env.Data) == 0 {
				t.Errorf("%s: data %.80s error %q", want, env.Data, env.Error)
			}
		}
		// A pipe gets the text, even under --json.
		if code, out, errs := runGocrash(t, "ps | head -1\n", append([]string{"--json"}, append(f.Paths(), r.Vmlinux)...)...); code != 0 || errs != "" ||
			out != "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n" {
			t.Errorf("ps | head -1 under --json: exit %d, %q, stderr %q", code, out, errs)
		}
		// Then the set command's own line, sys as text, and mod as JSON.
		_, rest, _ = strings.Cut(rest, "\n")
		if !strings.Contains(rest, "\n     RELEASE: ") || !strings.Contains(rest, `{"schema_version":1,"command":"mod","data":{"modules":[`) {
			t.Errorf("set output text/json: %.400q", rest)
		}
	})
}
