package commands_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusDevAgainstTruth compares dev with the guest's /proc/devices on
// every run: the same character and block majors with the same names
// (/proc sorts by major; dev lists the major hash's slots, as crash does,
// so the lists are compared sorted), and dev's JSON with its text.
func TestCorpusDevAgainstTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		devAgainstTruth(t, r, openSession(t, r, r.Files[0]))
	})
}

// devAgainstTruth is TestCorpusDevAgainstTruth on one run.
func devAgainstTruth(t *testing.T, r *corpus.Run, s *commands.Session) {
	lines := truthSection(t, r, "devices")
	var got struct {
		Char []struct {
			Major int    `json:"major"`
			Name  string `json:"name"`
		} `json:"chrdevs"`
		Block []struct {
			Major int    `json:"major"`
			Name  string `json:"name"`
		} `json:"blkdevs"`
	}
	jsonData(t, s, "dev", &got)
	text := run(t, s, "dev")
	var wantChar, wantBlock, ourChar, ourBlock []string
	list := &wantChar
	for _, ln := range lines {
		switch {
		case strings.HasPrefix(ln, "Block devices"):
			list = &wantBlock
		case strings.TrimSpace(ln) == "" || strings.HasSuffix(ln, "devices:"):
		default:
			f := strings.Fields(ln)
			*list = append(*list, strings.Join(f, " "))
		}
	}
	for _, c := range got.Char {
		e := fmt.Sprintf("%d %s", c.Major, c.Name)
		ourChar = append(ourChar, e)
		if !strings.Contains(text, fmt.Sprintf(" %3d      %-13s ", c.Major, c.Name)) {
			t.Errorf("%s: not in the text", e)
		}
	}
	for _, b := range got.Block {
		ourBlock = append(ourBlock, fmt.Sprintf("%d %s", b.Major, b.Name))
	}
	for _, l := range [][]string{wantChar, wantBlock, ourChar, ourBlock} {
		sort.Strings(l)
	}
	if len(wantChar) == 0 {
		t.Fatalf("no character devices in the guest's /proc/devices")
	}
	if a, b := strings.Join(ourChar, "\n"), strings.Join(wantChar, "\n"); a != b {
		t.Errorf("character devices:\n%s\n--- guest:\n%s", a, b)
	}
	if a, b := strings.Join(ourBlock, "\n"), strings.Join(wantBlock, "\n"); a != b {
		t.Errorf("block devices:\n%s\n--- guest:\n%s", a, b)
	}
}
