package commands_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// The busy corpus runs (corpus.BusyRuns): a guest with a disk, sockets and
// neighbours, where net -s/-S/-a and dev -d have real contents.

// busyHolders returns the PIDs of the busy guest's socket holders (the
// sockets helper, httpd and syslogd), by command name, from its ps.
func busyHolders(t *testing.T, r *corpus.Run) map[string]int {
	t.Helper()
	truth, err := r.Truth()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range truth.PS {
		switch p.Comm {
		case corpus.BusySocketHolder, "httpd", "syslogd":
			out[p.Comm] = p.PID
		}
	}
	if len(out) != 3 {
		t.Fatalf("the guest's ps shows socket holders %v, want sockets, httpd and syslogd", out)
	}
	return out
}

// TestCorpusBusyAgainstCrash runs net and dev with their options, and files
// of the socket holders, in crash 8.0.2 and in gocrash on the busy runs and
// wants crash's text line by line; the commands that walk tasks only where
// crash's ps lists every task gocrash finds (the 5.10 run). One difference
// is allowed: crash 8.0.2 prints an INET6 socket's addresses from
// ipv6_pinfo's rcv_saddr and daddr, which these kernels no longer have
// (they are sock_common's skc_v6_rcv_saddr and skc_v6_daddr), so its line
// stops after "INET6:STREAM "; gocrash's line is crash's with the
// addresses after it (checked against the guest's /proc/net/tcp6 by
// TestCorpusBusySocketsAgainstTruth).
func TestCorpusBusyAgainstCrash(t *testing.T) {
	compared, taskCompared := 0, 0
	corpus.ForEachBusyRun(t, func(t *testing.T, r *corpus.Run) {
		f := r.Files[0]
		s := openSession(t, r, f)
		pids := busyHolders(t, r)
		state := []string{"net", "net -a", "dev", "dev -d", "dev -D", "dev -p", "dev -V", "dev -i"}
		var tasks []string
		for _, c := range []string{corpus.BusySocketHolder, "httpd", "syslogd"} {
			p := pids[c]
			tasks = append(tasks, fmt.Sprintf("net -s %d", p), fmt.Sprintf("files %d", p), fmt.Sprintf("net -S %d", p))
		}
		sp := pids[corpus.BusySocketHolder]
		tasks = append(tasks, fmt.Sprintf("net -S -x %d", pids["httpd"]), fmt.Sprintf("net -s -R 5 %d", sp),
			fmt.Sprintf("net -n %d", sp), "net -s", "foreach net -s")
		cmds := append(append([]string{"ps"}, state...), tasks...)
		want := crashAnswers(t, r, f, cmds)
		all, err := s.Kernel.Tasks()
		if err != nil {
			t.Fatal(err)
		}
		whole := strings.Count(want[0], "\n")-1 == len(all)
		t.Logf("crash lists %d of %d tasks", strings.Count(want[0], "\n")-1, len(all))
		if r.Release[:4] == "5.10" && !whole {
			t.Errorf("crash does not list every task of the 5.10 run")
		}
		for i, c := range cmds[1:] {
			if i >= len(state) && !whole {
				break
			}
			got := runText(t, s, c)
			if diff := busyDiff(got, want[i+1]); diff != "" {
				t.Errorf("%s: %s\n%s--- crash:\n%s", c, diff, got, want[i+1])
				continue
			}
			compared++
			if i >= len(state) {
				taskCompared++
			}
		}
	})
	if compared == 0 || taskCompared == 0 {
		t.Fatalf("%d commands compared with crash, %d of them walking tasks", compared, taskCompared)
	}
	t.Logf("%d command outputs equal crash's (%d walking tasks)", compared, taskCompared)
}

// busyDiff says where got differs from crash's text, "" where it does
// not: the same lines, but for an INET6 socket's, where crash's line
// (ending "INET6:TYPE ") must begin gocrash's, which goes on.
func busyDiff(got, crash string) string {
	g, c := strings.Split(got, "\n"), strings.Split(crash, "\n")
	if len(g) != len(c) {
		return fmt.Sprintf("%d lines, crash %d", len(g), len(c))
	}
	for i := range g {
		if g[i] == c[i] {
			continue
		}
		if f := strings.Fields(c[i]); len(f) == 4 && strings.HasPrefix(f[3], "INET6:") && strings.HasSuffix(c[i], " ") &&
			strings.HasPrefix(g[i], c[i]) && len(g[i]) > len(c[i]) {
			continue
		}
		return fmt.Sprintf("line %d: %q, crash %q", i+1, g[i], c[i])
	}
	return ""
}

