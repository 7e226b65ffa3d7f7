package commands

import (
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel"
)

// TestNetSocketText: net -s's rows for INET, INET6 and UNIX sockets laid
// out as crash's sym_socket_dump and get_sock_info print them (64-bit:
// space(MINSPACE) is one space, as crash 8.0.2 prints them on the busy
// corpus runs).
func TestNetSocketText(t *testing.T) {
	v6 := func(last byte) []byte { b := make([]byte, 16); b[15] = last; return b }
	res := &NetSockets{Tasks: []NetTaskSockets{{TaskRef: TaskRef{PID: 7, Task: 0xffff888001234000, CPU: 1, Command: "srv"}, Sockets: []NetSocket{
		netSocket(kernel.Socket{FD: 3, Socket: 0xffff888002000000, Sock: 0xffff888003000000, Family: kernel.AFInet, Type: 1,
			SrcIP: []byte{127, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}, SrcPort: 22, DstPort: 40000}),
		netSocket(kernel.Socket{FD: 4, Socket: 0xffff888002000100, Sock: 0xffff888003000100, Family: kernel.AFInet6, Type: 2,
			SrcIP: v6(1), DstIP: v6(0), SrcPort: 53, DstPort: 0}),
		netSocket(kernel.Socket{FD: 12, Socket: 0xffff888002000200, Sock: 0xffff888003000200, Family: 1, Type: 5}),
	}}}}
	var b strings.Builder
	if err := res.Text(&b); err != nil {
		t.Fatal(err)
	}
	want := `PID: 7        TASK: ffff888001234000  CPU: 1    COMMAND: "srv"
FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT
 3 ffff888002000000 ffff888003000000 INET:STREAM  127.0.0.1-22 10.0.0.2-40000
 4 ffff888002000100 ffff888003000100 INET6:DGRAM  0:0:0:0:0:0:0:1-53 0:0:0:0:0:0:0:0-0 
12 ffff888002000200 ffff888003000200 UNIX:SEQPACKET 
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestNetARPText: net -a's rows: an Ethernet neighbour's colon-separated
// address and its NUD states joined by '|'.
func TestNetARPText(t *testing.T) {
	res := &NetARP{Entries: []ARPRow{}}
	r := ARPRow{Neighbour: 0xffff888004000000, IP: "192.168.76.2", HWType: "ETHER", Device: "eth0", State: "REACHABLE|PERMANENT", hwText: "52:54:00:12:34:56 "}
	res.Entries = append(res.Entries, r)
	var b strings.Builder
	if err := res.Text(&b); err != nil {
		t.Fatal(err)
	}
	want := "NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE\n" +
		"ffff888004000000 192.168.76.2    ETHER      52:54:00:12:34:56  eth0    REACHABLE|PERMANENT\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
