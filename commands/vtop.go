package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func vtopCommand() *Command {
	return &Command{
		Name:     "vtop",
		Synopsis: "vtop [-k] address ...",
		Summary:  "virtual to physical",
		Help: `Translates a kernel virtual address to its physical address by walking the
kernel's page tables, and shows each level: the physical address of the entry
read and its value, the size of the page that maps the address, and the
last entry's flags. The address may be a symbol.
User addresses (-u, -c) are not supported yet.`,
		Options:  []Option{{"-k", "the address is a kernel virtual address (the default)"}},
		Examples: []string{"gocrash> vtop ffffffff81000000", "gocrash> vtop linux_banner"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			var addrs []string
			for _, a := range args {
				switch {
				case a == "-k":
				case a == "-u" || a == "-c":
					return fmt.Errorf("user address spaces (%s) are not supported yet", a)
				case strings.HasPrefix(a, "-"):
					return &UsageError{"invalid option: " + a}
				default:
					addrs = append(addrs, a)
				}
			}
			if len(addrs) == 0 {
				return &UsageError{"an address is required"}
			}
			for i, a := range addrs {
				if i > 0 {
					fmt.Fprintln(out)
				}
				addr, err := parseAddress(s, a)
				if err != nil {
					return err
				}
				if err := vtop(s, addr, out); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func vtop(s *Session, addr uint64, out io.Writer) error {
	k := s.Kernel
	t, err := k.Arch.KernelWalk(addr)
	fmt.Fprintf(out, "VIRTUAL           PHYSICAL\n")
	if err != nil {
		fmt.Fprintf(out, "%-16x  (not mapped)\n\n", addr)
	} else {
		fmt.Fprintf(out, "%-16x  %x\n\n", addr, t.Phys)
	}
	for _, l := range t.Levels {
		fmt.Fprintf(out, "%6s: %x => %x\n", l.Name, l.EntryAddr, l.Entry)
	}
	if err != nil {
		return readError(addr, "64-bit KVADDR", err)
	}
	fmt.Fprintf(out, "%6s: %x  (%s)\n\n", "PAGE", t.Phys&^(t.PageSize-1), pageSizeName(t.PageSize))
	last := t.Levels[len(t.Levels)-1]
	fmt.Fprintf(out, "%16s  %8s  %s\n", "PTE", "PHYSICAL", "FLAGS")
	fmt.Fprintf(out, "%16x  %8x  (%s)\n", last.Entry, t.Phys&^(t.PageSize-1), k.Arch.EntryFlags(last.Entry, last.Name == "PTE"))
	return nil
}

func pageSizeName(n uint64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatUint(n>>30, 10) + "GB"
	case n >= 1<<20:
		return strconv.FormatUint(n>>20, 10) + "MB"
	}
	return strconv.FormatUint(n>>10, 10) + "KB"
}

func ptovCommand() *Command {
	return &Command{
		Name:     "ptov",
		Synopsis: "ptov address ...",
		Summary:  "physical to virtual",
		Help:     `Translates a physical address to its kernel virtual address in the direct (linear) map.`,
		Examples: []string{"gocrash> ptov 1000000"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			if len(args) == 0 {
				return &UsageError{"an address is required"}
			}
			fmt.Fprintf(out, "VIRTUAL           PHYSICAL\n")
			for _, a := range args {
				p, err := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
				if err != nil {
					return fmt.Errorf("invalid physical address: %s", a)
				}
				v, err := s.Kernel.Arch.PhysToVirt(p)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%-16x  %x\n", v, p)
			}
			return nil
		},
	}
}
