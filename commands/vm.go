package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/symbols"
)

func vmCommand() *Command {
	return &Command{
		Name:     "vm",
		Synopsis: "vm [-p | -P vma | -M mm | -v | -m | -x | -d | [-R reference] [pid | task]] [-f vm_flags]",
		Summary:  "virtual memory",
		Help: `Shows a task's address space: its mm_struct, page directory (mm->pgd), resident
set size and total virtual size, then each VMA (vm_area_struct) with its start
and end address, its vm_flags and the path of the file it maps. The VMAs come
from the mm's maple tree (mm_mt, 6.1 and later) or its VMA list (mmap and
vm_next, before). Without a task, the current context is shown.

-p translates every page of every VMA to its physical address; a page that is
not mapped is shown as the file and offset it would be read from, or "(not
mapped)". -P does the same for the one VMA at the address given. -m and -v
print the mm_struct or each vm_area_struct in full (-x and -d choose hex or
decimal). -R shows only what refers to the number or file name given: the mm,
page directory, a VMA's address or flags, a file path containing the name, a
page's virtual or physical address or file offset. -f decodes a vm_flags value.
-M reads the address space of the mm_struct given, for a task whose mm was
cleared. -p, -P, -m, -v, -R and -f are mutually exclusive.`,
		Options: []Option{
			{"-p", "translate each page of each VMA to its physical address"},
			{"-P vma", "translate the pages of the VMA at this vm_area_struct address only"},
			{"-M mm", "use this mm_struct address (for a task whose mm was cleared)"},
			{"-R reference", "show only the VMAs and pages referring to this number or file name"},
			{"-m", "print the task's mm_struct"},
			{"-v", "print each of the task's vm_area_structs"},
			{"-x", "with -m or -v: hexadecimal member values"},
			{"-d", "with -m or -v: decimal member values"},
			{"-f vm_flags", "translate the bits of a vm_flags value"},
			{"pid", "a process PID"},
			{"task", "a hexadecimal task_struct address"},
		},
		Examples: []string{
			"gocrash> vm 89\nPID: 89       TASK: ffff9de2f0ef4380  CPU: 1    COMMAND: \"sleep\"\n       MM               PGD          RSS    TOTAL_VM\nffff9de2f0ebaec0  ffff9de2c1dca000   56k     2260k  \n      VMA           START       END     FLAGS FILE\nffff9de2f01d7bb8     400000     401000 8000871 /bin/busybox\n...",
			"gocrash> vm -p 89", "gocrash> vm -R /bin/busybox 1", "gocrash> vm -m", "gocrash> vm -v -x 1",
			"gocrash> vm -f 8100073\n8100073: (READ|WRITE|MAYREAD|MAYWRITE|MAYEXEC|ACCOUNT|CAN_NONLINEAR)",
		},
		Results: []Result{VMResults{}, &VMFlagsResult{}},
		Run:     runVM,
	}
}

// VMFlagsResult is vm -f: a vm_flags value and the names of its bits.
type VMFlagsResult struct {
	Flags Hex      `json:"flags"`
	Names []string `json:"names"`
}

func (r *VMFlagsResult) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%x: (%s)\n", uint64(r.Flags), strings.Join(r.Names, "|"))
	return err
}

// vmFlagNames names vm_flags bits as crash 8.0.2's vm -f does, lowest
// first (crash's table: several bits have had two meanings, and crash
// picks one by what the kernel has).
func vmFlagNames(k *kernel.Kernel, f uint64) []string {
	_, upErr := k.SymbolAddr("expand_upwards")
	_, hugeErr := k.Offset("mm_struct", "pmd_huge_pte")
	type bit struct {
		v    uint64
		name string
	}
	bits := []bit{{0x1, "READ"}, {0x2, "WRITE"}, {0x4, "EXEC"}, {0x8, "SHARED"}, {0x10, "MAYREAD"}, {0x20, "MAYWRITE"},
		{0x40, "MAYEXEC"}, {0x80, "MAYSHARE"}, {0x100, "GROWSDOWN"}}
	if upErr == nil {
		bits = append(bits, bit{0x200, "GROWSUP"})
	} else {
		bits = append(bits, bit{0x200, "NOHUGEPAGE"})
	}
	bits = append(bits, bit{0x400, "PFNMAP"}, bit{0x800, "DENYWRITE"}, bit{0x1000, "EXECUTABLE"}, bit{0x2000, "LOCKED"},
		bit{0x4000, "IO"}, bit{0x8000, "SEQ_READ"}, bit{0x10000, "RAND_READ"}, bit{0x20000, "DONTCOPY"},
		bit{0x40000, "DONTEXPAND"}, bit{0x80000, "RESERVED"}, bit{0x400000, "HUGETLB"}, bit{0x100000, "ACCOUNT"},
		bit{0x800000, "NONLINEAR"})
	if hugeErr == nil {
		bits = append(bits, bit{0x1000000, "HUGEPAGE"})
	} else {
		bits = append(bits, bit{0x1000000, "MAPPED_COPY"})
	}
	bits = append(bits, bit{0x2000000, "INSERTPAGE"}, bit{0x4000000, "ALWAYSDUMP"}, bit{0x8000000, "CAN_NONLINEAR"},
		bit{0x10000000, "MIXEDMAP"}, bit{0x20000000, "SAO"}, bit{0x40000000, "PFN_AT_MMAP"}, bit{0x80000000, "MERGEABLE"})
	names := []string{}
	for _, b := range bits {
		if f&b.v != 0 {
			names = append(names, b.name)
		}
	}
	return names
}

