package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/gocrash/gocrash/kernel"
)

func ipcsCommand() *Command {
	return &Command{
		Name:     "ipcs",
		Synopsis: "ipcs [-smMq] [-n pid|task] [id | addr]",
		Summary:  "System V IPC facilities",
		Help: `Displays the System V IPC objects of the initial IPC namespace (init_ipc_ns):
shared memory segments (struct shmid_kernel: key, id, owner's uid,
permissions, size, attaches and whether it is marked for destruction or
locked), semaphore sets (struct sem_array and its number of semaphores) and
message queues (struct msg_queue, the bytes and messages queued), each found
in its ipc_ids' idr. Deleted objects are not shown.

-s, -m and -q choose semaphores, shared memory and message queues (all three
by default); -M shows shared memory with each segment's pages allocated,
resident and swapped and its shmem inode. -n uses the IPC namespace of the
task named by PID or task_struct address. An id or an object's address as
argument shows only that object.`,
		Options: []Option{
			{"-s", "semaphore sets"},
			{"-m", "shared memory segments"},
			{"-M", "shared memory segments, with their pages and inode"},
			{"-q", "message queues"},
			{"-n pid|task", "the IPC namespace of this task"},
			{"id", "the object with this id"},
			{"addr", "the object whose shmid_kernel, sem_array or msg_queue is at this address"},
		},
		Examples: []string{"gocrash> ipcs", "gocrash> ipcs -M", "gocrash> ipcs -q", "gocrash> ipcs 0"},
		Results:  []Result{&IPCSResult{}},
		Run:      runIPCS,
	}
}

// IPCSResult is ipcs's listing: a section per kind chosen, or, for ids and
// addresses given, the objects each matched.
type IPCSResult struct {
	Namespace Hex         `json:"ipc_namespace"`
	Sections  []IPCSet    `json:"sections,omitempty"`
	Lookups   []IPCLookup `json:"lookups,omitempty"`
	verbose   bool
}

// IPCSet is the objects of one kind.
type IPCSet struct {
	Kind    string   `json:"kind"` // shm, sem, msg
	InUse   bool     `json:"in_use"`
	Objects []IPCRow `json:"objects"`
}

// IPCLookup is what one id or address argument matched.
type IPCLookup struct {
	Arg     string   `json:"arg"`
	Objects []IPCRow `json:"objects"`
}

// IPCRow is one IPC object.
type IPCRow struct {
	Kind      string `json:"kind"`
	Addr      Hex    `json:"addr"`
	Key       uint32 `json:"key"`
	ID        int32  `json:"id"`
	UID       uint32 `json:"uid"`
	Perms     uint32 `json:"perms"`
	Bytes     uint64 `json:"bytes,omitempty"`
	Nattch    uint64 `json:"nattch,omitempty"`
	Dest      bool   `json:"dest,omitempty"`
	Locked    bool   `json:"locked,omitempty"`
	Pages     uint64 `json:"pages,omitempty"`
	Resident  uint64 `json:"resident,omitempty"`
	Swapped   uint64 `json:"swapped,omitempty"`
	Inode     Hex    `json:"inode,omitempty"`
	Nsems     uint64 `json:"nsems,omitempty"`
	UsedBytes uint64 `json:"used_bytes,omitempty"`
	Messages  uint64 `json:"messages,omitempty"`
}

const (
	shmDest   = 01000
	shmLocked = 02000
)

func runIPCS(ctx context.Context, s *Session, a *Args) (Result, error) {
	k := s.Kernel
	ipc := k.IPC()
	var task uint64
	if v, ok := a.Value("n"); ok {
		t, err := contextTask(s, v)
		if err != nil {
			return nil, fmt.Errorf("invalid task or pid value: %s", v)
		}
		task = t
	}
	ns, err := ipc.Namespace(task)
	if err != nil {
		return nil, err
	}
	var kinds []kernel.IPCKind
	if a.Has("m") || a.Has("M") {
		kinds = append(kinds, kernel.IPCShm)
	}
	if a.Has("s") {
		kinds = append(kinds, kernel.IPCSem)
	}
	if a.Has("q") {
		kinds = append(kinds, kernel.IPCMsg)
	}
	if len(kinds) == 0 {
		kinds = []kernel.IPCKind{kernel.IPCShm, kernel.IPCSem, kernel.IPCMsg}
	}
	var values []uint64
	for _, w := range a.Words {
		v, err := strconv.ParseUint(w, 0, 64)
		if err != nil {
			return nil, &UsageError{"invalid id or address: " + w}
		}
		values = append(values, v)
	}
	res := &IPCSResult{Namespace: Hex(ns), verbose: a.Has("M")}
	sets := map[kernel.IPCKind][]IPCRow{}
	for _, kind := range kinds {
		objs, err := ipc.Objects(ns, kind)
		set := IPCSet{Kind: ipcKindName(kind), InUse: len(objs) > 0, Objects: []IPCRow{}}
		for _, o := range objs {
			if !o.Deleted {
				set.Objects = append(set.Objects, ipcRow(o, k.Arch.PageSize()))
			}
		}
		if err != nil {
			return res, err
		}
		sets[kind] = set.Objects
		res.Sections = append(res.Sections, set)
	}
	if len(values) > 0 {
		for i, v := range values {
			l := IPCLookup{Arg: a.Words[i], Objects: []IPCRow{}}
			for _, kind := range kinds {
				for _, r := range sets[kind] {
					if uint64(r.ID) == v || uint64(r.Addr) == v {
						l.Objects = append(l.Objects, r)
						break
					}
				}
			}
			res.Lookups = append(res.Lookups, l)
		}
		res.Sections = nil
	}
	return res, nil
}

