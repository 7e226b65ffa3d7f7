package symbols_test

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/symbols"
)

// paholeMember is one member line of pahole's listing.
type paholeMember struct {
	name      string
	off, size int64
	bit       int64 // bit within the storage unit, -1 for a plain member
}

var paholeLine = regexp.MustCompile(`^\s+(.*?)\s*;\s*/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*/`)
var paholeSize = regexp.MustCompile(`/\* size: (\d+),`)

// pahole lists a struct's members as pahole (dwarves) reads them from the
// DWARF: name, offset and size, anonymous unions and structs flattened.
func pahole(t *testing.T, vmlinux, name string) ([]paholeMember, int64) {
	return paholeOf(t, []string{"-F", "dwarf", vmlinux}, name)
}

// paholeOf is pahole's layout of struct name, read with args (a format, a
// file, a split BTF's base).
func paholeOf(t *testing.T, args []string, name string) ([]paholeMember, int64) {
	out, err := exec.Command("pahole", append([]string{"-C", name}, args...)...).Output()
	if err != nil {
		t.Fatalf("pahole -C %s: %v", name, err)
	}
	var ms []paholeMember
	var size int64 = -1
	depth := 0
	var starts []int // ms index where each open block began
	closeNamed := regexp.MustCompile(`^\s*}\s*(?:__attribute__\(\(.*?\)\)\)?\s*)?(\w+)(\[\d+\])*\s*(?:__attribute__\(\(.*?\)\)\)?\s*)?;`)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), "{") && depth >= 1 {
			starts = append(starts, len(ms))
		}
		if strings.HasPrefix(strings.TrimSpace(line), "}") && len(starts) > 0 {
			start := starts[len(starts)-1]
			starts = starts[:len(starts)-1]
			if m := closeNamed.FindStringSubmatch(line); m != nil {
				for i := start; i < len(ms); i++ {
					ms[i].name = m[1] + "." + ms[i].name
				}
			}
		}
		if m := paholeSize.FindStringSubmatch(line); m != nil && depth == 1 {
			size, _ = strconv.ParseInt(m[1], 10, 64)
		}
		if m := paholeLine.FindStringSubmatch(line); m != nil && !strings.HasPrefix(strings.TrimSpace(m[1]), "}") {
			decl := regexp.MustCompile(`__attribute__\(\(.*?\)\)\)?`).ReplaceAllString(m[1], "")
			decl = strings.TrimSpace(regexp.MustCompile(`(\[\d*\])+$|:\d+$`).ReplaceAllString(strings.TrimSpace(decl), ""))
			f := strings.FieldsFunc(decl, func(r rune) bool { return r == ' ' || r == '*' || r == '(' || r == ')' || r == '\t' })
			if len(f) == 0 {
				continue
			}
			pm := paholeMember{name: f[len(f)-1], bit: -1}
			if strings.Contains(decl, "(*") { // a function pointer: "int (*name)(args)"
				pm.name = regexp.MustCompile(`\(\*\s*(\w+)\)`).FindStringSubmatch(decl)[1]
			}
			pm.off, _ = strconv.ParseInt(m[2], 10, 64)
			if m[3] != "" {
				pm.bit, _ = strconv.ParseInt(m[3], 10, 64)
			}
			pm.size, _ = strconv.ParseInt(m[4], 10, 64)
			ms = append(ms, pm)
		}
		depth += strings.Count(line, "{") - strings.Count(line, "}")
	}
	return ms, size
}

// TestCorpusLayoutsMatchPahole: for each corpus vmlinux, the offsets and
// sizes gocrash reads for a set of kernel structs equal pahole's.
func TestCorpusLayoutsMatchPahole(t *testing.T) {
	if _, err := exec.LookPath("pahole"); err != nil {
		t.Fatal("pahole (Debian's dwarves) is not installed: make corpus installs it")
	}
	structs := paholeStructs
	for _, path := range vmlinuxes(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			v, err := symbols.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			v.IndexCache = t.TempDir()
			ts, err := v.Types()
			if err != nil {
				t.Fatal(err)
			}
			checked := checkPahole(t, ts, path, structs)
			t.Logf("%d members of %d structs equal pahole's", checked, len(structs))
		})
	}
}

