package symbols

import "testing"

// TestPreferredAlias: at an address several symbols share, the kernel's
// name is not a linker script's section marker.
func TestPreferredAlias(t *testing.T) {
	syms := []Symbol{
		{Name: "a", Addr: 0x10},
		{Name: "__do_softirq", Addr: 0x20},
		{Name: "__softirqentry_text_start", Addr: 0x20},
		{Name: "__start_foo", Addr: 0x30},
		{Name: "__end_bar", Addr: 0x30},
		{Name: "x", Addr: 0x40},
		{Name: "y", Addr: 0x40},
	}
	// i is the last symbol at its address, as Nearest's search finds it.
	for i, want := range map[int]string{0: "a", 2: "__do_softirq", 4: "__end_bar", 6: "y"} {
		if got := syms[preferredAlias(syms, i)].Name; got != want {
			t.Errorf("at %d: %s, want %s", i, got, want)
		}
	}
	for name, want := range map[string]bool{"__softirqentry_text_start": true, "__irqentry_text_end": true, "__start___ex_table": true,
		"__stop___param": true, "__end_rodata": true, "__do_softirq": false, "_stext": false, "__x_end2": false, "__start": false} {
		if linkerProvided(name) != want {
			t.Errorf("linkerProvided(%s) = %v", name, !want)
		}
	}
}