// procSocket is one socket of the guest's /proc/net tables.
type procSocket struct {
	table        string // "tcp", "tcp6", "udp", "udp6", "unix"
	family, typ  string // as net -s names them
	state        string // the TCP_ state net -s's JSON names
	local, remot string // "address-port" (INET, INET6)
}

// busyProcSockets reads the guest's /proc/net tables by inode.
func busyProcSockets(t *testing.T, r *corpus.Run) map[uint64]procSocket {
	t.Helper()
	out := map[uint64]procSocket{}
	states := map[uint64]string{1: "ESTABLISHED", 7: "CLOSE", 10: "LISTEN"}
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		for _, l := range truthSection(t, r, "net-"+table)[1:] {
			f := strings.Fields(l)
			if len(f) < 10 {
				continue
			}
			ino, err1 := strconv.ParseUint(f[9], 10, 64)
			st, err2 := strconv.ParseUint(f[3], 16, 8)
			if err1 != nil || err2 != nil {
				t.Fatalf("/proc/net/%s line %q", table, l)
			}
			ps := procSocket{table: table, family: "INET", typ: "STREAM", state: states[st],
				local: procAddrPort(t, f[1]), remot: procAddrPort(t, f[2])}
			if strings.HasSuffix(table, "6") {
				ps.family = "INET6"
			}
			if strings.HasPrefix(table, "udp") {
				ps.typ = "DGRAM"
			}
			out[ino] = ps
		}
	}
	for _, l := range truthSection(t, r, "net-unix")[1:] {
		f := strings.Fields(l)
		if len(f) < 7 {
			continue
		}
		ino, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			t.Fatalf("/proc/net/unix line %q", l)
		}
		ps := procSocket{table: "unix", family: "UNIX", typ: map[string]string{"0001": "STREAM", "0002": "DGRAM", "0005": "SEQPACKET"}[f[4]]}
		switch {
		case f[3] == "00010000": // __SO_ACCEPTCON: listening
			ps.state = "LISTEN"
		case f[5] == "03": // SS_CONNECTED
			ps.state = "ESTABLISHED"
		case f[5] == "01" && ps.typ == "DGRAM": // SS_UNCONNECTED
			ps.state = "CLOSE"
		}
		out[ino] = ps
	}
	return out
}

// procAddrPort turns /proc/net's "HEXADDR:HEXPORT" (the address as the
// little-endian guest's 32-bit words print it) into net -s's
// "address-port" (IPv6 as eight groups in hexadecimal, none left out).
func procAddrPort(t *testing.T, s string) string {
	t.Helper()
	a, p, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil || len(a)%8 != 0 {
		t.Fatalf("/proc/net address %q", s)
	}
	var b []byte
	for i := 0; i < len(a); i += 8 {
		w, err := strconv.ParseUint(a[i:i+8], 16, 32)
		if err != nil {
			t.Fatalf("/proc/net address %q", s)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(w))
	}
	if len(b) == 4 {
		return fmt.Sprintf("%s-%d", netip.AddrFrom4([4]byte(b)), port)
	}
	var g []string
	for i := 0; i < 16; i += 2 {
		g = append(g, strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16))
	}
	return strings.Join(g, ":") + fmt.Sprintf("-%d", port)
}

