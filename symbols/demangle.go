package symbols

import (
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// Rust code in the kernel (and in Rust modules) has mangled symbol names:
// the v0 scheme ("_RNvCs…_6kernel5print") and, from older compilers, the
// legacy one ("_ZN4core3fmt5write17h0123456789abcdefE"). The kernel prints
// them mangled, so gocrash keeps the ELF names everywhere the kernel's own
// output is matched (bt, sym's NAME column) and offers the demangled form
// beside them, and as a name to look up.

// Demangle returns the demangled form of a Rust symbol name ("kernel::print"),
// without the legacy scheme's hash suffix, and true; for any other name
// (C symbols, C++-looking names that are not Rust) it returns name and
// false.
func Demangle(name string) (string, bool) {
	switch {
	case strings.HasPrefix(name, "_R"):
	case strings.HasPrefix(name, "_ZN") && isLegacyRust(name):
	default:
		return name, false
	}
	d, err := demangle.ToString(name, demangle.NoClones)
	if err != nil || d == name {
		return name, false
	}
	return d, true
}

// isLegacyRust tells the legacy Rust scheme from C++'s: a nested name whose
// last element is "17h" and 16 hex digits.
func isLegacyRust(name string) bool {
	if !strings.HasSuffix(name, "E") || len(name) < 3+3+16+1 {
		return false
	}
	tail := name[len(name)-1-16-3 : len(name)-1]
	if !strings.HasPrefix(tail, "17h") {
		return false
	}
	for _, c := range tail[3:] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// LookupDemangled finds a symbol by its demangled Rust name
// ("kernel::print::call_printk"); the table of demangled names is built on
// first use.
func (v *Vmlinux) LookupDemangled(name string) (Symbol, bool) {
	v.demangleOnce.Do(func() {
		v.demangled = map[string]int{}
		for i, s := range v.syms {
			if d, ok := Demangle(s.Name); ok {
				if _, dup := v.demangled[d]; !dup {
					v.demangled[d] = i
				}
			}
		}
	})
	i, ok := v.demangled[name]
	if !ok {
		return Symbol{}, false
	}
	return v.syms[i], true
}
