package commands

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/internal/archtest"
)

// TestRegisterBlocks: the register blocks as crash prints them, as they
// were formatted before they were described as data.
func TestRegisterBlocks(t *testing.T) {
	r := make([]uint64, 36)
	for i := range r {
		r[i] = 0x1111*uint64(i+1) | uint64(i)<<60
	}
	x86 := []string{
		"RIP: 0000000000012221  RSP: 3000000000015554  RFLAGS: 2000000000014443",
		"RAX: a00000000000bbbb  RBX: 5000000000006666  RCX: b00000000000cccc",
		"RDX: c00000000000dddd  RSI: d00000000000eeee  RDI: e00000000000ffff",
		"RBP: 4000000000005555   R8: 900000000000aaaa   R9: 8000000000009999",
		"R10: 7000000000008888  R11: 6000000000007777  R12: 3000000000004444",
		"R13: 2000000000003333  R14: 1000000000002222  R15: 0000000000001111",
		"ORIG_RAX: f000000000011110  CS: 1000000000013332  SS: 4000000000016665",
	}
	xrows := []string{
		"X29: d00000000001fffe  X28: c00000000001eeed  X27: b00000000001dddc",
		"X26: a00000000001cccb  X25: 900000000001bbba  X24: 800000000001aaa9",
		"X23: 7000000000019998  X22: 6000000000018887  X21: 5000000000017776",
		"X20: 4000000000016665  X19: 3000000000015554  X18: 2000000000014443",
		"X17: 1000000000013332  X16: 0000000000012221  X15: f000000000011110",
		"X14: e00000000000ffff  X13: d00000000000eeee  X12: c00000000000dddd",
		"X11: b00000000000cccc  X10: a00000000000bbbb   X9: 900000000000aaaa",
		" X8: 8000000000009999   X7: 7000000000008888   X6: 6000000000007777",
		" X5: 5000000000006666   X4: 4000000000005555   X3: 3000000000004444",
		" X2: 2000000000003333   X1: 1000000000002222   X0: 0000000000001111",
	}
	pcLine := " PC: 0000000000023331   LR: e00000000002110f   SP: f000000000022220"
	a64Full := append(append([]string{pcLine}, xrows...), "ORIG_X0: 2000000000025553  SYSCALLNO: 3000000000026664  PSTATE: 1000000000024442")
	a64Note := append(append([]string{pcLine}, xrows...), "PSTATE: 1000000000024442")

	xa, aa := archtest.New("x86_64").(arch.Unwinding), archtest.New("aarch64").(arch.Unwinding)
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"x86_64", registerBlock(xa, r[:27]), x86},
		{"x86_64 short", registerBlock(xa, r[:20]), nil},
		{"arm64 pt_regs", registerBlock(aa, r[:36]), a64Full},
		{"arm64 NT_PRSTATUS", registerBlock(aa, r[:34]), a64Note},
		{"arm64 user frame", formatRegRows(aa.(arch.EFrameRows).EFrameRows(r, true), r, nil), a64Full},
	} {
		if strings.Join(c.got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, strings.Join(c.got, "\n"), strings.Join(c.want, "\n"))
		}
	}

	// arm64's bt -e blocks: a kernel frame names PC and LR; a compat user
	// frame shows the AArch32 registers.
	small := make([]uint64, 36)
	for i := range small {
		small[i] = uint64(i)
	}
	small[33] = 0x10
	eb := aa.(arch.EFrameRows)
	name := func(a uint64) string { return fmt.Sprintf("fn%x", a) }
	compat := []string{
		" PC: 00000020  LR: 0000000e  SP: 0000000d  PSTATE: 00000010",
		"X12: 0000000c X11: 0000000b X10: 0000000a  X9: 00000009",
		" X8: 00000008  X7: 00000007  X6: 00000006  X5: 00000005",
		" X4: 00000004  X3: 00000003  X2: 00000002  X1: 00000001",
		" X0: 00000000",
	}
	if got := formatRegRows(eb.EFrameRows(small, true), small, name); strings.Join(got, "\n") != strings.Join(compat, "\n") {
		t.Errorf("compat:\n%s", strings.Join(got, "\n"))
	}
	small[33] = 0x5
	kern := append([]string{
		" PC: 0000000000000020  [fn20]",
		" LR: 000000000000001e  [fn1e]",
		" SP: 000000000000001f  PSTATE: 00000005",
	}, formatRegRows(aa.RegisterRows(36), small, nil)[1:11]...)
	if got := formatRegRows(eb.EFrameRows(small, false), small, name); strings.Join(got, "\n") != strings.Join(kern, "\n") {
		t.Errorf("kernel:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(kern, "\n"))
	}
}
