package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func mountCommand() *Command {
	return &Command{
		Name:     "mount",
		Synopsis: "mount [-n pid|task] [mount|vfsmount|superblock|type|dev|dir] ...",
		Summary:  "mounted filesystem data",
		Help: `Lists the mounted file systems of a mount namespace (pid 1's, or the namespace
of the task -n names): each struct mount, its super block, the file system
type, the device name and the directory it is mounted on (d_path of its mount
point in its parent mount). The mounts come from the namespace's list
(mnt_namespace.list) or, on kernels that keep them in a red-black tree
(mnt_namespace.mounts, 6.8 and later), in the tree's order.

Arguments choose mounts: a mount, vfsmount or super block address, a type, a
device name or a directory. crash's -f (open files per super block) and -i (dirty
inodes) need super_block lists that kernels since 3.13 and 2.6.32 no longer
have, and crash refuses them there; so does gocrash.`,
		Options: []Option{
			{"-n pid|task", "the mount namespace of this task"},
			{"-f", "open files of each file system (kernels before 3.13: refused)"},
			{"-i", "dirty inodes of each file system (kernels before 2.6.32: refused)"},
			{"mount", "a struct mount, vfsmount or super_block address, a type, a device name or a directory"},
		},
		Examples: []string{
			"gocrash> mount\n     MOUNT           SUPERBLK     TYPE   DEVNAME   DIRNAME\nffff9de2f0a5c780 ffff9de2c104a000 rootfs rootfs    /         \nffff9de2fcea0a00 ffff9de2fff0a800 proc   proc      /proc     \n...",
			"gocrash> mount /proc", "gocrash> mount -n 1",
		},
		Results: []Result{&MountResult{}},
		Run:     runMount,
	}
}

// MountResult is mount's table.
type MountResult struct {
	Mounts []MountRow `json:"mounts"`
}

// MountRow is one mounted file system.
type MountRow struct {
	Mount      Hex    `json:"mount"`    // struct mount
	VFSMount   Hex    `json:"vfsmount"` // its embedded vfsmount
	SuperBlock Hex    `json:"superblock"`
	Type       string `json:"type"`
	DevName    string `json:"devname"`
	DirName    string `json:"dirname"`
}

func (r *MountResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("%s", mountHeader())
	for _, m := range r.Mounts {
		tw.printf("%s", mountLine(m))
	}
	return tw.err
}

func mountHeader() string {
	return center(16, "MOUNT", false) + " " + center(16, "SUPERBLK", false) + " " + "TYPE  " + " " + fmt.Sprintf("%-9s", "DEVNAME") + " DIRNAME\n"
}

// mountLine is crash's: the type padded to six and the device name to
// nine, each followed by a space, then the spaces crash trims while the
// two make more than 17 characters, then the directory padded to ten.
func mountLine(m MountRow) string {
	typ := m.Type
	if typ == "" {
		typ = "unknown"
	}
	dev := m.DevName
	if dev == "" {
		dev = "(unknown)"
	}
	mid := fmt.Sprintf("%-6s %-9s ", typ, dev)
	for len(mid) > 17 && mid[len(mid)-2] == ' ' {
		mid = mid[:len(mid)-1]
	}
	return fmt.Sprintf("%16x %16x %s%-10s\n", uint64(m.Mount), uint64(m.SuperBlock), mid, m.DirName)
}

func runMount(ctx context.Context, s *Session, a *Args) (Result, error) {
	if a.Has("f") {
		return nil, fmt.Errorf("the super_block.s_files linked list does not exist in this kernel")
	}
	if a.Has("i") {
		return nil, fmt.Errorf("the super_block.s_dirty linked list does not exist in this kernel")
	}
	n, _ := a.Value("n")
	mounts, err := namespaceMounts(s, n)
	r := &MountResult{Mounts: []MountRow{}}
	for _, m := range mounts {
		row := MountRow{Mount: Hex(m.Addr), VFSMount: Hex(m.VFSMount), SuperBlock: Hex(m.SB), Type: m.Type, DevName: m.DevName, DirName: m.Dir}
		if len(a.Words) > 0 && !mountChosen(m, row, a.Words) {
			continue
		}
		r.Mounts = append(r.Mounts, row)
	}
	return r, err
}

// mountChosen says whether any of words names the mount, as crash matches
// a word against the fields of a mount's line: its mount, vfsmount or
// super block address, type, device name or directory.
func mountChosen(m kernel.Mount, row MountRow, words []string) bool {
	for _, w := range words {
		if w == row.DevName || w == row.DirName || w == row.Type {
			return true
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
		if err != nil {
			continue
		}
		if v == m.Addr || v == m.VFSMount || v == m.SB {
			return true
		}
	}
	return false
}

// namespaceMounts gives the mounts of the namespace of the task arg names
// ("": the lowest-numbered task from pid 1 up, as crash picks one).
func namespaceMounts(s *Session, arg string) ([]kernel.Mount, error) {
	tasks, err := lookupTasks(s.Kernel)
	if err != nil {
		return nil, err
	}
	var task kernel.Task
	if arg != "" {
		if task, err = oneTask(tasks, arg); err != nil {
			return nil, err
		}
	} else {
		found := false
		for _, t := range tasks {
			if t.PID >= 1 && (!found || t.PID < task.PID) {
				task, found = t, true
			}
		}
		if !found {
			return nil, fmt.Errorf("no task to find the mount namespace from")
		}
	}
	ns, err := s.Kernel.TaskNamespace(task.Addr)
	if err != nil {
		return nil, err
	}
	if ns == 0 {
		return nil, fmt.Errorf("cannot determine mount list location!")
	}
	return s.Kernel.Mounts(ns)
}
