package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/symbols"
)

// TestKallsymsOffset: the displacement from a /proc/kallsyms listing of a
// small program's symbols moved by a known offset.
func TestKallsymsOffset(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc is not installed (testdata/corpus/build.sh installs it)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "k.c")
	os.WriteFile(src, []byte("void _stext(void) {}\nint main(void) { return 0; }\n"), 0o644)
	bin := filepath.Join(dir, "k")
	if out, err := exec.Command("gcc", "-no-pie", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	v, err := symbols.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
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
