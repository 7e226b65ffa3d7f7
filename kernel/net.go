package kernel

import (
	"fmt"
	"strings"
)

// NetDevice is one struct net_device of a network namespace.
type NetDevice struct {
	Addr uint64
	Name string
	IPv4 [][4]byte // in_device's ifa_list, in list order
}

// Network reads the kernel's network namespaces and devices.
type Network struct{ d objDeps }

// Network returns the reader of the kernel's network state.
func (k *Kernel) Network() *Network { return &Network{k.objDeps()} }

// TaskNetNS is the struct net of a task's namespaces (task->nsproxy->net_ns);
// a task without an nsproxy (an exited one) has none.
func (n *Network) TaskNetNS(task uint64) (uint64, error) {
	o := n.d.obj()
	ns := o.u64(task + o.off("task_struct", "nsproxy"))
	if o.err != nil {
		return 0, o.err
	}
	if ns == 0 {
		return 0, fmt.Errorf("cannot determine net_namespace location!")
	}
	net := o.u64(ns + o.off("nsproxy", "net_ns"))
	return net, o.err
}

// InitNet is the address of init_net.
func (n *Network) InitNet() (uint64, error) { return n.d.SymbolAddr("init_net") }

// Devices lists the devices of the namespace net (dev_base_head), each
// with its IPv4 addresses.
func (n *Network) Devices(net uint64) ([]NetDevice, error) {
	o := n.d.obj()
	head := net + o.off("net", "dev_base_head")
	link := o.off("net_device", "dev_list")
	nameOff := o.off("net_device", "name")
	ipOff := o.off("net_device", "ip_ptr")
	ifaList := o.off("in_device", "ifa_list")
	ifaAddr := o.off("in_ifaddr", "ifa_address")
	ifaNext := o.off("in_ifaddr", "ifa_next")
	if o.err != nil {
		return nil, o.err
	}
	// A device that cannot be read whole (its name, its addresses) costs
	// that device, named in the UnreadableObjectsError.
	var out []NetDevice
	var bad UnreadableObjectsError
	err := walkList(n.d, head, func(node uint64) error {
		o := n.d.obj()
		dev := NetDevice{Addr: node - link}
		dev.Name = o.str(dev.Addr+nameOff, 16)
		if ip := o.u64(dev.Addr + ipOff); ip != 0 {
			seen := map[uint64]bool{}
			for ifa := o.u64(ip + ifaList); ifa != 0 && !seen[ifa] && o.err == nil; ifa = o.u64(ifa + ifaNext) {
				seen[ifa] = true
				var a [4]byte
				copy(a[:], o.bytes(ifa+ifaAddr, 4))
				dev.IPv4 = append(dev.IPv4, a)
			}
		}
		if o.err != nil {
			bad = append(bad, fmt.Errorf("net_device %x: %w", dev.Addr, o.err))
			return nil
		}
		out = append(out, dev)
		return nil
	})
	return out, bad.or(err)
}

// Socket is one open socket of a task: its file descriptor, struct socket
// (the socket_alloc that holds the inode) and struct sock, and what
// crash's net -s shows of it.
type Socket struct {
	FD           int
	File, Socket uint64
	Sock         uint64
	Family, Type uint16
	// Inode is the socket inode's number (i_ino: /proc/net's inode column,
	// /proc/PID/fd's socket:[N]); State is sock_common.skc_state (TCP_*:
	// TCP, UDP and UNIX sockets alike).
	Inode uint64
	State uint8
	// The INET and INET6 ends: addresses as they lie in memory (network
	// order) and ports in host order.
	SrcIP, DstIP     []byte
	SrcPort, DstPort uint16
	Err              error // what could not be read of this socket (TaskSockets leaves it out)
}

// AF_INET and AF_INET6.
const (
	AFInet  = 2
	AFInet6 = 10
)

// TaskSockets lists the sockets among the open files of task, in
// descriptor order: the files whose inode is a socket (S_IFSOCK). An open
// file whose inode cannot be read (so that it cannot be told a socket or
// not), or a socket whose struct socket or sock cannot be read, costs that
// file: the rest come back with an UnreadableObjectsError naming each one
// left out (and the task's own error, when its open files could not all be
// listed).
func (n *Network) TaskSockets(fs *FileSystem, task uint64) ([]Socket, error) {
	tf, err := fs.TaskFiles(task)
	var out []Socket
	var bad UnreadableObjectsError
	for _, f := range tf.Open {
		if f.Err != nil && (f.Inode == 0 || f.Info.Mode&SIFMT == 0) {
			bad = append(bad, fmt.Errorf("file %x (fd %d): %w", f.File, f.FD, f.Err))
			continue
		}
		if f.Inode == 0 || f.Info.Mode&SIFMT != SIFSOCK {
			continue
		}
		s := n.socket(f.FD, f.File, f.Inode)
		if s.Err != nil {
			bad = append(bad, fmt.Errorf("socket %x (fd %d): %w", s.Socket, f.FD, s.Err))
			continue
		}
		out = append(out, s)
	}
	if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("task %x", task)) {
		err = fmt.Errorf("task %x: %w", task, err)
	}
	if len(bad) == 0 {
		return out, err
	}
	return out, bad.or(err)
}

