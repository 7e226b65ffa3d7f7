package symbols

import (
	"cmp"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// TestAddrOrder: the radix order equals sorting by address, then name, on
// addresses shaped like a kernel's (text high, per-CPU offsets low, runs of
// aliases at one address) and on the edge cases (none, one, all equal).
func TestAddrOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var syms []Symbol
	for i := 0; i < 5000; i++ {
		var a uint64
		switch rng.Intn(4) {
		case 0:
			a = uint64(rng.Intn(0x40000)) // a per-CPU offset
		case 1:
			a = 0xffffffff81000000 + uint64(rng.Intn(64))*16 // aliases
		default:
			a = 0xffffffff81000000 + uint64(rng.Int63n(1<<26))
		}
		syms = append(syms, Symbol{Name: fmt.Sprintf("s%d", rng.Intn(3000)), Addr: a})
	}
	want := func(syms []Symbol) []Symbol {
		w := slices.Clone(syms)
		slices.SortFunc(w, func(a, b Symbol) int {
			if a.Addr != b.Addr {
				return cmp.Compare(a.Addr, b.Addr)
			}
			return strings.Compare(a.Name, b.Name)
		})
		return w
	}
	for _, c := range [][]Symbol{syms, nil, syms[:1], {{Name: "b", Addr: 5}, {Name: "a", Addr: 5}, {Name: "c", Addr: 5}}} {
		perm := addrOrder(c)
		if len(perm) != len(c) {
			t.Fatalf("%d positions for %d symbols", len(perm), len(c))
		}
		w := want(c)
		for k, i := range perm {
			if c[i].Addr != w[k].Addr || c[i].Name != w[k].Name {
				t.Fatalf("position %d: %s@%x, want %s@%x", k, c[i].Name, c[i].Addr, w[k].Name, w[k].Addr)
			}
		}
	}
}
