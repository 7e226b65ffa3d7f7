package commands_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

var (
	ipLinkRE = regexp.MustCompile(`^\d+: ([^:@]+)[:@]`)
	ipInetRE = regexp.MustCompile(`^\s+inet (\d+\.\d+\.\d+\.\d+)/`)
	netdevRE = regexp.MustCompile(`^\s*([^\s:|]+):`)
)

// TestCorpusNetAgainstTruth compares net with the guest's ip addr and
// /proc/net/dev on every run: the same interfaces, each with the same IPv4
// addresses in the same order; and net's JSON with its text.
func TestCorpusNetAgainstTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		netAgainstTruth(t, r, openSession(t, r, r.Files[0]))
	})
}

// netAgainstTruth is TestCorpusNetAgainstTruth on one run.
func netAgainstTruth(t *testing.T, r *corpus.Run, s *commands.Session) {
	ipaddr := truthSection(t, r, "ipaddr")
	netdev := truthSection(t, r, "netdev")
	var got struct {
		Devices []struct {
			Name string   `json:"name"`
			IPv4 []string `json:"ipv4"`
		} `json:"devices"`
	}
	jsonData(t, s, "net", &got)
	text := run(t, s, "net")
	ours := map[string]string{}
	var names []string
	for _, d := range got.Devices {
		ours[d.Name] = strings.Join(d.IPv4, ", ")
		names = append(names, d.Name)
		if !strings.Contains(text, d.Name+" ") || !strings.Contains(text, ours[d.Name]) {
			t.Errorf("%s %v: not in the text:\n%s", d.Name, d.IPv4, text)
		}
	}
	guest := map[string][]string{}
	cur := ""
	for _, ln := range ipaddr {
		if m := ipLinkRE.FindStringSubmatch(ln); m != nil {
			cur = m[1]
			guest[cur] = []string{}
		} else if m := ipInetRE.FindStringSubmatch(ln); m != nil && cur != "" {
			guest[cur] = append(guest[cur], m[1])
		}
	}
	if len(guest) == 0 {
		t.Fatalf("no interfaces in the guest's ip addr:\n%s", strings.Join(ipaddr, "\n"))
	}
	for name, addrs := range guest {
		a, ok := ours[name]
		if !ok {
			t.Errorf("interface %s is not in net", name)
			continue
		}
		if want := strings.Join(addrs, ", "); a != want {
			t.Errorf("%s: addresses %q, the guest %q", name, a, want)
		}
	}
	var devs []string
	for _, ln := range netdev {
		if m := netdevRE.FindStringSubmatch(ln); m != nil && !strings.Contains(ln, "|") {
			devs = append(devs, m[1])
		}
	}
	sort.Strings(devs)
	sort.Strings(names)
	if strings.Join(devs, " ") != strings.Join(names, " ") || len(guest) != len(names) {
		t.Errorf("net lists %v, the guest's /proc/net/dev %v and ip addr %d interfaces", names, devs, len(guest))
	}
}
