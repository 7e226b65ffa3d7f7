package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/kernel"
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
		Results:  []Result{&VtopResult{}},
		Run:      runVtop,
	}
}

func runVtop(ctx context.Context, s *Session, a *Args) (Result, error) {
	// -c implies -u; whichever of -k, -u and -c comes last decides.
	last := a.Last("k", "u", "c")
	user := last == "u" || last == "c"
	taskArg, _ := a.Value("c")
	var task uint64
	if user {
		var err error
		if task, err = contextOrPanic(s, taskArg); err != nil {
			return nil, err
		}
	}
	if len(a.Words) == 0 {
		return nil, &UsageError{"an address is required"}
	}
	res := &VtopResult{}
	for _, w := range a.Words {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if user {
			addr, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
			if err != nil {
				return res, fmt.Errorf("invalid user address: %s", w)
			}
			v, err := userVtop(s, task, addr)
			if v != nil {
				res.Translations = append(res.Translations, v)
			}
			if err != nil {
				return res, err
			}
			continue
		}
		addr, err := parseAddress(s, w)
		if err != nil {
			return res, err
		}
		t, werr := s.Kernel.Arch.KernelWalk(addr)
		v := newVtop(s, addr, t, werr, false)
		res.Translations = append(res.Translations, v)
		if werr != nil {
			return res, readError(addr, "64-bit KVADDR", werr)
		}
		v.StructPage = structPageOf(s, t.Phys)
	}
	return res, nil
}

// VtopResult is vtop's translations, one per address.
type VtopResult struct {
	Translations []*Vtop `json:"translations"`
}

func (r *VtopResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, v := range r.Translations {
		if i > 0 {
			tw.println("")
		}
		v.text(tw)
	}
	return tw.err
}

// PTLevel is one page-table level a translation read: the entry's
// physical address and its value.
type PTLevel struct {
	Name      string `json:"name"`
	EntryAddr Hex    `json:"entry_addr"`
	Entry     Hex    `json:"entry"`
}

// Vtop is the translation of one address.
type Vtop struct {
	Virtual Hex  `json:"virtual"`
	User    bool `json:"user"`
	// Accessible is false for a user address in no VMA of the task
	// (crash's "(not accessible)"): no walk is made.
	Accessible bool `json:"accessible"`
	// Mapped says whether the walk reached a page; Physical, Page,
	// PageSize and Flags are set only then.
	Mapped   bool      `json:"mapped"`
	Physical *Hex      `json:"physical,omitempty"`
	Levels   []PTLevel `json:"levels"`
	// PGDDirectory is the virtual address of the kernel's top table
	// (x86_64's init_top_pgt), which crash shows instead of the first
	// level's entry address.
	PGDDirectory *Hex     `json:"pgd_directory,omitempty"`
	Page         *Hex     `json:"page,omitempty"`      // the physical address of the page (or block)
	PageSize     uint64   `json:"page_size,omitempty"` // bytes
	Flags        []string `json:"flags,omitempty"`     // the last entry's
	VMA          *VMARow  `json:"vma,omitempty"`       // the VMA of a user address
	// File is, for a page of a file mapping not read in yet, the file and
	// the offset it would be read from.
	File       *FileOffset `json:"file,omitempty"`
	StructPage *PageTable  `json:"struct_page,omitempty"`

	basePage uint64 // the architecture's page size
	// layout: the walk's lines in the architecture's own layout
	// (arch.VtopLayout), and whether crash's PTE block follows them, with
	// the page and flags pte shows (arch.PTEDecoder).
	layout    []string
	ownLayout bool
	pteBlock  bool
	ptePage   uint64
	pteFlags  []string
}

// VMARow is one VMA as vtop -u shows it.
type VMARow struct {
	VMA   Hex    `json:"vma"` // the vm_area_struct
	Start Hex    `json:"start"`
	End   Hex    `json:"end"`
	Flags Hex    `json:"flags"` // vm_flags
	File  string `json:"file,omitempty"`
}

// FileOffset is where in a file a page comes from.
type FileOffset struct {
	Path   string `json:"path"`
	Offset Hex    `json:"offset"`
}

// newVtop gathers a walk of addr: the levels it read and, when it reached
// a page, the page and the last entry's flags.
func newVtop(s *Session, addr uint64, t arch.Translation, err error, user bool) *Vtop {
	k := s.Kernel
	v := &Vtop{Virtual: Hex(addr), User: user, Accessible: true, Levels: []PTLevel{}, basePage: k.Arch.PageSize()}
	for _, l := range t.Levels {
		v.Levels = append(v.Levels, PTLevel{Name: l.Name, EntryAddr: Hex(l.EntryAddr), Entry: Hex(l.Entry)})
	}
	if rn, ok := k.Arch.(arch.KernelRootNamer); ok && !user && len(t.Levels) > 0 {
		for _, name := range rn.KernelRootSymbols() {
			if pgd, err := k.SymbolAddr(name); err == nil {
				h := Hex(pgd)
				v.PGDDirectory = &h
				break
			}
		}
	}
	if vl, ok := k.Arch.(arch.VtopLayout); ok {
		rows, vec, pteBlock := vl.VtopRows(t, !user)
		v.layout, v.ownLayout, v.pteBlock = formatLayoutRows(k, rows, vec, 0), true, pteBlock && err == nil
	}
	if err != nil {
		return v
	}
	phys, page := Hex(t.Phys), Hex(t.Phys&^(t.PageSize-1))
	v.Mapped, v.Physical, v.Page, v.PageSize = true, &phys, &page, t.PageSize
	last := t.Levels[len(t.Levels)-1]
	v.Flags = k.Arch.EntryFlags(last.Entry, last.Name == "PTE")
	v.ptePage, v.pteFlags = uint64(page), v.Flags
	if d, ok := k.Arch.(arch.PTEDecoder); ok {
		info := d.DecodePTE(last.Entry)
		v.ptePage, v.pteFlags = info.Phys, info.Flags
	}
	return v
}

