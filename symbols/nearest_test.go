package symbols

import "testing"

// TestNearestSkipsAbsolute: an address is never named by an absolute
// symbol (kallsyms has none), and one in the kernel's range (arm64's
// _GLOBAL_OFFSET_TABLE_, which KASLR does not displace) does not break
// the search of the displaced table: the address after it is named by the
// function it is in, at link time and at run time alike.
func TestNearestSkipsAbsolute(t *testing.T) {
	const off = 0x5ca3d9e00000
	syms := []Symbol{
		{Name: "__crc_foo", Addr: 0x1234, Type: 'A'},
		{Name: "head", Addr: 0xffff800008bd0000, Size: 0x100, Type: 'T'},
		{Name: "__secondary_switched", Addr: 0xffff800008bd22fc, Size: 0x100, Type: 't'},
		{Name: "__cpu_setup", Addr: 0xffff800008bd2828, Size: 0x100, Type: 'T'},
		{Name: "_GLOBAL_OFFSET_TABLE_", Addr: 0xffff800008bd2930, Type: 'a'},
		{Name: "__idmap_text_end", Addr: 0xffff800008bd2930, Type: 'T'},
		{Name: "later", Addr: 0xffff800008be0000, Size: 0x10, Type: 'D'},
	}
	// Every position the binary search can probe: pad the table so that
	// the absolute symbol sits where the search looks first.
	for n := 0; n < 8; n++ {
		v := &Vmlinux{syms: syms}
		r := NewRelocated(v, off)
		for _, c := range []struct {
			link uint64
			want string
		}{
			{0xffff800008bd23ac, "__secondary_switched"},
			{0xffff800008bd2930, "__idmap_text_end"},
			{0xffff800008bd2940, "__idmap_text_end"},
			{0xffff800008be0004, "later"},
		} {
			if s, _, ok := v.Nearest(c.link); !ok || s.Name != c.want {
				t.Errorf("pad %d: link-time %x: %q (%v), want %q", n, c.link, s.Name, ok, c.want)
			}
			if s, o, ok := r.Nearest(c.link + off); !ok || s.Name != c.want || s.Addr+o != c.link+off {
				t.Errorf("pad %d: run-time %x: %q+%x (%v), want %q", n, c.link+off, s.Name, o, ok, c.want)
			}
		}
		if s, _, ok := v.Nearest(0x2000); ok {
			t.Errorf("0x2000 named %q: only an absolute symbol precedes it", s.Name)
		}
		syms = append([]Symbol{{Name: "pad", Addr: uint64(n), Type: 'A'}}, syms...)
	}
}

// TestNearestAliasesAroundAbsolute: an absolute symbol at the address of
// a function's aliases does not split them: the run-time answer is the
// link-time one.
func TestNearestAliasesAroundAbsolute(t *testing.T) {
	const off = 0x5ca3d9e00000
	v := &Vmlinux{syms: []Symbol{
		{Name: "Afunc", Addr: 0xffff800008bd2930, Size: 0x10, Type: 'T'},
		{Name: "_GLOBAL_OFFSET_TABLE_", Addr: 0xffff800008bd2930, Type: 'a'},
		{Name: "zfunc", Addr: 0xffff800008bd2930, Size: 0x10, Type: 'T'},
	}}
	ls, _, ok1 := v.Nearest(0xffff800008bd2934)
	rs, _, ok2 := NewRelocated(v, off).Nearest(0xffff800008bd2934 + off)
	if !ok1 || !ok2 || ls.Name != "Afunc" || rs.Name != ls.Name {
		t.Errorf("link time %q (%v), run time %q (%v), want Afunc both", ls.Name, ok1, rs.Name, ok2)
	}
}
