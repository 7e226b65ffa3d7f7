package commands

import (
	"context"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

func netCommand() *Command {
	return &Command{
		Name:     "net",
		Synopsis: "net [[-s | -S] [-xd] [-R ref] [pid | task]] [-a] [-n [pid | task]] [-N addr]",
		Summary:  "network command",
		Help: `Displays the network devices of the initial network namespace (init_net,
the namespace of the idle task): the address of each struct net_device on the
namespace's dev_base_head list, its name and its IPv4 addresses (in_device's
ifa_list).

-n shows the devices of the network namespace of the current context's task,
or of the task named by PID or task_struct address. -N prints a 32-bit value
(decimal, or hexadecimal with 0x) as an IPv4 address in network byte order.

-s lists the open sockets of the current context's task, or of each task
named by PID or task_struct address: each socket's file descriptor, struct
socket and struct sock, its family and type, and for INET and INET6 sockets
the source and destination addresses and ports. -S shows each socket's
struct socket and struct inet_sock whole (-x and -d choose their radix).
-R ref (with -s or -S) shows only the socket whose struct socket or sock is
at ref, or whose file descriptor is ref. -a lists the ARP cache (arp_tbl):
each neighbour's address, IPv4 address, hardware type and address, device
and state.`,
		Options: []Option{
			{"-s", "the open sockets of the current context's (or each given) task"},
			{"-S", "as -s, with each socket's struct socket and struct inet_sock"},
			{"-R ref", "with -s or -S: only the socket or sock at ref, or file descriptor ref"},
			{"-x", "with -S: the structures in hexadecimal"},
			{"-d", "with -S: the structures in decimal"},
			{"-a", "the ARP cache"},
			{"-n", "the devices of the current context's (or the given task's) network namespace"},
			{"-N addr", "print the 32-bit value addr as a dotted IPv4 address"},
			{"pid", "with -n, -s or -S: the task with this PID"},
			{"task", "with -n, -s or -S: the task whose task_struct is at this address"},
		},
		Examples: []string{"gocrash> net", "gocrash> net -n 1", "gocrash> net -N 0x0100007f", "gocrash> net -s 1", "gocrash> foreach net -s", "gocrash> net -a"},
		Results:  []Result{&NetDevices{}, Message{}, &NetSockets{}, &NetARP{}},
		Run:      runNet,
	}
}

// NetDevices is net's listing of one namespace's devices.
type NetDevices struct {
	Net     Hex         `json:"net"`
	Devices []NetDevRow `json:"devices"`
}

// NetDevRow is one network device.
type NetDevRow struct {
	Device Hex      `json:"net_device"`
	Name   string   `json:"name"`
	IPv4   []string `json:"ipv4"`
}

func runNet(ctx context.Context, s *Session, a *Args) (Result, error) {
	k := s.Kernel
	if v, ok := a.Value("N"); ok {
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil {
			return nil, &UsageError{"invalid address: " + v}
		}
		// The value as it would lie in memory: an in_addr's s_addr.
		var b [4]byte
		k.ByteOrder().PutUint32(b[:], uint32(n))
		return Message{netip.AddrFrom4(b).String()}, nil
	}
	if err := a.Exclusive("s", "S"); err != nil {
		return nil, err
	}
	if err := a.Exclusive("x", "d"); err != nil {
		return nil, err
	}
	if a.Has("s") || a.Has("S") {
		return netSockets(ctx, s, a)
	}
	if a.Has("a") && !a.Has("n") {
		if err := a.NoWords(); err != nil {
			return nil, err
		}
		return netARP(s)
	}
	if a.Has("x") || a.Has("d") || a.Has("R") {
		return nil, &UsageError{"-" + a.Last("x", "d", "R") + " needs -s or -S"}
	}
	nw := k.Network()
	var ns uint64
	var err error
	if a.Has("n") {
		if len(a.Words) > 1 {
			return nil, &UsageError{"invalid argument: " + a.Words[1]}
		}
		arg := ""
		if len(a.Words) == 1 {
			arg = a.Words[0]
		}
		task, err := contextOrPanic(s, arg)
		if err != nil {
			return nil, err
		}
		if ns, err = nw.TaskNetNS(task); err != nil {
			return nil, err
		}
	} else {
		if err := a.NoWords(); err != nil {
			return nil, err
		}
		if ns, err = nw.InitNet(); err != nil {
			return nil, err
		}
	}
	devs, err := nw.Devices(ns)
	res := &NetDevices{Net: Hex(ns), Devices: []NetDevRow{}}
	for _, d := range devs {
		row := NetDevRow{Device: Hex(d.Addr), Name: d.Name, IPv4: []string{}}
		for _, ip := range d.IPv4 {
			row.IPv4 = append(row.IPv4, netip.AddrFrom4(ip).String())
		}
		res.Devices = append(res.Devices, row)
	}
	return res, err
}

func (n *NetDevices) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("%s  NAME   IP ADDRESS(ES)\n", center(16, "NET_DEVICE", false))
	for _, d := range n.Devices {
		tw.printf("%016x  %-6s %s\n", uint64(d.Device), d.Name, strings.Join(d.IPv4, ", "))
	}
	return tw.err
}