// VMResults is vm's answer for each task chosen.
type VMResults []*VMResult

func (rs VMResults) Text(w io.Writer) error { return Results[*VMResult](rs).Text(w) }

// VMResult is one task's address space.
type VMResult struct {
	Task    TaskRef `json:"task"`
	MM      Hex     `json:"mm"`
	PGD     Hex     `json:"pgd"`
	RSS     uint64  `json:"rss"`      // KiB
	TotalVM uint64  `json:"total_vm"` // KiB
	VMAs    []VMRow `json:"vmas"`
	// MMStruct (-m) and VMAStructs (-v) are the structs in full.
	MMStruct   *StructValue   `json:"mm_struct,omitempty"`
	VMAStructs []*StructValue `json:"vma_structs,omitempty"`
	// Reference is -R's argument; then VMAs are those referring to it,
	// each with the pages that do.
	Reference string `json:"reference,omitempty"`
	Error     string `json:"error,omitempty"`

	mode       vmMode
	newline    bool // a blank line before the header (not the first task)
	noHeader   bool
	refMM      bool // -R matched the mm or pgd
	singleVMA  uint64
	singleSeen bool
}

// VMRow is one VMA. Pages are its page translations (-p, -P, -R).
type VMRow struct {
	Addr  Hex      `json:"vma"`
	Start Hex      `json:"start"`
	End   Hex      `json:"end"`
	Flags Hex      `json:"flags"`
	File  Hex      `json:"file"`  // struct file, 0 for anonymous memory
	PgOff uint64   `json:"pgoff"` // the file offset of Start, in pages
	Path  string   `json:"path"`
	Pages []VMPage `json:"pages,omitempty"`

	refMatch bool // -R: the VMA itself matched (else only its pages)
	refPages bool // -R: pages matched; they follow
}

// VMPage is one page of a VMA: its physical address when mapped, else the
// file offset it maps (FileOffset) or a swap entry, else not mapped.
type VMPage struct {
	Virt       Hex     `json:"virtual"`
	Mapped     bool    `json:"mapped"`
	Phys       Hex     `json:"physical,omitempty"`
	FileOffset *uint64 `json:"file_offset,omitempty"`
	SwapEntry  Hex     `json:"swap_entry,omitempty"`
	Path       string  `json:"-"`
}

type vmMode int

const (
	vmPlain     vmMode = iota
	vmModePages        // -p
	vmSingle           // -P
	vmMM               // -m
	vmVMAs             // -v
	vmModeRef          // -R
)

