package kernel

import (
	"fmt"
	"strings"
)

// Resource is one struct resource of the I/O port or I/O memory tree, at
// its depth below the root (the root, ioport_resource or iomem_resource,
// is depth 0).
type Resource struct {
	Addr       uint64
	Start, End uint64
	Name       string // "" when the name cannot be read
	NameOK     bool
	Depth      int
}

// Resources walks the resource tree rooted at the symbol root
// ("ioport_resource", "iomem_resource") in pre-order: each resource, then
// its children, then its next sibling.
func (v *Devices) Resources(root string) ([]Resource, error) {
	o := v.d.obj()
	top := o.sym(root)
	start := o.off("resource", "start")
	end := o.off("resource", "end")
	name := o.off("resource", "name")
	child := o.off("resource", "child")
	sibling := o.off("resource", "sibling")
	if o.err != nil {
		return nil, o.err
	}
	// A resource that cannot be read costs it, its children and the
	// siblings after it (the UnreadableObjectsError names it); the walk
	// goes on with its parent's next sibling.
	var out []Resource
	var bad UnreadableObjectsError
	seen := map[uint64]bool{}
	var walk func(r uint64, depth int) error
	walk = func(r uint64, depth int) error {
		for r != 0 {
			if seen[r] || len(seen) > maxListLen {
				return fmt.Errorf("%s: the resource tree loops at %x", root, r)
			}
			seen[r] = true
			e := v.d.obj()
			res := Resource{Addr: r, Start: e.u64(r + start), End: e.u64(r + end), Depth: depth}
			np := e.u64(r + name)
			c, next := e.u64(r+child), e.u64(r+sibling)
			if e.err != nil {
				bad = append(bad, fmt.Errorf("resource %x: %w", r, e.err))
				return nil
			}
			if s, err := readCString(v.d, np, 1024); err == nil && np != 0 {
				res.Name, res.NameOK = s, true
			}
			out = append(out, res)
			if c != 0 && c != r {
				if err := walk(c, depth+1); err != nil {
					return err
				}
			}
			r = next
		}
		return nil
	}
	if err := walk(top, 0); err != nil {
		return out, err
	}
	return out, bad.or(nil)
}

// PCIBus is one struct pci_bus: its name (the kobject's, "0000:00"), the
// bridge device that leads to it (Self, 0 for a root bus), its devices in
// list order and its child buses.
type PCIBus struct {
	Addr, Parent uint64
	Name         string
	Self         *PCIDevice
	Devices      []PCIDevice
	Children     []PCIBus
}

// PCIDevice is one struct pci_dev.
type PCIDevice struct {
	Addr           uint64
	Name           string // "0000:00:01.1"
	Class          uint32 // pci_dev.class >> 8
	Vendor, Device uint16
	HdrType        uint8
	PCIeFlags      uint16
	HasPCIeFlags   bool // the kernel has pci_dev.pcie_flags_reg
}

// PCIRootBuses lists pci_root_buses, each bus with its devices and
// (recursively) its child buses.
func (v *Devices) PCIRootBuses() ([]PCIBus, error) {
	o := v.d.obj()
	head := o.sym("pci_root_buses")
	node := o.off("pci_bus", "node")
	if o.err != nil {
		return nil, o.err
	}
	var out []PCIBus
	err := walkList(v.d, head, func(n uint64) error {
		b, err := v.pciBus(n-node, 0)
		out = append(out, b)
		return err
	})
	return out, err
}

func (v *Devices) pciBus(bus uint64, depth int) (PCIBus, error) {
	if depth > 64 {
		return PCIBus{Addr: bus}, fmt.Errorf("pci_bus %x: buses nested too deep", bus)
	}
	o := v.d.obj()
	b := PCIBus{Addr: bus}
	b.Parent = o.u64(bus + o.off("pci_bus", "parent"))
	b.Name = v.kobjName(o, bus+o.off("pci_bus", "dev"))
	self := o.u64(bus + o.off("pci_bus", "self"))
	devs := bus + o.off("pci_bus", "devices")
	children := bus + o.off("pci_bus", "children")
	busList := o.off("pci_dev", "bus_list")
	node := o.off("pci_bus", "node")
	if o.err != nil {
		return b, o.err
	}
	if self != 0 {
		d, err := v.pciDev(self)
		b.Self = &d
		if err != nil {
			return b, err
		}
	}
	err := walkList(v.d, devs, func(n uint64) error {
		d, err := v.pciDev(n - busList)
		b.Devices = append(b.Devices, d)
		return err
	})
	if err != nil {
		return b, err
	}
	err = walkList(v.d, children, func(n uint64) error {
		c, err := v.pciBus(n-node, depth+1)
		b.Children = append(b.Children, c)
		return err
	})
	return b, err
}

