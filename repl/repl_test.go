package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
)

func TestSplit(t *testing.T) {
	cases := map[string][]string{
		"":                       nil,
		"sys":                    {"sys"},
		"  struct  task_struct ": {"struct", "task_struct"},
		`ps 'a b' "c d" e\ f`:    {"ps", "a b", "c d", "e f"},
		`echo "it's"`:            {"echo", "it's"},
	}
	for in, want := range cases {
		got, err := Split(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Split(`ps "open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestBatchStatusAndPanic(t *testing.T) {
	reg := commands.NewRegistry()
	s := &commands.Session{Registry: reg}
	var out, errs bytes.Buffer
	sh := &Shell{Session: s, Out: &out, Err: &errs}
	// 'help' works without a kernel; 'nosuch' fails; 'sys' with a nil kernel
	// panics inside the command and must come back as an error.
	err := sh.RunReader(context.Background(), strings.NewReader("help\nnosuch\nsys\n# comment\nhelp sys\nquit\nhelp\n"))
	if !IsQuit(err) || sh.Commands != 4 || sh.Failed != 2 {
		t.Errorf("quit %v, %d commands, %d failed; errors:\n%s", IsQuit(err), sh.Commands, sh.Failed, errs.String())
	}
	if !strings.Contains(errs.String(), "nosuch: command not found") {
		t.Errorf("missing not-found message: %q", errs.String())
	}
	if !strings.Contains(errs.String(), "sys: internal error:") {
		t.Errorf("panic not reported as internal error: %q", errs.String())
	}
	if !strings.Contains(out.String(), "SYNOPSIS") {
		t.Errorf("help sys output: %q", out.String())
	}
}

func TestPipesRedirectionAliases(t *testing.T) {
	reg := commands.NewRegistry()
	s := &commands.Session{Registry: reg}
	var out, errs bytes.Buffer
	sh := &Shell{Session: s, Out: &out, Err: &errs}
	dir := t.TempDir()
	file := filepath.Join(dir, "out")
	cmds := filepath.Join(dir, "cmds")
	os.WriteFile(cmds, []byte("help help > "+file+"\nhelp >> "+file+"\n"), 0o644)
	input := strings.Join([]string{
		"help | grep -c '^ps '", // a pipeline: prints 1
		"help | head -1",        // the pipeline stops reading early
		"< " + cmds,             // a command file with redirections
		"!echo from-the-shell",  // a shell escape
		"alias hh help help",    // an alias
		"hh | grep -c SYNOPSIS", // used in a pipeline
		"alias help x",          // a command name cannot be aliased
		"help nosuch | cat",     // a failing command in a pipeline still fails
	}, "\n")
	sh.RunReader(context.Background(), strings.NewReader(input))
	got := out.String()
	for _, want := range []string{"1\n", "from-the-shell\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "1\n") < 2 {
		t.Errorf("alias in a pipeline: %q", got)
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), "SYNOPSIS") || !strings.Contains(string(b), "sys ") {
		t.Errorf("redirected output: %q", b)
	}
	if sh.Failed != 2 || !strings.Contains(errs.String(), "cannot alias a command name") || !strings.Contains(errs.String(), "nosuch: command not found") {
		t.Errorf("%d failed: %s", sh.Failed, errs.String())
	}
}

// TestScrollPager: with scroll on, a command's output goes through the
// pager; 'set scroll off', pipes and redirection bypass it.
func TestScrollPager(t *testing.T) {
	reg := commands.NewRegistry()
	s := &commands.Session{Registry: reg, Scroll: true, Pager: "sed 's/^/PAGED: /'"}
	var out, errs bytes.Buffer
	sh := &Shell{Session: s, Out: &out, Err: &errs}
	redir := filepath.Join(t.TempDir(), "help.txt")
	sh.RunReader(context.Background(), strings.NewReader("help sys\nset scroll\nhelp sys > "+redir+"\nhelp sys | grep SYNOPSIS\n"))
	if sh.Failed != 0 {
		t.Fatalf("failures: %s", errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	paged := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "PAGED: ") {
			paged++
		}
	}
	if !strings.Contains(out.String(), "PAGED: SYNOPSIS") || !strings.Contains(out.String(), "PAGED: scroll: on (sed 's/^/PAGED: /')") {
		t.Errorf("scroll on: output not paged:\n%s", out.String())
	}
	if last := lines[len(lines)-1]; last != "SYNOPSIS" {
		t.Errorf("a piped command went through the pager: %q", last)
	}
	if b, _ := os.ReadFile(redir); strings.Contains(string(b), "PAGED") || !strings.Contains(string(b), "SYNOPSIS") {
		t.Errorf("a redirected command went through the pager: %q", b)
	}
	out.Reset()
	sh.RunLine(context.Background(), "set scroll off") // itself still paged
	out.Reset()
	sh.RunReader(context.Background(), strings.NewReader("help sys\nset scroll\nset scroll sideways\n"))
	if strings.Contains(out.String(), "PAGED") || !strings.Contains(out.String(), "scroll: off\n") || !strings.Contains(out.String(), "SYNOPSIS") {
		t.Errorf("scroll off:\n%s", out.String())
	}
	if !strings.Contains(errs.String(), `set: invalid scroll setting "sideways"`) || sh.Failed != 1 {
		t.Errorf("bad scroll setting: %d failed, %q", sh.Failed, errs.String())
	}
	if paged < 5 {
		t.Errorf("only %d paged lines", paged)
	}
}

// TestColour: errors are red only when asked, and NO_COLOR wins.
func TestColour(t *testing.T) {
	s := &commands.Session{Registry: commands.NewRegistry()}
	var out, errs bytes.Buffer
	sh := &Shell{Session: s, Out: &out, Err: &errs, Colour: true}
	sh.RunLine(context.Background(), "nosuch")
	if errs.String() != "\033[31mnosuch: command not found\033[0m\n" {
		t.Errorf("coloured error: %q", errs.String())
	}
	sh.Colour = false
	errs.Reset()
	sh.RunLine(context.Background(), "nosuch")
	if strings.Contains(errs.String(), "\033") {
		t.Errorf("colour without asking: %q", errs.String())
	}
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !ColourWanted(true) || ColourWanted(false) {
		t.Error("ColourWanted on a terminal without NO_COLOR")
	}
	t.Setenv("NO_COLOR", "1")
	if ColourWanted(true) {
		t.Error("NO_COLOR=1 still wants colour")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if ColourWanted(true) {
		t.Error("TERM=dumb still wants colour")
	}
}
