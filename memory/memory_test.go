package memory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
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

// buildELF32BE writes a big-endian ELF32 core (an s390- or PowerPC-like
// machine) with one note segment and one load segment.
func buildELF32BE(notes []byte, paddr uint32, data []byte) []byte {
	be := binary.BigEndian
	const ehsize, phsize = 52, 32
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 1, 2, 1, 0})
	b.Write(make([]byte, 8))
	binary.Write(&b, be, uint16(4))  // ET_CORE
	binary.Write(&b, be, uint16(20)) // EM_PPC
	binary.Write(&b, be, uint32(1))
	binary.Write(&b, be, uint32(0))      // entry
	binary.Write(&b, be, uint32(ehsize)) // phoff
	binary.Write(&b, be, uint32(0))      // shoff
	binary.Write(&b, be, uint32(0))      // flags
	for _, v := range []uint16{ehsize, phsize, 2, 40, 0, 0} {
		binary.Write(&b, be, v)
	}
	off := uint32(ehsize + 2*phsize)
	for _, ph := range [][8]uint32{
		{4, off, 0, 0, uint32(len(notes)), uint32(len(notes)), 0, 4},
		{1, off + uint32(len(notes)), 0xc0000000 + paddr, paddr, uint32(len(data)), uint32(len(data)), 7, 4096},
	} {
		for _, v := range ph {
			binary.Write(&b, be, v)
		}
	}
	b.Write(notes)
	b.Write(data)
	return b.Bytes()
}

func TestELF32BigEndian(t *testing.T) {
	be := binary.BigEndian
	desc := make([]byte, prstatus32RegOffset+4*48)
	be.PutUint32(desc[prstatus32PIDOffset:], 321)
	be.PutUint32(desc[prstatus32RegOffset+4*3:], 0xdeadbeef)
	var notes bytes.Buffer
	for _, n := range []struct {
		name string
		typ  uint32
		desc []byte
	}{{"CORE", NTPRStatus, desc}, {"VMCOREINFO", 0, []byte("OSRELEASE=5.10.0-be\n")}} {
		nb := append([]byte(n.name), 0)
		binary.Write(&notes, be, uint32(len(nb)))
		binary.Write(&notes, be, uint32(len(n.desc)))
		binary.Write(&notes, be, n.typ)
		notes.Write(nb)
		notes.Write(make([]byte, align4(len(nb))-len(nb)))
		notes.Write(n.desc)
	}
	page := patternPage(5, 4096)
	d, err := Open(writeFile(t, "core32", buildELF32BE(notes.Bytes(), 0x5000, page)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Bits != 32 || d.ByteOrder != binary.BigEndian || d.Machine != "ppc" || d.VMCoreInfo.OSRelease() != "5.10.0-be" {
		t.Errorf("bits %d order %v machine %q release %q", d.Bits, d.ByteOrder, d.Machine, d.VMCoreInfo.OSRelease())
	}
	st, err := d.PRStatus(48)
	if err != nil || len(st) != 1 || st[0].PID != 321 || st[0].Regs[3] != 0xdeadbeef {
		t.Errorf("prstatus %+v %v", st, err)
	}
	buf := make([]byte, 4096)
	if err := d.ReadPhys(buf, 0x5000); err != nil || !bytes.Equal(buf, page) {
		t.Errorf("read: %v", err)
	}
}

func TestSplitDump(t *testing.T) {
	pages := testPages()
	a := writeFile(t, "part1", buildKdumpPart(t, dumpZlib, 4096, 200, pages, testVMCoreInfo, nil, 31, 0, 64))
	b := writeFile(t, "part2", buildKdumpPart(t, dumpZstd, 4096, 200, pages, testVMCoreInfo, nil, 31, 64, 200))
	d, err := OpenFiles(b, a) // any order
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(d.Split) != 2 || d.VMCoreInfo.OSRelease() != "6.1.0-test" {
		t.Errorf("split %v", d.Split)
	}
	checkPages(t, d, pages)
	// A part alone holds only its range.
	one, err := Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	var nid *NotInDumpError
	if err := one.ReadPhys(make([]byte, 8), 64*4096); !errors.As(err, &nid) {
		t.Errorf("page of the other part: %v", err)
	}
	// A missing part is named as such.
	if _, err := OpenFiles(b, b); err == nil || !strings.Contains(err.Error(), "do not join") {
		t.Errorf("duplicate part: %v", err)
	}
	c := writeFile(t, "part3", buildKdumpPart(t, dumpZlib, 4096, 200, pages, testVMCoreInfo, nil, 31, 64, 100))
	if _, err := OpenFiles(a, c); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing part: %v", err)
	}
}

func TestZeroExcluded(t *testing.T) {
	d, err := Open(writeFile(t, "k", buildKdump(t, dumpZlib, 4096, 200, testPages(), testVMCoreInfo, nil, 31)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	buf := bytes.Repeat([]byte{1}, 4096)
	if err := d.ReadPhys(buf, 2*4096); !IsExcluded(err) {
		t.Fatalf("excluded page: %v", err)
	}
	d.ZeroExcluded = true
	if err := d.ReadPhys(buf, 2*4096); err != nil || !bytes.Equal(buf, make([]byte, 4096)) {
		t.Errorf("with ZeroExcluded: %v", err)
	}
	if err := d.ReadPhys(buf, 10*4096); err == nil {
		t.Error("a hole read as zeros too")
	}
}

// TestKdumpHeaderVersions opens the same file stamped with each header
// version: VMCOREINFO exists from version 3, notes from 4, the 64-bit
// max_mapnr from 6; older ones take max_mapnr from the header.
func TestKdumpHeaderVersions(t *testing.T) {
	notes := noteBytes("CORE", NTPRStatus, prstatusDesc(9, make([]uint64, 27)))
	img := buildKdump(t, dumpZlib, 4096, 200, testPages(), testVMCoreInfo, notes, 31)
	for v := uint32(1); v <= 7; v++ {
		for _, sig := range []string{"KDUMP   ", "DISKDUMP"} {
			b := append([]byte(nil), img...)
			copy(b, sig)
			le.PutUint32(b[8:], v)
			d, err := Open(writeFile(t, "v", b))
			if err != nil {
				t.Fatalf("version %d %q: %v", v, sig, err)
			}
			if got := d.VMCoreInfo != nil; got != (v >= 3) {
				t.Errorf("version %d: VMCOREINFO read %v", v, got)
			}
			if got := len(d.Notes) > 0; got != (v >= 4) {
				t.Errorf("version %d: notes read %v", v, got)
			}
			checkPages(t, d, testPages())
			d.Close()
		}
	}
}

func TestPRPSInfo(t *testing.T) {
	desc := make([]byte, 136)
	desc[0] = 'R'
	le.PutUint32(desc[24:], 99)
	copy(desc[40:], "vmlinux")
	copy(desc[56:], "console=ttyS0 quiet")
	notes := noteBytes("CORE", NTPRPSInfo, desc)
	d, err := Open(writeFile(t, "core", buildELFCore(notes, []elfLoad{{paddr: 0, data: make([]byte, 4096)}})))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, ok := d.PRPSInfo()
	if !ok || p.PID != 99 || p.FileName != "vmlinux" || p.PSArgs != "console=ttyS0 quiet" || p.State != 'R' {
		t.Errorf("%+v %v", p, ok)
	}
	if _, err := ParsePRPSInfo(desc[:100], le); err == nil {
		t.Error("short note accepted")
	}
}
