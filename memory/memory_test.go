package memory

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
)

const testVMCoreInfo = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a12340\nOFFSET(uts_namespace.name)=0\nNUMBER(phys_base)=-1073741824\nKERNELOFFSET=1e000000\nCRASHTIME=1700000000\n"

func patternPage(pfn uint64, size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(pfn*7 + uint64(i)*13)
	}
	return p
}

func testPages() []testPage {
	return []testPage{
		{pfn: 0, data: patternPage(0, 4096)},
		{pfn: 1, data: make([]byte, 4096)}, // a zero page
		{pfn: 2, data: nil},                // excluded
		{pfn: 3, data: patternPage(3, 4096)},
		{pfn: 64, data: patternPage(64, 4096)},
		{pfn: 65, data: patternPage(65, 4096)},
		{pfn: 130, data: patternPage(130, 4096)},
	}
}

func TestVMCoreInfo(t *testing.T) {
	v := ParseVMCoreInfo([]byte(testVMCoreInfo + "\x00garbage"))
	if v.OSRelease() != "6.1.0-test" || v.PageSize() != 4096 {
		t.Fatalf("OSRELEASE %q PAGESIZE %d", v.OSRelease(), v.PageSize())
	}
	if a, ok := v.Symbol("init_uts_ns"); !ok || a != 0xffffffff82a12340 {
		t.Errorf("SYMBOL(init_uts_ns) = %#x, %v", a, ok)
	}
	if n, ok := v.Number("phys_base"); !ok || n != -1073741824 {
		t.Errorf("NUMBER(phys_base) = %d, %v", n, ok)
	}
	if o, ok := v.KernelOffset(); !ok || o != 0x1e000000 {
		t.Errorf("KERNELOFFSET = %#x", o)
	}
	if _, ok := v.Offset("missing.member"); ok {
		t.Error("missing key reported present")
	}
	if c, _ := v.CrashTime(); c != 1700000000 {
		t.Errorf("CRASHTIME = %d", c)
	}
}

func checkPages(t *testing.T, d *Dump, pages []testPage) {
	t.Helper()
	buf := make([]byte, 4096)
	for _, p := range pages {
		err := d.ReadPhys(buf, p.pfn*4096)
		if p.data == nil {
			var ex *ExcludedError
			if !errors.As(err, &ex) || ex.Addr != p.pfn*4096 {
				t.Errorf("pfn %d: got %v, want excluded", p.pfn, err)
			} else if got := err.Error(); got != fmt.Sprintf("page excluded: physical address: %x", p.pfn*4096) {
				t.Errorf("message %q", got)
			}
			continue
		}
		if err != nil {
			t.Errorf("pfn %d: %v", p.pfn, err)
			continue
		}
		if !bytes.Equal(buf, p.data) {
			t.Errorf("pfn %d: data differs", p.pfn)
		}
	}
	// A read across two pages.
	two := make([]byte, 200)
	if err := d.ReadPhys(two, 64*4096+4000); err != nil {
		t.Fatalf("cross-page read: %v", err)
	}
	want := append(patternPage(64, 4096)[4000:], patternPage(65, 4096)[:104]...)
	if !bytes.Equal(two, want) {
		t.Error("cross-page read differs")
	}
	var nid *NotInDumpError
	if err := d.ReadPhys(buf[:8], 10*4096); !errors.As(err, &nid) {
		t.Errorf("hole: got %v, want not-in-dump", err)
	}
	if err := d.ReadPhys(buf[:8], 1<<40); !errors.As(err, &nid) {
		t.Errorf("beyond memory: got %v, want not-in-dump", err)
	}
}

