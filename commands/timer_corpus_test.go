package commands_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

var (
	tlCPURE    = regexp.MustCompile(`^cpu: (\d+)$`)
	tlClockRE  = regexp.MustCompile(`^ clock (\d+):$`)
	tlTimerRE  = regexp.MustCompile(`^ #\d+: <[^>]*>, (\S+), S:`)
	tlExpireRE = regexp.MustCompile(`^ # expires at (\d+)-(\d+) nsecs`)
)

// TestCorpusTimerAgainstTruth compares timer -r with the guest's
// /proc/timer_list on every run. The guest read it seconds before the
// crash: the timers that expired since then, or were re-armed (the tick,
// the watchdog), are gone; every timer the guest listed that expires after
// the dump's clock (the sleeping tasks' hrtimer_wakeup) is still pending,
// on the same CPU and clock base, with the same function and soft and hard
// expiry. timer (the timer wheel) is checked for its shape and its JSON.
func TestCorpusTimerAgainstTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		lines := truthSection(t, r, "timer_list")
		s := openSession(t, r, r.Files[0])
		var got struct {
			CPUs []struct {
				CPU   int `json:"cpu"`
				Bases []struct {
					Clock  int    `json:"clock"`
					Now    uint64 `json:"current"`
					Timers []struct {
						Soft    uint64 `json:"softexpires"`
						Expires uint64 `json:"expires"`
						Symbol  string `json:"symbol"`
					} `json:"timers"`
				} `json:"clock_bases"`
			} `json:"cpus"`
		}
		jsonData(t, s, "timer -r", &got)
		text := run(t, s, "timer -r")
		ours := map[string]bool{}
		nows := map[string]uint64{}
		for _, c := range got.CPUs {
			for _, b := range c.Bases {
				nows[fmt.Sprint(c.CPU, b.Clock)] = b.Now
				for _, tm := range b.Timers {
					ours[fmt.Sprint(c.CPU, b.Clock, tm.Symbol, tm.Soft, tm.Expires)] = true
					if !strings.Contains(text, "  <"+tm.Symbol+">") || !strings.Contains(text, strconv.FormatUint(tm.Expires, 10)) {
						t.Errorf("timer %s %d: not in the text", tm.Symbol, tm.Expires)
					}
				}
			}
		}
		cpu, clock, fn := -1, -1, ""
		checked := 0
		for _, ln := range lines {
			if m := tlCPURE.FindStringSubmatch(ln); m != nil {
				cpu, _ = strconv.Atoi(m[1])
			} else if m := tlClockRE.FindStringSubmatch(ln); m != nil {
				clock, _ = strconv.Atoi(m[1])
			} else if m := tlTimerRE.FindStringSubmatch(ln); m != nil {
				fn = m[1]
			} else if m := tlExpireRE.FindStringSubmatch(ln); m != nil && fn != "" {
				soft, _ := strconv.ParseUint(m[1], 10, 64)
				hard, _ := strconv.ParseUint(m[2], 10, 64)
				now, ok := nows[fmt.Sprint(cpu, clock)]
				if !ok {
					t.Errorf("cpu %d clock %d: not in timer -r", cpu, clock)
				} else if soft > now {
					checked++
					if !ours[fmt.Sprint(cpu, clock, fn, soft, hard)] {
						t.Errorf("cpu %d clock %d: %s expiring at %d-%d is not in timer -r:\n%s", cpu, clock, fn, soft, hard, text)
					}
				}
				fn = ""
			}
		}
		if checked == 0 {
			t.Errorf("no timer of the guest's /proc/timer_list was still pending:\n%s", strings.Join(lines, "\n"))
		}
		t.Logf("%d pending hrtimers found", checked)
		var wheel struct {
			Jiffies uint64 `json:"jiffies"`
			Bases   []struct {
				CPU    int `json:"cpu"`
				Timers []struct {
					Expires uint64 `json:"expires"`
					TTE     int64  `json:"tte"`
					Symbol  string `json:"symbol"`
				} `json:"timers"`
			} `json:"bases"`
		}
		jsonData(t, s, "timer", &wheel)
		wtext := run(t, s, "timer")
		n := 0
		for _, b := range wheel.Bases {
			for i, tm := range b.Timers {
				n++
				if int64(tm.Expires-wheel.Jiffies) != tm.TTE || tm.Symbol == "" || i > 0 && b.Timers[i-1].Expires > tm.Expires {
					t.Errorf("cpu %d timer %d: %+v (jiffies %d)", b.CPU, i, tm, wheel.Jiffies)
				}
				if !strings.Contains(wtext, fmt.Sprintf("<%s>", tm.Symbol)) {
					t.Errorf("%s: not in timer's text", tm.Symbol)
				}
			}
		}
		if n == 0 {
			t.Errorf("no timer on the wheel:\n%s", wtext)
		}
	})
}