// text writes one translation as crash's vtop does.
func (v *Vtop) text(tw *textWriter) {
	vw := 16 // crash's columns: a user address gets 10, widened as needed
	if v.User {
		vw = 10
	}
	if !v.Accessible {
		tw.printf("%-10s  %-16s\n%-10x  (not accessible)\n\n", "VIRTUAL", "PHYSICAL", uint64(v.Virtual))
		return
	}
	tw.printf("%-*s  %-16s\n", vw, "VIRTUAL", "PHYSICAL")
	if !v.Mapped {
		tw.printf("%-*x  (not mapped)\n\n", vw, uint64(v.Virtual))
	} else {
		tw.printf("%-*x  %-16x\n\n", vw, uint64(v.Virtual), uint64(*v.Physical))
	}
	if v.ownLayout {
		for _, ln := range v.layout {
			tw.println(ln)
		}
		if v.pteBlock {
			writePTEBlock(tw, uint64(v.Levels[len(v.Levels)-1].Entry), v.ptePage, v.pteFlags)
		}
		v.textAfterWalk(tw)
		return
	}
	levels := v.Levels
	if v.PGDDirectory != nil {
		// crash names the kernel's top table by its virtual address, and
		// shows the entry read from it without the entry's address.
		tw.printf("PGD DIRECTORY: %x\nPAGE DIRECTORY: %x\n", uint64(*v.PGDDirectory), uint64(levels[0].Entry))
		levels = levels[1:]
	}
	for _, l := range levels {
		tw.printf("%6s: %x => %x\n", l.Name, uint64(l.EntryAddr), uint64(l.Entry))
	}
	if v.Mapped {
		if v.PageSize > v.basePage {
			tw.printf("%6s: %x  (%s)\n\n", "PAGE", uint64(*v.Page), pageSizeName(v.PageSize))
		} else {
			tw.printf("%6s: %x\n\n", "PAGE", uint64(*v.Page))
		}
		writePTEBlock(tw, uint64(v.Levels[len(v.Levels)-1].Entry), uint64(*v.Page), v.Flags)
	}
	v.textAfterWalk(tw)
}

// writePTEBlock is crash's PTE PHYSICAL FLAGS block, its columns centred.
func writePTEBlock(tw *textWriter, entry, page uint64, flags []string) {
	pte, phys := strconv.FormatUint(entry, 16), strconv.FormatUint(page, 16)
	w1, w2 := max(len(pte), len("PTE")), max(len(phys), len("PHYSICAL"))
	tw.printf("%s  %s  FLAGS\n", center(w1, "PTE", false), center(w2, "PHYSICAL", false))
	tw.printf("%s  %s  (%s)\n", center(w1, pte, true), center(w2, phys, true), strings.Join(flags, "|"))
}

// textAfterWalk writes what follows the walk: a user address's VMA and
// file, and the struct page.
func (v *Vtop) textAfterWalk(tw *textWriter) {
	if v.VMA != nil {
		tw.println("")
		tw.printf("%s %s %s  FLAGS FILE\n%s %10x %10x %6x %s\n",
			center(16, "VMA", false), center(10, "START", true), center(10, "END", true),
			center(16, strconv.FormatUint(uint64(v.VMA.VMA), 16), false), uint64(v.VMA.Start), uint64(v.VMA.End), uint64(v.VMA.Flags), v.VMA.File)
	}
	if v.File != nil {
		tw.printf("\nFILE: %s  OFFSET: %x\n", v.File.Path, uint64(v.File.Offset))
	}
	if v.StructPage != nil {
		tw.println("")
		v.StructPage.text(tw)
	}
}

// contextTask resolves a task argument as set and vtop -c take one: a PID
// (its thread-group leader) or a task_struct address.
func contextTask(s *Session, arg string) (uint64, error) {
	tasks, err := lookupTasks(s.Kernel)
	if err != nil {
		return 0, err
	}
	t, err := oneTask(tasks, arg)
	return t.Addr, err
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
		Options:  []Option{{"address", "a physical address, hexadecimal"}},
		Examples: []string{"gocrash> ptov 1000000"},
		Results:  []Result{&PtovResult{}},
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			if len(a.Words) == 0 {
				return nil, &UsageError{"an address is required"}
			}
			res := &PtovResult{Pairs: []PtovPair{}}
			for _, w := range a.Words {
				p, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
				if err != nil {
					return res, fmt.Errorf("invalid physical address: %s", w)
				}
				v, err := s.Kernel.Arch.PhysToVirt(p)
				if err != nil {
					return res, err
				}
				res.Pairs = append(res.Pairs, PtovPair{Virtual: Hex(v), Physical: Hex(p)})
			}
			return res, nil
		},
	}
}

