package commands

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// TestForeachNetLostDevice: foreach net on a dump that lacks one network
// device's addresses (its in_device is outside the dump) shows each task's
// readable devices, names the lost one in one line per task ("foreach:
// PID N: net: net_device ADDR: REASON"), not in the tasks' text, and
// fails; with every device readable it succeeds with no such line.
func TestForeachNetLostDevice(t *testing.T) {
	for _, lose := range []bool{false, true} {
		m := kerneltest.New()
		init := &kerneltest.Task{PID: 0, Comm: "swapper/0", Flags: kerneltest.PFKthread}
		sh := &kerneltest.Task{PID: 1, TGID: 1, Comm: "sh", MM: &kerneltest.MM{}}
		addrs := m.Tasks(init, []*kerneltest.Task{sh})
		m.CPUs([]kerneltest.CPU{{Curr: addrs[1], Idle: addrs[0]}}, 0)
		// net {dev_base_head 0x10}; net_device {name 0x00, dev_list 0x20,
		// ip_ptr 0x30}; in_device {ifa_list 0x08}; in_ifaddr {ifa_next
		// 0x00, ifa_address 0x18}.
		for _, o := range []struct {
			s, mem string
			off    int64
		}{
			{"net", "dev_base_head", 0x10}, {"net_device", "name", 0}, {"net_device", "dev_list", 0x20}, {"net_device", "ip_ptr", 0x30},
			{"in_device", "ifa_list", 0x08}, {"in_ifaddr", "ifa_next", 0}, {"in_ifaddr", "ifa_address", 0x18},
		} {
			m.Offset(o.s, o.mem, o.off)
		}
		net := m.Var(64)
		m.Symbol("init_net", net)
		device := func(name string, ip uint64) uint64 {
			d := m.Object(64)
			m.PutString(d, name)
			m.PutU64(d+0x30, ip)
			return d
		}
		inDev, ifa := m.Object(64), m.Object(64)
		m.PutU64(inDev+0x08, ifa)
		copy(m.At(ifa+0x18), []byte{127, 0, 0, 1})
		lo := device("lo", inDev)
		const gone = 0xffff888000f00000
		eth0 := device("eth0", 0)
		if lose {
			m.PutU64(eth0+0x30, gone)
		}
		head := net + 0x10
		m.PutU64(head, lo+0x20)
		m.PutU64(lo+0x20, eth0+0x20)
		m.PutU64(eth0+0x20, head)
		s := &Session{Kernel: m.Kernel(t), Registry: NewRegistry(), VmlinuxPath: "vmlinux", DumpPaths: []string{"vmcore"}}
		var b strings.Builder
		err := s.Registry.Run(context.Background(), s, []string{"foreach", "net"}, &b)
		text := b.String()
		loLine := fmt.Sprintf("%016x  lo     127.0.0.1\n", lo)
		if strings.Count(text, loLine) != 2 {
			t.Errorf("lose %v: each task's text should list lo:\n%s", lose, text)
		}
		if !lose {
			if err != nil || !strings.Contains(text, fmt.Sprintf("%016x  eth0   \n", eth0)) {
				t.Errorf("intact: %v\n%s", err, text)
			}
			continue
		}
		if err == nil {
			t.Fatalf("foreach net with a lost device succeeded:\n%s", text)
		}
		if strings.Contains(text, "eth0") || strings.Contains(text, "net_device") {
			t.Errorf("the lost device shows in the tasks' text:\n%s", text)
		}
		lines := strings.Split(err.Error(), "\n")
		for i, pid := range []int{0, 1} {
			want := fmt.Sprintf("foreach: PID %d: net: net_device %x: ", pid, eth0)
			if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
				t.Errorf("error line %d, want %q...:\n%s", i, want, err)
			}
		}
		if len(lines) != 2 {
			t.Errorf("%d error lines, want one per task:\n%s", len(lines), err)
		}
	}
}
