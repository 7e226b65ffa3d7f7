package kernel_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// diskMachine lays out the block class's klist of disks (5.11+: a
// block_device holding each disk's struct device) and blk-mq queues, with
// every offset in VMCOREINFO.
type diskMachine struct {
	*kerneltest.Machine
	head, diskType uint64
}

func newDiskMachine() *diskMachine {
	m := &diskMachine{Machine: kerneltest.New()}
	for _, o := range []struct {
		s, m string
		off  int64
	}{
		{"class", "p", 0}, {"subsys_private", "klist_devices", 0x10}, {"klist", "k_list", 0x8},
		{"klist_node", "n_klist", 0}, {"klist_node", "n_node", 0x8},
		{"device_private", "device", 0}, {"device_private", "knode_class", 0x20}, {"device", "type", 0x8},
		{"block_device", "bd_disk", 0x10}, {"block_device", "bd_device", 0x40},
		{"gendisk", "disk_name", 0}, {"gendisk", "queue", 0x20}, {"gendisk", "major", 0x28},
		{"request_queue", "mq_ops", 0}, {"request_queue", "nr_hw_queues", 0x8}, {"request_queue", "queue_hw_ctx", 0x10},
		{"request", "q", 0}, {"request", "cmd_flags", 0x8}, {"request", "state", 0xc},
		{"blk_mq_hw_ctx", "tags", 0}, {"blk_mq_tags", "nr_reserved_tags", 0}, {"blk_mq_tags", "rqs", 0x8},
		{"blk_mq_tags", "bitmap_tags", 0x10}, {"blk_mq_tags", "breserved_tags", 0x40}, {"sbitmap_queue", "sb", 0},
		{"sbitmap", "depth", 0}, {"sbitmap", "shift", 0x4}, {"sbitmap", "map_nr", 0x8}, {"sbitmap", "map", 0x10},
		{"sbitmap_word", "word", 0x8}, {"sbitmap_word", "cleared", 0x10},
	} {
		m.Offset(o.s, o.m, o.off)
	}
	m.Size("sbitmap_word", 64)
	class := m.Var(8)
	m.diskType = m.Var(8)
	m.Symbol("block_class", class)
	m.Symbol("disk_type", m.diskType)
	priv := m.Object(64)
	m.PutU64(class, priv)
	m.head = priv + 0x18
	m.PutU64(m.head, m.head)
	m.PutU64(m.head+8, m.head)
	return m
}

// add puts a device on the klist: its device_private, and the
// block_device holding its struct device (of type typ) whose bd_disk is
// gendisk; dead marks the klist node dead.
func (m *diskMachine) add(typ, gendisk uint64, dead bool) {
	dp, bd := m.Object(64), m.Object(128)
	node := dp + 0x20 + 0x8
	last := binary.LittleEndian.Uint64(m.At(m.head + 8))
	m.PutU64(last, node)
	m.PutU64(node, m.head)
	m.PutU64(node+8, last)
	m.PutU64(m.head+8, node)
	if dead {
		m.PutU64(dp+0x20, 1)
	}
	m.PutU64(dp, bd+0x40)
	m.PutU64(bd+0x40+0x8, typ)
	m.PutU64(bd+0x10, gendisk)
}

// disk makes a gendisk named name of major 254 with queue q.
func (m *diskMachine) disk(name string, q uint64) uint64 {
	g := m.Object(64)
	m.PutString(g, name)
	m.PutU64(g+0x20, q)
	m.PutU32(g+0x28, 254)
	return g
}

// sbitmap fills the sbitmap at sb: depth bits in words of 1<<shift bits,
// the words' word and cleared bits.
func (m *diskMachine) sbitmap(sb uint64, depth, shift uint32, words, cleared []uint64) {
	arr := m.Object(uint64(64 * len(words)))
	m.PutU32(sb, depth)
	m.PutU32(sb+4, shift)
	m.PutU32(sb+8, uint32(len(words)))
	m.PutU64(sb+0x10, arr)
	for i := range words {
		m.PutU64(arr+uint64(64*i)+8, words[i])
		m.PutU64(arr+uint64(64*i)+0x10, cleared[i])
	}
}

