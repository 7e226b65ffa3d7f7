package commands_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

var (
	procIRQRE = regexp.MustCompile(`^\s*(\d+):((?:\s+\d+)+)\s+(.*)$`)
	procIPIRE = regexp.MustCompile(`^\s*IPI\d+:`)
)

// TestCorpusIRQAgainstTruth compares irq -s with the guest's
// /proc/interrupts on every run: each numbered interrupt the guest listed
// is there with the same handler names (the end of the guest's line) and,
// on each CPU, at least the guest's count (interrupts kept coming in the
// seconds between the guest's read and the crash: the timer's count
// doubles, so only the order is checked). The interrupts irq -s lists
// beyond the guest's numbered ones are the inter-processor interrupts
// arm64 gives descriptors of their own but /proc shows as IPIn, and
// chained handlers (no name), which /proc leaves out.
func TestCorpusIRQAgainstTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		lines := truthSection(t, r, "interrupts")
		s := openSession(t, r, r.Files[0])
		var got IRQStatsJSON
		jsonData(t, s, "irq -s", &got)
		text := run(t, s, "irq -s")
		byIRQ := map[int]IRQStatJSON{}
		for _, row := range got.Rows {
			byIRQ[row.IRQ] = row
			if !strings.Contains(text, strings.Join(row.Names, ",")) {
				t.Errorf("irq %d: JSON names %v not in the text", row.IRQ, row.Names)
			}
		}
		numbered, ipis := 0, 0
		for _, ln := range lines {
			if procIPIRE.MatchString(ln) {
				ipis++
			}
			m := procIRQRE.FindStringSubmatch(ln)
			if m == nil {
				continue
			}
			numbered++
			irq, _ := strconv.Atoi(m[1])
			row, ok := byIRQ[irq]
			if !ok {
				t.Errorf("irq %d (%q) is not in irq -s", irq, ln)
				continue
			}
			if names := strings.Join(row.Names, ", "); !strings.HasSuffix(strings.TrimSpace(ln), names) {
				t.Errorf("irq %d: handlers %q, the guest's line %q", irq, names, ln)
			}
			counts := strings.Fields(m[2])
			if len(counts) != len(row.Counts) {
				t.Errorf("irq %d: %d CPUs, the guest %d", irq, len(row.Counts), len(counts))
				continue
			}
			for c, v := range counts {
				n, _ := strconv.ParseUint(v, 10, 32)
				if uint64(row.Counts[c]) < n {
					t.Errorf("irq %d CPU%d: %d, fewer than the guest's %d before the crash", irq, c, row.Counts[c], n)
				}
			}
		}
		if numbered == 0 && r.Arch == "s390x" {
			// s390x's /proc/interrupts counts interrupt classes (EXT, I/O,
			// AIO from irq_descs 0-2; CLK, EXC, ... from its per-CPU
			// irq_stat): each class the guest listed is in irq -s, with
			// its description and at least the guest's counts.
			checkIRQClasses(t, lines, got)
			return
		}
		if numbered == 0 {
			t.Fatalf("no numbered interrupts in the guest's /proc/interrupts:\n%s", strings.Join(lines, "\n"))
		}
		chained := 0
		for _, row := range got.Rows {
			if len(row.Names) == 0 {
				chained++ // chained_action, which /proc leaves out
			}
		}
		if extra := len(got.Rows) - chained - numbered; extra < 0 || extra > ipis {
			t.Errorf("irq -s lists %d interrupts (%d chained), the guest %d numbered and %d IPIs", len(got.Rows), chained, numbered, ipis)
		}
		t.Logf("%d interrupts checked", numbered)
	})
}

// IRQStatsJSON is the part of irq -s's JSON the tests read.
type IRQStatsJSON struct {
	CPUs    []int         `json:"cpus"`
	Rows    []IRQStatJSON `json:"irqs"`
	Classes []struct {
		Name   string   `json:"name"`
		Counts []uint32 `json:"counts"`
		Desc   string   `json:"desc"`
	} `json:"classes"`
}

type IRQStatJSON struct {
	IRQ    int      `json:"irq"`
	Counts []uint32 `json:"counts"`
	Names  []string `json:"names"`
}

var procClassRE = regexp.MustCompile(`^([A-Z0-9/]{3}):((?:\s+\d+)+)(?:\s+(\S.*))?$`)

// checkIRQClasses compares s390x's interrupt classes in /proc/interrupts
// with irq -s's: the main classes (EXT, I/O, AIO) are descriptors 0-2,
// the others the kernel's per-CPU class counts.
func checkIRQClasses(t *testing.T, lines []string, got IRQStatsJSON) {
	t.Helper()
	counts := map[string][]uint32{}
	descs := map[string]string{}
	for _, c := range got.Classes {
		counts[c.Name], descs[c.Name] = c.Counts, c.Desc
	}
	for i, main := range []string{"EXT", "I/O", "AIO"} {
		for _, row := range got.Rows {
			if row.IRQ == i {
				counts[main] = row.Counts
			}
		}
	}
	checked := 0
	for _, ln := range lines {
		m := procClassRE.FindStringSubmatch(strings.TrimSpace(ln))
		if m == nil {
			continue
		}
		have, ok := counts[m[1]]
		if !ok {
			t.Errorf("class %s (%q) is not in irq -s", m[1], ln)
			continue
		}
		if m[3] != "" && descs[m[1]] != m[3] {
			t.Errorf("class %s: %q, the guest's %q", m[1], descs[m[1]], m[3])
		}
		for c, v := range strings.Fields(m[2]) {
			n, _ := strconv.ParseUint(v, 10, 32)
			if c >= len(have) || uint64(have[c]) < n {
				t.Errorf("class %s CPU%d: %v, fewer than the guest's %d", m[1], c, have, n)
			}
		}
		checked++
	}
	if checked < 3+len(got.Classes) {
		t.Errorf("%d classes checked, irq -s has %d", checked, 3+len(got.Classes))
	}
	t.Logf("%d interrupt classes checked", checked)
}
