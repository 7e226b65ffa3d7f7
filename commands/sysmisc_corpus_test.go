package commands_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// runText runs a command line and returns its text as crash prints it: the
// output, then the error line ("CMD: message") if it failed.
func runText(t testing.TB, s *commands.Session, line string) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Registry.Run(context.Background(), s, strings.Fields(line), &b); err != nil {
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

// The system-state commands that read no task (compared with crash on
// every kdump run), and those that do (compared where crash finds every
// task: on 6.1 it loses most of them).
var (
	sysStateCommands = []string{
		"irq", "irq -u", "irq 0 1 4", "irq -s", "irq -s -c 1", "irq -a", "irq -b", "irq -d",
		"timer", "timer -C 1", "timer -r", "timer -r -C 0",
		"net", "net -N 16777343",
		"dev", "dev -i", "dev -p", "dev -d", "dev -D", "dev -V",
		"net -a",
		"ipcs", "ipcs -s", "ipcs -m", "ipcs -M", "ipcs -q", "ipcs 0", "ipcs 12345",
		"sys -c", "sys -c read", "sys -c 15", "sys -t", "sys -i", "sys config",
		"sig -l", "sig -s 80000003", "sig -s 0",
		"log -a", "log -s",
		"mach", "mach -m", "mach -c", "mach -c -d", "mach -c -x",
	}
	sysTaskCommands = []string{
		"runq", "runq -c 1", "runq -t", "runq -T", "runq -m", "runq -g",
		"sig", "sig 1", "sig -g 1", "net -n 1", "ipcs -n 1",
		"net -s", "net -s 1", "net -S 1", "net -s -R 3 1", "net -s 1 2", "foreach net -s", "foreach net -s -R 3",
	}
)

// TestCorpusSysStateAgainstCrash runs irq, timer, net, dev, ipcs, sys's
// options, sig and runq in crash 8.0.2 and in gocrash on the kdump runs
// and wants crash's text, whole; the commands that walk tasks only where
// crash's ps lists every task gocrash finds.
func TestCorpusSysStateAgainstCrash(t *testing.T) {
	compared := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			s := openSession(t, r, f)
			waitq, _ := waitqLines(t, s)
			cmds := append(append(append([]string{"ps"}, sysStateCommands...), sysTaskCommands...), waitq...)
			want := crashAnswers(t, r, f, cmds)
			tasks, err := s.Kernel.Tasks()
			if err != nil {
				t.Fatal(err)
			}
			crashTasks := strings.Count(want[0], "\n") - 1
			whole := crashTasks == len(tasks)
			t.Logf("crash lists %d of %d tasks", crashTasks, len(tasks))
			for i, c := range cmds[1:] {
				if i >= len(sysStateCommands) && !whole {
					break
				}
				got := runText(t, s, c)
				if _, err := s.Kernel.SymbolAddr("alloc_cpumask_var"); c == "irq -a" && err != nil && got != want[i+1] {
					// crash takes irq_common_data.affinity for a pointer
					// only when alloc_cpumask_var exists; 6.1 has only
					// alloc_cpumask_var_node, and its cpumask_var_t is a
					// pointer (CONFIG_CPUMASK_OFFSTACK), so crash prints the
					// pointer's bits. The same interrupts and names, and
					// every affinity gocrash prints naming CPUs.
					checkAffinityLines(t, got, want[i+1])
					compared++
					continue
				}
				if got != want[i+1] {
					t.Errorf("%s:\n%s--- crash:\n%s", c, got, want[i+1])
					continue
				}
				if name := strings.Fields(c)[0]; !strings.HasPrefix(got, name+": ") {
					// The JSON form: one envelope of a declared result type.
					runJSON(t, s, c)
				}
				compared++
			}
		})
	}
	if compared == 0 {
		t.Fatal("no command was compared with crash")
	}
	t.Logf("%d command outputs equal crash's", compared)
}

// checkAffinityLines wants irq -a's lines to name the interrupts and
// handlers crash names, each with a non-empty CPU list.
func checkAffinityLines(t *testing.T, got, crash string) {
	t.Helper()
	g, c := strings.Split(got, "\n"), strings.Split(crash, "\n")
	if len(g) != len(c) {
		t.Fatalf("irq -a: %d lines, crash %d:\n%s--- crash:\n%s", len(g), len(c), got, crash)
	}
	for i := 1; i < len(g); i++ {
		if g[i] == "" && c[i] == "" {
			continue
		}
		if len(g[i]) < 25 || len(c[i]) < 25 || g[i][:25] != c[i][:25] || strings.TrimSpace(g[i][25:]) == "" {
			t.Errorf("irq -a line %d: %q, crash %q", i, g[i], c[i])
		}
	}
}

// truthSection returns the guest's section name of run r; a run without it
// (built before the section existed) fails the test.
func truthSection(t *testing.T, r *corpus.Run, name string) []string {
	t.Helper()
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	lines, ok := truth.Section(name)
	if !ok {
		t.Fatalf("the guest printed no %q section (rebuild the corpus)", name)
	}
	return lines
}
