package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// NetSockets is net -s and -S: the open sockets of each chosen task.
type NetSockets struct {
	Tasks []NetTaskSockets `json:"tasks"`
	// Ref is -R's reference: only the matching socket is listed, and a
	// task without it is left out.
	Ref string `json:"ref,omitempty"`
}

// NetTaskSockets is one task's sockets.
type NetTaskSockets struct {
	TaskRef
	Sockets []NetSocket `json:"sockets"`
	Error   string      `json:"error,omitempty"`
}

// NetSocket is one open socket.
type NetSocket struct {
	FD     int    `json:"fd"`
	Socket Hex    `json:"socket"`
	Sock   Hex    `json:"sock"`
	Family string `json:"family"`
	Type   string `json:"type"`
	// Source and Destination are "address-port" for INET and INET6
	// sockets.
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination,omitempty"`
	// Inode is the socket inode's number (/proc/net's inode, socket:[N]);
	// State is the sock's state, the kernel's TCP_ name of skc_state
	// (every family's: a listening or connected UNIX socket's too).
	Inode uint64 `json:"inode"`
	State string `json:"state"`
	// Structs are -S's struct socket and struct inet_sock (or sock).
	Structs []Result `json:"structs,omitempty"`
	info    string
	text    string
}

// The address families and socket types crash names.
var (
	afNames = map[uint16]string{0: "UNSPEC", 1: "UNIX", 2: "INET", 3: "AX25", 4: "IPX", 5: "APPLETALK", 6: "NETROM",
		7: "BRIDGE", 8: "ATMPVC", 9: "X25", 10: "INET6", 11: "ROSE", 12: "DECnet", 13: "NETBEUI", 14: "SECURITY/KEY",
		16: "NETLINK/ROUTE", 17: "PACKET", 18: "ASH", 19: "ECONET", 20: "ATMSVC", 22: "SNA", 23: "IRDA", 24: "PPPOX"}
	sockTypes = map[uint16]string{1: "STREAM", 2: "DGRAM ", 3: "RAW", 4: "RDM", 5: "SEQPACKET", 10: "PACKET"}
	// The kernel's TCP_ states (include/net/tcp_states.h), by number.
	sockStates = map[uint8]string{1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
		6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV"}
)

func netSockets(ctx context.Context, s *Session, a *Args) (Result, error) {
	k := s.Kernel
	_, chosen, err := wordTasks(s, a.Words)
	if err != nil {
		return nil, err
	}
	ref, hasRef := a.Value("R")
	res := &NetSockets{Tasks: []NetTaskSockets{}, Ref: ref}
	nw := k.Network()
	// A task, file or socket that cannot be read costs that one: named in
	// one line each (partialErr), the listing goes on.
	var missing linesError
	for _, t := range chosen {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		row := NetTaskSockets{TaskRef: taskRef(t), Sockets: []NetSocket{}}
		socks, err := nw.TaskSockets(k.FileSystem, t.Addr)
		if err != nil {
			row.Error = err.Error()
			if !partialErr(err, &missing) {
				missing = append(missing, err)
			}
		}
		for _, so := range socks {
			if hasRef && !sockRefers(ref, so) {
				continue
			}
			ns := netSocket(so)
			if a.Has("S") {
				if serr := netSocketStructs(ctx, s, a, &ns); serr != nil {
					missing = append(missing, fmt.Errorf("socket %x: %w", uint64(ns.Socket), serr))
				}
			}
			row.Sockets = append(row.Sockets, ns)
		}
		if hasRef && len(row.Sockets) == 0 && err == nil {
			continue
		}
		res.Tasks = append(res.Tasks, row)
	}
	return res, missingErr(missing)
}

// sockRefers reports whether -R's ref names the socket: its struct socket
// or sock address (hexadecimal), or its file descriptor (decimal).
func sockRefers(ref string, so kernel.Socket) bool {
	r := strings.TrimPrefix(strings.ToLower(ref), "0x")
	if d, err := strconv.ParseUint(ref, 10, 64); err == nil && d == uint64(so.FD) {
		return true
	}
	x, err := strconv.ParseUint(r, 16, 64)
	return err == nil && (x == so.Sock || x == so.Socket || x == uint64(so.FD))
}

func netSocket(so kernel.Socket) NetSocket {
	ns := NetSocket{FD: so.FD, Socket: Hex(so.Socket), Sock: Hex(so.Sock), Inode: so.Inode, State: sockStates[so.State]}
	if ns.State == "" {
		ns.State = strconv.Itoa(int(so.State))
	}
	ns.Family = afNames[so.Family]
	if ns.Family == "" {
		ns.Family = strconv.Itoa(int(so.Family))
	}
	ns.Type = sockTypes[so.Type]
	if ns.Type == "" {
		ns.Type = strconv.Itoa(int(so.Type))
	}
	info := ns.Family + ":" + ns.Type + " "
	switch {
	case so.Family == kernel.AFInet && len(so.SrcIP) == 4:
		ns.Source = fmt.Sprintf("%s-%d", netip.AddrFrom4([4]byte(so.SrcIP)), so.SrcPort)
		ns.Destination = fmt.Sprintf("%s-%d", netip.AddrFrom4([4]byte(so.DstIP)), so.DstPort)
		info += " " + ns.Source + " " + ns.Destination
	case so.Family == kernel.AFInet6 && len(so.SrcIP) == 16:
		ns.Source = in6AddrPort(so.SrcIP, so.SrcPort)
		ns.Destination = in6AddrPort(so.DstIP, so.DstPort)
		info += fmt.Sprintf("%12s ", ns.Source) + center(len(ns.Source), ns.Destination, false)
	}
	ns.info = info
	return ns
}

// in6AddrPort is crash's IPv6 "address-port": eight groups in hexadecimal,
// none left out.
func in6AddrPort(a []byte, port uint16) string {
	var g []string
	for i := 0; i < 16; i += 2 {
		g = append(g, strconv.FormatUint(uint64(a[i])<<8|uint64(a[i+1]), 16))
	}
	return strings.Join(g, ":") + "-" + strconv.Itoa(int(port))
}

// netSocketStructs reads -S's struct socket and struct inet_sock with
// struct's display, in -x's or -d's radix.
func netSocketStructs(ctx context.Context, s *Session, a *Args, ns *NetSocket) error {
	var b bytes.Buffer
	inet := "inet_sock"
	if _, err := s.Kernel.Size(inet); err != nil {
		inet = "sock"
	}
	for _, st := range []struct {
		name string
		addr Hex
	}{{"socket", ns.Socket}, {inet, ns.Sock}} {
		words := []string{"struct", st.name, fmt.Sprintf("%x", uint64(st.addr))}
		if f := a.Last("x", "d"); f != "" {
			words = append(words, "-"+f)
		}
		r, err := s.Registry.Exec(ctx, s, words)
		if err != nil {
			return err
		}
		if err := r.Text(&b); err != nil {
			return err
		}
		ns.Structs = append(ns.Structs, r)
	}
	ns.text = b.String()
	return nil
}

// Omitted reports that -R found its reference in none of the tasks: the
// listing is empty, and foreach shows no header for the task.
func (n *NetSockets) Omitted() bool { return n.Ref != "" && len(n.Tasks) == 0 }

func (n *NetSockets) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, t := range n.Tasks {
		if i > 0 && n.Ref == "" {
			tw.printf("\n")
		}
		tw.printf("%s\n", t.Header())
		if len(t.Sockets) == 0 && n.Ref == "" {
			tw.printf("No open sockets.\n")
		}
		for j, so := range t.Sockets {
			if so.Structs != nil || so.text != "" {
				if j > 0 {
					tw.printf("\n")
				}
				tw.printf("FD  %s  %s\n", center(16, "SOCKET", false), center(16, "SOCK", false))
				tw.printf("%2d  %16x  %16x\n\n", so.FD, uint64(so.Socket), uint64(so.Sock))
				tw.printf("%s", so.text)
				continue
			}
			if j == 0 {
				tw.printf("FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT\n")
			}
			tw.printf("%2d %16x %16x %s\n", so.FD, uint64(so.Socket), uint64(so.Sock), so.info)
		}
		if n.Ref != "" && len(t.Sockets) > 0 {
			tw.printf("\n")
		}
	}
	return tw.err
}

