package symbols

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildTestProgram compiles testdata/types.c with gcc and the given flags
// and opens the result.
func buildTestProgram(t *testing.T, flags ...string) *Vmlinux {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc is not installed (testdata/corpus/build.sh installs it)")
	}
	out := filepath.Join(t.TempDir(), "types")
	args := append([]string{"-O0", "-o", out, "testdata/types.c"}, flags...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, b)
	}
	v, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	v.IndexCache = "off"
	return v
}

var dwarfVariants = []struct {
	name  string
	flags []string
}{
	{"dwarf5", []string{"-gdwarf-5"}},
	{"dwarf4", []string{"-gdwarf-4"}},
	{"dwarf5-zlib", []string{"-gdwarf-5", "-gz=zlib"}},
	{"dwarf4-64bit", []string{"-gdwarf-4", "-gdwarf64"}},
}

func TestIndexTestProgram(t *testing.T) {
	for _, dv := range dwarfVariants {
		t.Run(dv.name, func(t *testing.T) {
			v := buildTestProgram(t, dv.flags...)
			ix, err := v.Index()
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				kind Kind
			}{
				{"record", KindStruct}, {"value", KindUnion}, {"color", KindEnum}, {"u8", KindTypedef},
				{"int", KindBase}, {"global_record", KindVariable}, {"ticks", KindVariable},
				{"counts", KindVariable}, {"add", KindFunction}, {"helper", KindFunction},
				{"RED", KindEnumerator}, {"ANON_B", KindEnumerator}, {"list_head", KindStruct},
			} {
				es := ix.Lookup(c.name, c.kind)
				if len(es) != 1 || es[0].Decl {
					t.Errorf("Lookup(%q, %v) = %+v, want one definition", c.name, c.kind, es)
				}
			}
			if es := ix.Lookup("no_such_name"); len(es) != 0 {
				t.Errorf("Lookup(no_such_name) = %+v", es)
			}
			if got := ix.Names("glob", KindVariable); strings.Join(got, ",") != "global_flags,global_record" {
				t.Errorf("Names(glob) = %v", got)
			}
		})
	}
}

const wantRecord = `struct record {
    int id;
    union {
        u32 word;
        struct {
            unsigned short lo;
            unsigned short hi;
        };
    };
    struct {
        int x;
        int y;
    } point;
    const char *name;
    volatile unsigned long counter;
    char * const fixed;
    int matrix[2][3];
    enum color color;
    struct list_head list;
    union value v;
    struct callbacks *cb;
    int (*table)[4];
    s64 big;
    _Bool ok;
    unsigned int len;
    unsigned char data[];
}`

const wantCallbacks = `struct callbacks {
    void (*notify)(struct list_head *, int);
    int (*cmp)(const void *, const void *);
    void *(*alloc)(size_t);
    void (*noargs)(void);
    int (*variadic)(const char *, ...);
}`

const wantFlags = `struct flags {
    unsigned int a : 1;
    unsigned int b : 3;
    int c : 4;
    u8 d : 2;
    unsigned long e;
    unsigned int f : 5;
}`

