package symbols

import (
	"encoding/binary"
)

// The kernel's table of exported symbols, __ksymtab and __ksymtab_gpl, as a
// source of data symbols for a kernel whose kallsyms has only its text
// (CONFIG_KALLSYMS_ALL off, as Debian's arm64 kernels are built). With
// position-relative entries (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS: x86_64,
// arm64, ppc64, s390x) each entry is three s32: the symbol's address, its
// name's (in __ksymtab_strings) and its namespace's, each relative to the
// field itself. The tables are found in the image's read-only data as the
// runs of such entries whose functions' addresses and names are those
// kallsyms gives; every entry of a run then names a symbol, data ones too.

const ksymtabEntry = 12

// ExportedSymbols finds the exported symbols in img, the kernel memory at
// run-time address base, given the text symbols kallsyms knows (run-time
// addresses). Each comes with type letter 'D' (an export does not say).
func ExportedSymbols(img []byte, base uint64, text []Symbol, order binary.ByteOrder) []Symbol {
	byAddr := make(map[uint64]string, len(text))
	lo, hi := ^uint64(0), uint64(0)
	for _, s := range text {
		byAddr[s.Addr] = s.Name
		lo, hi = min(lo, s.Addr), max(hi, s.Addr)
	}
	rel := func(p int) (uint64, bool) {
		if p < 0 || p+4 > len(img) {
			return 0, false
		}
		return base + uint64(p) + uint64(int64(int32(order.Uint32(img[p:])))), true
	}
	// str reads the identifier at addr, or with empty a namespace, maybe
	// "". (The linker merges a string into the tail of a longer one:
	// node_data may be the end of inode_data.)
	str := func(addr uint64, empty bool) (string, bool) {
		if addr < base || addr >= base+uint64(len(img)) {
			return "", false
		}
		s := img[addr-base:]
		for i, c := range s {
			switch {
			case c == 0:
				return string(s[:i]), i > 0 || empty
			case i > 128 || !(c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
				return "", false
			}
		}
		return "", false
	}
	entry := func(p int) (Symbol, bool) {
		v, ok1 := rel(p)
		na, ok2 := rel(p + 4)
		if !ok1 || !ok2 || v < 1<<63 {
			return Symbol{}, false
		}
		name, ok := str(na, false)
		if !ok {
			return Symbol{}, false
		}
		// The namespace: none (0), or a string, maybe empty.
		if order.Uint32(img[p+8:]) != 0 {
			if ns, ok := rel(p + 8); !ok {
				return Symbol{}, false
			} else if _, ok := str(ns, true); !ok {
				return Symbol{}, false
			}
		}
		return Symbol{Name: name, Addr: v, Type: 'D'}, true
	}
	seen := map[string]bool{}
	var out []Symbol
	for p := 0; p+ksymtabEntry <= len(img); p += 4 {
		v, _ := rel(p)
		if v < lo || v > hi {
			continue
		}
		name, ok := byAddr[v]
		if !ok {
			continue
		}
		if e, ok := entry(p); !ok || e.Name != name {
			continue
		}
		// A run of entries: from its first, all of it.
		lo := p
		for lo >= ksymtabEntry {
			if _, ok := entry(lo - ksymtabEntry); !ok {
				break
			}
			lo -= ksymtabEntry
		}
		q := lo
		for ; q+ksymtabEntry <= len(img); q += ksymtabEntry {
			e, ok := entry(q)
			if !ok {
				break
			}
			if !seen[e.Name] {
				seen[e.Name] = true
				out = append(out, e)
			}
		}
		p = q - 4 // on past the run (the loop adds 4)
	}
	return out
}
