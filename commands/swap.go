package commands

import (
	"context"
	"fmt"
	"io"
	"strings"
)

func swapCommand() *Command {
	return &Command{
		Name:     "swap",
		Synopsis: "swap",
		Summary:  "swap device information",
		Help: `Lists each swap area in use (the swap_info_struct pointers of swap_info[], the
first nr_swapfiles of them, with SWP_USED set): its swap_info_struct, whether
it is a partition or a file, its size and the part in use in KiB, the
percentage used, its priority and its path. A kernel with no swap in use gives
the header alone.`,
		Examples: []string{"gocrash> swap\nSWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME"},
		Results:  []Result{&SwapResult{}},
		Run:      runSwap,
	}
}

// SwapResult is swap's table.
type SwapResult struct {
	Devices []SwapRow `json:"devices"`
}

// SwapRow is one swap area.
type SwapRow struct {
	SwapInfo Hex    `json:"swap_info_struct"`
	Type     string `json:"type"` // "PARTITION" or "FILE"
	Size     uint64 `json:"size"` // KiB
	Used     uint64 `json:"used"` // KiB
	Percent  uint64 `json:"percent"`
	Priority int    `json:"priority"`
	Filename string `json:"filename"`
}

func (r *SwapResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.println("SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME")
	for _, d := range r.Devices {
		typ := "  FILE   "
		if d.Type == "PARTITION" {
			typ = "PARTITION"
		}
		tw.printf("%s  %s %s %s %s %4d  %s\n", center(16, fmt.Sprintf("%x", uint64(d.SwapInfo)), false), typ,
			center(10, fmt.Sprintf("%dk", d.Size), true), center(10, fmt.Sprintf("%dk", d.Used), true),
			center(4, fmt.Sprintf("%2d%%", d.Percent), true), d.Priority, d.Filename)
	}
	return tw.err
}

func runSwap(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	devs, err := s.Kernel.SwapDevices()
	r := &SwapResult{Devices: []SwapRow{}}
	kib := s.Kernel.Arch.PageSize() / 1024
	for _, d := range devs {
		row := SwapRow{SwapInfo: Hex(d.Addr), Type: "FILE", Size: d.Pages * kib, Used: d.InUse * kib, Priority: d.Prio, Filename: d.Path}
		if d.Partition {
			row.Type = "PARTITION"
		}
		if row.Size > 0 {
			row.Percent = row.Used * 100 / row.Size
		}
		if row.Filename == "" {
			row.Filename = "(unknown)"
		} else if d.Partition && !strings.HasPrefix(row.Filename, "/dev/") {
			// A block device node on devtmpfs: crash names it under /dev.
			row.Filename = "/dev" + row.Filename
		}
		r.Devices = append(r.Devices, row)
	}
	return r, err
}
