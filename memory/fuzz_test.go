package memory

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Fuzz targets: whatever the bytes, the readers return errors, never panic
// or loop. Seeds are valid files built by the test writers.

func FuzzParseNotes(f *testing.F) {
	f.Add(noteBytes("CORE", NTPRStatus, prstatusDesc(1, make([]uint64, 27))))
	f.Add(noteBytes("VMCOREINFO", 0, []byte(testVMCoreInfo)))
	f.Fuzz(func(t *testing.T, data []byte) {
		notes, _ := ParseNotes(data, binary.LittleEndian)
		for _, n := range notes {
			ParsePRStatus(n.Desc, binary.LittleEndian, 27, 64)
			ParsePRStatus(n.Desc, binary.LittleEndian, 17, 32)
		}
	})
}

func FuzzVMCoreInfo(f *testing.F) {
	f.Add([]byte(testVMCoreInfo))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := ParseVMCoreInfo(data)
		v.PageSize()
		v.KernelOffset()
		v.Number("phys_base")
		v.Symbol("init_uts_ns")
	})
}

func fuzzReadAll(d *Dump) {
	buf := make([]byte, 4096)
	for _, r := range d.Ranges() {
		for p, n := r.Start, 0; p < r.End && n < 64; p, n = p+4096, n+1 {
			d.ReadPhys(buf, p)
		}
	}
}

// smallPages are 1 KiB pages (the smallest block size the reader takes),
// so that seeds stay small and the fuzzer fast.
func smallPages() []testPage {
	return []testPage{{0, patternPage(0, 1024)}, {1, nil}, {3, make([]byte, 1024)}, {9, patternPage(9, 1024)}}
}

func FuzzKdump(f *testing.F) {
	f.Add(buildKdump(f, dumpZlib, 1024, 16, smallPages(), "OSRELEASE=x\n", nil, 31))
	f.Add(buildKdump(f, dumpSnappy, 1024, 70, smallPages(), "", nil, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := openKdump("fuzz", bytes.NewReader(data), nil)
		if err == nil {
			fuzzReadAll(d)
		}
	})
}

func FuzzFlattened(f *testing.F) {
	f.Add(flatten(buildKdump(f, dumpZlib, 1024, 16, smallPages(), "OSRELEASE=x\n", nil, 31), 700))
	f.Fuzz(func(t *testing.T, data []byte) {
		ff, err := indexFlattened("fuzz", data)
		if err != nil {
			return
		}
		if d, err := openKdump("fuzz", ff, nil); err == nil {
			fuzzReadAll(d)
		}
	})
}

func FuzzELF(f *testing.F) {
	notes := append(noteBytes("CORE", NTPRStatus, prstatusDesc(7, make([]uint64, 27))), noteBytes("VMCOREINFO", 0, []byte(testVMCoreInfo))...)
	f.Add(buildELFCore(notes, []elfLoad{{vaddr: 0xffff888000000000, paddr: 0, data: patternPage(0, 4096)}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseELF("fuzz", bytes.NewReader(data), func() error { return nil })
		if err == nil {
			d.PRStatus(27)
			fuzzReadAll(d)
		}
	})
}
