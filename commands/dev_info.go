package commands

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// DevResources is dev -i: the I/O port and I/O memory resource trees.
type DevResources struct {
	IOPorts []ResourceRow `json:"ioport"`
	IOMem   []ResourceRow `json:"iomem"`
}

// ResourceRow is one struct resource; Depth is its depth below the root
// (ioport_resource or iomem_resource, depth 0).
type ResourceRow struct {
	Resource Hex    `json:"resource"`
	Start    Hex    `json:"start"`
	End      Hex    `json:"end"`
	Name     string `json:"name"`
	Depth    int    `json:"depth"`
}

func devResources(s *Session) (Result, error) {
	if s.Kernel.Arch.Name() == "s390x" {
		return nil, fmt.Errorf("-i option not supported or applicable on this architecture or kernel")
	}
	dv := s.Kernel.Devices()
	res := &DevResources{IOPorts: []ResourceRow{}, IOMem: []ResourceRow{}}
	var missing linesError
	for _, t := range []struct {
		root string
		rows *[]ResourceRow
	}{{"ioport_resource", &res.IOPorts}, {"iomem_resource", &res.IOMem}} {
		rs, err := dv.Resources(t.root)
		for _, r := range rs {
			name := r.Name
			if !r.NameOK {
				name = "(unknown)"
			}
			*t.rows = append(*t.rows, ResourceRow{Resource: Hex(r.Addr), Start: Hex(r.Start), End: Hex(r.End), Name: name, Depth: r.Depth})
		}
		if err != nil && !partialErr(err, &missing) {
			return res, err
		}
	}
	return res, missingErr(missing)
}

func (d *DevResources) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, rows := range [][]ResourceRow{d.IOPorts, d.IOMem} {
		if len(rows) == 0 {
			continue
		}
		digits := 4 // the range's width, from the root's end
		if rows[0].End > 0xffff {
			digits = 8
		}
		if i > 0 {
			tw.printf("\n")
		}
		tw.printf("%s  %s  NAME\n", center(16, "RESOURCE", false), center(2*digits+1, "RANGE", false))
		wrap := 16 + 2 + 2*digits + 1 + 2
		for _, r := range rows {
			tw.printf("%8x  %0*x-%0*x", uint64(r.Resource), digits, uint64(r.Start), digits, uint64(r.End))
			first, rest, split := wrapName(r.Name, wrap)
			tw.printf("  %s\n", first)
			if split {
				tw.printf("%s%s\n", strings.Repeat(" ", wrap), rest)
			}
		}
	}
	return tw.err
}

// wrapName splits a name that would run past column 80 after wrap
// columns at the last space that brings it within (crash's resource
// lists); a name without such a space is not split.
func wrapName(name string, wrap int) (string, string, bool) {
	if wrap+len(name) <= 80 {
		return name, "", false
	}
	over := wrap + len(name) - 80
	for c, i := 0, len(name)-1; i > 0; i, c = i-1, c+1 {
		if name[i] == ' ' && c >= over {
			return name[:i], name[i+1:], true
		}
	}
	return name, "", false
}

// DevPCI is dev -p: the PCI root buses, each with its devices and child
// buses.
type DevPCI struct {
	RootBuses []PCIBusRow `json:"root_buses"`
	pcieType  bool        // the kernel has pci_dev.pcie_flags_reg: a TYPE column
}

// PCIBusRow is one struct pci_bus.
type PCIBusRow struct {
	Bus      Hex         `json:"pci_bus"`
	Parent   Hex         `json:"parent"`
	Name     string      `json:"name"`
	Self     *PCIDevRow  `json:"self,omitempty"`
	Devices  []PCIDevRow `json:"devices"`
	Children []PCIBusRow `json:"children"`
}

// PCIDevRow is one struct pci_dev.
type PCIDevRow struct {
	Dev    Hex    `json:"pci_dev"`
	Name   string `json:"name"`
	Class  string `json:"class"`
	ID     string `json:"pci_id"`
	Type   string `json:"type,omitempty"`
	Vendor uint16 `json:"vendor"`
	Device uint16 `json:"device"`
}

