package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFuzzSeeds reports whether a test should rewrite the fuzz targets'
// checked-in seeds from the corpus (GOCRASH_WRITE_FUZZ_SEEDS=1); the seed
// writers skip otherwise.
func WriteFuzzSeeds(t testing.TB) {
	t.Helper()
	if os.Getenv("GOCRASH_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("writes the checked-in fuzz seeds; set GOCRASH_WRITE_FUZZ_SEEDS=1 (and GOCRASH_CORPUS) to rewrite them")
	}
}

// WriteFuzzSeed writes one seed of a fuzz target, in Go's corpus file
// format, to testdata/fuzz/TARGET/NAME of the package under test. The
// values are []byte, string, bool, uint8 or uint64, in the order of the
// target's arguments.
func WriteFuzzSeed(t testing.TB, target, name string, vals ...any) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&sb, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&sb, "string(%q)\n", v)
		case bool:
			fmt.Fprintf(&sb, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&sb, "byte(%d)\n", v)
		case uint64:
			fmt.Fprintf(&sb, "uint64(%d)\n", v)
		default:
			t.Fatalf("fuzz seed value of type %T", v)
		}
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s/%s: %d bytes", target, name, sb.Len())
}
