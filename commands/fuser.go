package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func fuserCommand() *Command {
	return &Command{
		Name:     "fuser",
		Synopsis: "fuser pathname | inode ...",
		Summary:  "file users",
		Help: `Lists the tasks using a file: as their root directory (root), their working
directory (cwd), an open file descriptor (fd) or a mapping (mmap). The file is
named by its full path or by its inode's address (hexadecimal). As in crash,
a task's root, working directory, open files (with their inodes) and VMAs (with
their files' inodes) are each laid out as a line, and the file is used where a
line holds the argument followed by a space or the line's end.`,
		Options: []Option{
			{"pathname", "the full path of the file"},
			{"inode", "the hexadecimal address of the file's inode"},
		},
		Examples: []string{
			"gocrash> fuser /dev/null\n PID         TASK        COMM             USAGE\n   89  ffff9de2f0ef4380  \"sleep\"          fd \n...",
			"gocrash> fuser /bin/busybox",
		},
		Results: []Result{FuserResults{}},
		Run:     runFuser,
	}
}

// FuserResults is fuser's answer for each file named.
type FuserResults []*FuserResult

func (rs FuserResults) Text(w io.Writer) error {
	for _, r := range rs {
		if err := r.Text(w); err != nil {
			return err
		}
	}
	return nil
}

// FuserResult is the users of one file.
type FuserResult struct {
	File  string      `json:"file"`
	Users []FuserUser `json:"users"`
}

// FuserUser is one task using the file, and how: "root", "cwd", "fd",
// "mmap".
type FuserUser struct {
	Task  TaskRef  `json:"task"`
	Usage []string `json:"usage"`
}

func (r *FuserResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if len(r.Users) == 0 {
		tw.printf("No users of %s found\n", r.File)
		return tw.err
	}
	tw.printf(" PID   %s  COMM             USAGE\n", center(16, "TASK", false))
	for _, u := range r.Users {
		c := fmt.Sprintf("%q\n", u.Task.Command)
		if len(c) > 16 {
			c = c[:16]
		}
		c = c[:len(c)-1]
		c += strings.Repeat(" ", 16-len(c))
		tw.printf("%5d  %16x  %s %s \n", u.Task.PID, uint64(u.Task.Task), c, strings.Join(u.Usage, " "))
	}
	return tw.err
}

// usedOn is crash's test of a line: the first place it holds spec is
// followed by a space or the line's end.
func usedOn(line, spec string) (int, bool) {
	i := strings.Index(line, spec)
	if i < 0 {
		return -1, false
	}
	if j := i + len(spec); j < len(line) && line[j] != ' ' && line[j] != '\n' {
		return -1, false
	}
	return i, true
}

func runFuser(ctx context.Context, s *Session, a *Args) (Result, error) {
	if len(a.Words) == 0 {
		return nil, &UsageError{"a pathname or inode address is required"}
	}
	k := s.Kernel
	tasks, missing, err := readTasks(k)
	if err != nil {
		return nil, err
	}
	var unread linesError // tasks whose files or VMAs cannot be read
	if missing != nil {
		unread = append(unread, missing)
	}
	// Each task's lines, once for all the files asked for.
	type taskLines struct {
		t     kernel.Task
		root  string   // the ROOT/CWD line
		fds   []string // the open files' lines
		mmaps []string // the VMAs' lines
	}
	var all []taskLines
	for _, t := range tasks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tl := taskLines{t: t}
		fr, err := gatherFiles(k, t, false, "", false)
		if err != nil {
			unread = append(unread, fmt.Errorf("PID %d (task %x): %w", t.PID, t.Addr, err))
			continue
		}
		if fr.hasFS {
			tl.root = fmt.Sprintf("ROOT: %x %s    CWD: %x %s\n", fr.rootIno, fr.Root, fr.cwdIno, fr.Cwd)
		}
		for _, f := range fr.Files {
			tl.fds = append(tl.fds, fr.line(f))
		}
		if t.MM != 0 {
			vmas, err := k.VMAs(t.MM)
			if err != nil {
				unread = append(unread, fmt.Errorf("PID %d (task %x): %w", t.PID, t.Addr, err))
			}
			for _, v := range vmas {
				var inode uint64
				if v.File != 0 {
					if d, _, err := fileDentryOf(k, v.File); err == nil && d != 0 {
						inode, _ = k.DentryInode(d)
					}
				}
				if inode != 0 {
					tl.mmaps = append(tl.mmaps, fmt.Sprintf("%x %10x %10x %6x %x %s\n", v.Addr, v.Start, v.End, v.Flags, inode, v.Path))
				} else {
					tl.mmaps = append(tl.mmaps, vmaLine(VMRow{Addr: Hex(v.Addr), Start: Hex(v.Start), End: Hex(v.End), Flags: Hex(v.Flags), Path: v.Path}))
				}
			}
		}
		all = append(all, tl)
	}
	var out FuserResults
	for _, w := range a.Words {
		spec := w
		if strings.HasPrefix(spec, "0x") {
			spec = spec[2:]
		}
		r := &FuserResult{File: spec, Users: []FuserUser{}}
		for _, tl := range all {
			var uses []string
			if i, ok := usedOn(tl.root, spec); ok {
				if strings.Contains(tl.root[i:], "CWD:") {
					uses = append(uses, "root")
					if _, ok := usedOn(tl.root[i+len(spec):], spec); ok {
						uses = append(uses, "cwd")
					}
				} else {
					uses = append(uses, "cwd")
				}
			}
			for _, l := range tl.fds {
				if _, ok := usedOn(l, spec); ok {
					uses = append(uses, "fd")
					break
				}
			}
			for _, l := range tl.mmaps {
				if _, ok := usedOn(l, spec); ok {
					uses = append(uses, "mmap")
					break
				}
			}
			if len(uses) > 0 {
				r.Users = append(r.Users, FuserUser{Task: taskRef(tl.t), Usage: uses})
			}
		}
		out = append(out, r)
	}
	if len(unread) > 0 {
		return out, unread
	}
	return out, nil
}

// fileDentryOf reads a struct file's dentry and vfsmount.
func fileDentryOf(k *kernel.Kernel, file uint64) (uint64, uint64, error) {
	fp, err := k.Offset("file", "f_path")
	if err != nil {
		return 0, 0, err
	}
	pd, err := k.Offset("path", "dentry")
	if err != nil {
		return 0, 0, err
	}
	pm, err := k.Offset("path", "mnt")
	if err != nil {
		return 0, 0, err
	}
	d, err := k.ReadU64(file + uint64(fp+pd))
	if err != nil {
		return 0, 0, err
	}
	m, err := k.ReadU64(file + uint64(fp+pm))
	return d, m, err
}