// TestCorpusBusySocketsAgainstTruth: on every busy run, net -s PID of each
// socket holder shows a socket on each descriptor the guest's
// /proc/PID/fd links to socket:[INODE] and no other, each with that inode,
// and with the family, type, state and (INET, INET6) addresses and ports
// of the inode's line in /proc/net/tcp, tcp6, udp, udp6 or unix; files
// PID shows each as a SOCK of its protocol (TCP, TCPv6, UDP, UNIX). The
// holder has the helper's whole set: TCP and TCP6 listening and both ends
// of a connection, UDP bound and connected, UNIX stream listening, both
// ends of a connection and of a socketpair, UNIX datagram.
func TestCorpusBusySocketsAgainstTruth(t *testing.T) {
	corpus.ForEachBusyRun(t, func(t *testing.T, r *corpus.Run) {
		proc := busyProcSockets(t, r)
		s := openSession(t, r, r.Files[0])
		checked := map[string]int{}
		for comm, pid := range busyHolders(t, r) {
			want := map[int]uint64{} // fd -> inode
			for _, l := range truthSection(t, r, fmt.Sprintf("fd-%d", pid)) {
				if m := fdLinkRE.FindStringSubmatch(l); m != nil {
					if ino, ok := strings.CutPrefix(m[2], "socket:["); ok {
						fd, _ := strconv.Atoi(m[1])
						want[fd], _ = strconv.ParseUint(strings.TrimSuffix(ino, "]"), 10, 64)
					}
				}
			}
			var data struct {
				Tasks []struct {
					Sockets []struct {
						FD          int    `json:"fd"`
						Family      string `json:"family"`
						Type        string `json:"type"`
						Source      string `json:"source"`
						Destination string `json:"destination"`
						Inode       uint64 `json:"inode"`
						State       string `json:"state"`
					} `json:"sockets"`
				} `json:"tasks"`
			}
			jsonData(t, s, fmt.Sprintf("net -s %d", pid), &data)
			if len(data.Tasks) != 1 || len(data.Tasks[0].Sockets) != len(want) {
				t.Errorf("%s (%d): net -s %+v, the guest's socket fds %v", comm, pid, data, want)
				continue
			}
			files := runText(t, s, fmt.Sprintf("files %d", pid))
			protos := map[string]string{"tcp": "TCP", "tcp6": "TCPv6", "udp": "UDP", "udp6": "UDPv6", "unix": "UNIX"}
			for _, so := range data.Tasks[0].Sockets {
				ino, ok := want[so.FD]
				p, known := proc[ino]
				switch {
				case !ok:
					t.Errorf("%s: net -s shows fd %d, which the guest has not as a socket", comm, so.FD)
					continue
				case so.Inode != ino:
					t.Errorf("%s fd %d: inode %d, the guest socket:[%d]", comm, so.FD, so.Inode, ino)
					continue
				case !known:
					t.Errorf("%s fd %d: socket:[%d] is in none of the guest's /proc/net tables", comm, so.FD, ino)
					continue
				}
				what := fmt.Sprintf("%s fd %d (%s inode %d)", comm, so.FD, p.table, ino)
				if so.Family != p.family || strings.TrimSpace(so.Type) != p.typ {
					t.Errorf("%s: %s:%s, the guest %s:%s", what, so.Family, so.Type, p.family, p.typ)
				}
				if p.state != "" && so.State != p.state {
					t.Errorf("%s: state %s, the guest %s", what, so.State, p.state)
				}
				if p.family != "UNIX" && (so.Source != p.local || so.Destination != p.remot) {
					t.Errorf("%s: %s -> %s, the guest %s -> %s", what, so.Source, so.Destination, p.local, p.remot)
				}
				proto := protos[p.table]
				if p.table == "unix" && p.typ == "STREAM" && strings.Contains(files, " SOCK UNIX-STREAM\n") {
					proto = "UNIX-STREAM" // the proto's name since 5.15 (unix_stream_proto)
				}
				if !busyFilesLine(files, so.FD, "SOCK "+proto) {
					t.Errorf("%s: files %d shows no SOCK %s line for it:\n%s", what, pid, proto, files)
				}
				checked[p.table+" "+p.state]++
			}
		}
		// The helper's sockets (sockets.c), each kind at least once.
		for _, k := range []string{"tcp LISTEN", "tcp ESTABLISHED", "tcp6 LISTEN", "tcp6 ESTABLISHED", "udp CLOSE",
			"udp ESTABLISHED", "unix LISTEN", "unix ESTABLISHED", "unix CLOSE"} {
			if checked[k] == 0 {
				t.Errorf("no %s socket checked (%v)", k, checked)
			}
		}
		t.Logf("sockets checked: %v", checked)
	})
}

// busyFilesLine reports whether files' text has a line for fd ending in
// what ("SOCK TCP").
func busyFilesLine(files string, fd int, what string) bool {
	for _, l := range strings.Split(files, "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[0] == strconv.Itoa(fd) && strings.HasSuffix(l, " "+what) {
			return true
		}
	}
	return false
}

