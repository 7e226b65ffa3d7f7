package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocrash/gocrash/internal/corpus"
)

func TestBuildIDFromNotes(t *testing.T) {
	// Two notes: a vendor one, then the GNU build-id.
	note := func(name string, typ uint32, desc []byte) []byte {
		var b []byte
		put := func(v uint32) { b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
		put(uint32(len(name) + 1))
		put(uint32(len(desc)))
		put(typ)
		n := append([]byte(name), 0)
		for len(n)%4 != 0 {
			n = append(n, 0)
		}
		b = append(b, n...)
		b = append(b, desc...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	notes := append(note("Xen", 1, []byte{1, 2, 3}), note("GNU", 3, []byte{0xde, 0xad, 0xbe, 0xef, 0x01})...)
	if id := buildIDFromNotes(notes); id != "deadbeef01" {
		t.Errorf("build-id %q", id)
	}
	if id := buildIDFromNotes(notes[:20]); id != "" {
		t.Errorf("cut notes: %q", id)
	}
}

// TestPickVmlinux: the candidate with the wanted build-id is chosen; when
// none has it, the error says what each has.
func TestPickVmlinux(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc is not installed (testdata/corpus/build.sh installs it)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "k.c")
	os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for i, out := range []string{a, b} {
		if o, err := exec.Command("gcc", "-Wl,--build-id=sha1", "-DX="+string(rune('0'+i)), "-o", out, src).CombinedOutput(); err != nil {
			t.Fatalf("gcc: %v\n%s", err, o)
		}
	}
	// Make b's build-id differ from a's.
	exec.Command("gcc", "-Wl,--build-id=md5", "-o", b, src).Run()
	idA, err := fileBuildID(a)
	if err != nil || idA == "" {
		t.Fatalf("build-id of %s: %q %v", a, idA, err)
	}
	idB, _ := fileBuildID(b)
	missing := filepath.Join(dir, "missing")
	got, err := pickVmlinux([]string{missing, b, a}, "the running kernel", "6.1.0-test", idA)
	if err != nil || got != a {
		t.Errorf("pick: %q, %v; want %s", got, err, a)
	}
	_, err = pickVmlinux([]string{missing, b}, "the running kernel", "6.1.0-test", idA)
	if err == nil || !strings.Contains(err.Error(), idA) || !strings.Contains(err.Error(), b+" has build-id "+idB) {
		t.Errorf("mismatch error: %v", err)
	}
	_, err = pickVmlinux([]string{missing}, "the running kernel", "6.1.0-test", idA)
	if err == nil || !strings.Contains(err.Error(), "6.1.0-test") || !strings.Contains(err.Error(), missing) {
		t.Errorf("none found: %v", err)
	}
}

// TestCorpusLiveGuest boots the corpus's Debian 6.1 kernel under QEMU with a
// static gocrash in the initramfs and the debug vmlinux on a read-only
// virtio disk (/dev/vdb, also linked where Debian installs it), and runs
// gocrash inside: with no arguments (the running kernel through
// /proc/kcore, the vmlinux found by build-id), and as "gocrash /dev/vdb
// /dev/mem", then, with the corpus's own /dev/crash driver
// (testdata/corpus/crashdev, built by build.sh for this kernel) loaded, as
// "gocrash /dev/vdb /dev/crash" (and once before it is loaded). The answers
// are checked against what the guest knows.
func TestCorpusLiveGuest(t *testing.T) {
	var run *corpus.Run
	for _, r := range corpus.Runs(t) {
		if r.Arch == "x86_64" && strings.HasPrefix(r.Release, "6.1.") && r.Method == "kdump" {
			run = r
			break
		}
	}
	if run == nil {
		t.Fatal("no x86_64 6.1 kdump run in the corpus")
	}
	kdir := filepath.Dir(run.Vmlinux)
	dir := t.TempDir()
	root := corpus.GuestRoot(t, "proc", "sys", "dev", "tmp", "root", "lib/modules")
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin/gocrash"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building gocrash: %v\n%s", err, out)
	}
	// virtio_blk and what it needs, in load order.
	mods := []string{"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_blk"}
	var insmod strings.Builder
	for _, m := range mods {
		b, err := os.ReadFile(filepath.Join(kdir, "modules", m+".ko"))
		if err != nil {
			continue // built in
		}
		os.WriteFile(filepath.Join(root, "lib/modules", m+".ko"), b, 0o644)
		insmod.WriteString("insmod /lib/modules/" + m + ".ko\n")
	}
	// The /dev/crash driver, built for this very kernel (its vermagic).
	crashdev, err := os.ReadFile(filepath.Join(kdir, "testmod", "gocrash_crashdev.ko"))
	if err != nil {
		t.Fatalf("the /dev/crash test driver: %v (testdata/corpus/build.sh builds it)", err)
	}
	os.WriteFile(filepath.Join(root, "lib/modules", "gocrash_crashdev.ko"), crashdev, 0o644)
	os.WriteFile(filepath.Join(root, "init"), []byte(`#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
`+insmod.String()+`
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vdb ] && break; sleep 1; done
mkdir -p /usr/lib/debug/boot
ln -s /dev/vdb /usr/lib/debug/boot/vmlinux-$(uname -r)
echo "@@LIVE-MARK written in the guest" > /dev/kmsg
sleep 1000 &
SLEEPPID=$!
sleep 1
echo "@@SLEEPPID $SLEEPPID"
export HOME=/root
printf 'sys\nps\nbt %s\nbt -a\nlog\nrd -a linux_banner\nwhatis jiffies\nvtop linux_banner\n' $SLEEPPID > /tmp/cmds
echo "@@BEGIN noargs"
gocrash -s < /tmp/cmds 2>&1
echo "@@END noargs rc=$?"
echo "@@BEGIN devmem"
printf 'sys\nrd -a linux_banner\n' | gocrash -s /dev/vdb /dev/mem 2>&1
echo "@@END devmem rc=$?"
echo "@@BEGIN nocrash"
printf 'sys\n' | gocrash -s /dev/vdb /dev/crash 2>&1
echo "@@END nocrash rc=$?"
insmod /lib/modules/gocrash_crashdev.ko
echo "@@CRASHDEV misc=$(cat /sys/class/misc/crash/dev) proc=$(grep -w crash /proc/misc | tr -s ' ' | sed 's/^ //') node=$(stat -c '%t:%T %A' /dev/crash)"
echo "@@BEGIN driver"
dd if=/dev/crash bs=4096 skip=256 count=1 2>/dev/null | wc -c | sed 's/^ */ram-page /'
dd if=/dev/crash bs=8192 skip=128 count=1 2>&1 >/dev/null | grep -q 'Invalid argument' && echo "cross-page EINVAL"
dd if=/dev/crash bs=4096 skip=524288 count=1 2>&1 >/dev/null | grep -q 'Bad address' && echo "not-ram EFAULT"
( echo x > /dev/crash ) 2>&1 | grep -q 'Operation not permitted' && echo "write-open EPERM"
echo "@@END driver rc=0"
echo "@@BEGIN devcrash"
printf 'sys\nps\nbt %s\nrd -a linux_banner\nlog\n' $SLEEPPID | gocrash -s /dev/vdb /dev/crash 2>&1
echo "@@END devcrash rc=$?"
poweroff -f
`), 0o755)
	// An empty first disk, so that the vmlinux is /dev/vdb.
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, make([]byte, 4096), 0o644)
	text, took := corpus.Guest{Kernel: filepath.Join(kdir, "vmlinuz"), Root: root, Memory: "1024M",
		Disks: []string{empty, run.Vmlinux}, Timeout: 600 * time.Second}.Boot(t)
	t.Logf("guest ran for %.1fs", took.Seconds())
	section := func(name string) (string, string) {
		i := strings.Index(text, "@@BEGIN "+name+"\n")
		j := strings.Index(text, "@@END "+name+" rc=")
		if i < 0 || j < i {
			t.Fatalf("no %s section on the console:\n%s", name, text)
		}
		rc := strings.Fields(text[j+len("@@END "+name+" rc="):])[0]
		return text[i+len("@@BEGIN "+name+"\n") : j], rc
	}
	m := regexp.MustCompile(`@@SLEEPPID (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("the guest printed no sleep PID:\n%s", text)
	}
	pid := m[1]
	out, rc := section("noargs")
	if testing.Verbose() {
		t.Logf("gocrash with no arguments, in the guest:\n%s", out)
	}
	if rc != "0" {
		t.Errorf("gocrash with no arguments: exit status %s", rc)
	}
	for what, re := range map[string]string{
		"sys RELEASE":          `(?m)^     RELEASE: ` + regexp.QuoteMeta(run.Release) + `$`,
		"the sleeping task":    `(?m)^ +` + pid + ` +1 +\d+ +[0-9a-f]{16} +IN .* sleep$`,
		"its bt header":        `(?m)^PID: ` + pid + ` +TASK: [0-9a-f]{16}  CPU: \d+ +COMMAND: "sleep"$`,
		"its bt frames":        `(?s)#\d+ \[[0-9a-f]{16}\] __schedule at .*#\d+ \[[0-9a-f]{16}\] do_nanosleep at .*entry_SYSCALL_64_after_hwframe`,
		"the guest's log line": `(?m)^\[ *\d+\.\d+\] @@LIVE-MARK written in the guest$`,
		"rd -a linux_banner":   `(?m)^[0-9a-f]{16}:  Linux version ` + regexp.QuoteMeta(run.Release),
		"whatis jiffies":       `(?m)^volatile unsigned long jiffies;$`,
		"vtop":                 `(?m)^VIRTUAL +PHYSICAL`,
		"bt -a: running tasks": `(?m)^PID: \d+ +TASK: [0-9a-f]{16}  CPU: \d +COMMAND: ".*"\n\(active on CPU \d: a running task's stack cannot be unwound on a live system\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("gocrash with no arguments: %s missing (want %s) in:\n%s", what, re, out)
		}
	}
	if strings.Contains(out, "PANIC:") {
		t.Errorf("gocrash with no arguments: sys shows a PANIC line for a running kernel:\n%s", out)
	}
	out, rc = section("devmem")
	if rc != "0" {
		t.Errorf("gocrash /dev/vdb /dev/mem: exit status %s", rc)
	}
	for what, re := range map[string]string{
		"STRICT_DEVMEM notice": `STRICT_DEVMEM`,
		"sys RELEASE":          `(?m)^     RELEASE: ` + regexp.QuoteMeta(run.Release) + `$`,
		"rd -a linux_banner":   `(?m)^[0-9a-f]{16}:  Linux version `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("gocrash /dev/vdb /dev/mem: %s missing in:\n%s", what, out)
		}
	}

	// /dev/crash before the driver is loaded: one line, and failure.
	out, rc = section("nocrash")
	if want := "gocrash: /dev/crash does not exist: crash's memory driver is not loaded (no misc device \"crash\")\n"; rc != "1" || out != want {
		t.Errorf("gocrash /dev/vdb /dev/crash without the driver: exit status %s, output %q; want 1, %q", rc, out, want)
	}
	// The driver: a misc device "crash", /dev/crash read-only, one page of
	// RAM per read, nothing else.
	m = regexp.MustCompile(`@@CRASHDEV misc=10:(\d+) proc=(\d+) crash node=a:([0-9a-f]+) cr--------\n`).FindStringSubmatch(text)
	if m == nil {
		t.Errorf("no /dev/crash misc device (a line @@CRASHDEV misc=10:N proc=N crash node=a:N cr--------):\n%s", text)
	} else if minor, _ := strconv.ParseUint(m[3], 16, 32); m[1] != m[2] || fmt.Sprint(minor) != m[1] {
		t.Errorf("/dev/crash: /sys/class/misc says minor %s, /proc/misc %s, the node %d", m[1], m[2], minor)
	}
	out, _ = section("driver")
	if want := "ram-page 4096\ncross-page EINVAL\nnot-ram EFAULT\nwrite-open EPERM\n"; out != want {
		t.Errorf("the /dev/crash driver in the guest: %q, want %q", out, want)
	}
	out, rc = section("devcrash")
	if testing.Verbose() {
		t.Logf("gocrash /dev/vdb /dev/crash, in the guest:\n%s", out)
	}
	if rc != "0" {
		t.Errorf("gocrash /dev/vdb /dev/crash: exit status %s", rc)
	}
	for what, re := range map[string]string{
		"sys DUMPFILE":          `(?m)^ +DUMPFILE: /dev/crash( |$)`,
		"sys RELEASE":           `(?m)^     RELEASE: ` + regexp.QuoteMeta(run.Release) + `$`,
		"the sleeping task":     `(?m)^ +` + pid + ` +1 +\d+ +[0-9a-f]{16} +IN .* sleep$`,
		"its bt header":         `(?m)^PID: ` + pid + ` +TASK: [0-9a-f]{16}  CPU: \d+ +COMMAND: "sleep"$`,
		"its bt frames":         `(?s)#\d+ \[[0-9a-f]{16}\] __schedule at .*#\d+ \[[0-9a-f]{16}\] do_nanosleep at .*entry_SYSCALL_64_after_hwframe`,
		"the guest's log line":  `(?m)^\[ *\d+\.\d+\] @@LIVE-MARK written in the guest$`,
		"the driver's log line": `(?m)^\[ *\d+\.\d+\] gocrash_crashdev: /dev/crash is misc 10:\d+$`,
		"rd -a linux_banner":    `(?m)^[0-9a-f]{16}:  Linux version ` + regexp.QuoteMeta(run.Release),
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("gocrash /dev/vdb /dev/crash: %s missing (want %s) in:\n%s", what, re, out)
		}
	}
	// gocrash's own words, not the guest's log lines that log printed (a
	// kernel booted on a loaded host says "46ms instead of 100ms").
	own := regexp.MustCompile(`(?m)^\[ *\d+\.\d+\] .*$`).ReplaceAllString(out, "")
	for _, bad := range []string{"PANIC:", "STRICT_DEVMEM", "instead", "refuses"} {
		if strings.Contains(own, bad) {
			t.Errorf("gocrash /dev/vdb /dev/crash: %q in its output:\n%s", bad, out)
		}
	}
}
