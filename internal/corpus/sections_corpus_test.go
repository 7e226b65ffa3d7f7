package corpus

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCorpusTruthSections: every run (sysrq and crash kinds) carries the
// guest's view of its kernel that the memory, file and system commands are
// checked against, with the facts init.sh set up: fdholder's three files,
// the SysV IPC objects, dummy0's address, the test tasks' maps and status.
func TestCorpusTruthSections(t *testing.T) {
	runs := append(Runs(t), CrashRuns(t)...)
	for _, r := range runs {
		t.Run(r.Name, func(t *testing.T) {
			truth, err := r.Truth()
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"meminfo", "slabinfo", "vmallocinfo", "buddyinfo", "zoneinfo",
				"interrupts", "devices", "partitions", "swaps", "mountinfo", "netdev", "ipaddr", "ipcs", "sched_debug"} {
				if lines, ok := truth.Section(name); !ok || len(lines) == 0 {
					t.Errorf("no %s section", name)
				}
			}
			has := func(section, pattern string) {
				t.Helper()
				re := regexp.MustCompile(pattern)
				lines, _ := truth.Section(section)
				for _, ln := range lines {
					if re.MatchString(ln) {
						return
					}
				}
				t.Errorf("%s: no line matches %q", section, pattern)
			}
			has("meminfo", `^MemTotal: +\d+ kB$`)
			// /proc/sysvipc/{shm,sem,msg}: key id perms, then the size;
			// nsems; bytes and messages queued (keys 0x6763..0x6765).
			has("ipcs", `^ +26467 +\d+ +600 +65536 `)
			has("ipcs", `^ +26468 +\d+ +600 +3 `)
			has("ipcs", `^ +26469 +\d+ +600 +38 +2 `)
			has("ipaddr", `inet 192\.168\.76\.1/24 .*dummy0`)
			has("mountinfo", ` /tmp .* - tmpfs tmp `)
			var fdholder int
			for _, p := range truth.PS {
				if p.Comm == "fdholder" {
					fdholder = p.PID
				}
			}
			if fdholder == 0 {
				t.Fatal("ps shows no fdholder")
			}
			fd := "fd-" + strconv.Itoa(fdholder)
			has(fd, ` 3 -> /init$`)
			has(fd, ` 4 -> /tmp/fdholder\.out$`)
			has(fd, ` 5 -> /dev/null$`)
			has("status-"+strconv.Itoa(fdholder), `^Name:\tfdholder$`)
			has("maps-"+strconv.Itoa(fdholder), ` /bin/busybox$`)
			maps := 0
			for name := range truth.Sections {
				if strings.HasPrefix(name, "maps-") {
					maps++
				}
			}
			if maps < 7 {
				t.Errorf("%d maps sections, want init's and the 6 test tasks'", maps)
			}
		})
	}
}
