package commands

import (
	"fmt"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/kernel"
)

// bt in the layouts of architectures whose crash lays bt out its own way
// (arch.BTLayout: ppc64, s390x): frame lines of their widths, register
// blocks with crash's own headers and spacing, printed as they are.

// btLayoutOf gives the architecture's layout, nil for bt's common one.
func btLayoutOf(k *kernel.Kernel) arch.BTLayout {
	bl, _ := k.Arch.(arch.BTLayout)
	return bl
}

// symbolNamer names kernel addresses (the Kernel does).
type symbolNamer interface {
	Symbolize(addr uint64) (name string, off uint64, ok bool)
	ModuleOf(addr uint64) string
}

// formatLayoutRows prints a layout's rows over the register (or state)
// vector regs: each field's label as it is (or "LABEL: " where the field
// is not Raw), its value in Digits hexadecimal digits (with "0x" for Alt,
// as C's %#0*lx prints it: none for zero), or the name of the address it
// holds; frameAddr is the value of RegFrameAddr fields. A row whose
// NameSymbol field names nothing is left out, as crash leaves such lines
// out.
func formatLayoutRows(k symbolNamer, rows []arch.RegRow, regs []uint64, frameAddr uint64) []string {
	out := make([]string, 0, len(rows))
rows:
	for _, row := range rows {
		fields := make([]string, 0, len(row.Fields))
		for _, f := range row.Fields {
			var v uint64
			switch {
			case f.Index == arch.RegNone:
				fields = append(fields, f.Label+f.Suffix)
				continue
			case f.Index == arch.RegFrameAddr:
				v = frameAddr
			case f.Index < 0 || f.Index >= len(regs):
				continue
			default:
				v = regs[f.Index]
			}
			label := f.Label
			if !f.Raw {
				label += ": "
			}
			var val string
			switch f.Name {
			case arch.NameSymbol:
				name, off, ok := k.Symbolize(v)
				if !ok {
					continue rows
				}
				val = name
				if off != 0 {
					val = fmt.Sprintf("%s+%d", name, off)
				}
			case arch.NameClosest, arch.NameBare:
				name, off, ok := k.Symbolize(v)
				if !ok {
					name = "(null)"
				}
				val = name
				if f.Name == arch.NameClosest {
					val = fmt.Sprintf("%s+%d", name, off)
					if m := k.ModuleOf(v); m != "" {
						val += " [" + m + "]"
					}
				}
			default:
				val = hexField(v, f.Digits, f.Alt)
			}
			fields = append(fields, label+val+f.Suffix)
		}
		out = append(out, strings.Join(fields, row.Sep))
	}
	return out
}

// hexField prints v in digits hexadecimal digits, zero-padded; alt adds
// "0x" as C's '#' flag does: not for zero, whose field is then all zeros.
func hexField(v uint64, digits int, alt bool) string {
	switch {
	case !alt:
		return fmt.Sprintf("%0*x", digits, v)
	case v == 0:
		return fmt.Sprintf("%0*x", digits+2, v)
	}
	return fmt.Sprintf("0x%0*x", digits, v)
}

// btLayoutTrace lays out a trace for the architecture's layout: the
// block of the CPU's registers above an active task's frames, each
// exception frame's block, and which frames the text leaves out.
func btLayoutTrace(k *kernel.Kernel, bl arch.BTLayout, t kernel.Task, tr *kernel.Trace, bt *BTTrace) {
	f := bl.BTFormat()
	bt.view.layout = &f
	ua, _ := k.Arch.(arch.Unwinding)
	if tr.Regs != nil {
		panicTask := false
		if p, err := k.PanicTask(); err == nil && p == t.Addr {
			panicTask = true
		}
		if rows, vec := bl.CPURows(t.CPU, tr.Regs, panicTask); len(rows) > 0 {
			bt.view.cpuBlock = formatLayoutRows(k, rows, vec, 0)
		}
	}
	if ua == nil {
		return
	}
	pc := ua.RegIndex().PC
	for i := range bt.Frames {
		bf := &bt.Frames[i]
		if e := bf.Exception; e != nil {
			e.block = formatLayoutRows(k, bl.TraceEFrameRows(e.regs, e.User), e.regs, uint64(e.Addr))
		}
		if !f.HideInterrupted || !t.Active {
			continue
		}
		// The function the CPU was in (shown in its block), or the one an
		// exception interrupted (shown in the exception's).
		switch {
		case i == 0 && tr.Regs != nil && len(tr.Regs) > pc && uint64(bf.PC) == tr.Regs[pc]:
			bf.Hidden = true
		case i > 0 && bt.Frames[i-1].Exception != nil && !bt.Frames[i-1].Exception.User &&
			uint64(bf.PC) == bt.Frames[i-1].Exception.regs[pc]:
			bf.Hidden = true
		}
	}
}

// writeLayoutFrames prints a trace's frames in the architecture's layout.
func writeLayoutFrames(tw *textWriter, t *BTTrace) {
	f := t.view.layout
	for _, ln := range t.view.cpuBlock {
		tw.println(ln)
	}
	if len(t.view.cpuBlock) == 0 && t.UserRegisters != nil && t.view.regs != nil {
		for _, ln := range t.view.regs(t.UserRegisters.regs) {
			tw.printf("    %s\n", ln)
		}
	}
	n := 0
	for i, fr := range t.Frames {
		if i > 0 {
			prev := t.Frames[i-1]
			if prev.stackRaw != fr.stackRaw && f.Renumber {
				n = 0
			}
			if prev.Exception != nil && f.Renumber {
				n = 0
			}
		}
		if fr.Hidden {
			continue
		}
		tw.printf("%3s [%0*x] %s at %0*x%s\n", fmt.Sprintf("#%d", n), f.SPDigits, uint64(fr.SP), fr.name, f.PCDigits, uint64(fr.PC), moduleText(fr.Module))
		n++
		if fr.Source != nil {
			tw.printf("    %s: %d\n", fr.Source.File, fr.Source.Line)
		}
		writeFrameWords(tw, fr.Words)
		if e := fr.Exception; e != nil {
			for _, ln := range e.block {
				tw.println(ln)
			}
			if fr.ExceptionSource != nil {
				tw.printf("    %s: %d\n", fr.ExceptionSource.File, fr.ExceptionSource.Line)
			}
		}
	}
}

// layoutEFrame lays out a frame bt -e found, its header included.
func layoutEFrame(k *kernel.Kernel, bl arch.BTLayout, f kernel.EFrame) []string {
	at := uint64(int64(f.Addr) + bl.BTFormat().EFrameAddrOffset)
	return formatLayoutRows(k, bl.SearchEFrameRows(f.Regs, f.User), f.Regs, at)
}