// TestCorpusBusyARPAgainstTruth: on every busy run, net -a lists each
// entry of the guest's /proc/net/arp (the slirp gateway 10.0.2.2 and DNS
// server 10.0.2.3 on eth0) with its hardware type, address and device, in
// a valid state (the kernel's ATF_COM: NUD_VALID), and nothing else but
// entries /proc/net/arp leaves out (NOARP ones: lo's).
func TestCorpusBusyARPAgainstTruth(t *testing.T) {
	corpus.ForEachBusyRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		var got struct {
			Entries []struct {
				IP     string `json:"ip"`
				HWType string `json:"hw_type"`
				HWAddr string `json:"hw_addr"`
				Device string `json:"device"`
				State  string `json:"state"`
			} `json:"entries"`
		}
		jsonData(t, s, "net -a", &got)
		text := runText(t, s, "net -a")
		guest := map[string]string{}
		for _, l := range truthSection(t, r, "net-arp")[1:] {
			f := strings.Fields(l)
			if len(f) == 6 && f[1] == "0x1" && f[2] == "0x2" {
				guest[f[0]] = f[3] + " " + f[5]
			}
		}
		if guest["10.0.2.2"] == "" {
			t.Fatalf("the guest's /proc/net/arp has no complete entry for 10.0.2.2: %v", guest)
		}
		valid := []string{"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT"}
		found := 0
		for _, e := range got.Entries {
			w, ok := guest[e.IP]
			if !ok {
				if !strings.Contains(e.State, "NOARP") {
					t.Errorf("net -a shows %s (%s), which the guest's /proc/net/arp has not", e.IP, e.State)
				}
				continue
			}
			found++
			if e.HWType != "ETHER" || e.HWAddr+" "+e.Device != w || !slices.ContainsFunc(valid, func(v string) bool { return strings.Contains(e.State, v) }) {
				t.Errorf("%s: %s %s %s %s, the guest %s", e.IP, e.HWType, e.HWAddr, e.Device, e.State, w)
			}
			if !strings.Contains(text, fmt.Sprintf(" %-16s%-10s %s  %-6s  %s\n", e.IP, e.HWType, e.HWAddr, e.Device, e.State)) {
				t.Errorf("%s: not in the text:\n%s", e.IP, text)
			}
		}
		if found != len(guest) {
			t.Errorf("net -a shows %d of the guest's %d ARP entries:\n%s", found, len(guest), text)
		}
	})
}

// TestCorpusBusyDisksAgainstTruth: on every busy run, dev -d lists the
// guest's two virtio disks (/proc/partitions's vda, the capture disk, and
// vdb, partitioned and in use: /proc/diskstats shows its I/O) with the
// major /proc/devices gives virtblk, each row's TOTAL the sum of its two
// counts, and dev -D the ones with requests in flight; and the checks the
// quiet runs have (devices, partitions, interfaces) hold here too.
func TestCorpusBusyDisksAgainstTruth(t *testing.T) {
	corpus.ForEachBusyRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		major := -1
		for _, l := range truthSection(t, r, "devices") {
			if f := strings.Fields(l); len(f) == 2 && f[1] == "virtblk" {
				major, _ = strconv.Atoi(f[0])
			}
		}
		var parts []string
		for _, l := range truthSection(t, r, "partitions") {
			if f := strings.Fields(l); len(f) == 4 && f[0] == strconv.Itoa(major) {
				parts = append(parts, f[3])
			}
		}
		if major < 0 || !slices.Equal(parts, []string{"vda", "vdb", "vdb1", "vdb2"}) {
			t.Fatalf("the guest's virtblk major %d, its partitions %v", major, parts)
		}
		reads := 0
		for _, l := range truthSection(t, r, "diskstats") {
			if f := strings.Fields(l); len(f) > 4 && f[2] == "vdb" {
				reads, _ = strconv.Atoi(f[3])
			}
		}
		if reads == 0 {
			t.Errorf("the guest's /proc/diskstats shows no reads of vdb")
		}
		type disk struct {
			Major  int       `json:"major"`
			Name   string    `json:"name"`
			Total  uint64    `json:"total"`
			Counts [2]uint64 `json:"counts"`
			MQ     bool      `json:"mq"`
		}
		var d, dd struct {
			Disks []disk `json:"disks"`
		}
		jsonData(t, s, "dev -d", &d)
		jsonData(t, s, "dev -D", &dd)
		var names, busy []string
		for _, x := range d.Disks {
			names = append(names, x.Name)
			if x.Major != major || !x.MQ || x.Total != x.Counts[0]+x.Counts[1] {
				t.Errorf("dev -d: %+v (virtblk is major %d, blk-mq)", x, major)
			}
			if x.Total > 0 {
				busy = append(busy, x.Name)
			}
		}
		var dnames []string
		for _, x := range dd.Disks {
			dnames = append(dnames, x.Name)
		}
		if !slices.Equal(names, []string{"vda", "vdb"}) || !slices.Equal(dnames, busy) {
			t.Errorf("dev -d lists %v, dev -D %v (those with requests in flight: %v)", names, dnames, busy)
		}
		t.Logf("dev -d: %+v", d.Disks)
		devAgainstTruth(t, r, s)
		devDisksAgainstPartitions(t, r, s)
		netAgainstTruth(t, r, s)
	})
}
