package archs

import (
	"debug/elf"
	"testing"
)

// TestMachineNames: ELF and dump machine names map to the names crash
// prints, each architecture once.
func TestMachineNames(t *testing.T) {
	for m, want := range map[elf.Machine]string{elf.EM_X86_64: "x86_64", elf.EM_AARCH64: "arm64", elf.EM_PPC64: "ppc64le", elf.EM_MIPS: ""} {
		if got := OfELF(m); string(got) != want {
			t.Errorf("OfELF(%v) = %q, want %q", m, got, want)
		}
	}
	for name, want := range map[string]string{"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64", "ppc64le": "ppc64le", "mips": "", "": ""} {
		if got := OfDump(name); string(got) != want {
			t.Errorf("OfDump(%q) = %q, want %q", name, got, want)
		}
	}
	seen := map[string]bool{}
	for _, p := range ports() {
		if seen[string(p.Machine)] {
			t.Errorf("%s listed twice", p.Machine)
		}
		seen[string(p.Machine)] = true
	}
}
