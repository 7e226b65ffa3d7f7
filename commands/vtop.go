package commands

import (
	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/kernel"

	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func vtopCommand() *Command {
	return &Command{
		Name:     "vtop",
		Synopsis: "vtop [-c pid|task] [-u|-k] address ...",
		Summary:  "virtual to physical",
		Help: `Translates a kernel virtual address to its physical address by walking the
kernel's page tables, and shows each level: the physical address of the entry
read and its value, the size of the page that maps the address, and the
last entry's flags. The address may be a symbol. With -u the address is a
user address of the current context (see set; at start the task that
panicked), or of the task -c names (by PID or task_struct address),
translated through that task's page tables; an address in no VMA of the task
is "(not accessible)". After the translation come the VMA holding a user
address (vm_area_struct, start, end, vm_flags and the mapped file; for a
page not read in yet, the file and offset it would come from) and the
struct page of the physical page as kmem -p shows it (mapping, index,
reference count, page.flags and the names of its flag bits).`,
		Options: []Option{
			{"-k", "the address is a kernel virtual address (the default)"},
			{"-u", "the address is a user virtual address"},
			{"-c pid|task", "the task whose address space -u uses (default: the current context)"},
		},
		Examples: []string{"gocrash> vtop ffffffff81000000", "gocrash> vtop linux_banner", "gocrash> vtop -u -c 1 401000"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			var addrs []string
			user, taskArg := false, ""
			for i := 0; i < len(args); i++ {
				switch a := args[i]; {
				case a == "-k":
					user = false
				case a == "-u":
					user = true
				case a == "-c":
					if i+1 == len(args) {
						return &UsageError{"-c needs a PID or task address"}
					}
					i++
					taskArg, user = args[i], true
				case strings.HasPrefix(a, "-"):
					return &UsageError{"invalid option: " + a}
				default:
					addrs = append(addrs, a)
				}
			}
			var task uint64
			if user {
				var err error
				if task, err = contextOrPanic(s, taskArg); err != nil {
					return err
				}
			}
			if len(addrs) == 0 {
				return &UsageError{"an address is required"}
			}
			for i, a := range addrs {
				if i > 0 {
					fmt.Fprintln(out)
				}
				if user {
					addr, err := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
					if err != nil {
						return fmt.Errorf("invalid user address: %s", a)
					}
					if err := printUserVtop(s, task, addr, out); err != nil {
						return err
					}
					continue
				}
				addr, err := parseAddress(s, a)
				if err != nil {
					return err
				}
				t, err := s.Kernel.Arch.KernelWalk(addr)
				if err := printWalk(s, addr, t, err, "64-bit KVADDR", out); err != nil {
					return err
				}
				printPageTable(s, t.Phys, out)
			}
			return nil
		},
	}
}

// contextTask resolves a task argument: a PID, or a task_struct address in
// hexadecimal.
func contextTask(s *Session, arg string) (uint64, error) {
	key, err := strconv.ParseUint(arg, 10, 64)
	if err != nil || key >= 1<<22 {
		if key, err = strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64); err != nil {
			return 0, fmt.Errorf("invalid task or PID: %s", arg)
		}
	}
	t, err := s.Kernel.FindTask(key)
	return t.Addr, err
}

func printWalk(s *Session, addr uint64, t arch.Translation, err error, kind string, out io.Writer) error {
	k := s.Kernel
	var b strings.Builder
	defer func() { io.WriteString(out, b.String()) }()
	user := kind == "64-bit UVADDR"
	vw := 16 // crash's columns: a user address gets 10, widened as needed
	if user {
		vw = 10
	}
	fmt.Fprintf(&b, "%-*s  %-16s\n", vw, "VIRTUAL", "PHYSICAL")
	if err != nil {
		fmt.Fprintf(&b, "%-*x  (not mapped)\n\n", vw, addr)
	} else {
		fmt.Fprintf(&b, "%-*x  %-16x\n\n", vw, addr, t.Phys)
	}
	levels := t.Levels
	if rn, ok := k.Arch.(arch.KernelRootNamer); ok && !user && len(levels) > 0 {
		// crash names the kernel's top table by its virtual address, and
		// shows the entry read from it without the entry's address.
		for _, name := range rn.KernelRootSymbols() {
			if pgd, err := k.SymbolAddr(name); err == nil {
				fmt.Fprintf(&b, "PGD DIRECTORY: %x\nPAGE DIRECTORY: %x\n", pgd, levels[0].Entry)
				levels = levels[1:]
				break
			}
		}
	}
	for _, l := range levels {
		fmt.Fprintf(&b, "%6s: %x => %x\n", l.Name, l.EntryAddr, l.Entry)
	}
	if err != nil {
		return readError(addr, kind, err)
	}
	base := t.Phys &^ (t.PageSize - 1)
	switch {
	case t.PageSize > k.Arch.PageSize():
		fmt.Fprintf(&b, "%6s: %x  (%s)\n\n", "PAGE", base, pageSizeName(t.PageSize))
	default:
		fmt.Fprintf(&b, "%6s: %x\n\n", "PAGE", base)
	}
	last := t.Levels[len(t.Levels)-1]
	pte, phys := strconv.FormatUint(last.Entry, 16), strconv.FormatUint(base, 16)
	w1, w2 := max(len(pte), len("PTE")), max(len(phys), len("PHYSICAL"))
	fmt.Fprintf(&b, "%s  %s  FLAGS\n", center(w1, "PTE", false), center(w2, "PHYSICAL", false))
	fmt.Fprintf(&b, "%s  %s  (%s)\n", center(w1, pte, true), center(w2, phys, true), strings.Join(k.Arch.EntryFlags(last.Entry, last.Name == "PTE"), "|"))
	return nil
}

