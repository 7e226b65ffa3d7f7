package symbols

import "testing"

// TestKallsymsAlias: among sized aliases at one address the name the
// kernel prints (fewest leading underscores, then by name); unsized
// labels and other types keep the last one, as before.
func TestKallsymsAlias(t *testing.T) {
	for _, c := range []struct {
		syms []Symbol
		want string
	}{
		{[]Symbol{{Name: "__s390x_sys_clock_nanosleep", Addr: 8, Size: 4, Type: 'T'}, {Name: "__se_sys_clock_nanosleep", Addr: 8, Size: 4, Type: 'T'}}, "__s390x_sys_clock_nanosleep"},
		{[]Symbol{{Name: "__memcpy", Addr: 8, Size: 4, Type: 'T'}, {Name: "memcpy", Addr: 8, Size: 4, Type: 'T'}}, "memcpy"},
		{[]Symbol{{Name: "__sched_text_start", Addr: 8, Type: 'T'}, {Name: "__switch_to", Addr: 8, Size: 4, Type: 'T'}}, "__switch_to"},
		{[]Symbol{{Name: "$x", Addr: 8, Type: 't'}, {Name: "invoke_syscall", Addr: 8, Size: 4, Type: 't'}}, "invoke_syscall"},
		{[]Symbol{{Name: "a_local", Addr: 8, Size: 4, Type: 't'}, {Name: "b_global", Addr: 8, Size: 4, Type: 'T'}}, "b_global"},
		{[]Symbol{{Name: "before", Addr: 4, Size: 4, Type: 'T'}, {Name: "only", Addr: 8, Size: 4, Type: 'T'}}, "only"},
	} {
		if got := c.syms[kallsymsAlias(c.syms, len(c.syms)-1)].Name; got != c.want {
			t.Errorf("%v: %s, want %s", c.syms, got, c.want)
		}
	}
}