func devPCI(s *Session) (Result, error) {
	if s.Kernel.Arch.Name() == "s390x" {
		return nil, fmt.Errorf("-p option not supported or applicable on this architecture or kernel")
	}
	if _, err := s.Kernel.SymbolAddr("pci_root_buses"); err != nil {
		return nil, fmt.Errorf("-p option not supported or applicable on this architecture or kernel")
	}
	buses, err := s.Kernel.Devices().PCIRootBuses()
	if err == nil && len(buses) == 0 {
		return nil, fmt.Errorf("no PCI devices found on this system.")
	}
	res := &DevPCI{RootBuses: []PCIBusRow{}}
	for _, b := range buses {
		res.RootBuses = append(res.RootBuses, pciBusRow(b, &res.pcieType))
	}
	return res, err
}

func pciBusRow(b kernel.PCIBus, pcie *bool) PCIBusRow {
	row := PCIBusRow{Bus: Hex(b.Addr), Parent: Hex(b.Parent), Name: b.Name, Devices: []PCIDevRow{}, Children: []PCIBusRow{}}
	if b.Self != nil {
		d := pciDevRow(*b.Self, pcie)
		row.Self = &d
	}
	for _, d := range b.Devices {
		row.Devices = append(row.Devices, pciDevRow(d, pcie))
	}
	for _, c := range b.Children {
		row.Children = append(row.Children, pciBusRow(c, pcie))
	}
	return row
}

// The PCI Express device/port types (PCI_EXP_FLAGS_TYPE of the
// capability's flags), by number.
var pcieTypes = map[int]string{0: "ENDPOINT", 1: "LEG_END", 4: "ROOT_PORT", 5: "UPSTREAM", 6: "DOWNSTREAM",
	7: "PCI_BRIDGE", 8: "PCIE_BRIDGE", 9: "RC_END", 10: "RC_EC"}

func pciDevRow(d kernel.PCIDevice, pcie *bool) PCIDevRow {
	row := PCIDevRow{Dev: Hex(d.Addr), Name: d.Name, Class: fmt.Sprintf("%04x", d.Class),
		ID: fmt.Sprintf("%x:%x", d.Vendor, d.Device), Vendor: d.Vendor, Device: d.Device}
	if d.HasPCIeFlags {
		*pcie = true
		row.Type = pcieTypes[int(d.PCIeFlags&0xf0)>>4]
	}
	if d.HdrType == 1 || d.HdrType == 2 { // PCI_HEADER_TYPE_BRIDGE, _CARDBUS
		row.Type += " [BRIDGE]"
	}
	return row
}

func (p *DevPCI) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	devHdr := fmt.Sprintf("%s %s %s %s", center(16, "PCI DEV", false), center(12, "DO:BU:SL.FN", false), center(6, "CLASS", false), center(9, "PCI_ID", false))
	if p.pcieType {
		devHdr += " " + center(10, "TYPE", false)
	}
	dev := func(d PCIDevRow) {
		tw.printf("  %-16x %s %s %s %s\n", uint64(d.Dev), center(12, d.Name, false), center(6, d.Class, false), center(9, d.ID, false), center(10, d.Type, false))
	}
	devices := func(b PCIBusRow) {
		tw.printf("  %s\n", devHdr)
		if b.Self != nil {
			dev(*b.Self)
		}
		for _, d := range b.Devices {
			dev(d)
		}
	}
	var buses func(b PCIBusRow)
	buses = func(b PCIBusRow) {
		for _, c := range b.Children {
			tw.printf("  %s %s\n", center(16, "PCI BUS", false), center(16, "PARENT BUS", false))
			tw.printf("  %-16x %-16x\n", uint64(c.Bus), uint64(c.Parent))
			devices(c)
			tw.printf("\n")
			buses(c)
		}
	}
	for _, b := range p.RootBuses {
		tw.printf("%s %s\n", center(16, "ROOT BUS", false), center(7, "BUSNAME", false))
		tw.printf("%-16x %s\n", uint64(b.Bus), center(7, b.Name, false))
		devices(b)
		buses(b)
		tw.printf("\n")
	}
	return tw.err
}