func runVM(ctx context.Context, s *Session, a *Args) (Result, error) {
	if err := a.Exclusive("p", "P", "m", "v", "R", "f"); err != nil {
		return nil, &UsageError{"-p, -P, -m, -v, -R and -f are mutually exclusive"}
	}
	if a.Has("x") && a.Has("d") {
		return nil, &UsageError{"-d and -x are mutually exclusive"}
	}
	k := s.Kernel
	if f, ok := a.Value("f"); ok {
		v, err := strconv.ParseUint(strings.TrimPrefix(f, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid vm_flags value: %s", f)
		}
		return &VMFlagsResult{Flags: Hex(v), Names: vmFlagNames(k, v)}, nil
	}
	o := vmOptionsOf(a)
	if o.mode == vmPlain && a.Has("P") {
		o.mode = vmSingle
		v, _ := a.Value("P")
		x, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid vma address: %s", v)
		}
		o.single = x
	}
	if m, ok := a.Value("M"); ok {
		x, err := strconv.ParseUint(strings.TrimPrefix(m, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid mm_struct address: %s", m)
		}
		o.forceMM = x
	}
	picks, perr := pickTasks(s, a.Words)
	var out VMResults
	for i, t := range picks {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := gatherVM(ctx, s, t.Task, o)
		r.newline = i > 0 && len(a.Words) > 0
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, perr
}

type vmOptions struct {
	mode    vmMode
	hex     bool
	ref     string
	single  uint64
	forceMM uint64
}

// pickedTask is a task an argument of vm or files chose.
type pickedTask struct {
	kernel.Task
	arg   int  // the index of the argument that chose it (0 without arguments)
	byPID bool // chosen by PID (crash prints a blank line after each in files)
}

// pickTasks resolves vm's and files' task arguments as crash does: none is
// the current context; each word a PID (every task with it) or a
// task_struct address. Words that name no task are reported together,
// after the tasks that were found.
func pickTasks(s *Session, words []string) ([]pickedTask, error) {
	tasks, err := lookupTasks(s.Kernel)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		cur, err := s.ContextTask()
		if err != nil {
			return nil, err
		}
		t, err := taskByAddr(tasks, cur)
		if err != nil {
			return nil, err
		}
		return []pickedTask{{Task: t}}, nil
	}
	var out []pickedTask
	var bad []string
	for i, w := range words {
		ta, err := parseTaskArg(w)
		if err != nil {
			return out, err
		}
		picked := ta.byNumber(tasks)
		if len(picked) == 0 {
			bad = append(bad, w)
		}
		for _, t := range picked {
			out = append(out, pickedTask{Task: t, arg: i, byPID: ta.isPID && int64(t.PID) == ta.pid})
		}
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("invalid task or pid value: %s", strings.Join(bad, " "))
	}
	return out, nil
}

// gatherVM reads task's address space for vm in mode o.
func gatherVM(ctx context.Context, s *Session, t kernel.Task, o vmOptions) (*VMResult, error) {
	k := s.Kernel
	ps := k.Arch.PageSize()
	r := &VMResult{Task: taskRef(t), MM: Hex(t.MM), RSS: t.RSS * ps / 1024, TotalVM: t.TotalVM * ps / 1024,
		VMAs: []VMRow{}, mode: o.mode, Reference: o.ref, singleVMA: o.single}
	mm := t.MM
	if mm == 0 && o.forceMM != 0 {
		mm = o.forceMM
		r.MM = Hex(mm)
	}
	if mm != 0 {
		off, err := k.Offset("mm_struct", "pgd")
		if err != nil {
			return r, err
		}
		pgd, err := k.ReadU64(mm + uint64(off))
		if err != nil {
			return r, fmt.Errorf("mm_struct %x: %w", mm, err)
		}
		r.PGD = Hex(pgd)
	}
	var ref vmRef
	if o.mode == vmModeRef {
		ref = parseVMRef(o.ref)
		if ref.num && (ref.hex == mm || ref.hex == uint64(r.PGD)) {
			r.refMM = true
			return r, nil
		}
	}
	if mm == 0 {
		return r, nil
	}
	if o.mode == vmMM {
		ts, err := s.types()
		if err != nil {
			return r, err
		}
		st, err := ts.Lookup("struct mm_struct")
		if err != nil {
			return r, err
		}
		r.MMStruct, err = gatherStructValue(s, st, mm, nil, o.hex)
		return r, err
	}
	vmas, err := k.VMAs(mm)
	if err != nil && len(vmas) == 0 {
		return r, err
	}
	var vmaType *symbols.Type
	if o.mode == vmVMAs {
		ts, terr := s.types()
		if terr != nil {
			return r, terr
		}
		st, terr := ts.Lookup("struct vm_area_struct")
		if terr != nil {
			return r, terr
		}
		vmaType = st
	}
	for _, v := range vmas {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		row := VMRow{Addr: Hex(v.Addr), Start: Hex(v.Start), End: Hex(v.End), Flags: Hex(v.Flags), File: Hex(v.File), PgOff: v.PgOff, Path: v.Path}
		switch o.mode {
		case vmVMAs:
			sv, err := gatherStructValue(s, vmaType, v.Addr, nil, o.hex)
			if err != nil {
				return r, err
			}
			r.VMAStructs = append(r.VMAStructs, sv)
			continue
		case vmSingle:
			if v.Addr != o.single {
				continue
			}
			r.singleSeen = true
			row.Pages = vmPages(k, t.Addr, mm, v, ps, nil)
		case vmModePages:
			row.Pages = vmPages(k, t.Addr, mm, v, ps, nil)
		case vmModeRef:
			row.refMatch = ref.num && (ref.hex == v.Addr || ref.hex == v.Flags) || v.Path != "" && filenameComponent(v.Path, o.ref)
			if ref.num {
				row.Pages = vmPages(k, t.Addr, mm, v, ps, &ref)
				row.refPages = len(row.Pages) > 0
			}
			if !row.refMatch && !row.refPages {
				continue
			}
		}
		r.VMAs = append(r.VMAs, row)
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r, err
}

// vmRef is -R's argument: a number (read as hex, and as decimal when it
// is one) or a name.
type vmRef struct {
	num      bool
	hex, dec uint64
	decimal  bool
}

func parseVMRef(s string) vmRef {
	var r vmRef
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if v, err := strconv.ParseUint(h, 16, 64); err == nil && h != "" {
		r.num, r.hex = true, v
		if d, err := strconv.ParseUint(s, 10, 64); err == nil {
			r.decimal, r.dec = true, d
		}
	}
	return r
}

// filenameComponent is crash's FILENAME_COMPONENT: "/" matches only "/",
// any other reference matches a path containing it.
func filenameComponent(path, ref string) bool {
	if ref == "/" {
		return path == "/"
	}
	return strings.Contains(path, ref)
}

// vmPages translates each page of v through the task's page tables. With
// ref, only the pages that refer to it are kept (from the first that does,
// as crash shows them).
func vmPages(k *kernel.Kernel, task, mm uint64, v kernel.VMA, ps uint64, ref *vmRef) []VMPage {
	pages := []VMPage{}
	for va := v.Start; va < v.End && va >= v.Start; va += ps {
		p := VMPage{Virt: Hex(va)}
		tr, err := k.UserWalk(task, va)
		match := false
		switch {
		case err == nil:
			p.Mapped, p.Phys = true, Hex(tr.Phys)
			match = ref != nil && ref.hex == tr.Phys
		case len(tr.Levels) > 0 && tr.Levels[len(tr.Levels)-1].Name == "PTE" && tr.Levels[len(tr.Levels)-1].Entry != 0:
			p.SwapEntry = Hex(tr.Levels[len(tr.Levels)-1].Entry)
		case v.File != 0 && v.Path != "":
			off := ((va-v.Start)/ps + v.PgOff) * ps
			p.FileOffset, p.Path = &off, v.Path
			match = ref != nil && ref.hex == off
		}
		if ref != nil {
			if !match && ref.hex != va {
				continue
			}
		}
		pages = append(pages, p)
	}
	return pages
}

func (r *VMResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if r.mode == vmModeRef {
		r.refText(tw)
		return tw.err
	}
	nl := ""
	if r.newline {
		nl = "\n"
	}
	tw.printf("%s%s\n", nl, r.Task.Header())
	if r.mode != vmMM && r.mode != vmVMAs && r.mode != vmSingle {
		r.vmData(tw)
	}
	if r.MM == 0 {
		return tw.err
	}
	if r.MMStruct != nil {
		if err := r.MMStruct.Text(w); err != nil {
			return err
		}
		return tw.err
	}
	hdr := vmaHeader()
	if r.mode == vmPlain {
		tw.printf("%s", hdr)
	}
	for _, sv := range r.VMAStructs {
		if err := sv.Text(w); err != nil {
			return err
		}
	}
	for _, v := range r.VMAs {
		if r.mode == vmModePages || r.mode == vmSingle {
			tw.printf("%s", hdr)
		}
		tw.printf("%s", vmaLine(v))
		if r.mode == vmModePages || r.mode == vmSingle {
			tw.printf("%s", pagesHeader())
			for _, p := range v.Pages {
				tw.printf("%s", pageLine(p))
			}
		}
	}
	if r.mode == vmSingle && !r.singleSeen {
		tw.println("(not found)")
	}
	return tw.err
}

// refText is vm -R's text: the task's header, address space line and the
// VMAs (and pages) that refer to the reference, then a blank line; nothing
// when nothing does.
func (r *VMResult) refText(tw *textWriter) {
	if r.refMM {
		tw.println(r.Task.Header())
		r.vmData(tw)
		tw.println("")
		return
	}
	if len(r.VMAs) == 0 {
		return
	}
	tw.println(r.Task.Header())
	r.vmData(tw)
	hdr := vmaHeader()
	shown := false     // a VMA header has been printed
	pageShown := false // the last thing shown was pages
	var last Hex
	for _, v := range r.VMAs {
		if v.refMatch {
			if !shown || pageShown {
				tw.printf("%s", hdr)
				shown, pageShown, last = true, false, v.Addr
			}
			tw.printf("%s", vmaLine(v))
		}
		if v.refPages {
			if !shown || last != v.Addr {
				tw.printf("%s", hdr)
				tw.printf("%s", vmaLine(v))
				shown, last = true, v.Addr
			}
			tw.printf("%s", pagesHeader())
			for _, p := range v.Pages {
				tw.printf("%s", pageLine(p))
			}
			pageShown = true
		}
	}
	tw.println("")
}

// vmData is crash's MM/PGD/RSS/TOTAL_VM lines.
func (r *VMResult) vmData(tw *textWriter) {
	tw.printf("%s  %s  %s  %s\n", center(16, "MM", false), center(16, "PGD", false), center(6, "RSS", false), center(8, "TOTAL_VM", false))
	tw.printf("%s  %s  %s  %s\n", center(16, fmt.Sprintf("%x", uint64(r.MM)), false), center(16, fmt.Sprintf("%x", uint64(r.PGD)), false),
		center(6, fmt.Sprintf("%dk", r.RSS), false), center(8, fmt.Sprintf("%dk", r.TotalVM), false))
}

// vmaHeader is crash's VMA column header (the user address columns 10
// wide, as crash's UVADDR_PRLEN on 64-bit machines).
func vmaHeader() string {
	return center(16, "VMA", false) + " " + center(10, "START", true) + " " + center(10, "END", true) + "  FLAGS FILE\n"
}

func vmaLine(v VMRow) string {
	return fmt.Sprintf("%s %10x %10x %6x %s\n", center(16, fmt.Sprintf("%x", uint64(v.Addr)), false), uint64(v.Start), uint64(v.End), uint64(v.Flags), v.Path)
}

func pagesHeader() string { return fmt.Sprintf("%-10s  %-8s\n", "VIRTUAL", "PHYSICAL") }

func pageLine(p VMPage) string {
	switch {
	case p.Mapped:
		return fmt.Sprintf("%-10x  %8x\n", uint64(p.Virt), uint64(p.Phys))
	case p.SwapEntry != 0:
		return fmt.Sprintf("%-10x  SWAP: (swap entry %x)\n", uint64(p.Virt), uint64(p.SwapEntry))
	case p.FileOffset != nil:
		return fmt.Sprintf("%-10x  FILE: %s  OFFSET: %x\n", uint64(p.Virt), p.Path, *p.FileOffset)
	}
	return fmt.Sprintf("%-10x  (not mapped)\n", uint64(p.Virt))
}

// foreachVM is foreach vm: each task's address space, a blank line
// between tasks (-R: only the tasks with a reference).
func foreachVM(ctx context.Context, s *Session, tasks []kernel.Task, a *Args) (Result, error) {
	if a.Has("f") || a.Has("P") || a.Has("M") || len(a.Words) > 0 {
		return nil, &UsageError{"foreach vm takes -p, -m, -v, -x, -d and -R only; choose tasks before vm"}
	}
	if err := a.Exclusive("p", "m", "v", "R"); err != nil {
		return nil, &UsageError{"-p, -m, -v and -R are mutually exclusive"}
	}
	o := vmOptionsOf(a)
	var out VMResults
	for i, t := range tasks {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := gatherVM(ctx, s, t, o)
		r.newline = i > 0
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// vmOptionsOf is what vm's display options ask for (-x, and the first of
// -p, -m, -v, -R), for one task or for foreach.
func vmOptionsOf(a *Args) vmOptions {
	o := vmOptions{mode: vmPlain, hex: a.Has("x")}
	switch {
	case a.Has("p"):
		o.mode = vmModePages
	case a.Has("m"):
		o.mode = vmMM
	case a.Has("v"):
		o.mode = vmVMAs
	case a.Has("R"):
		o.mode = vmModeRef
		o.ref, _ = a.Value("R")
	}
	return o
}