// TestDiskIOUnit: dev -d's walk of the block class. A blk-mq queue's
// requests in flight are counted as crash 8.0.2 counts them: each tag set
// and not cleared, within its word's depth, of the reserved and then the
// normal sbitmap (a normal tag's request at rqs[tag + nr_reserved_tags])
// whose request is the queue's and MQ_RQ_IN_FLIGHT, a write when its
// operation's low bit is set; a dead klist node, a device that is no disk
// and a loop device are left out; a disk whose gendisk, or whose queue's
// hardware context, cannot be read is named in the error and costs only
// itself: the disks after it are listed.
func TestDiskIOUnit(t *testing.T) {
	m := newDiskMachine()
	q, other := m.Object(64), m.Object(64)
	m.PutU64(q, 0xffffffff81000000) // mq_ops
	hctxs, h, tags := m.Object(64), m.Object(64), m.Object(128)
	m.PutU32(q+0x8, 1)
	m.PutU64(q+0x10, hctxs)
	m.PutU64(hctxs, h)
	m.PutU64(h, tags)
	m.PutU32(tags, 1) // one reserved tag
	rqs := m.Object(8 * 72)
	m.PutU64(tags+0x8, rqs)
	m.sbitmap(tags+0x40, 1, 6, []uint64{1}, []uint64{0})
	// Normal tags 0, 3, 5 (cleared), 6 and 65 set, and bit 7 of the last
	// word, past its depth (70 - 64 = 6 bits).
	m.sbitmap(tags+0x10, 70, 6, []uint64{1<<0 | 1<<3 | 1<<5 | 1<<6, 1<<1 | 1<<7}, []uint64{1 << 5, 0})
	request := func(tag int, queue uint64, flags, state uint32) {
		rq := m.Object(64)
		m.PutU64(rq, queue)
		m.PutU32(rq+0x8, flags)
		m.PutU32(rq+0xc, state)
		m.PutU64(rqs+uint64(8*tag), rq)
	}
	request(0, q, 1, 1)      // reserved: a write in flight
	request(1, q, 0, 1)      // tag 0: a read in flight
	request(4, q, 0, 2)      // tag 3: complete
	request(6, q, 0, 1)      // tag 5: cleared, not counted
	request(7, other, 0, 1)  // tag 6: another queue's
	request(66, q, 0x801, 1) // tag 65: a write (a flag above the op's bits)
	request(71, q, 0, 1)     // bit 7 of the last word: past the depth

	bad := uint64(kerneltest.DirectMap + 512<<20) // no memory there
	badQ := m.Object(64)
	m.PutU64(badQ, 0xffffffff81000000)
	m.PutU32(badQ+0x8, 1)
	badH := m.Object(64)
	m.PutU64(badQ+0x10, badH)
	m.PutU64(badH, bad) // the hardware contexts' array is unreadable

	vda := m.disk("vda", q)
	m.add(m.diskType, vda, false)
	m.add(m.diskType, bad, false) // an unreadable gendisk
	m.add(m.diskType, m.disk("loop0", m.Object(64)), false)
	m.add(m.diskType+8, m.disk("vda1", q), false) // not a disk: a partition's type
	m.add(m.diskType, m.disk("gone", q), true)    // a dead klist node
	vdc := m.disk("vdc", badQ)
	m.add(m.diskType, vdc, false)
	vdb := m.disk("vdb", m.Object(64)) // bio-based: no mq_ops
	m.add(m.diskType, vdb, false)

	io, err := m.Kernel(t).Devices().DiskIO()
	var u kernel.UnreadableObjectsError
	if !errors.As(err, &u) || len(u) != 2 {
		t.Fatalf("DiskIO error %v, want two disks named", err)
	}
	if l := u.Lines(); !strings.HasPrefix(l[0], fmt.Sprintf("gendisk %x: ", bad)) ||
		!strings.HasPrefix(l[1], fmt.Sprintf("gendisk %x (vdc): request_queue %x: ", vdc, badQ)) {
		t.Errorf("errors:\n%s", strings.Join(l, "\n"))
	}
	var got []string
	for _, d := range io.Disks {
		got = append(got, d.Name)
	}
	if len(io.Disks) != 2 || io.Disks[0].Name != "vda" || io.Disks[1].Name != "vdb" {
		t.Fatalf("disks %v, want vda vdb", got)
	}
	if d := io.Disks[0]; !d.MQ || d.Async != 1 || d.Sync != 2 || d.Gendisk != vda || d.Queue != q || d.Major != 254 {
		t.Errorf("vda: %+v, want blk-mq, 1 read and 2 writes in flight", d)
	}
	if d := io.Disks[1]; d.MQ || d.Async != 0 || d.Sync != 0 || d.Gendisk != vdb {
		t.Errorf("vdb: %+v", d)
	}
}
