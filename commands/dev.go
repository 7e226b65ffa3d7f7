package commands

import (
	"context"
	"fmt"
	"io"
)

func devCommand() *Command {
	return &Command{
		Name:     "dev",
		Synopsis: "dev [-i | -p | -d | -D] [-V | -v index [file]]",
		Summary:  "device data",
		Help: `Displays the character and block device registrations: each
char_device_struct of chrdevs[] (its major number, name, struct cdev and the
cdev's file operations; a region without a cdev of its own is looked up in
cdev_map's probes, and shows "(none)" when it has none), then each
blk_major_name of major_names[] with a gendisk of that major (from bdev_map's
probes before 5.11, else from the block device inodes) and the gendisk's
block_device_operations.

-i shows the I/O port and I/O memory resource trees (ioport_resource and
iomem_resource): each struct resource, its range and its name, children
after their parent. -p shows the PCI buses of pci_root_buses, each bus's
devices (address, domain:bus:slot.function, class, vendor:device and PCI
Express type) and its child buses. -d shows the disks of the block class
(RAM disks and loop devices left out) with their requests in flight: TOTAL,
then ASYNC and SYNC (READ and WRITE on kernels without BLK_RW_SYNC), and DRV
where request_queue has in_flight ("N/A(MQ)" for a blk-mq queue). A blk-mq
queue's requests are counted as crash counts them: on kernels whose struct
request has state, the requests of each hardware context's tags (reserved
and normal) that belong to the queue and are in flight, reads and writes
by the request's operation; before, each CPU's software queue's dispatched
less completed requests. A bio-based queue's come from the disk's per-CPU
disk_stats. A disk that cannot be read is named in one line and left out.
-D is -d without the disks that have no request in flight.

-V lists the device dumps of the dump file (the vmcoredd notes a kernel
with CONFIG_PROC_VMCORE_DEVICE_DUMP adds for drivers that have one): each
one's index, where its data starts in the dump file, its size and its
device. -v index shows the data of the device dump of that index as 64-bit
words at their file offsets, or with a file name copies it to that file.`,
		Options: []Option{
			{"-i", "the I/O port and I/O memory resources"},
			{"-p", "the PCI buses and devices"},
			{"-d", "the disks' requests in flight"},
			{"-D", "as -d, only the disks with requests in flight"},
			{"-V", "the device dumps in the dump file"},
			{"-v index", "the data of the device dump of that index (to the file, if one is named)"},
			{"file", "with -v: the file the device dump is copied to"},
		},
		Examples: []string{"gocrash> dev", "gocrash> dev -i", "gocrash> dev -p", "gocrash> dev -d", "gocrash> dev -V", "gocrash> dev -v 0 /tmp/dd0.bin"},
		Results:  []Result{&DevTable{}, &DevResources{}, &DevPCI{}, &DevDiskIO{}, &DevDumps{}, &DevDeviceDump{}},
		Run:      runDev,
	}
}

// DevTable is dev's listing.
type DevTable struct {
	Char  []CharDevRow  `json:"chrdevs"`
	Block []BlockDevRow `json:"blkdevs"`
}

// CharDevRow is one character device region.
type CharDevRow struct {
	Major      int    `json:"major"`
	BaseMinor  int    `json:"baseminor"`
	Name       string `json:"name"`
	Cdev       Hex    `json:"cdev"`
	Operations Hex    `json:"operations"`
	Symbol     string `json:"symbol"`
}

// BlockDevRow is one block major.
type BlockDevRow struct {
	Major      int    `json:"major"`
	Name       string `json:"name"`
	Gendisk    Hex    `json:"gendisk"`
	Operations Hex    `json:"operations"`
	Symbol     string `json:"symbol"`
}

func runDev(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.Exclusive("i", "p", "d", "D", "V", "v"); err != nil {
		return nil, err
	}
	if v, ok := a.Value("v"); ok {
		return devDeviceDump(s, v, a.Words)
	}
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	switch {
	case a.Has("i"):
		return devResources(s)
	case a.Has("p"):
		return devPCI(s)
	case a.Has("d"), a.Has("D"):
		return devDiskIO(s, a.Has("D"))
	case a.Has("V"):
		return devDumps(s)
	}
	dv := s.Kernel.Devices()
	t := &DevTable{Char: []CharDevRow{}, Block: []BlockDevRow{}}
	// A region or major that cannot be read costs its line (partialErr).
	var missing linesError
	chr, err := dv.CharDevs()
	for _, c := range chr {
		t.Char = append(t.Char, CharDevRow{Major: c.Major, BaseMinor: c.BaseMinor, Name: c.Name, Cdev: Hex(c.Cdev), Operations: Hex(c.Ops), Symbol: symOf(s, c.Ops)})
	}
	if err != nil && !partialErr(err, &missing) {
		return t, err
	}
	blk, err := dv.BlockDevs()
	for _, b := range blk {
		t.Block = append(t.Block, BlockDevRow{Major: b.Major, Name: b.Name, Gendisk: Hex(b.Gendisk), Operations: Hex(b.Ops), Symbol: symOf(s, b.Ops)})
	}
	if err != nil && !partialErr(err, &missing) {
		return t, err
	}
	if len(missing) > 0 {
		return t, missing
	}
	return t, nil
}

func (t *DevTable) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	row := func(major int, name string, obj, ops Hex, sym string) {
		if name == "" {
			name = "(unknown)"
		}
		tw.printf(" %3d      %-13s ", major, name)
		if ops == 0 {
			tw.printf(" %s\n", center(16, "(none)", false))
			return
		}
		if sym == "" {
			sym = fmt.Sprintf("%x", uint64(ops))
		}
		tw.printf(" %16x  %s\n", uint64(obj), sym)
	}
	tw.printf("CHRDEV    NAME           %s  %-16s\n", center(16, "CDEV", false), "OPERATIONS")
	for _, c := range t.Char {
		row(c.Major, c.Name, c.Cdev, c.Operations, c.Symbol)
	}
	tw.printf("\nBLKDEV    NAME           %s  %-16s\n", center(16, "GENDISK", true), "OPERATIONS")
	for _, b := range t.Block {
		row(b.Major, b.Name, b.Gendisk, b.Operations, b.Symbol)
	}
	return tw.err
}
