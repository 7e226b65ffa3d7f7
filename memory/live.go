package memory

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Live sources: the running kernel's memory through /proc/kcore (an ELF
// core that procfs builds on the fly and that cannot be mapped), through
// /dev/mem (raw physical memory, character device 1:1), or through
// /dev/crash (crash's own driver, a misc device). All are opened read-only.
// A kernel built with STRICT_DEVMEM refuses /dev/mem reads of RAM; Open
// then falls back to /proc/kcore and says so in Dump.Notice.

const procSuperMagic = 0x9fa0

// KcorePath is where procfs puts the kernel's ELF core.
const KcorePath = "/proc/kcore"

// isProcFile reports whether f lives on procfs (where /proc/kcore is).
func isProcFile(f *os.File) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(int(f.Fd()), &st) == nil && st.Type == procSuperMagic
}

// CrashDevPath is where crash's memory driver puts its device.
const CrashDevPath = "/dev/crash"

// devMem reads physical memory from a character device by offset.
type devMem struct {
	f   *os.File
	rng []Range
	// page, when not 0, is the size of the pages no read may cross:
	// /dev/crash reads one page at a time (EINVAL otherwise).
	page uint64
}

func (m *devMem) readPhys(p []byte, addr uint64) error {
	for len(p) > 0 {
		q := p
		if m.page != 0 {
			if room := m.page - addr%m.page; uint64(len(q)) > room {
				q = q[:room]
			}
		}
		n, _ := m.f.ReadAt(q, int64(addr))
		if n <= 0 {
			// EPERM (STRICT_DEVMEM), EFAULT or EINVAL (no memory there)
			return &NotInDumpError{Addr: addr}
		}
		p = p[n:]
		addr += uint64(n)
	}
	return nil
}

func (m *devMem) ranges() []Range { return m.rng }
func (m *devMem) close() error    { return m.f.Close() }

// openDevice opens /dev/mem or /dev/crash, recognized by device number.
func openDevice(path string, f *os.File, fi os.FileInfo) (*Dump, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, &FormatError{Path: path, Offset: -1, Msg: "not a memory device"}
	}
	maj, min := unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))
	kind := ""
	crash := miscDevice("crash")
	switch {
	case maj == 1 && min == 1:
		kind = "/dev/mem"
	case maj == 10 && crash == fmt.Sprintf("%d:%d", maj, min):
		kind = CrashDevPath
	case maj == 10 && crash == "":
		return nil, &FormatError{Path: path, Offset: -1, Msg: fmt.Sprintf("misc device %d:%d is not /dev/crash: no misc device \"crash\" is registered (crash's memory driver is not loaded)", maj, min)}
	default:
		return nil, &FormatError{Path: path, Offset: -1, Msg: fmt.Sprintf("character device %d:%d is neither /dev/mem nor /dev/crash", maj, min)}
	}
	rng, err := systemRAM()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	m := &devMem{f: f, rng: rng}
	if kind == CrashDevPath {
		m.page = uint64(os.Getpagesize())
	}
	d := &Dump{Path: path, Format: FormatLive, Machine: goarchMachine(), Bits: 64, ByteOrder: binary.LittleEndian, DumpLevel: -1, Live: true, b: m}
	d.Header = append(d.Header, [2]string{"source", kind + " (live system)"})
	// STRICT_DEVMEM lets /dev/mem read the first megabyte and I/O memory
	// only: probe a page of RAM above it. /dev/crash must read it too.
	probe := uint64(0)
	for _, r := range rng {
		if r.End > 1<<20 {
			probe = max(r.Start, 1<<20)
			break
		}
	}
	var b [8]byte
	if kind == CrashDevPath {
		if _, err := f.ReadAt(b[:], int64(probe)); err != nil {
			return nil, fmt.Errorf("%s refuses to read RAM at %#x (%v)", path, probe, err)
		}
	}
	if kind == "/dev/mem" {
		if _, err := f.ReadAt(b[:], int64(probe)); err != nil {
			kc, kerr := Open(KcorePath)
			if kerr != nil {
				return nil, fmt.Errorf("%s refuses to read RAM (STRICT_DEVMEM: %v), and %s: %v", path, err, KcorePath, kerr)
			}
			f.Close()
			kc.Notice = fmt.Sprintf("%s refuses to read RAM (STRICT_DEVMEM); reading %s instead", path, KcorePath)
			return kc, nil
		}
	}
	if err := d.loadSysVMCoreInfo(); err != nil {
		d.Notice = fmt.Sprintf("no VMCOREINFO: %v", err)
	}
	return d, nil
}

// loadSysVMCoreInfo reads the VMCOREINFO note whose physical address and
// size /sys/kernel/vmcoreinfo gives.
func (d *Dump) loadSysVMCoreInfo() error {
	b, err := os.ReadFile("/sys/kernel/vmcoreinfo")
	if err != nil {
		return err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fmt.Errorf("/sys/kernel/vmcoreinfo: unexpected %q", b)
	}
	addr, err1 := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 64)
	size, err2 := strconv.ParseUint(f[1], 16, 64)
	if err1 != nil || err2 != nil || size > 1<<20 {
		return fmt.Errorf("/sys/kernel/vmcoreinfo: unexpected %q", b)
	}
	note := make([]byte, size)
	if err := d.ReadPhys(note, addr); err != nil {
		return fmt.Errorf("VMCOREINFO note at %#x: %w", addr, err)
	}
	notes, err := ParseNotes(note, d.ByteOrder)
	if err != nil {
		return err
	}
	for _, n := range notes {
		if n.Name == "VMCOREINFO" {
			d.VMCoreInfo = ParseVMCoreInfo(n.Desc)
			return nil
		}
	}
	return fmt.Errorf("no VMCOREINFO note at %#x", addr)
}

// miscDevice returns "major:minor" of the misc device called name.
func miscDevice(name string) string {
	b, err := os.ReadFile("/sys/class/misc/" + name + "/dev")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// systemRAM lists the "System RAM" ranges of /proc/iomem (root sees real
// addresses).
func systemRAM() ([]Range, error) {
	f, err := os.Open("/proc/iomem")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Range
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, " ") || !strings.HasSuffix(line, ": System RAM") {
			continue
		}
		a, b, ok := strings.Cut(strings.TrimSuffix(line, " : System RAM"), "-")
		start, err1 := strconv.ParseUint(strings.TrimSpace(a), 16, 64)
		end, err2 := strconv.ParseUint(strings.TrimSpace(b), 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		if end == 0 {
			return nil, fmt.Errorf("/proc/iomem shows no addresses (not root?)")
		}
		out = append(out, Range{start, end + 1})
	}
	return out, sc.Err()
}

func goarchMachine() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}
