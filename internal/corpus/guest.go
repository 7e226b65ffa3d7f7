package corpus

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Guest is a QEMU x86_64 guest a test boots to run something inside a live
// kernel of the corpus: its initramfs is made from the tree Root (see
// GuestRoot), whose /init runs the test's work and powers off.
type Guest struct {
	Kernel  string   // the bzImage (a corpus kernel directory's vmlinuz)
	Root    string   // the initramfs tree
	Memory  string   // QEMU's -m, e.g. "512M"
	Disks   []string // raw images attached read-only as virtio disks, in order
	Timeout time.Duration
}

// GuestRoot makes an initramfs tree under a temporary directory with
// busybox-static at /bin/busybox and the given directories.
func GuestRoot(t testing.TB, dirs ...string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	for _, d := range append([]string{"bin"}, dirs...) {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("busybox-static: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// Boot packs Root into an initramfs, boots the guest until it powers off
// (or Timeout passes) and returns its serial console, without carriage
// returns, and how long it ran.
func (g Guest) Boot(t testing.TB) (string, time.Duration) {
	t.Helper()
	dir := t.TempDir()
	initrd := filepath.Join(dir, "initrd")
	pack := exec.Command("sh", "-c", "find . | cpio -o -H newc --quiet > "+initrd)
	pack.Dir = g.Root
	if out, err := pack.CombinedOutput(); err != nil {
		t.Fatalf("cpio: %v\n%s", err, out)
	}
	console := filepath.Join(dir, "console")
	args := []string{fmt.Sprint(int(g.Timeout.Seconds())), "qemu-system-x86_64", "-m", g.Memory, "-smp", "2",
		"-display", "none", "-no-reboot", "-kernel", g.Kernel, "-initrd", initrd,
		"-append", "console=ttyS0 loglevel=3 panic=-1", "-serial", "file:" + console, "-monitor", "none", "-nic", "none"}
	for _, d := range g.Disks {
		args = append(args, "-drive", "file="+d+",format=raw,if=virtio,readonly=on")
	}
	start := time.Now()
	if out, err := exec.Command("timeout", args...).CombinedOutput(); err != nil {
		t.Fatalf("qemu: %v\n%s", err, out)
	}
	log, err := os.ReadFile(console)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(log), "\r", ""), time.Since(start)
}