func TestKdumpCompressions(t *testing.T) {
	notes := noteBytes("CORE", NTPRStatus, prstatusDesc(42, []uint64{1, 2, 3}))
	for _, c := range []struct {
		name string
		flag uint32
	}{{"stored", 0}, {"zlib", dumpZlib}, {"lzo", dumpLZO}, {"snappy", dumpSnappy}, {"zstd", dumpZstd}} {
		t.Run(c.name, func(t *testing.T) {
			img := buildKdump(t, c.flag, 4096, 200, testPages(), testVMCoreInfo, notes, 31)
			d, err := Open(writeFile(t, "dump."+c.name, img))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Format != FormatKdump || d.Machine != "x86_64" || !d.Filtered || d.DumpLevel != 31 {
				t.Errorf("format %v machine %q filtered %v level %d", d.Format, d.Machine, d.Filtered, d.DumpLevel)
			}
			if d.VMCoreInfo.OSRelease() != "6.1.0-test" {
				t.Errorf("vmcoreinfo not read: %q", d.VMCoreInfo.Raw)
			}
			st, err := d.PRStatus(3)
			if err != nil || len(st) != 1 || st[0].PID != 42 || st[0].Regs[2] != 3 {
				t.Errorf("prstatus %+v %v", st, err)
			}
			checkPages(t, d, testPages())
			// Flattened form of the same file reads the same.
			fd, err := Open(writeFile(t, "dump.flat", flatten(img, 3000)))
			if err != nil {
				t.Fatal(err)
			}
			defer fd.Close()
			if fd.Format != FormatFlattened {
				t.Errorf("format %v", fd.Format)
			}
			checkPages(t, fd, testPages())
		})
	}
}

func TestELFCore(t *testing.T) {
	notes := append(noteBytes("CORE", NTPRStatus, prstatusDesc(7, make([]uint64, 27))),
		noteBytes("VMCOREINFO", 0, []byte(testVMCoreInfo))...)
	var pages []testPage
	var low []byte
	for pfn := uint64(0); pfn < 4; pfn++ {
		pg := patternPage(pfn, 4096)
		pages = append(pages, testPage{pfn, pg})
		low = append(low, pg...)
	}
	hi := append(patternPage(64, 4096), patternPage(65, 4096)...)
	pages = append(pages, testPage{64, hi[:4096]}, testPage{65, hi[4096:]})
	img := buildELFCore(notes, []elfLoad{
		// The kernel text mapping of pfn 1-2: the same physical bytes again.
		{vaddr: 0xffffffff81000000, paddr: 4096, data: low[4096 : 3*4096]},
		{vaddr: 0xffff888000000000, paddr: 0, data: low},
		{vaddr: 0xffff888000040000, paddr: 64 * 4096, data: hi, memsz: 3 * 4096}, // pfn 66 reads as zeros
	})
	d, err := Open(writeFile(t, "vmcore", img))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Format != FormatELF || d.Machine != "x86_64" || d.VMCoreInfo == nil {
		t.Fatalf("format %v machine %q vmcoreinfo %v", d.Format, d.Machine, d.VMCoreInfo != nil)
	}
	buf := make([]byte, 4096)
	for _, p := range pages {
		if err := d.ReadPhys(buf, p.pfn*4096); err != nil || !bytes.Equal(buf, p.data) {
			t.Errorf("pfn %d: %v", p.pfn, err)
		}
	}
	if err := d.ReadPhys(buf, 66*4096); err != nil || !bytes.Equal(buf, make([]byte, 4096)) {
		t.Errorf("memsz tail: %v", err)
	}
	if len(d.Ranges()) != 2 {
		t.Errorf("ranges %v", d.Ranges())
	}
	st, _ := d.PRStatus(27)
	if len(st) != 1 || st[0].PID != 7 {
		t.Errorf("prstatus %+v", st)
	}

	// Truncated: the bytes present stay readable, the rest is reported.
	cut := writeFile(t, "vmcore.cut", img[:len(img)-4096-100])
	d2, err := Open(cut)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if err := d2.ReadPhys(buf, 0); err != nil {
		t.Errorf("page before the cut: %v", err)
	}
	var tr *TruncatedError
	if err := d2.ReadPhys(buf, 65*4096); !errors.As(err, &tr) {
		t.Errorf("page after the cut: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	good := buildKdump(t, dumpZlib, 4096, 200, testPages(), testVMCoreInfo, nil, 31)
	cases := map[string][]byte{
		"empty":       {},
		"text":        []byte("hello, this is not a dump at all\n"),
		"kdump-cut":   good[:300],
		"kdump-cut2":  good[:4096*3],
		"kdump-badbs": append(append(append([]byte{}, good[:428]...), 0, 0, 0, 0), good[432:]...),
		"flat-cut":    flatten(good, 1000)[:5000],
		"elf-notcore": append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 62, 0}, make([]byte, 60)...),
		"elf-cut-hdr": []byte{0x7f, 'E', 'L', 'F', 2, 1},
	}
	for name, data := range cases {
		_, err := Open(writeFile(t, name, data))
		if err == nil {
			t.Errorf("%s: opened without error", name)
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v is not a FormatError", name, err)
		}
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("directory opened")
	}
	if _, err := Open("/nonexistent/dump"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