func (n *Network) socket(fd int, file, inode uint64) Socket {
	o := n.d.obj()
	s := Socket{FD: fd, File: file}
	s.Socket = inode - o.off("socket_alloc", "vfs_inode")
	s.Sock = o.u64(s.Socket + o.off("socket", "sk"))
	if o.err != nil || s.Sock == 0 {
		s.Err = o.err
		return s
	}
	s.Inode = o.u64(inode + o.off("inode", "i_ino"))
	common := s.Sock + o.off("sock", "__sk_common")
	s.Family = o.u16(common + o.off("sock_common", "skc_family"))
	s.State = o.u8(common + o.off("sock_common", "skc_state"))
	s.Type = o.u16(s.Sock + o.off("sock", "sk_type"))
	port := func(addr uint64) uint16 { b := o.bytes(addr, 2); return uint16(b[0])<<8 | uint16(b[1]) }
	switch s.Family {
	case AFInet:
		s.SrcIP = o.bytes(common+o.off("sock_common", "skc_rcv_saddr"), 4)
		s.DstIP = o.bytes(common+o.off("sock_common", "skc_daddr"), 4)
	case AFInet6:
		s.SrcIP = o.bytes(common+o.off("sock_common", "skc_v6_rcv_saddr"), 16)
		s.DstIP = o.bytes(common+o.off("sock_common", "skc_v6_daddr"), 16)
	}
	if s.Family == AFInet || s.Family == AFInet6 {
		s.SrcPort = port(s.Sock + o.off("inet_sock", "inet_sport"))
		s.DstPort = port(common + o.off("sock_common", "skc_dport"))
	}
	s.Err = o.err
	return s
}

// Neighbour is one entry of the ARP cache (arp_tbl's hash table).
type Neighbour struct {
	Addr     uint64
	IP       [4]byte
	HWAddr   []byte // the device's addr_len bytes of neighbour.ha
	DevName  string
	DevType  uint16 // net_device.type (ARPHRD_*)
	NUDState uint8
}

// ARP lists the ARP cache: each bucket of arp_tbl's neigh_hash_table in
// order, each bucket's chain (neighbour.next; the hlist neighbour.hash on
// kernels that have it).
func (n *Network) ARP() ([]Neighbour, error) {
	o := n.d.obj()
	tbl := o.sym("arp_tbl")
	if o.err != nil {
		return nil, fmt.Errorf("arp_tbl does not exist in this kernel")
	}
	nht := o.u64(tbl + o.off("neigh_table", "nht"))
	buckets := 1 << o.u32(nht+o.off("neigh_hash_table", "hash_shift"))
	var hash uint64
	if o.has("neigh_hash_table", "hash_heads") {
		hash = o.u64(nht + o.off("neigh_hash_table", "hash_heads"))
	} else {
		hash = o.u64(nht + o.off("neigh_hash_table", "hash_buckets"))
	}
	key := o.off("neighbour", "primary_key")
	ha := o.off("neighbour", "ha")
	devOff := o.off("neighbour", "dev")
	nud := o.off("neighbour", "nud_state")
	name := o.off("net_device", "name")
	typ := o.off("net_device", "type")
	alen := o.off("net_device", "addr_len")
	hlist := o.has("neighbour", "hash")
	var next uint64
	if hlist {
		next = o.off("neighbour", "hash")
	} else {
		next = o.off("neighbour", "next")
	}
	if o.err != nil {
		return nil, o.err
	}
	if buckets > 1<<24 {
		return nil, fmt.Errorf("arp_tbl: %d hash buckets is not believable", buckets)
	}
	var out []Neighbour
	seen := map[uint64]bool{}
	for i := 0; i < buckets && o.err == nil; i++ {
		ne := o.u64(hash + uint64(8*i))
		if hlist && ne != 0 {
			ne -= next
		}
		for ne != 0 && o.err == nil {
			if seen[ne] || len(seen) > maxListLen {
				return out, fmt.Errorf("arp_tbl: bucket %d loops at %x", i, ne)
			}
			seen[ne] = true
			e := Neighbour{Addr: ne, NUDState: o.u8(ne + nud)}
			copy(e.IP[:], o.bytes(ne+key, 4))
			dev := o.u64(ne + devOff)
			e.DevName = o.str(dev+name, 16)
			e.DevType = o.u16(dev + typ)
			e.HWAddr = o.bytes(ne+ha, int(o.u8(dev+alen)))
			out = append(out, e)
			ne = o.u64(ne + next)
			if hlist && ne != 0 {
				ne -= next
			}
		}
	}
	return out, o.err
}