// DevDiskIO is dev -d and -D: the disks and their requests in flight.
type DevDiskIO struct {
	// Columns names the two counts: "ASYNC", "SYNC" or "READ", "WRITE".
	Columns [2]string   `json:"columns"`
	DRV     bool        `json:"drv_column"`
	Disks   []DiskIORow `json:"disks"`
}

// DiskIORow is one disk.
type DiskIORow struct {
	Major   int       `json:"major"`
	Gendisk Hex       `json:"gendisk"`
	Name    string    `json:"name"`
	Queue   Hex       `json:"request_queue"`
	Total   uint64    `json:"total"`
	Counts  [2]uint64 `json:"counts"`
	// InDriver is request_queue.in_flight, on kernels that have it (the
	// DRV column) and a queue that is not blk-mq (MQ).
	InDriver uint64 `json:"in_driver"`
	MQ       bool   `json:"mq"`
}

func devDiskIO(s *Session, nonzero bool) (Result, error) {
	io, err := s.Kernel.Devices().DiskIO()
	if io == nil {
		return nil, err
	}
	// A disk that cannot be read costs its line (partialErr).
	var missing linesError
	if err != nil && !partialErr(err, &missing) {
		missing = append(missing, err)
	}
	res := &DevDiskIO{Columns: [2]string{"READ", "WRITE"}, DRV: io.HasDRV, Disks: []DiskIORow{}}
	if io.SyncCounts {
		res.Columns = [2]string{"ASYNC", "SYNC"}
	}
	for _, d := range io.Disks {
		row := DiskIORow{Major: d.Major, Gendisk: Hex(d.Gendisk), Name: d.Name, Queue: Hex(d.Queue), Total: d.Async + d.Sync, Counts: [2]uint64{d.Async, d.Sync}, InDriver: d.InDriver, MQ: d.MQ}
		if nonzero && row.Total == 0 {
			continue
		}
		res.Disks = append(res.Disks, row)
	}
	return res, missingErr(missing)
}

func (d *DevDiskIO) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	drv := ""
	if d.DRV {
		drv = "  DRV"
	}
	tw.printf("MAJOR %-18s NAME       %-18s %5s %5s %5s %s\n", "GENDISK", "REQUEST_QUEUE", "TOTAL", d.Columns[0], d.Columns[1], drv)
	for _, r := range d.Disks {
		tw.printf("%5d %-16x   %-10s %-16x   %5d %5d %5d ", r.Major, uint64(r.Gendisk), r.Name, uint64(r.Queue), r.Total, r.Counts[0], r.Counts[1])
		switch {
		case !d.DRV:
			tw.printf("\n")
		case r.MQ:
			tw.printf("N/A(MQ)\n")
		default:
			tw.printf("%5d\n", r.InDriver)
		}
	}
	return tw.err
}

// DevDumps is dev -V: the device dumps (vmcoredd notes) of the dump file.
type DevDumps struct {
	Dumps []DevDumpRow `json:"device_dumps"`
}

// DevDumpRow is one device dump: its index, where its data starts in the
// dump file, its size and its device's name.
type DevDumpRow struct {
	Index  int    `json:"index"`
	Offset Hex    `json:"offset"`
	Size   int    `json:"size"`
	Name   string `json:"name"`
	data   []byte
}

// vmcoreddNote is NT_VMCOREDD, the type of a device dump's ELF note; its
// descriptor is the device's name (vmcoreddNameLen bytes) and its data,
// which starts vmcoreddHeader bytes into the note (struct vmcoredd_header:
// the note header, the name "LINUX" padded to 8 bytes and the device's).
const (
	vmcoreddNote    = 0x700
	vmcoreddNameLen = 44
	vmcoreddHeader  = 12 + 8 + vmcoreddNameLen
)

