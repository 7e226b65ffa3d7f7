package commands

import "testing"

// TestSignatureNames: the signature hashes a function's name without the
// compiler's suffixes (.cold, .part.N, .isra.N, .constprop.N, in any
// sequence) and an entry stub's _asm, and a frame naming the same
// function as the one inside it only once; the names shown are the
// trace's own.
func TestSignatureNames(t *testing.T) {
	for name, want := range map[string]string{
		"watchdog.cold": "watchdog", "watchdog": "watchdog", "do_one.part.0": "do_one", "f.isra.12": "f",
		"g.constprop.0.isra.0": "g", "h.part.3.cold": "h", "ret_from_fork_asm": "ret_from_fork",
		"foo.bar": "foo.bar", "x.cold.y": "x.cold.y", "__x64_sys_pause": "__x64_sys_pause",
	} {
		if got := signatureName(name); got != want {
			t.Errorf("signatureName(%q) = %q, want %q", name, got, want)
		}
	}
	a := CrashSignature("hungtask", "watchdog.cold", []string{"kthread", "ret_from_fork"})
	b := CrashSignature("hungtask", "watchdog", []string{"kthread", "ret_from_fork", "ret_from_fork_asm"})
	c := CrashSignature("hungtask", "watchdog", []string{"watchdog.cold", "kthread", "ret_from_fork"})
	if a.Hash != b.Hash || a.Hash != c.Hash {
		t.Errorf("one crash in three builds signs %s, %s and %s", a.Hash, b.Hash, c.Hash)
	}
	if a.Function != "watchdog.cold" || len(b.Frames) != 3 || b.Frames[2] != "ret_from_fork_asm" {
		t.Errorf("the names shown are not the trace's: %+v %+v", a, b)
	}
	if d := CrashSignature("hungtask", "watchdog", []string{"kthread", "kthread_worker_fn"}); d.Hash == a.Hash {
		t.Errorf("a different trace signs the same: %+v", d)
	}
}
