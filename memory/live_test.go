package memory

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols"
)

// The live sources are tested inside a real guest: TestLiveGuest boots each
// of the corpus's x86_64 kernels under QEMU with this package's test binary
// in the initramfs, which runs inGuest (GOCRASH_IN_GUEST=1) and reports each
// check on the console.

func TestMain(m *testing.M) {
	if os.Getenv("GOCRASH_IN_GUEST") == "1" {
		os.Exit(inGuest())
	}
	os.Exit(m.Run())
}

func inGuest() int {
	failures := 0
	check := func(name string, err error) {
		if err != nil {
			failures++
			fmt.Printf("GUEST-CHECK %s: FAIL %v\n", name, err)
		} else {
			fmt.Printf("GUEST-CHECK %s: ok\n", name)
		}
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	release := unix.ByteSliceToString(uts.Release[:])

	kc, err := Open(KcorePath)
	check("open-kcore", err)
	if err != nil {
		fmt.Printf("GUEST-DONE %d\n", failures)
		return 1
	}
	check("kcore-live", expect(kc.Live && kc.Format == FormatELF, "live %v format %v", kc.Live, kc.Format))
	check("kcore-vmcoreinfo", expect(kc.VMCoreInfo.OSRelease() == release, "OSRELEASE %q, uname %q", kc.VMCoreInfo.OSRelease(), release))
	check("kcore-utsname", readUTS(kc, release))
	cmdline, _ := os.ReadFile("/proc/cmdline")
	ps, ok := kc.PRPSInfo()
	want := strings.TrimSpace(string(cmdline))
	if len(want) > 79 {
		want = want[:79]
	}
	check("kcore-prpsinfo", expect(ok && ps.FileName == "vmlinux" && ps.PSArgs == want, "NT_PRPSINFO %+v, /proc/cmdline %q", ps, want))

	// The VMCOREINFO note found through /sys/kernel/vmcoreinfo is the one
	// in /proc/kcore.
	fromSys := &Dump{ByteOrder: kc.ByteOrder, b: kc.b}
	err = fromSys.loadSysVMCoreInfo()
	if err == nil {
		err = expect(fromSys.VMCoreInfo.Raw == kc.VMCoreInfo.Raw, "VMCOREINFO via /sys differs from kcore's note")
	}
	check("sys-vmcoreinfo", err)

	dm, err := Open("/dev/mem")
	check("open-devmem", err)
	if err == nil {
		// Debian's kernels have STRICT_DEVMEM: the fallback must say so.
		check("devmem-strict-fallback", expect(dm.Live && strings.Contains(dm.Notice, "STRICT_DEVMEM"), "live %v notice %q", dm.Live, dm.Notice))
		check("devmem-utsname", readUTS(dm, release))
	}
	// Raw /dev/mem may still read the first megabyte: it must agree with
	// kcore there.
	f, err := os.Open("/dev/mem")
	if err == nil {
		rng, _ := systemRAM()
		raw := &devMem{f: f, rng: rng}
		a, b := make([]byte, 4096), make([]byte, 4096)
		err = raw.readPhys(a, 0x1000)
		if err == nil {
			err = kc.ReadPhys(b, 0x1000)
		}
		if err == nil {
			err = expect(bytes.Equal(a, b), "page 0x1000 differs between /dev/mem and /proc/kcore")
		}
		f.Close()
	}
	check("devmem-low-page", err)
	fmt.Printf("GUEST-DONE %d\n", failures)
	return failures
}

func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// readUTS reads init_uts_ns through the kernel image's physical placement
// (x86_64: vaddr - __START_KERNEL_map + phys_base) and checks it. Kernels
// before 5.11 leave OFFSET(uts_namespace.name) out of VMCOREINFO: the host
// then read it from the vmlinux's DWARF and put it in the guest's
// environment (GOCRASH_UTS_NAME_OFFSET).
func readUTS(d *Dump, release string) error {
	vi := d.VMCoreInfo
	sym, ok1 := vi.Symbol("init_uts_ns")
	off, ok2 := vi.Offset("uts_namespace.name")
	if !ok2 {
		if v, err := strconv.ParseInt(os.Getenv("GOCRASH_UTS_NAME_OFFSET"), 10, 64); err == nil {
			off, ok2 = v, true
		}
	}
	pb, ok3 := vi.Number("phys_base")
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("VMCOREINFO lacks init_uts_ns, uts_namespace.name or phys_base")
	}
	b := make([]byte, 6*65)
	if err := d.ReadPhys(b, sym-0xffffffff80000000+uint64(pb)+uint64(off)); err != nil {
		return err
	}
	if s, r := cstring(b[:65]), cstring(b[2*65:3*65]); s != "Linux" || r != release {
		return fmt.Errorf("utsname %q %q", s, r)
	}
	return nil
}

func TestLiveGuest(t *testing.T) {
	// Each x86_64 kernel once (a kernel's runs share its vmlinux).
	var runs []*corpus.Run
	seen := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		if r.Arch == "x86_64" && !seen[r.Vmlinux] {
			seen[r.Vmlinux] = true
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		t.Fatal("no x86_64 kernel in the corpus")
	}
	root := corpus.GuestRoot(t, "proc", "sys", "dev")
	build := exec.Command("go", "test", "-c", "-o", filepath.Join(root, "memory.test"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test binary: %v\n%s", err, out)
	}
	for _, run := range runs {
		t.Run(filepath.Base(filepath.Dir(run.Vmlinux)), func(t *testing.T) { liveGuest(t, run, root) })
	}
}

// liveGuest boots run's kernel with the initramfs tree root (busybox and
// the test binary) and checks what inGuest reports.
func liveGuest(t *testing.T, run *corpus.Run, root string) {
	// The offset of uts_namespace.name, from the DWARF, for kernels whose
	// VMCOREINFO does not give it.
	v, err := symbols.Open(run.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ts, err := v.Types()
	if err != nil {
		t.Fatal(err)
	}
	uts, err := ts.Lookup("struct uts_namespace")
	if err != nil {
		t.Fatal(err)
	}
	name, err := uts.MemberPath("name")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "init"), []byte(fmt.Sprintf(`#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
GOCRASH_IN_GUEST=1 GOCRASH_UTS_NAME_OFFSET=%d /memory.test
/bin/busybox poweroff -f
`, name.Offset)), 0o755)
	log, took := corpus.Guest{Kernel: filepath.Join(filepath.Dir(run.Vmlinux), "vmlinuz"), Root: root, Memory: "512M",
		Timeout: 300 * time.Second}.Boot(t)
	checks := 0
	for _, line := range strings.Split(log, "\n") {
		if name, res, ok := strings.Cut(strings.TrimPrefix(line, "GUEST-CHECK "), ": "); ok && strings.HasPrefix(line, "GUEST-CHECK ") {
			checks++
			if res != "ok" {
				t.Errorf("in the guest, %s: %s", name, res)
			}
		}
	}
	if checks < 10 || !strings.Contains(log, "GUEST-DONE 0") {
		t.Errorf("%d checks ran in the guest; console:\n%s", checks, log)
	}
	t.Logf("%d checks passed in the guest (%.1fs)", checks, took.Seconds())
}