func ipcKindName(k kernel.IPCKind) string {
	switch k {
	case kernel.IPCShm:
		return "shm"
	case kernel.IPCSem:
		return "sem"
	}
	return "msg"
}

func ipcRow(o kernel.IPCObject, pageSize uint64) IPCRow {
	r := IPCRow{Kind: ipcKindName(o.Kind), Addr: Hex(o.Addr), Key: uint32(o.Key), ID: o.ID, UID: o.UID, Perms: o.Mode & 0777}
	switch o.Kind {
	case kernel.IPCShm:
		r.Bytes, r.Nattch = o.Bytes, o.Nattch
		r.Dest, r.Locked = o.Mode&shmDest != 0, o.Mode&shmLocked != 0
		r.Pages = (o.Bytes + pageSize - 1) / pageSize
		r.Resident, r.Swapped, r.Inode = o.RSS, o.Swapped, Hex(o.Inode)
	case kernel.IPCSem:
		r.Nsems = o.Nsems
	case kernel.IPCMsg:
		r.UsedBytes, r.Messages = o.QBytes, o.QNum
	}
	return r
}

var ipcHeaders = map[string]string{
	"shm": fmt.Sprintf("%-16s %-8s %-10s %-5s %-5s %-10s %-6s %-6s", "SHMID_KERNEL", "KEY", "SHMID", "UID", "PERMS", "BYTES", "NATTCH", "STATUS"),
	"sem": fmt.Sprintf("%-16s %-8s %-10s %-5s %-5s %-10s", "SEM_ARRAY", "KEY", "SEMID", "UID", "PERMS", "NSEMS"),
	"msg": fmt.Sprintf("%-16s %-8s %-10s %-5s %-5s %-12s %-12s", "MSG_QUEUE", "KEY", "MSQID", "UID", "PERMS", "USED-BYTES", "MESSAGES"),
}

func (r IPCRow) line(verbose bool) string {
	switch r.Kind {
	case "shm":
		dest, locked := "", ""
		if r.Dest {
			dest = "dest"
		}
		if r.Locked {
			locked = "locked"
		}
		s := fmt.Sprintf("%-16x %08x %-10d %-5d %-5o %-10d %-6d %s %s\n", uint64(r.Addr), r.Key, r.ID, r.UID, r.Perms, r.Bytes, r.Nattch, dest, locked)
		if verbose {
			s += fmt.Sprintf("PAGES ALLOCATED/RESIDENT/SWAPPED: %d/%d/%d\nINODE: %x\n", r.Pages, r.Resident, r.Swapped, uint64(r.Inode))
		}
		return s
	case "sem":
		return fmt.Sprintf("%-16x %08x %-10d %-5d %-5o %-10d\n", uint64(r.Addr), r.Key, r.ID, r.UID, r.Perms, r.Nsems)
	}
	return fmt.Sprintf("%-16x %08x %-10d %-5d %-5o %-12d %-12d\n", uint64(r.Addr), r.Key, r.ID, r.UID, r.Perms, r.UsedBytes, r.Messages)
}

func (res *IPCSResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, l := range res.Lookups {
		if len(l.Objects) == 0 {
			tw.printf("invalid id or address: %s\n\n", l.Arg)
		}
		for _, r := range l.Objects {
			tw.printf("%s\n%s\n", ipcHeaders[r.Kind], r.line(res.verbose))
		}
	}
	for _, set := range res.Sections {
		if set.Kind == "shm" && res.verbose {
			// -M: a header with each segment.
			for _, r := range set.Objects {
				tw.printf("%s\n%s\n", ipcHeaders[r.Kind], r.line(true))
			}
			if len(set.Objects) == 0 {
				tw.printf("%s\n(none allocated)\n\n", ipcHeaders["shm"])
			}
			continue
		}
		tw.printf("%s\n", ipcHeaders[set.Kind])
		if !set.InUse {
			tw.printf("(none allocated)\n\n")
			continue
		}
		for _, r := range set.Objects {
			tw.printf("%s", r.line(false))
		}
		tw.printf("\n")
	}
	return tw.err
}
