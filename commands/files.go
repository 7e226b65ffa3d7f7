package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func filesCommand() *Command {
	return &Command{
		Name:     "files",
		Synopsis: "files [-d dentry] | [-p inode] | [-c] [-R reference] [pid | task] ...",
		Summary:  "open files",
		Help: `Shows a task's root and current working directories (fs_struct root and pwd)
and each open file descriptor of its fdtable: the struct file, its dentry and
inode, the inode's type (REG, DIR, CHR, BLK, LNK, FIFO, PIPE, SOCK) and the
file's full path, built as the kernel's d_path does: the dentry names up to the
root of the file's mount, then on from the mount point in the parent mount, up
to the namespace's root. Without a task, the current context is shown.

-c shows, for each open file, its inode, the inode's address_space (i_mapping)
and the number of its pages in the page cache (nrpages). -R shows only the
files referring to the reference: a descriptor number, a file, dentry or inode
address, a type, or a path containing the name (also the root and working
directory). -d shows a dentry's inode, super block, type and full path (its
mount found among pid 1's mounts by super block). -p shows an inode's number of
cached pages and each page of its page cache (the address_space's i_pages
XArray, in index order) as kmem -p shows a page.`,
		Options: []Option{
			{"-d dentry", "show the inode, super block, type and path of this dentry"},
			{"-p inode", "list the pages of this inode's page cache"},
			{"-c", "each open file's inode, address_space and number of cached pages"},
			{"-R reference", "only the files referring to this descriptor, address, type or path"},
			{"pid", "a process PID"},
			{"task", "a hexadecimal task_struct address"},
		},
		Examples: []string{
			"gocrash> files 1\nPID: 1        TASK: ffff9de2c11d1680  CPU: 1    COMMAND: \"init\"\nROOT: /    CWD: /\n FD       FILE            DENTRY           INODE       TYPE PATH\n  0 ffff9de2fce7da00 ffff9de2c1ad8d80 ffff9de2c1379c90 CHR  /dev/console\n...",
			"gocrash> files -c 1", "gocrash> files -R /dev/null", "gocrash> foreach files -R /init", "gocrash> files -d ffff9de2c1ad9180",
		},
		Results: []Result{FilesResults{}, &DentryResult{}, &InodePagesResult{}},
		Run:     runFiles,
	}
}

// FilesResults is files' answer for each task chosen.
type FilesResults []*FilesResult

func (rs FilesResults) Text(w io.Writer) error { return Results[*FilesResult](rs).Text(w) }

// FilesResult is one task's root, working directory and open files.
type FilesResult struct {
	Task      TaskRef   `json:"task"`
	Root      string    `json:"root"`
	Cwd       string    `json:"cwd"`
	Files     []FileRow `json:"files"`
	NrPages   bool      `json:"-"` // -c
	Reference string    `json:"reference,omitempty"`
	Error     string    `json:"error,omitempty"`

	hasFS    bool
	newline  bool       // a blank line before the header
	trailing bool       // a blank line after the files
	unread   linesError // the open files that could not be read whole
	refRoot  bool       // -R matched the root or working directory
	refFound bool
	rootIno  uint64
	cwdIno   uint64
}

// FileRow is one open file descriptor.
type FileRow struct {
	FD      int    `json:"fd"`
	File    Hex    `json:"file"`
	Dentry  Hex    `json:"dentry"`
	Inode   Hex    `json:"inode"`
	Type    string `json:"type"` // REG, DIR, CHR, BLK, LNK, FIFO, PIPE, SOCK, UNKN; "?" without an inode
	Path    string `json:"path"`
	Mapping Hex    `json:"i_mapping"`
	NrPages uint64 `json:"nrpages"`
	Error   string `json:"error,omitempty"`
}