// center places s in a field of width n as crash's mkstring(CENTER) does:
// the odd space on the right (LJUST) or on the left (rightOdd, RJUST).
func center(n int, s string, rightOdd bool) string {
	extra := n - len(s)
	if extra <= 0 {
		return s
	}
	left := extra / 2
	if rightOdd {
		left = extra - extra/2
	}
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", extra-left)
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

// printUserVtop prints vtop -u of addr in task's address space as crash
// does: an address in no VMA is "(not accessible)" without a walk;
// otherwise the walk, the VMA that holds the address, and either the
// struct page of the page it maps to or, when no page is mapped there yet,
// the file and offset the page would be read from.
func printUserVtop(s *Session, task, addr uint64, out io.Writer) error {
	k := s.Kernel
	vma, ok, err := k.FindVMA(task, addr)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(out, "%-10s  %-16s\n%-10x  (not accessible)\n\n", "VIRTUAL", "PHYSICAL", addr)
		return nil
	}
	t, werr := k.UserWalk(task, addr)
	if err := printWalk(s, addr, t, werr, "64-bit UVADDR", out); err != nil {
		// Not mapped: crash goes on with the VMA after the walk so far.
		var te *arch.TranslationError
		if !errors.As(werr, &te) {
			return err
		}
	}
	fmt.Fprintln(out)
	io.WriteString(out, vmaTable(vma))
	if werr != nil {
		if len(t.Levels) > 0 && t.Levels[len(t.Levels)-1].Entry == 0 && vma.Path != "" {
			ps := k.Arch.PageSize()
			off := ((addr-vma.Start)/ps + vma.PgOff) * ps
			fmt.Fprintf(out, "\nFILE: %s  OFFSET: %x\n", vma.Path, off)
		}
		return nil
	}
	printPageTable(s, t.Phys, out)
	return nil
}

// vmaTable is crash's VMA header and the line of one VMA: the
// vm_area_struct centred in 16 columns, start and end right-aligned in
// crash's 10 columns of a user address, vm_flags, and the file.
func vmaTable(v kernel.VMA) string {
	return fmt.Sprintf("%s %s %s  FLAGS FILE\n%s %10x %10x %6x %s\n",
		center(16, "VMA", false), center(10, "START", true), center(10, "END", true),
		center(16, strconv.FormatUint(v.Addr, 16), false), v.Start, v.End, v.Flags, v.Path)
}

// printPageTable prints, after a blank line, crash's kmem -p header and
// the line of the struct page of physical address phys. Like crash, it
// prints nothing when the page has no struct page.
func printPageTable(s *Session, phys uint64, out io.Writer) {
	p, err := s.Kernel.PageOf(phys)
	if err != nil {
		return
	}
	fmt.Fprintf(out, "\n%s", pageTable(s, []kernel.Page{p}))
}

// pageTable is crash's kmem -p table: the struct page, the physical
// address right-aligned in the width of the largest physical address (at
// least 8), mapping, index, the reference count, and page.flags in hex with
// the names of its set flag bits.
func pageTable(s *Session, pages []kernel.Page) string {
	k := s.Kernel
	pw := 8
	if a, err := k.SymbolAddr("max_pfn"); err == nil {
		if n, err := k.ReadU64(a); err == nil {
			pw = max(pw, len(strconv.FormatUint(n*k.Arch.PageSize(), 16)))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %*s %s %sCNT FLAGS\n", center(16, "PAGE", false), pw, "PHYSICAL", center(16, "MAPPING", true), center(8, "INDEX", true))
	for _, p := range pages {
		fmt.Fprintf(&b, "%-16x %*x %16x %8x %2d %x", p.Addr, pw, p.Phys(k.Arch.PageSize()), p.Mapping, p.Index, p.Count, p.Flags)
		if p.Flags != 0 && len(p.FlagNames) > 0 {
			b.WriteString(" " + strings.Join(p.FlagNames, ","))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func kmemCommand() *Command {
	return &Command{
		Name:     "kmem",
		Synopsis: "kmem -p address ...",
		Summary:  "kernel memory",
		Help: `With -p, shows the struct page of each address as crash's kmem -p does:
the struct page, the physical address of its page, page.mapping, page.index,
the reference count, and page.flags with the names of its flag bits. An
address is a struct page, a kernel virtual address (its page is shown), or
else a physical address. Only -p with addresses is implemented.`,
		Options:  []Option{{"-p address", "the struct page of the address"}},
		Examples: []string{"gocrash> kmem -p 1000000", "gocrash> kmem -p ffffd22000190000"},
		Run: func(ctx context.Context, s *Session, args []string, out io.Writer) error {
			if len(args) < 2 || args[0] != "-p" {
				return &UsageError{"only kmem -p address ... is implemented"}
			}
			k := s.Kernel
			var pages []kernel.Page
			for _, a := range args[1:] {
				addr, err := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
				if err != nil {
					return fmt.Errorf("invalid address: %s", a)
				}
				phys := addr
				if pfn, ok := k.PagePFN(addr); ok {
					phys = pfn * k.Arch.PageSize()
				} else if addr>>63 != 0 {
					if phys, err = k.VirtToPhys(addr); err != nil {
						return readError(addr, "KVADDR", err)
					}
				}
				p, err := k.PageOf(phys)
				if err != nil {
					return err
				}
				pages = append(pages, p)
			}
			_, err := io.WriteString(out, pageTable(s, pages))
			return err
		},
	}
}
