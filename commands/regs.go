package commands

import (
	"fmt"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/kernel"
)

// registerBlock formats a saved register set as crash prints it below an
// exception frame, one string per line without indentation, in the layout
// the architecture describes.
func registerBlock(ua arch.Unwinding, regs []uint64) []string {
	return formatRegRows(ua.RegisterRows(len(regs)), regs, nil)
}

// formatRegRows prints rows of registers: "LABEL: value" fields, joined
// by each row's separator; name names a Symbol field's address.
func formatRegRows(rows []arch.RegRow, regs []uint64, name func(uint64) string) []string {
	out := make([]string, 0, len(rows))
	for _, row := range rows {
		fields := make([]string, 0, len(row.Fields))
		for _, f := range row.Fields {
			if f.Index < 0 || f.Index >= len(regs) {
				continue
			}
			v := regs[f.Index]
			s := fmt.Sprintf("%s: %0*x", f.Label, f.Digits, v)
			if f.Symbol && name != nil {
				s += "  [" + name(v) + "]"
			}
			fields = append(fields, s)
		}
		out = append(out, strings.Join(fields, row.Sep))
	}
	return out
}

// eframeBlock is the block bt -e prints for a frame on an architecture
// with a layout of its own (arch.EFrameRows): a kernel frame names its PC
// and LR. An LR that is kernel text once its pointer-authentication bits
// are set is shown with them set.
func eframeBlock(k *kernel.Kernel, eb arch.EFrameRows, f kernel.EFrame, hex bool) []string {
	r := append([]uint64(nil), f.Regs...)
	lr := -1
	if ua, ok := k.Arch.(arch.Unwinding); ok {
		lr = ua.RegIndex().LR
	}
	if pa, ok := k.Arch.(arch.PointerAuth); ok && lr >= 0 && lr < len(r) && k.IsText(r[lr]|pa.PACMask()) {
		r[lr] |= pa.PACMask()
	}
	name := func(a uint64) string {
		if _, _, ok := k.Symbolize(a); ok && k.IsText(a) {
			return symOffset(k, a, hex)
		}
		return "unknown or invalid address"
	}
	return formatRegRows(eb.EFrameRows(r, f.User), r, name)
}