// PtovPair is a physical address and its kernel virtual address.
type PtovPair struct {
	Virtual  Hex `json:"virtual"`
	Physical Hex `json:"physical"`
}

// PtovResult is ptov's pairs.
type PtovResult struct {
	Pairs []PtovPair `json:"pairs"`
}

func (r *PtovResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.println("VIRTUAL           PHYSICAL")
	for _, p := range r.Pairs {
		tw.printf("%-16x  %x\n", uint64(p.Virtual), uint64(p.Physical))
	}
	return tw.err
}

// userVtop gathers vtop -u of addr in task's address space as crash
// shows it: an address in no VMA is "(not accessible)" without a walk;
// otherwise the walk, the VMA that holds the address, and either the
// struct page of the page it maps to or, when no page is mapped there yet,
// the file and offset the page would be read from.
func userVtop(s *Session, task, addr uint64) (*Vtop, error) {
	k := s.Kernel
	vma, ok, err := k.FindVMA(task, addr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &Vtop{Virtual: Hex(addr), User: true, Levels: []PTLevel{}}, nil
	}
	t, werr := k.UserWalk(task, addr)
	v := newVtop(s, addr, t, werr, true)
	if werr != nil {
		// Not mapped: crash goes on with the VMA after the walk so far.
		var te *arch.TranslationError
		if !errors.As(werr, &te) {
			return v, readError(addr, "64-bit UVADDR", werr)
		}
	}
	v.VMA = &VMARow{VMA: Hex(vma.Addr), Start: Hex(vma.Start), End: Hex(vma.End), Flags: Hex(vma.Flags), File: vma.Path}
	if werr != nil {
		if len(t.Levels) > 0 && t.Levels[len(t.Levels)-1].Entry == 0 && vma.Path != "" {
			ps := k.Arch.PageSize()
			v.File = &FileOffset{Path: vma.Path, Offset: Hex(((addr-vma.Start)/ps + vma.PgOff) * ps)}
		}
		return v, nil
	}
	v.StructPage = structPageOf(s, t.Phys)
	return v, nil
}

// structPageOf is the kmem -p table of the struct page of physical address
// phys; like crash, vtop shows none (nil) when the page has no struct page.
func structPageOf(s *Session, phys uint64) *PageTable {
	p, err := s.Kernel.PageOf(phys)
	if err != nil {
		return nil
	}
	return newPageTable(s, []kernel.Page{p})
}

// PageRow is one struct page as kmem -p shows it.
type PageRow struct {
	Page      Hex      `json:"page"` // the struct page
	Physical  Hex      `json:"physical"`
	Mapping   Hex      `json:"mapping"`
	Index     Hex      `json:"index"`
	Count     int32    `json:"count"`
	Flags     Hex      `json:"flags"`
	FlagNames []string `json:"flag_names,omitempty"`
}

// PageTable is crash's kmem -p table.
type PageTable struct {
	Pages     []PageRow `json:"pages"`
	physWidth int       // the width of the largest physical address, at least 8
}

func newPageTable(s *Session, pages []kernel.Page) *PageTable {
	k := s.Kernel
	t := &PageTable{Pages: []PageRow{}, physWidth: 8}
	if a, err := k.SymbolAddr("max_pfn"); err == nil {
		if n, err := k.ReadU64(a); err == nil {
			t.physWidth = max(t.physWidth, len(strconv.FormatUint(n*k.Arch.PageSize(), 16)))
		}
	}
	for _, p := range pages {
		t.Pages = append(t.Pages, PageRow{Page: Hex(p.Addr), Physical: Hex(p.Phys(k.Arch.PageSize())), Mapping: Hex(p.Mapping),
			Index: Hex(p.Index), Count: p.Count, Flags: Hex(p.Flags), FlagNames: p.FlagNames})
	}
	return t
}

func (t *PageTable) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	t.text(tw)
	return tw.err
}

// text writes the table: the struct page, the physical address
// right-aligned in physWidth, mapping, index, the reference count, and
// page.flags in hex with the names of its set flag bits.
func (t *PageTable) text(tw *textWriter) {
	tw.printf("%s %*s %s %sCNT FLAGS\n", center(16, "PAGE", false), t.physWidth, "PHYSICAL", center(16, "MAPPING", true), center(8, "INDEX", true))
	for _, p := range t.Pages {
		line := fmt.Sprintf("%-16x %*x %16x %8x %2d %x", uint64(p.Page), t.physWidth, uint64(p.Physical), uint64(p.Mapping), uint64(p.Index), p.Count, uint64(p.Flags))
		if p.Flags != 0 && len(p.FlagNames) > 0 {
			line += " " + strings.Join(p.FlagNames, ",")
		}
		tw.println(line)
	}
}
