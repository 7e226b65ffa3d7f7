package commands

import (
	"context"
	"fmt"
	"io"
)

func devCommand() *Command {
	return &Command{
		Name:     "dev",
		Synopsis: "dev",
		Summary:  "device data",
		Help: `Displays the character and block device registrations: each
char_device_struct of chrdevs[] (its major number, name, struct cdev and the
cdev's file operations; a region without a cdev of its own is looked up in
cdev_map's probes, and shows "(none)" when it has none), then each
blk_major_name of major_names[] with a gendisk of that major (from bdev_map's
probes before 5.11, else from the block device inodes) and the gendisk's
block_device_operations.`,
		Examples: []string{"gocrash> dev"},
		Results:  []Result{&DevTable{}},
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
	if err := a.NoWords(); err != nil {
		return nil, err
	}
	dv := s.Kernel.Devices()
	t := &DevTable{Char: []CharDevRow{}, Block: []BlockDevRow{}}
	chr, err := dv.CharDevs()
	for _, c := range chr {
		t.Char = append(t.Char, CharDevRow{Major: c.Major, BaseMinor: c.BaseMinor, Name: c.Name, Cdev: Hex(c.Cdev), Operations: Hex(c.Ops), Symbol: symOf(s, c.Ops)})
	}
	if err != nil {
		return t, err
	}
	blk, err := dv.BlockDevs()
	for _, b := range blk {
		t.Block = append(t.Block, BlockDevRow{Major: b.Major, Name: b.Name, Gendisk: Hex(b.Gendisk), Operations: Hex(b.Ops), Symbol: symOf(s, b.Ops)})
	}
	return t, err
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
