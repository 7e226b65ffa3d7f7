package kernel

import (
	"strings"
	"testing"
)

// TestKallsymsOffset: the displacement from a /proc/kallsyms listing of a
// small program's symbols moved by a known offset.
func TestKallsymsOffset(t *testing.T) {
	v := kallsymsProgram(t)
	s, _ := v.Lookup("_stext")
	const slide = 0x3a000000
	listing := "ffffffff81000000 T startup_64\n" + hex16(s.Addr+slide) + " T _stext\n"
	off, err := kallsymsOffset(strings.NewReader(listing), v)
	if err != nil || off != slide {
		t.Fatalf("offset %#x, %v; want %#x", off, err, slide)
	}
	if _, err := kallsymsOffset(strings.NewReader("0000000000000000 T _stext\n"), v); err == nil || !strings.Contains(err.Error(), "kptr_restrict") {
		t.Errorf("hidden addresses: %v", err)
	}
	if _, err := kallsymsOffset(strings.NewReader("ffffffff81000000 T other\n"), v); err == nil {
		t.Error("no _stext: no error")
	}
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b)
}
