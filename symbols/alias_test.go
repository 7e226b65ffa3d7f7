package symbols

import "testing"

// TestKallsymsAlias: among sized aliases at one address the name the
// kernel prints (weak ones last, then the fewest leading underscores,
// then by name); unsized labels keep the last one, as before.
func TestKallsymsAlias(t *testing.T) {
	for _, c := range []struct {
		syms []Symbol
		want string
	}{
		{[]Symbol{{Name: "__s390x_sys_clock_nanosleep", Addr: 8, Size: 4, Type: 'T'}, {Name: "__se_sys_clock_nanosleep", Addr: 8, Size: 4, Type: 'T'}}, "__s390x_sys_clock_nanosleep"},
		{[]Symbol{{Name: "__memcpy", Addr: 8, Size: 4, Type: 'T'}, {Name: "memcpy", Addr: 8, Size: 4, Type: 'T'}}, "memcpy"},
		{[]Symbol{{Name: "__sched_text_start", Addr: 8, Type: 'T'}, {Name: "__switch_to", Addr: 8, Size: 4, Type: 'T'}}, "__switch_to"},
		{[]Symbol{{Name: "$x", Addr: 8, Type: 't'}, {Name: "invoke_syscall", Addr: 8, Size: 4, Type: 't'}}, "invoke_syscall"},
		// Local or global alike, as the kernel's table sorts them (see
		// kernel's TestCorpusAliasAsKallsyms): this case wanted b_global
		// before the rule was checked against the dumps' own kallsyms.
		{[]Symbol{{Name: "a_local", Addr: 8, Size: 4, Type: 't'}, {Name: "b_global", Addr: 8, Size: 4, Type: 'T'}}, "a_local"},
		{[]Symbol{{Name: "__do_sys_pause", Addr: 8, Size: 4, Type: 't'}, {Name: "__ia32_sys_pause", Addr: 8, Size: 4, Type: 'T'}, {Name: "__x64_sys_pause", Addr: 8, Size: 4, Type: 'T'}}, "__do_sys_pause"},
		{[]Symbol{{Name: "__memcpy", Addr: 8, Size: 4, Type: 'T'}, {Name: "memcpy", Addr: 8, Size: 4, Type: 'W'}}, "__memcpy"},
		{[]Symbol{{Name: "before", Addr: 4, Size: 4, Type: 'T'}, {Name: "only", Addr: 8, Size: 4, Type: 'T'}}, "only"},
	} {
		if got := c.syms[kallsymsAlias(c.syms, len(c.syms)-1)].Name; got != c.want {
			t.Errorf("%v: %s, want %s", c.syms, got, c.want)
		}
	}
}