func TestTypesTestProgram(t *testing.T) {
	for _, dv := range dwarfVariants {
		t.Run(dv.name, func(t *testing.T) {
			v := buildTestProgram(t, dv.flags...)
			ts, err := v.Types()
			if err != nil {
				t.Fatal(err)
			}
			look := func(name string) *Type {
				ty, err := ts.Lookup(name)
				if err != nil {
					t.Fatalf("Lookup(%q): %v", name, err)
				}
				return ty
			}
			for name, want := range map[string]string{"struct record": wantRecord, "callbacks": wantCallbacks, "struct flags": wantFlags} {
				if got := Definition(look(name)); got != want {
					t.Errorf("Definition(%s):\n%s\nwant:\n%s", name, got, want)
				}
			}
			if got := Definition(look("enum color")); got != "enum color {RED = -2, GREEN = 0, BLUE = 7}" {
				t.Errorf("enum color: %s", got)
			}
			rec := look("record")
			if rec.Sizeof() != 128 {
				t.Errorf("sizeof(struct record) = %d", rec.Sizeof())
			}
			for path, want := range map[string]int64{"id": 0, "word": 4, "hi": 6, "point.y": 12, "name": 16, "list.prev": 80, "v.bytes": 88, "data": 128} {
				m, err := rec.MemberPath(path)
				if err != nil || m.Offset != want {
					t.Errorf("offsetof(record, %s) = %d, %v; want %d", path, m.Offset, err, want)
				}
			}
			if _, err := rec.MemberPath("nosuch"); !IsMissing(err) {
				t.Errorf("MemberPath(nosuch) error = %v, want a MissingError", err)
			}
			fl := look("struct flags")
			for path, want := range map[string][3]int64{"a": {0, 1, 0}, "b": {0, 3, 1}, "c": {0, 4, 4}, "d": {1, 2, 8}, "e": {8, 0, 0}, "f": {16, 5, 128}} {
				m, err := fl.MemberPath(path)
				if err != nil || m.Offset != want[0] || m.BitSize != want[1] || (m.BitSize != 0 && m.BitOffset != want[2]) {
					t.Errorf("flags.%s = off %d bits %d@%d, %v; want %v", path, m.Offset, m.BitSize, m.BitOffset, err, want)
				}
			}
			es, err := look("enum color").Enumerators()
			if err != nil || len(es) != 3 || es[0] != (Enumerator{"RED", -2}) || es[2] != (Enumerator{"BLUE", 7}) {
				t.Errorf("enum color = %v, %v", es, err)
			}
			for name, want := range map[string]string{"u8": "u8", "unsigned long": "unsigned long", "union value": "union value"} {
				if got := TypeName(look(name)); got != want {
					t.Errorf("TypeName(%s) = %q, want %q", name, got, want)
				}
			}
			if _, err := ts.Lookup("struct nosuch"); !IsMissing(err) {
				t.Errorf("Lookup(struct nosuch) error = %v", err)
			}
		})
	}
}

// TestIndexCache: a second open reads the index from the cache; a corrupt
// or stale cache file is ignored and rewritten.
func TestIndexCache(t *testing.T) {
	v := buildTestProgram(t, "-gdwarf-5")
	dir := t.TempDir()
	open := func() (*Vmlinux, *Index) {
		w, err := Open(v.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		w.IndexCache = dir
		ix, err := w.Index()
		if err != nil {
			t.Fatal(err)
		}
		return w, ix
	}
	w1, ix1 := open()
	if w1.IndexSource() != "scan" {
		t.Fatalf("first open: index from %q, want scan", w1.IndexSource())
	}
	w2, ix2 := open()
	if !strings.HasPrefix(w2.IndexSource(), "cache ") {
		t.Fatalf("second open: index from %q, want the cache", w2.IndexSource())
	}
	if string(ix1.img[16:]) != string(ix2.img[16:]) || ix2.Len() == 0 {
		t.Fatal("cached index differs from the scanned one")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "index-*.idx"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	// Corrupt one byte past the header: the checksum catches it.
	b, _ := os.ReadFile(files[0])
	b[len(b)-1] ^= 0xff
	os.WriteFile(files[0], b, 0o644)
	if w3, _ := open(); w3.IndexSource() != "scan" {
		t.Fatalf("corrupt cache: index from %q, want scan", w3.IndexSource())
	}
	if w4, _ := open(); !strings.HasPrefix(w4.IndexSource(), "cache ") {
		t.Fatalf("after rewrite: index from %q, want the cache", w4.IndexSource())
	}
	// A truncated file, and one made for a vmlinux of another mtime.
	os.WriteFile(files[0], b[:100], 0o644)
	if w5, _ := open(); w5.IndexSource() != "scan" {
		t.Fatalf("truncated cache: index from %q, want scan", w5.IndexSource())
	}
	os.Chtimes(v.Path, time.Now(), time.Now().Add(time.Hour))
	if w6, _ := open(); w6.IndexSource() != "scan" {
		t.Fatalf("stale cache: index from %q, want scan", w6.IndexSource())
	}
}
