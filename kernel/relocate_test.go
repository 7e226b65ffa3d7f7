package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// TestTwoKernelsOneVmlinux: two dumps of one kernel, placed at different
// KASLR offsets, opened over one Vmlinux: each kernel sees its own
// run-time addresses and the Vmlinux keeps its link-time ones.
func TestTwoKernelsOneVmlinux(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "k.c")
	os.WriteFile(src, []byte("void _stext(void) {}\nvoid start_kernel(void) {}\nvoid _etext(void) {}\n"), 0o644)
	bin := filepath.Join(dir, "vmlinux")
	if out, err := exec.Command("gcc", "-nostdlib", "-static", "-mcmodel=kernel", "-fno-pie", "-no-pie",
		"-Wl,-Ttext=0xffffffff81000000", "-Wl,-e,_stext", "-o", bin, src).CombinedOutput(); err != nil {
		t.Skipf("gcc cannot link a kernel-placed image: %v\n%s", err, out)
	}
	v, err := symbols.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	link, ok := v.Addr("start_kernel")
	if !ok {
		t.Fatal("no start_kernel")
	}
	open := func(off uint64) *Kernel {
		m := newTestMachine()
		m.vi.WriteString("KERNELOFFSET=" + hex16(off)[8:] + "\n")
		k, err := New(memory.NewRAMDump("x86_64", m.vi.String(), 0, m.ram), v)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k1, k2 := open(0x1000000), open(0x2e000000)
	for _, c := range []struct {
		k   *Kernel
		off uint64
	}{{k1, 0x1000000}, {k2, 0x2e000000}} {
		if got, err := c.k.SymbolAddr("start_kernel"); err != nil || got != link+c.off {
			t.Errorf("offset %#x: start_kernel at %#x, %v; want %#x", c.off, got, err, link+c.off)
		}
		if name, o, ok := c.k.Symbolize(link + c.off + 2); !ok || name != "start_kernel" || o != 2 {
			t.Errorf("offset %#x: Symbolize = %s+%d, %v", c.off, name, o, ok)
		}
		if s := c.k.Syms.Symbols(); s[len(s)-1].Addr < c.off {
			t.Errorf("offset %#x: Symbols not relocated: %+v", c.off, s[len(s)-1])
		}
	}
	if again, _ := v.Addr("start_kernel"); again != link {
		t.Errorf("the Vmlinux changed: start_kernel at %#x, was %#x", again, link)
	}
}
