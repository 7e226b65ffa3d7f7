package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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

// ReadFuzzSeeds returns the values of each checked-in seed of a fuzz
// target of the package under test that was written from the corpus (the
// files named after a kernel, "x86_64-6.1.0...", not the findings), by
// file name.
func ReadFuzzSeeds(t testing.TB, target string) map[string][]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*-*.*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds for %s", target)
	}
	out := map[string][]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a fuzz corpus file", f)
		}
		var vals []any
		for _, l := range lines[1:] {
			typ, lit, _ := strings.Cut(strings.TrimSuffix(l, ")"), "(")
			switch typ {
			case "[]byte":
				s, err := strconv.Unquote(lit)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				vals = append(vals, []byte(s))
			case "bool":
				vals = append(vals, lit == "true")
			case "uint64":
				n, _ := strconv.ParseUint(lit, 10, 64)
				vals = append(vals, n)
			}
		}
		out[filepath.Base(f)] = vals
	}
	return out
}
