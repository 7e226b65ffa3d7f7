package symbols

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestDemangle(t *testing.T) {
	for in, want := range map[string]string{
		"_RNvCs15kBYyAo9fc_7mycrate7example":                                             "mycrate::example",
		"_ZN4core3fmt5write17h0123456789abcdefE":                                         "core::fmt::write",
		"_RINvNtCs3fzmBu3cpkn_4core3ptr13drop_in_placeNtCsaxFZNZN5DXY_6kernel5ErrorEB8_": "core::ptr::drop_in_place::<kernel::Error>",
	} {
		if got, ok := Demangle(in); !ok || got != want {
			t.Errorf("Demangle(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	// C symbols, C++ names and broken Rust names stay as they are.
	for _, in := range []string{"schedule", "__handle_sysrq.cold", "_ZN3foo3barEv", "_ZN3foo3barE", "_R", "_RNvC"} {
		if got, ok := Demangle(in); ok || got != in {
			t.Errorf("Demangle(%q) = %q, %v; want it unchanged", in, got, ok)
		}
	}
}

// TestLookupDemangled: an ELF file whose symbol table holds Rust-mangled
// names (gcc with asm labels) is searched by the demangled names.
func TestLookupDemangled(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc is not installed (testdata/corpus/build.sh installs it)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "rust.c")
	os.WriteFile(src, []byte(`
void v0(void) __asm__("_RNvCs15kBYyAo9fc_7mycrate7example");
void v0(void) {}
void legacy(void) __asm__("_ZN4core3fmt5write17h0123456789abcdefE");
void legacy(void) {}
void cxx(void) __asm__("_ZN3foo3barEv");
void cxx(void) {}
int main(void) { v0(); legacy(); cxx(); return 0; }
`), 0o644)
	bin := filepath.Join(dir, "rust")
	if out, err := exec.Command("gcc", "-O0", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	v, err := Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for demangled, mangled := range map[string]string{
		"mycrate::example": "_RNvCs15kBYyAo9fc_7mycrate7example",
		"core::fmt::write": "_ZN4core3fmt5write17h0123456789abcdefE",
	} {
		want, ok := v.Lookup(mangled)
		if !ok {
			t.Fatalf("%s is not in the symbol table", mangled)
		}
		got, ok := v.LookupDemangled(demangled)
		if !ok || got != want {
			t.Errorf("LookupDemangled(%q) = %+v, %v; want %+v", demangled, got, ok, want)
		}
	}
	if s, ok := v.LookupDemangled("foo::bar"); ok {
		t.Errorf("a C++ name was taken for Rust: %+v", s)
	}
}
