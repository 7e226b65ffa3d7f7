package commands

import "testing"

func TestSigNames(t *testing.T) {
	for n, want := range map[int]string{1: "SIGHUP", 6: "SIGABRT", 17: "SIGCHLD", 31: "SIGSYS", 32: "SIGRTMIN", 33: "SIGRTMIN+1",
		48: "SIGRTMIN+16", 49: "SIGRTMAX-15", 63: "SIGRTMAX-1", 64: "SIGRTMAX"} {
		if got := sigName(n, false); got != want {
			t.Errorf("signal %d: %q, want %q", n, got, want)
		}
	}
	if got := sigName(29, true); got != "SIGIO/SIGPOLL" {
		t.Errorf("signal 29 with its other name: %q", got)
	}
	if got := translateSigset(0); got != "(none)" {
		t.Errorf("empty set: %q", got)
	}
	if got := translateSigset(0x80000003); got != "SIGHUP SIGINT SIGRTMIN" {
		t.Errorf("0x80000003: %q", got)
	}
	// Every signal: lines of at most 80 characters, no line starting
	// with a space.
	all := translateSigset(^uint64(0))
	n := 0
	for _, ln := range splitLines(all) {
		n++
		if len(ln) > 80 || ln == "" || ln[0] == ' ' {
			t.Errorf("line %q", ln)
		}
	}
	if n < 2 {
		t.Errorf("every signal on %d line: %q", n, all)
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestCPURanges(t *testing.T) {
	for _, c := range []struct {
		mask []uint64
		n    int
		want string
	}{
		{[]uint64{0b11}, 2, "0-1"}, {[]uint64{0b1101}, 4, "0,2-3"}, {[]uint64{0}, 2, ""}, {[]uint64{^uint64(0), 1}, 65, "0-64"}, {[]uint64{0b100}, 3, "2"},
	} {
		if got := cpuRanges(c.mask, c.n); got != c.want {
			t.Errorf("%b of %d CPUs: %q, want %q", c.mask, c.n, got, c.want)
		}
	}
}

func TestSafeBufText(t *testing.T) {
	got := safeBufText("\x014first\n\x016second\x7f\n", false)
	if want := "  first\n  second.\n"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := safeBufText("\x014a\x016b", true); got != "  <4>a\n  <6>b\n" {
		t.Errorf("with levels: %q", got)
	}
}
