package symbols

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/gocrash/gocrash/internal/corpus"
)

// The reference: the layouts as gocrash answered them before btfraw.go,
// through cilium/ebpf's complete BTF decoder.

func corpusVmlinuxes(t testing.TB) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range corpus.Runs(t) {
		if !seen[r.Vmlinux] {
			seen[r.Vmlinux] = true
			out = append(out, r.Vmlinux)
		}
	}
	return out
}

func loadCilium(t testing.TB, v *Vmlinux) *btf.Spec {
	l := v.Layouts()
	if l.data == nil {
		t.Fatalf("%s has no .BTF", v.Path)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(l.data))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// ciliumComposite is the old composite selection.
func ciliumComposite(spec *btf.Spec, name string) (btf.Type, error) {
	types, err := spec.AnyTypesByName(name)
	if err != nil {
		return nil, &MissingError{What: "type " + name}
	}
	for _, t := range types {
		switch t := t.(type) {
		case *btf.Struct:
			if t.Size > 0 {
				return t, nil
			}
		case *btf.Union:
			return t, nil
		}
	}
	return btf.UnderlyingType(types[0]), nil
}

func ciliumFindMember(t btf.Type, name string) (btf.Member, int64, bool) {
	var members []btf.Member
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = t.Members
	case *btf.Union:
		members = t.Members
	default:
		return btf.Member{}, 0, false
	}
	for _, m := range members {
		if m.Name == name {
			return m, int64(m.Offset.Bytes()), true
		}
	}
	for _, m := range members {
		if m.Name == "" {
			if inner, off, ok := ciliumFindMember(m.Type, name); ok {
				return inner, int64(m.Offset.Bytes()) + off, true
			}
		}
	}
	return btf.Member{}, 0, false
}

func ciliumOffset(t btf.Type, path string) (int64, bool) {
	var off int64
	for _, part := range strings.Split(path, ".") {
		m, moff, ok := ciliumFindMember(t, part)
		if !ok {
			return 0, false
		}
		off += moff
		t = btf.UnderlyingType(m.Type)
	}
	return off, true
}

// memberNames lists the names of t's members as C reaches them: its own
// and, through anonymous members, theirs.
func memberNames(t btf.Type, out []string) []string {
	var members []btf.Member
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = t.Members
	case *btf.Union:
		members = t.Members
	}
	for _, m := range members {
		if m.Name == "" {
			out = memberNames(m.Type, out)
		} else {
			out = append(out, m.Name)
		}
	}
	return out
}