// BenchmarkIndexScan: the parallel .debug_info scan of the 6.1 x86_64
// vmlinux (no cache).
func BenchmarkIndexScan(b *testing.B) {
	var path string
	for _, p := range vmlinuxes(b) {
		if strings.Contains(p, "x86_64-6.1.") {
			path = p
		}
	}
	if path == "" {
		b.Skip("no 6.1 x86_64 vmlinux in the corpus")
	}
	v, err := symbols.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	d, err := v.DWARF()
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("NORELEASE") != "" {
		d.NoRelease()
	}
	b.ResetTimer()
	for range b.N {
		if _, err := d.BuildIndex(nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCorpusFirstDefinition: the first-definition scan, which answers
// "struct NAME" before the index is built, finds the DIE the index gives.
func TestCorpusFirstDefinition(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range corpus.Runs(t) {
		if seen[r.Vmlinux] {
			continue
		}
		seen[r.Vmlinux] = true
		t.Run(r.Name, func(t *testing.T) {
			v, err := symbols.Open(r.Vmlinux)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			d, err := v.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			v.IndexCache = t.TempDir()
			ix, err := v.Index()
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, c := range []struct {
				name string
				kind symbols.Kind
			}{
				{"task_struct", symbols.KindStruct}, {"mm_struct", symbols.KindStruct}, {"list_head", symbols.KindStruct},
				{"module", symbols.KindStruct}, {"file", symbols.KindStruct}, {"pt_regs", symbols.KindStruct},
				{"page", symbols.KindStruct}, {"inode", symbols.KindStruct}, {"rq", symbols.KindStruct},
				{"sk_buff", symbols.KindStruct}, {"printk_info", symbols.KindStruct}, {"thread_union", symbols.KindUnion},
				{"sigval", symbols.KindUnion}, {"no_such_struct_anywhere", symbols.KindStruct}, {"jiffies", symbols.KindStruct},
			} {
				off, ok, err := d.FirstDefinition(c.name, c.kind, ^uint64(0))
				if err != nil {
					t.Fatal(err)
				}
				var want []symbols.IndexEntry
				for _, e := range ix.Lookup(c.name, c.kind) {
					if !e.Decl {
						want = append(want, e)
					}
				}
				switch {
				case !ok && len(want) == 0:
				case ok && len(want) == 1 && want[0].Off == off:
					found++
				default:
					t.Errorf("%v %s: first definition %x (found %v), the index has %+v", c.kind, c.name, off, ok, want)
				}
			}
			if found < 12 {
				t.Errorf("only %d names found", found)
			}
		})
	}
}

// paholeStructs are the structs whose layouts are compared with pahole's.
var paholeStructs = []string{"task_struct", "mm_struct", "module", "file", "pt_regs", "printk_info", "list_head", "page", "inode", "sk_buff"}

// checkPahole compares the layouts ts gives for structs with pahole's
// reading of the vmlinux at path; it returns the members compared.
func checkPahole(t *testing.T, ts *symbols.Types, path string, structs []string) int {
	return checkPaholeOf(t, ts, []string{"-F", "dwarf", path}, structs)
}

// checkPaholeOf compares the layouts ts gives for structs with pahole's,
// read with args; it returns the members compared.
func checkPaholeOf(t *testing.T, ts *symbols.Types, args []string, structs []string) int {
	checked := 0
	for _, name := range structs {
		ty, err := ts.Lookup("struct " + name)
		if err != nil {
			t.Errorf("struct %s: %v", name, err)
			continue
		}
		want, size := paholeOf(t, args, name)
		if len(want) < 2 {
			t.Fatalf("pahole listed %d members of %s", len(want), name)
		}
		if ty.Sizeof() != size {
			t.Errorf("sizeof(struct %s) = %d, pahole %d", name, ty.Sizeof(), size)
		}
		for _, pm := range want {
			m, err := ty.MemberPath(pm.name)
			if err != nil {
				t.Errorf("%s.%s: %v", name, pm.name, err)
				continue
			}
			if pm.bit >= 0 {
				// pahole: the storage unit's offset and the bit in it.
				if m.BitSize == 0 || m.BitOffset != pm.off*8+pm.bit {
					t.Errorf("%s.%s: bit offset %d (size %d), pahole %d:%d", name, pm.name, m.BitOffset, m.BitSize, pm.off, pm.bit)
				}
				continue
			}
			if m.Offset != pm.off || m.Type.Sizeof() != pm.size {
				t.Errorf("%s.%s: offset %d size %d, pahole %d %d", name, pm.name, m.Offset, m.Type.Sizeof(), pm.off, pm.size)
			}
			checked++
		}
	}
	return checked
}

// TestCorpusIndexAfterFirstDefinition: an index built after first-definition
// lookups have read part of .debug_info (BuildIndex goes on from where they
// stopped, keeping what they found) has the entries of one built from the
// start.
func TestCorpusIndexAfterFirstDefinition(t *testing.T) {
	corpus.ForEachVmlinux(t, func(t *testing.T, r *corpus.Run) {
		build := func(prefix bool) *symbols.Index {
			v, err := symbols.Open(r.Vmlinux)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { v.Close() })
			d, err := v.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			if prefix {
				if _, ok, err := d.FirstDefinition("task_struct", symbols.KindStruct, ^uint64(0)); err != nil || !ok {
					t.Fatalf("struct task_struct: found %v, %v", ok, err)
				}
				// An absent name: the scan reads its whole limit.
				if _, ok, err := d.FirstDefinition("no_such_struct_anywhere", symbols.KindStruct, 40<<20); err != nil || ok {
					t.Fatalf("no_such_struct_anywhere: found %v, %v", ok, err)
				}
			}
			ix, err := d.BuildIndex(nil)
			if err != nil {
				t.Fatal(err)
			}
			return ix
		}
		got, want := build(true), build(false)
		if got.Len() != want.Len() {
			t.Errorf("%d entries, %d from the start", got.Len(), want.Len())
		}
		sorted := func(es []symbols.IndexEntry) []symbols.IndexEntry {
			slices.SortFunc(es, func(a, b symbols.IndexEntry) int {
				return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Off, b.Off))
			})
			return es
		}
		names := want.Names("")
		bad := 0
		for _, n := range names {
			g, w := sorted(got.Lookup(n)), sorted(want.Lookup(n))
			if !slices.Equal(g, w) && bad < 10 {
				bad++
				t.Errorf("%s: %+v, from the start %+v", n, g, w)
			}
		}
		if len(names) < 10000 {
			t.Errorf("only %d names", len(names))
		}
	})
}
