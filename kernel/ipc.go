package kernel

import "fmt"

// IPCKind is which System V IPC ids set: the index into ipc_namespace.ids.
type IPCKind int

const (
	IPCSem IPCKind = 0
	IPCMsg IPCKind = 1
	IPCShm IPCKind = 2
)

// IPCObject is one System V IPC object: a shared memory segment
// (struct shmid_kernel), semaphore set (struct sem_array) or message
// queue (struct msg_queue).
type IPCObject struct {
	Kind    IPCKind
	Addr    uint64 // the shmid_kernel, sem_array or msg_queue
	Key     int32
	ID      int32
	UID     uint32
	Mode    uint32
	Deleted bool
	// Shared memory: size, attaches, the shmem inode and its pages.
	Bytes, Nattch       uint64
	Inode, RSS, Swapped uint64
	// Semaphores: the set's size. Messages: bytes and messages queued.
	Nsems        uint64
	QBytes, QNum uint64
}

// IPC reads the System V IPC objects of an IPC namespace.
type IPC struct{ d objDeps }

// IPC returns the reader of the kernel's System V IPC objects.
func (k *Kernel) IPC() *IPC { return &IPC{k.objDeps()} }

// Namespace is the struct ipc_namespace of a task (task->nsproxy->ipc_ns);
// task 0 means init_ipc_ns.
func (p *IPC) Namespace(task uint64) (uint64, error) {
	if task == 0 {
		return p.d.SymbolAddr("init_ipc_ns")
	}
	o := p.d.obj()
	ns := o.u64(task + o.off("task_struct", "nsproxy"))
	if o.err == nil && ns == 0 {
		return 0, fmt.Errorf("cannot determine ipc_namespace location!")
	}
	return o.u64(ns + o.off("nsproxy", "ipc_ns")), o.err
}

// Objects lists the objects of kind in namespace ns, in the order of
// their ids' idr.
func (p *IPC) Objects(ns uint64, kind IPCKind) ([]IPCObject, error) {
	o := p.d.obj()
	ids := ns + o.off("ipc_namespace", "ids") + uint64(kind)*o.size("ipc_ids")
	inUse := o.u32(ids + o.off("ipc_ids", "in_use"))
	idr := ids + o.off("ipc_ids", "ipcs_idr") + o.off("idr", "idr_rt")
	if o.err != nil {
		return nil, o.err
	}
	if inUse == 0 {
		return nil, nil
	}
	ents, err := p.d.walkXArray(idr)
	if err != nil {
		return nil, err
	}
	var out []IPCObject
	for _, e := range ents {
		ob, err := p.read(kind, e.Value)
		if err != nil {
			return out, err
		}
		out = append(out, ob)
	}
	return out, nil
}

func (p *IPC) read(kind IPCKind, perm uint64) (IPCObject, error) {
	o := p.d.obj()
	st, pm := "shmid_kernel", "shm_perm"
	switch kind {
	case IPCSem:
		st, pm = "sem_array", "sem_perm"
	case IPCMsg:
		st, pm = "msg_queue", "q_perm"
	}
	ob := IPCObject{Kind: kind, Addr: perm - o.off(st, pm)}
	ob.Key = int32(o.u32(perm + o.off("kern_ipc_perm", "key")))
	ob.ID = int32(o.u32(perm + o.off("kern_ipc_perm", "id")))
	ob.UID = o.u32(perm + o.off("kern_ipc_perm", "uid"))
	ob.Mode = uint32(o.u16(perm + o.off("kern_ipc_perm", "mode")))
	ob.Deleted = o.u8(perm+o.off("kern_ipc_perm", "deleted")) != 0
	switch kind {
	case IPCShm:
		ob.Bytes = o.u64(ob.Addr + o.off("shmid_kernel", "shm_segsz"))
		ob.Nattch = o.u64(ob.Addr + o.off("shmid_kernel", "shm_nattch"))
		if f := o.u64(ob.Addr + o.off("shmid_kernel", "shm_file")); f != 0 {
			dentry := o.u64(f + o.off("file", "f_path") + o.off("path", "dentry"))
			if dentry != 0 {
				ob.Inode = o.u64(dentry + o.off("dentry", "d_inode"))
			}
			if ob.Inode != 0 {
				if m := o.u64(ob.Inode + o.off("inode", "i_mapping")); m != 0 {
					ob.RSS = o.u64(m + o.off("address_space", "nrpages"))
				}
				if o.has("shmem_inode_info", "swapped") {
					ob.Swapped = o.u64(ob.Inode - o.off("shmem_inode_info", "vfs_inode") + o.off("shmem_inode_info", "swapped"))
				}
			}
		}
	case IPCSem:
		ob.Nsems = uint64(o.u32(ob.Addr + o.off("sem_array", "sem_nsems")))
	case IPCMsg:
		ob.QBytes = o.u64(ob.Addr + o.off("msg_queue", "q_cbytes"))
		ob.QNum = o.u64(ob.Addr + o.off("msg_queue", "q_qnum"))
	}
	return ob, o.err
}