// TestCorpusBTFMatchesCilium compares the lazy reader with cilium/ebpf on
// every corpus vmlinux: the size of every named struct and union, the
// offset of every member C can name in it (through anonymous members, and
// one level into named struct or union members), orc_entry's layout, and
// the enumerators.
func TestCorpusBTFMatchesCilium(t *testing.T) {
	for _, path := range corpusVmlinuxes(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			v, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if (v.Machine == elf.EM_PPC64 || v.Machine == elf.EM_S390) && v.Layouts().data == nil {
				// Debian builds its ppc64el and s390x kernels without
				// CONFIG_DEBUG_INFO_BTF: their types come from DWARF.
				t.Logf("%s: no .BTF (Debian's config)", v.Path)
				return
			}
			spec := loadCilium(t, v)
			l := v.Layouts()
			bad := 0
			fail := func(format string, args ...any) {
				t.Helper()
				if bad < 20 {
					t.Errorf(format, args...)
				}
				bad++
			}
			seen := map[string]bool{}
			structs, members, enumVals := 0, 0, 0
			firstEnum := map[string]int64{}
			var enumNames []string
			for typ, err := range spec.All() {
				if err != nil {
					t.Fatal(err)
				}
				if e, ok := typ.(*btf.Enum); ok {
					for _, ev := range e.Values {
						if _, dup := firstEnum[ev.Name]; !dup {
							firstEnum[ev.Name] = int64(ev.Value)
							enumNames = append(enumNames, ev.Name)
						}
					}
				}
				switch typ.(type) {
				case *btf.Struct, *btf.Union, *btf.Typedef, *btf.Fwd:
				default:
					continue
				}
				name := typ.TypeName()
				if name == "" || seen[name] {
					continue
				}
				seen[name] = true
				ref, err := ciliumComposite(spec, name)
				if err != nil {
					t.Fatalf("cilium: %v", err)
				}
				wantSize, wantErr := btf.Sizeof(ref)
				gotSize, gotErr := l.Size(name)
				if (wantErr != nil) != (gotErr != nil) || wantErr == nil && int64(wantSize) != gotSize {
					fail("Size(%s) = %d, %v; cilium %d, %v", name, gotSize, gotErr, wantSize, wantErr)
				}
				structs++
				for _, m := range memberNames(ref, nil) {
					paths := []string{m}
					if mt, _, ok := ciliumFindMember(ref, m); ok {
						for _, sub := range memberNames(mt.Type, nil) {
							paths = append(paths, m+"."+sub)
						}
					}
					for _, p := range paths {
						want, ok := ciliumOffset(ref, p)
						got, err := l.Offset(name, p)
						if ok != (err == nil) || ok && want != got {
							fail("Offset(%s, %s) = %d, %v; cilium %d, %v", name, p, got, err, want, ok)
						} else if !ok && !IsMissing(err) {
							fail("Offset(%s, %s): %v, not a MissingError", name, p, err)
						}
						members++
					}
				}
				if _, err := l.Offset(name, "no_such_member_here"); !IsMissing(err) {
					fail("Offset(%s, no_such_member_here): %v", name, err)
				}
			}
			if _, err := l.Size("no_such_struct_here"); !IsMissing(err) {
				fail("Size(no_such_struct_here): %v", err)
			}
			// A sample of the enumerators (each lookup scans the types).
			for i := 0; i < len(enumNames); i += 37 {
				name := enumNames[i]
				got, err := l.Enumerator(name)
				if err != nil || got != firstEnum[name] {
					fail("Enumerator(%s) = %d, %v; cilium %d", name, got, err, firstEnum[name])
				}
				enumVals++
			}
			for _, name := range []string{"N_ONLINE", "MOD_INIT_TEXT", "TASK_COMM_LEN", "PIDTYPE_PID"} {
				got, err := l.Enumerator(name)
				want, ok := firstEnum[name]
				if ok != (err == nil) || got != want {
					fail("Enumerator(%s) = %d, %v; cilium %d, %v", name, got, err, want, ok)
				}
			}
			if _, err := l.Enumerator("NO_SUCH_ENUMERATOR_HERE"); !IsMissing(err) {
				fail("Enumerator(NO_SUCH_ENUMERATOR_HERE): %v", err)
			}
			// orc_entry, x86_64 only.
			want, wantErr := ciliumORCLayout(spec)
			got, gotErr := v.ORCEntryLayout()
			if (wantErr != nil) != (gotErr != nil) || got != want {
				fail("ORCEntryLayout = %+v, %v; cilium %+v, %v", got, gotErr, want, wantErr)
			}
			if structs < 5000 || members < 50000 || enumVals < 100 {
				t.Errorf("only %d types, %d members, %d enumerators compared", structs, members, enumVals)
			}
			t.Logf("%d named types, %d member paths, %d enumerators equal to cilium/ebpf's; orc_entry %+v (%v)", structs, members, enumVals, got, gotErr)
		})
	}
}

