package archs

import (
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/memory"
)

// TestNoMachineSaysWhatIsMissing: a dump whose header, notes and
// VMCOREINFO are gone is refused with what is missing, not `machine ""`.
func TestNoMachineSaysWhatIsMissing(t *testing.T) {
	d := memory.NewRAMDump("", "", 0, make([]byte, 4096))
	d.VMCoreInfo = nil
	_, err := New(arch.Config{Dump: d})
	if err == nil {
		t.Fatal("a dump with no machine opened")
	}
	msg := err.Error()
	for _, want := range []string{"does not say which machine", "no machine in its header", "no ELF notes", "no VMCOREINFO"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, `machine ""`) {
		t.Errorf("error %q", msg)
	}
}