func runFiles(ctx context.Context, s *Session, a *Args) (Result, error) {
	if d, ok := a.Value("d"); ok {
		v, err := strconv.ParseUint(strings.TrimPrefix(d, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid dentry address: %s", d)
		}
		r, err := dentryInfo(s, v)
		if r == nil {
			return nil, err
		}
		return r, err
	}
	if p, ok := a.Value("p"); ok {
		v, err := strconv.ParseUint(strings.TrimPrefix(p, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid inode address: %s", p)
		}
		r, err := inodePages(s, v)
		if r == nil {
			return nil, err
		}
		return r, err
	}
	ref, hasRef := a.Value("R")
	picks, perr := pickTasks(s, a.Words)
	var out FilesResults
	var missing linesError
	for i, t := range picks {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := gatherFiles(s.Kernel, t.Task, a.Has("c"), ref, hasRef)
		r.newline = len(a.Words) > 0 && t.arg > 0 && (i == 0 || picks[i-1].arg != t.arg)
		r.trailing = t.byPID
		out = append(out, r)
		if err != nil { // costs this task's files
			missing = append(missing, fmt.Errorf("PID %d: %w", r.Task.PID, err))
		}
		missing = append(missing, r.unread...)
	}
	return withMissing(out, perr, missingErr(missing))
}

// missingErr is the objects a command could not read, nil when none.
func missingErr(missing linesError) error {
	if len(missing) == 0 {
		return nil
	}
	return missing
}

// inodeType is crash's four-character type of an inode, and the path as
// crash shows it with that type (none for a pipe, none for a socket whose
// path is "/").
func inodeType(in kernel.Inode, path string) (string, string) {
	switch in.Mode & kernel.SIFMT {
	case kernel.SIFREG:
		return "REG", path
	case kernel.SIFLNK:
		return "LNK", path
	case kernel.SIFDIR:
		return "DIR", path
	case kernel.SIFCHR:
		return "CHR", path
	case kernel.SIFBLK:
		return "BLK", path
	case kernel.SIFIFO:
		if in.Pipe {
			return "PIPE", ""
		}
		return "FIFO", path
	case kernel.SIFSOCK:
		if path == "/" {
			path = ""
		}
		return "SOCK", path
	}
	return "UNKN", path
}

// gatherFiles reads task's files; with hasRef, only those referring to ref.
func gatherFiles(k *kernel.Kernel, t kernel.Task, nrpages bool, ref string, hasRef bool) (*FilesResult, error) {
	r := &FilesResult{Task: taskRef(t), Files: []FileRow{}, NrPages: nrpages}
	if hasRef {
		r.Reference = ref
	}
	tf, err := k.TaskFiles(t.Addr)
	r.hasFS, r.Root, r.Cwd = tf.FS != 0, tf.Root, tf.Cwd
	if err != nil {
		r.Error = err.Error()
		r.hasFS = false // its ROOT and CWD are not known whole
		return r, err
	}
	if r.hasFS {
		r.rootIno, _ = k.DentryInode(tf.RootDentry)
		r.cwdIno, _ = k.DentryInode(tf.CwdDentry)
	}
	if hasRef && r.hasFS && (filenameComponent(r.Root, ref) || filenameComponent(r.Cwd, ref)) {
		r.refRoot, r.refFound = true, true
	}
	var rf filesRef
	if hasRef {
		rf = parseFilesRef(ref, tf.MaxFDs)
	}
	for _, of := range tf.Open {
		row := fileRow(k, of)
		if of.Err != nil {
			r.unread = append(r.unread, fmt.Errorf("PID %d fd %d: file %x: %w", t.PID, of.FD, of.File, of.Err))
		}
		if hasRef {
			if !rf.matches(row, nrpages) {
				continue
			}
			r.refFound = true
		}
		r.Files = append(r.Files, row)
	}
	return r, nil
}

// fileRow is one open file as files shows it.
func fileRow(k *kernel.Kernel, of kernel.OpenFile) FileRow {
	row := FileRow{FD: of.FD, File: Hex(of.File), Dentry: Hex(of.Dentry), Inode: Hex(of.Inode), Type: "?", Path: "?"}
	if of.Err != nil {
		row.Error = of.Err.Error()
	}
	if of.Dentry == 0 || of.Inode == 0 {
		return row
	}
	if of.Err != nil { // the path could not be read whole: "?"
		row.Type, _ = inodeType(of.Info, "")
		row.Mapping, row.NrPages = Hex(of.Info.Mapping), of.Info.NrPages
		return row
	}
	path := of.Path
	if strings.HasPrefix(path, "/pts/") && of.VFSMnt != 0 {
		// crash puts devpts files under /dev, where devpts is mounted.
		if m, err := k.ReadMount(of.VFSMnt - mountMntOffset(k)); err == nil && m.DevName == "devpts" {
			path = "/dev" + path
		}
	}
	row.Type, row.Path = inodeType(of.Info, path)
	row.Mapping, row.NrPages = Hex(of.Info.Mapping), of.Info.NrPages
	return row
}

// mountMntOffset is offsetof(struct mount, mnt).
func mountMntOffset(k *kernel.Kernel) uint64 {
	off, _ := k.Offset("mount", "mnt")
	return uint64(off)
}

// filesRef is files -R's reference: a number (a descriptor, read in
// decimal when it can be one, else an address in hex) or a word.
type filesRef struct {
	str      string
	hex, dec uint64
	isHex    bool
	isDec    bool
}

func parseFilesRef(s string, maxFDs int) filesRef {
	r := filesRef{str: s}
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	hv, herr := strconv.ParseUint(h, 16, 64)
	if herr != nil || h == "" {
		return r
	}
	if strings.ContainsAny(strings.ToLower(h), "abcdef") || strings.HasPrefix(s, "0x") {
		r.hex, r.isHex = hv, true
		return r
	}
	if d, err := strconv.ParseUint(s, 10, 64); err == nil && d <= uint64(maxFDs) {
		r.dec, r.isDec = d, true
		return r
	}
	r.hex, r.isHex = hv, true
	return r
}

// matches is crash's open_file_reference on the row's line: the
// descriptor, one of the addresses, the type, or a path containing the
// reference.
func (f filesRef) matches(row FileRow, nrpages bool) bool {
	if f.isHex || f.isDec {
		if f.isHex && uint64(row.FD) == f.hex || f.isDec && uint64(row.FD) == f.dec {
			return true
		}
		addrs := []Hex{row.File, row.Dentry, row.Inode}
		if nrpages {
			addrs = []Hex{row.Inode, row.Mapping}
		}
		for _, a := range addrs {
			if f.isHex && uint64(a) == f.hex {
				return true
			}
		}
	}
	typ := strings.TrimSpace(row.Type)
	if f.str == typ {
		return true
	}
	return row.Path != "" && row.Path != "?" && filenameComponent(row.Path, f.str)
}

func (r *FilesResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if r.Reference != "" {
		r.refText(tw)
		if r.trailing {
			tw.println("")
		}
		return tw.err
	}
	nl := ""
	if r.newline {
		nl = "\n"
	}
	tw.printf("%s%s\n", nl, r.Task.Header())
	if r.hasFS {
		tw.printf("ROOT: %s    CWD: %s\n", r.Root, r.Cwd)
	}
	if len(r.Files) == 0 {
		if r.Error == "" {
			tw.println("No open files")
		}
	} else {
		tw.printf("%s", r.header())
		for _, f := range r.Files {
			tw.printf("%s", r.line(f))
		}
	}
	if r.trailing {
		tw.println("")
	}
	return tw.err
}

// refText is files -R: the task's header and directories when anything
// refers to the reference, the files that do, then a blank line.
func (r *FilesResult) refText(tw *textWriter) {
	if !r.refFound {
		return
	}
	tw.println(r.Task.Header())
	tw.printf("ROOT: %s    CWD: %s \n", r.Root, r.Cwd)
	if len(r.Files) > 0 {
		tw.printf("%s", r.header())
		for _, f := range r.Files {
			tw.printf("%s", r.line(f))
		}
	}
	tw.println("")
}

func (r *FilesResult) header() string {
	if r.NrPages {
		return " FD " + center(16, "INODE", false) + " " + center(16, "I_MAPPING", false) + " NRPAGES TYPE PATH\n"
	}
	return " FD " + center(16, "FILE", false) + " " + center(16, "DENTRY", false) + " " + center(16, "INODE", false) + " TYPE PATH\n"
}

func hex16(v Hex) string { return center(16, strconv.FormatUint(uint64(v), 16), true) }

func (r *FilesResult) line(f FileRow) string {
	switch {
	case f.Dentry == 0:
		return fmt.Sprintf("%3d %s %016x %s ?    ?\n", f.FD, hex16(f.File), 0, center(16, "?", false))
	case f.Inode == 0:
		return fmt.Sprintf("%3d %s %s %016x ?    ?\n", f.FD, hex16(f.File), hex16(f.Dentry), 0)
	case r.NrPages:
		return fmt.Sprintf("%3d %s %s %7d %-4s %s\n", f.FD, hex16(f.Inode), hex16(f.Mapping), f.NrPages, f.Type, f.Path)
	}
	return fmt.Sprintf("%3d %s %s %s %-4s %s\n", f.FD, hex16(f.File), hex16(f.Dentry), hex16(f.Inode), f.Type, f.Path)
}

// DentryResult is files -d: a dentry's inode, super block, type and path.
type DentryResult struct {
	Dentry     Hex    `json:"dentry"`
	Inode      Hex    `json:"inode"`
	SuperBlock Hex    `json:"superblock"`
	Type       string `json:"type"` // "N/A" without an inode
	Path       string `json:"path"`
}

func (r *DentryResult) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s %s %s TYPE PATH\n%s %s %s %-4s %s\n",
		center(16, "DENTRY", false), center(16, "INODE", false), center(16, "SUPERBLK", false),
		hex16(r.Dentry), hex16(r.Inode), center(16, strconv.FormatUint(uint64(r.SuperBlock), 16), false), r.Type, r.Path)
	return err
}