// ciliumORCLayout is the old ORCEntryLayout's BTF branch.
func ciliumORCLayout(spec *btf.Spec) (ORCLayout, error) {
	t, err := ciliumComposite(spec, "orc_entry")
	if err != nil {
		return ORCLayout{}, err
	}
	st, ok := t.(*btf.Struct)
	if !ok {
		return ORCLayout{}, errors.New("not a struct")
	}
	var lay ORCLayout
	found := map[string]bitfield{}
	lay.Size = int(st.Size)
	for _, m := range st.Members {
		bits := uint32(m.BitfieldSize)
		if bits == 0 {
			n, err := btf.Sizeof(m.Type)
			if err != nil {
				return ORCLayout{}, err
			}
			bits = uint32(n) * 8
		}
		found[m.Name] = bitfield{uint32(m.Offset), bits}
	}
	for _, f := range []struct {
		name string
		dst  *bitfield
	}{{"sp_offset", &lay.SPOffset}, {"bp_offset", &lay.BPOffset}, {"sp_reg", &lay.SPReg}, {"bp_reg", &lay.BPReg}, {"type", &lay.Type}} {
		b, ok := found[f.name]
		if !ok {
			return ORCLayout{}, fmt.Errorf("no %s", f.name)
		}
		*f.dst = b
	}
	lay.End, lay.HasEndBit = found["end"]
	lay.Signal, lay.HasSignal = found["signal"]
	return lay, nil
}

// The questions the kernel model asks at start-up for ps (and a few more).
var typicalQuestions = [][2]string{
	{"task_struct", "tasks"}, {"task_struct", "pid"}, {"task_struct", "tgid"}, {"task_struct", "comm"},
	{"task_struct", "mm"}, {"task_struct", "real_parent"}, {"task_struct", "signal"}, {"task_struct", "thread_node"},
	{"task_struct", "__state"}, {"task_struct", "stack"}, {"task_struct", "thread.sp"}, {"task_struct", "on_cpu"},
	{"task_struct", "se.exec_start"}, {"task_struct", "flags"}, {"task_struct", "exit_state"},
	{"signal_struct", "thread_head"}, {"mm_struct", "rss_stat"}, {"mm_struct", "total_vm"}, {"mm_struct", "pgd"},
	{"rq", "curr"}, {"rq", "idle"}, {"list_head", "next"}, {"pid", "numbers"}, {"upid", "nr"},
	{"percpu_counter", "count"}, {"module", "list"}, {"module", "name"}, {"printk_info", "seq"},
	{"prb_desc", "state_var"}, {"cpumask", "bits"},
}

func benchQuestions(b *testing.B, offset func(s, m string) (int64, error), size func(s string) (int64, error)) {
	for _, q := range typicalQuestions {
		if _, err := offset(q[0], q[1]); err != nil && !IsMissing(err) {
			b.Fatal(err)
		}
	}
	for _, s := range []string{"task_struct", "mm_struct", "pt_regs"} {
		if _, err := size(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLayoutsLoadAndAsk is a fresh load of the BTF and the start-up
// questions: the lazy reader ("raw") against cilium/ebpf's decoder.
func BenchmarkLayoutsLoadAndAsk(b *testing.B) {
	for _, path := range corpusVmlinuxes(b) {
		v, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		data := v.Layouts().data
		name := filepath.Base(filepath.Dir(path))
		b.Run(name+"/raw", func(b *testing.B) {
			for b.Loop() {
				l := &Layouts{data: data}
				benchQuestions(b, l.Offset, l.Size)
			}
		})
		b.Run(name+"/cilium", func(b *testing.B) {
			for b.Loop() {
				spec, err := btf.LoadSpecFromReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				benchQuestions(b, func(s, m string) (int64, error) {
					t, err := ciliumComposite(spec, s)
					if err != nil {
						return 0, err
					}
					off, ok := ciliumOffset(t, m)
					if !ok {
						return 0, &MissingError{What: m}
					}
					return off, nil
				}, func(s string) (int64, error) {
					t, err := ciliumComposite(spec, s)
					if err != nil {
						return 0, err
					}
					n, err := btf.Sizeof(t)
					return int64(n), err
				})
			}
		})
		b.Run(name+"/raw-enumerator", func(b *testing.B) {
			l := &Layouts{data: data}
			l.Preload()
			for b.Loop() {
				if _, err := l.Enumerator("N_ONLINE"); err != nil {
					b.Fatal(err)
				}
			}
		})
		v.Close()
	}
}
