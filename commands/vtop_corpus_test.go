package commands_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusVtopAgainstCrash: vtop of a kernel text address, a direct-map
// address and a user address prints crash 8.0.2's text on the x86_64 kdump
// runs, up to the tables crash adds after the translation (the VMA and the
// struct page of the address, which gocrash does not print yet). Where
// crash fails (it cannot read 6.1's VMAs), that command is not compared.
func TestCorpusVtopAgainstCrash(t *testing.T) {
	crashBin, err := exec.LookPath("crash")
	if err != nil {
		t.Fatal("crash is not installed: make corpus installs it")
	}
	total := 0
	for _, r := range corpus.Runs(t) {
		if r.Method != "kdump" || r.Arch != "x86_64" {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			panicTask, err := s.Kernel.PanicTask()
			if err != nil {
				t.Fatal(err)
			}
			banner, err1 := s.Kernel.SymbolAddr("linux_banner")
			jiffies, err2 := s.Kernel.SymbolAddr("jiffies")
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			// crash 8.0.2's vtop takes addresses only, no symbols.
			cmds := []string{fmt.Sprintf("vtop %x", banner), fmt.Sprintf("vtop %x", panicTask), "vtop -u 400000",
				fmt.Sprintf("vtop %x", jiffies)}
			var in strings.Builder
			for _, c := range cmds {
				in.WriteString(c + "\n!echo @@@@\n")
			}
			cmd := exec.Command(crashBin, "-s", r.Vmlinux, f.Path)
			cmd.Stdin = strings.NewReader(in.String())
			out, _ := cmd.Output()
			parts := strings.Split(string(out), "@@@@\n")
			if len(parts) < len(cmds) {
				t.Fatalf("crash printed %d parts:\n%s", len(parts), out)
			}
			for i, c := range cmds {
				want := crashTranslation(parts[i])
				if strings.Contains(parts[i], "invalid structure member") {
					t.Logf("%s: crash failed, not compared", c)
					continue
				}
				got := strings.TrimRight(run(t, s, c), "\n")
				if got != want {
					t.Errorf("%s:\n%s\n--- crash:\n%s", c, got, want)
				}
				total++
			}
		})
	}
	if total < 9 {
		t.Errorf("only %d commands compared with crash", total)
	}
}

// crashTranslation keeps crash's vtop output up to its VMA and PAGE
// tables, without its warnings and the blank lines around.
func crashTranslation(text string) string {
	var keep []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		ln := lines[i]
		if strings.HasPrefix(ln, "WARNING") {
			continue
		}
		if strings.HasPrefix(ln, "      VMA ") || strings.HasPrefix(ln, "      PAGE ") {
			// Skip the table: its header and rows, to the next blank line.
			for i+1 < len(lines) && lines[i+1] != "" {
				i++
			}
			continue
		}
		keep = append(keep, ln)
	}
	return strings.Trim(strings.Join(keep, "\n"), "\n")
}