// dentryInfo gathers files -d: the dentry's inode and super block, and
// its path through the mount of pid 1's namespace with that super block.
func dentryInfo(s *Session, dentry uint64) (*DentryResult, error) {
	k := s.Kernel
	r := &DentryResult{Dentry: Hex(dentry), Type: "N/A"}
	inode, err := k.DentryInode(dentry)
	if err != nil {
		return nil, err
	}
	r.Inode = Hex(inode)
	var in kernel.Inode
	if inode != 0 {
		if in, err = k.ReadInode(inode); err != nil {
			return r, err
		}
		r.SuperBlock = Hex(in.SB)
	} else if sb, err := k.DentrySB(dentry); err == nil {
		r.SuperBlock = Hex(sb)
	}
	if r.SuperBlock != 0 {
		mounts, _ := namespaceMounts(s, "")
		for _, m := range mounts {
			if m.SB == uint64(r.SuperBlock) {
				if r.Path, err = k.DPath(dentry, m.VFSMount); err != nil {
					return r, err
				}
			}
		}
		if r.Path == "" {
			for _, sym := range []string{"pipe_mnt", "sock_mnt"} {
				addr, err := k.SymbolAddr(sym)
				if err != nil {
					continue
				}
				vfs, err := k.ReadU64(addr)
				if err != nil || vfs == 0 {
					continue
				}
				if m, err := k.ReadMount(vfs - mountMntOffset(k)); err == nil && m.SB == uint64(r.SuperBlock) {
					r.Path, _ = k.DPath(dentry, vfs)
					break
				}
			}
		}
	}
	if inode != 0 {
		r.Type, r.Path = inodeType(in, r.Path)
	}
	return r, nil
}