// deviceDumps lists the dump file's device dumps, or crash's error when
// it has none.
func deviceDumps(s *Session) ([]DevDumpRow, error) {
	var out []DevDumpRow
	for _, n := range s.Kernel.Dump.Notes {
		if n.Type != vmcoreddNote || len(n.Desc) < vmcoreddNameLen {
			continue
		}
		name, _, _ := strings.Cut(string(n.Desc[:vmcoreddNameLen]), "\x00")
		out = append(out, DevDumpRow{Index: len(out), Offset: Hex(n.Offset + vmcoreddHeader), Size: len(n.Desc) - vmcoreddNameLen,
			Name: name, data: n.Desc[vmcoreddNameLen:]})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no device dumps found in this dumpfile")
	}
	return out, nil
}

func devDumps(s *Session) (Result, error) {
	dumps, err := deviceDumps(s)
	if err != nil {
		return nil, err
	}
	return &DevDumps{Dumps: dumps}, nil
}

func (d *DevDumps) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("INDEX  %-16s   %-16s NAME\n", "OFFSET", "SIZE")
	for _, r := range d.Dumps {
		tw.printf("%s  0x%-16x %-16d %s\n", center(5, fmt.Sprint(r.Index), false), uint64(r.Offset), r.Size, r.Name)
	}
	return tw.err
}

// DevDeviceDump is dev -v: one device dump's data, shown as 64-bit words
// at their dump file offsets (Memory), or copied to a file (Copy).
type DevDeviceDump struct {
	Index  int           `json:"index"`
	Name   string        `json:"name"`
	Memory *RDResult     `json:"memory,omitempty"`
	Copy   *RDCopyResult `json:"copy,omitempty"`
}

func devDeviceDump(s *Session, index string, words []string) (Result, error) {
	if len(words) > 1 {
		return nil, &UsageError{"too many arguments"}
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 {
		return nil, &UsageError{"invalid device dump index: " + index}
	}
	dumps, err := deviceDumps(s)
	if err != nil {
		return nil, err
	}
	if i >= len(dumps) {
		return nil, fmt.Errorf("no device dump found at index: %d", i)
	}
	dd := dumps[i]
	res := &DevDeviceDump{Index: i, Name: dd.Name}
	if len(words) == 1 {
		if err := os.WriteFile(words[0], dd.data, 0o644); err != nil {
			return nil, fmt.Errorf("cannot open output file: %s", words[0])
		}
		res.Copy = &RDCopyResult{Address: dd.Offset, Bytes: uint64(len(dd.data)), File: words[0]}
		return res, nil
	}
	// crash shows the data's 64-bit words, the last one whole (beyond the
	// data: the note's padding, here zeros).
	m := &RDResult{Kind: "64-bit FILEADDR", Size: 8, Rows: []RDRow{}, fileOffsets: true}
	data := append([]byte(nil), dd.data...)
	for len(data)%8 != 0 {
		data = append(data, 0)
	}
	order := s.byteOrder()
	for off := 0; off < len(data); off += 16 {
		line := data[off:min(off+16, len(data))]
		row := RDRow{Address: dd.Offset + Hex(off), ASCII: printable(line)}
		for j := 0; j < len(line); j += 8 {
			v := order.Uint64(line[j:])
			row.raw = append(row.raw, v)
			row.Values = append(row.Values, Hex(v))
		}
		m.Rows = append(m.Rows, row)
	}
	res.Memory = m
	return res, nil
}

func (d *DevDeviceDump) Text(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "DEVICE: %s\n", d.Name); err != nil {
		return err
	}
	if d.Copy != nil {
		return d.Copy.Text(w)
	}
	return d.Memory.Text(w)
}