// NetARP is net -a: the ARP cache.
type NetARP struct {
	Entries []ARPRow `json:"entries"`
}

// ARPRow is one neighbour.
type ARPRow struct {
	Neighbour Hex    `json:"neighbour"`
	IP        string `json:"ip"`
	HWType    string `json:"hw_type"`
	HWAddr    string `json:"hw_addr"`
	Device    string `json:"device"`
	State     string `json:"state"`
	hwText    string
}

// The ARPHRD_ hardware types crash names.
var arpHW = map[uint16]string{1: "ETHER", 0: "NETROM", 2: "EETHER", 3: "AX25", 4: "PRONET", 5: "CHAOS", 6: "IEEE802",
	7: "ARCNET", 8: "APPLETLK", 15: "DLCI", 23: "METRICOM"}

// The NUD_ states of a neighbour, by bit.
var nudStates = []string{"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT"}

func netARP(s *Session) (Result, error) {
	ents, err := s.Kernel.Network().ARP()
	res := &NetARP{Entries: []ARPRow{}}
	for _, e := range ents {
		r := ARPRow{Neighbour: Hex(e.Addr), IP: netip.AddrFrom4(e.IP).String(), HWType: arpHW[e.DevType], Device: e.DevName}
		if r.HWType == "" {
			r.HWType = "UNKNOWN"
		}
		var hw, txt strings.Builder
		for i, b := range e.HWAddr {
			if i > 0 {
				hw.WriteString(":")
			}
			fmt.Fprintf(&hw, "%02x", b)
			switch {
			case r.HWType != "ETHER":
				fmt.Fprintf(&txt, "%02x ", b)
			case i == len(e.HWAddr)-1:
				fmt.Fprintf(&txt, "%02x ", b)
			default:
				fmt.Fprintf(&txt, "%02x:", b)
			}
		}
		r.HWAddr, r.hwText = hw.String(), txt.String()
		var st []string
		for i, n := range nudStates {
			if e.NUDState&(1<<i) != 0 {
				st = append(st, n)
			}
		}
		r.State = strings.Join(st, "|")
		res.Entries = append(res.Entries, r)
	}
	return res, err
}

func (n *NetARP) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, e := range n.Entries {
		if i == 0 {
			tw.printf("NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE\n")
		}
		tw.printf("%-16x %-16s%-10s %s %-6s  %s\n", uint64(e.Neighbour), e.IP, e.HWType, e.hwText, e.Device, e.State)
	}
	return tw.err
}

// wordTasks is the tasks named by words (PIDs or task_struct addresses),
// or the current context's task when there are none, and the whole task
// list.
func wordTasks(s *Session, words []string) ([]kernel.Task, []kernel.Task, error) {
	tasks, err := lookupTasks(s.Kernel)
	if err != nil {
		return nil, nil, err
	}
	if len(words) == 0 {
		addr, err := s.ContextTask()
		if err != nil {
			return tasks, nil, err
		}
		t, err := taskByAddr(tasks, addr)
		if err != nil {
			return tasks, nil, err
		}
		return tasks, []kernel.Task{t}, nil
	}
	var chosen []kernel.Task
	for _, w := range words {
		t, err := oneTask(tasks, w)
		if err != nil {
			return tasks, chosen, fmt.Errorf("invalid task or pid value: %s", w)
		}
		chosen = append(chosen, t)
	}
	return tasks, chosen, nil
}