// foreachFiles is foreach files: each task's files, a blank line between
// tasks (-R: only the tasks with a reference, each followed by a blank).
func foreachFiles(ctx context.Context, s *Session, tasks []kernel.Task, a *Args) (Result, error) {
	if a.Has("d") || len(a.Words) > 0 {
		return nil, &UsageError{"foreach files takes -c and -R only; choose tasks before files"}
	}
	ref, hasRef := a.Value("R")
	var out FilesResults
	var missing linesError
	for i, t := range tasks {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := gatherFiles(s.Kernel, t, a.Has("c"), ref, hasRef)
		r.newline = i > 0
		out = append(out, r)
		if err != nil { // costs this task's files
			missing = append(missing, fmt.Errorf("PID %d: %w", r.Task.PID, err))
		}
		missing = append(missing, r.unread...)
	}
	return out, missingErr(missing)
}

// InodePagesResult is files -p: an inode's number of cached pages and the
// pages of its page cache.
type InodePagesResult struct {
	Inode   Hex        `json:"inode"`
	NrPages uint64     `json:"nrpages"`
	Pages   *PageTable `json:"pages,omitempty"`
}

func (r *InodePagesResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("%s  NRPAGES\n%s  %7d\n\n", center(16, "INODE", false), hex16(r.Inode), r.NrPages)
	if r.Pages != nil && len(r.Pages.Pages) > 0 {
		r.Pages.text(tw)
	}
	return tw.err
}

// inodePages gathers files -p.
func inodePages(s *Session, inode uint64) (*InodePagesResult, error) {
	k := s.Kernel
	in, err := k.ReadInode(inode)
	if err != nil {
		return nil, err
	}
	r := &InodePagesResult{Inode: Hex(inode), NrPages: in.NrPages}
	if in.NrPages == 0 || in.Mapping == 0 {
		return r, nil
	}
	addrs, err := k.PageCache(in.Mapping)
	var pages []kernel.Page
	ps := k.Arch.PageSize()
	for _, a := range addrs {
		pfn, ok := k.PagePFN(a)
		if !ok {
			continue // not a struct page: crash leaves it out too
		}
		p, perr := k.PageOf(pfn * ps)
		if perr != nil {
			return r, perr
		}
		pages = append(pages, p)
	}
	r.Pages = newPageTable(s, pages)
	if err == nil && uint64(len(pages)) != in.NrPages {
		err = fmt.Errorf("xarray page count: %d  nrpages: %d", len(pages), in.NrPages)
	}
	return r, err
}