// kobjName is the name of the struct device at dev (its kobject's).
func (v *Devices) kobjName(o *obj, dev uint64) string {
	p := o.u64(dev + o.off("device", "kobj") + o.off("kobject", "name"))
	return o.str(p, 256)
}

func (v *Devices) pciDev(addr uint64) (PCIDevice, error) {
	o := v.d.obj()
	d := PCIDevice{Addr: addr}
	d.Name = v.kobjName(o, addr+o.off("pci_dev", "dev"))
	d.Class = o.u32(addr+o.off("pci_dev", "class")) >> 8
	d.Vendor = o.u16(addr + o.off("pci_dev", "vendor"))
	d.Device = o.u16(addr + o.off("pci_dev", "device"))
	d.HdrType = o.u8(addr + o.off("pci_dev", "hdr_type"))
	if o.has("pci_dev", "pcie_flags_reg") {
		d.HasPCIeFlags = true
		d.PCIeFlags = o.u16(addr + o.off("pci_dev", "pcie_flags_reg"))
	}
	if o.err != nil {
		return d, fmt.Errorf("pci_dev %x: %w", addr, o.err)
	}
	return d, nil
}

// Disk is one gendisk of the block class, with its in-flight requests.
type Disk struct {
	Gendisk, Queue uint64
	Major          int
	Name           string
	// Async and Sync (Read and Write on kernels without BLK_RW_SYNC) are
	// the requests in flight: a bio-based queue's from its disk_stats, a
	// blk-mq queue's counted as crash counts them (mqInFlight).
	Async, Sync uint64
	// InDriver is request_queue.in_flight's sum (kernels before 5.0 have
	// it); MQ is a blk-mq queue.
	InDriver uint64
	MQ       bool
}

// DiskIO describes what dev -d reads on this kernel and the disks.
type DiskIO struct {
	SyncCounts bool // the counts are async/sync (the kernel has BLK_RW_SYNC), else read/write
	HasDRV     bool // request_queue has in_flight (requests in the driver)
	Disks      []Disk
}

// skippedDisk reports the disks crash's dev -d leaves out: RAM disks and
// loop devices.
func skippedDisk(name string) bool {
	return strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "loop")
}

// DiskIO lists the disks of the block class (the klist of its
// subsys_private, found through block_class.p, or class_kset on 6.4 and
// later), RAM disks and loop devices left out, each with its requests in
// flight. A disk that cannot be read (its device, gendisk, queue or
// counters) costs that disk: the rest come back with an
// UnreadableObjectsError naming each one left out.
func (v *Devices) DiskIO() (*DiskIO, error) {
	o := v.d.obj()
	res := &DiskIO{HasDRV: o.has("request_queue", "in_flight")}
	if _, _, err := v.enumerator("BLK_RW_SYNC"); err == nil {
		res.SyncCounts = true
	}
	priv, err := v.classPrivate("block")
	if err != nil {
		return res, err
	}
	head := priv + o.off("subsys_private", "klist_devices") + o.off("klist", "k_list")
	nNode := o.off("klist_node", "n_node")
	nKlist := o.off("klist_node", "n_klist")
	knode := o.off("device_private", "knode_class")
	dpDev := o.off("device_private", "device")
	devType := o.off("device", "type")
	diskType := o.sym("disk_type")
	gName := o.off("gendisk", "disk_name")
	gQueue := o.off("gendisk", "queue")
	gMajor := o.off("gendisk", "major")
	if o.err != nil {
		return res, o.err
	}
	var bad UnreadableObjectsError
	err = walkList(v.d, head, func(n uint64) error {
		kn := n - nNode
		e := v.d.obj()
		if e.u64(kn+nKlist)&1 != 0 { // a dead klist node
			return nil
		}
		dp := kn - knode
		dev := e.u64(dp + dpDev)
		if e.err != nil {
			bad = append(bad, fmt.Errorf("device_private %x: %w", dp, e.err))
			return nil
		}
		if e.u64(dev+devType) != diskType || e.err != nil {
			if e.err != nil {
				bad = append(bad, fmt.Errorf("device %x: %w", dev, e.err))
			}
			return nil
		}
		g, err := v.devGendisk(e, dev)
		if err != nil {
			bad = append(bad, fmt.Errorf("device %x: %w", dev, err))
			return nil
		}
		d := Disk{Gendisk: g, Name: e.str(g+gName, 32), Queue: e.u64(g + gQueue), Major: int(int32(e.u32(g + gMajor)))}
		if e.err != nil {
			bad = append(bad, fmt.Errorf("gendisk %x: %w", g, e.err))
			return nil
		}
		if skippedDisk(d.Name) {
			return nil
		}
		if err := v.countInFlight(e, &d); err != nil {
			bad = append(bad, fmt.Errorf("gendisk %x (%s): request_queue %x: %w", g, d.Name, d.Queue, err))
			return nil
		}
		res.Disks = append(res.Disks, d)
		return nil
	})
	return res, bad.or(err)
}

