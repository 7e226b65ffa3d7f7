package kernel

import "fmt"

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
	var out []NetDevice
	err := walkList(n.d, head, func(node uint64) error {
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
			return o.err
		}
		out = append(out, dev)
		return nil
	})
	return out, err
}
