package memory

import (
	"bytes"
	"testing"
)

// Never-written (zero) page descriptors, the last ones (a file whose
// writer stopped: the descriptors are written in order), are reported
// however many they are, the data of those before them being whole.
func TestKdumpUnwrittenDescriptorsMidway(t *testing.T) {
	const n = 3*4096 + 100
	pages := make([]testPage, n)
	for i := range pages {
		pages[i] = testPage{pfn: uint64(i), data: bytes.Repeat([]byte{byte(i%250 + 1)}, 1024)}
	}
	img := buildKdump(t, dumpZlib, 1024, n, pages, testVMCoreInfo, nil, 1)
	whole, err := Open(writeFile(t, "whole", img))
	if err != nil {
		t.Fatal(err)
	}
	if whole.Truncated != nil {
		t.Errorf("a whole file is reported truncated: %v", whole.Truncated)
	}
	whole.Close()
	// The descriptors start after the header, the sub-header and the
	// bitmaps.
	descOff := 1024 * int(1+le.Uint32(img[432:])+le.Uint32(img[436:]))
	for _, zeroed := range [][2]int{{n - 1, n}, {3 * 4096, n}, {2*4096 + 7, n}, {4096, n}, {1, n}} {
		cut := append([]byte(nil), img...)
		clear(cut[descOff+zeroed[0]*kdumpPageDescSize : descOff+zeroed[1]*kdumpPageDescSize])
		d, err := Open(writeFile(t, "cut", cut))
		if err != nil {
			t.Fatal(err)
		}
		if d.Truncated == nil || !d.Truncated.AtLeast {
			t.Errorf("descriptors %d-%d zeroed: truncation %+v", zeroed[0], zeroed[1], d.Truncated)
		}
		d.Close()
	}
}