// enumerator is the value of the enumerator name.
func (v *Devices) enumerator(name string) (int64, string, error) {
	if v.d.types == nil {
		return 0, "", fmt.Errorf("no vmlinux: %s is not known", name)
	}
	ts, err := v.d.types.Types()
	if err != nil {
		return 0, "", err
	}
	val, _, err := ts.Enumerator(name)
	return val, name, err
}

// classPrivate is the subsys_private of the device class name: class.p
// before 6.4, else the kset on class_kset's list whose kobject has the
// name.
func (v *Devices) classPrivate(name string) (uint64, error) {
	o := v.d.obj()
	if o.has("class", "p") {
		p := o.u64(o.sym(name+"_class") + o.off("class", "p"))
		if o.err == nil && p == 0 {
			return 0, fmt.Errorf("cannot determine subsys_private for %s", name)
		}
		return p, o.err
	}
	kset := o.u64(o.sym("class_kset"))
	head := kset + o.off("kset", "list")
	entry := o.off("kobject", "entry")
	kname := o.off("kobject", "name")
	subsysKobj := o.off("subsys_private", "subsys") + o.off("kset", "kobj")
	if o.err != nil {
		return 0, o.err
	}
	// The walk ends at the class: a class after it that cannot be read
	// (its node on the list, so the rest of the list) does not matter; one
	// before it does not either when the list, walked backwards from its
	// head (list_head.prev), reaches the class first.
	var found uint64
	visit := func(n uint64) error {
		e := v.d.obj()
		kobj := n - entry
		if e.str(e.u64(kobj+kname), 64) == name && e.err == nil {
			found = kobj - subsysKobj
			return errStopWalk
		}
		if e.err != nil {
			return fmt.Errorf("class_kset: kobject %x: %w", kobj, e.err)
		}
		return nil
	}
	err := walkList(v.d, head, visit)
	if err != nil && found == 0 {
		if walkListFrom(v.d, head, o.off("list_head", "prev"), visit) == nil && found != 0 {
			err = nil
		}
	}
	if err == nil && found == 0 {
		err = fmt.Errorf("cannot determine subsys_private for %s", name)
	}
	return found, err
}

// devGendisk is the gendisk of the disk's struct device: hd_struct's
// __dev in part0 before 5.11, else block_device.bd_disk of the
// block_device that holds the device.
func (v *Devices) devGendisk(o *obj, dev uint64) (uint64, error) {
	if o.has("hd_struct", "__dev") {
		return dev - o.off("hd_struct", "__dev") - o.off("gendisk", "part0"), o.err
	}
	g := o.u64(dev - o.off("block_device", "bd_device") + o.off("block_device", "bd_disk"))
	return g, o.err
}

// countInFlight fills a disk's requests in flight: a blk-mq queue's
// (request_queue.mq_ops set) counted by mqInFlight, a bio-based one's
// from its per-CPU disk_stats (part0's dkstats before 5.11, else
// bd_stats) and request_queue.in_flight where the kernel has it.
func (v *Devices) countInFlight(o *obj, d *Disk) error {
	if o.has("request_queue", "mq_ops") && d.Queue != 0 && o.u64(d.Queue+o.off("request_queue", "mq_ops")) != 0 {
		d.MQ = true
		if o.err != nil {
			return o.err
		}
		var err error
		d.Async, d.Sync, err = v.mqInFlight(d.Queue)
		return err
	}
	if o.has("request_queue", "in_flight") && d.Queue != 0 {
		p := d.Queue + o.off("request_queue", "in_flight")
		d.InDriver = uint64(o.u32(p))
		if n, err := v.d.memberArrayLen("request_queue", "in_flight"); err == nil && n == 2 {
			d.InDriver += uint64(o.u32(p + 4))
		}
	}
	var stats uint64
	switch {
	case o.has("hd_struct", "dkstats"):
		stats = o.u64(d.Gendisk + o.off("gendisk", "part0") + o.off("hd_struct", "dkstats"))
	case o.has("block_device", "bd_stats"):
		part0 := o.u64(d.Gendisk + o.off("gendisk", "part0"))
		stats = o.u64(part0 + o.off("block_device", "bd_stats"))
	}
	if stats == 0 || !o.has("disk_stats", "in_flight") || o.err != nil {
		return o.err
	}
	n, err := v.d.cpus()
	if err != nil {
		return err
	}
	inFlight := o.off("disk_stats", "in_flight")
	for cpu := 0; cpu < n; cpu++ {
		off, err := v.d.sys.PerCPUOffset(cpu)
		if err != nil {
			return err
		}
		p := stats + off + inFlight
		d.Async += o.u64(p)
		d.Sync += o.u64(p + 8)
	}
	return o.err
}
