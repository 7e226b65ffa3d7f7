// Package archs owns the list of architectures gocrash supports: it picks
// the arch.Arch implementation for a dump by the machine it records, and
// maps ELF and dump machine names to arch.Machine. Adding an architecture
// is one line in ports.
package archs

import (
	"debug/elf"
	"fmt"
	"slices"
	"strings"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/arm64"
	"github.com/gocrash/gocrash/arch/ppc64le"
	"github.com/gocrash/gocrash/arch/s390x"
	"github.com/gocrash/gocrash/arch/x86_64"
	"github.com/gocrash/gocrash/memory"
)

// ports lists the supported architectures, one line each.
func ports() []arch.Port {
	return []arch.Port{
		x86_64.Port(),
		arm64.Port(),
		ppc64le.Port(),
		s390x.Port(),
	}
}

// OfELF gives the architecture of an ELF e_machine ("" when unsupported).
func OfELF(m elf.Machine) arch.Machine {
	for _, p := range ports() {
		if p.ELF == m {
			return p.Machine
		}
	}
	return ""
}

// OfDump gives the architecture of a machine name a dump records
// ("x86_64", "aarch64", "arm64"; "" when unsupported).
func OfDump(name string) arch.Machine {
	if p, ok := portOf(name); ok {
		return p.Machine
	}
	return ""
}

func portOf(name string) (arch.Port, bool) {
	for _, p := range ports() {
		if slices.Contains(p.DumpNames, name) {
			return p, true
		}
	}
	return arch.Port{}, false
}

// New returns the architecture for cfg.Dump.
func New(cfg arch.Config) (arch.Arch, error) {
	if p, ok := portOf(cfg.Dump.Machine); ok {
		return p.New(cfg)
	}
	if d := cfg.Dump; d.Machine == "" || d.Machine == "Unknown" {
		// Nothing named it: say what is gone rather than 'machine ""'.
		return nil, fmt.Errorf("%s: the dump does not say which machine it is from: %s", d.Path, machineClues(d))
	}
	return nil, fmt.Errorf("%s: machine %q is not supported", cfg.Dump.Path, cfg.Dump.Machine)
}

// machineClues lists what a dump lacks that would have named its machine:
// the header's machine field (a kdump file's utsname, in the header and
// sub-header), CPU register notes (whose size tells), VMCOREINFO (whose
// symbols do).
func machineClues(d *memory.Dump) string {
	clues := []string{"no machine in its header"}
	prstatus := 0
	for _, n := range d.Notes {
		if n.Name == "CORE" && n.Type == memory.NTPRStatus {
			prstatus++
		}
	}
	switch {
	case len(d.Notes) == 0:
		clues = append(clues, "no ELF notes (the kdump sub-header's notes are gone)")
	case prstatus == 0:
		clues = append(clues, "no NT_PRSTATUS note")
	default:
		clues = append(clues, "NT_PRSTATUS notes of an unknown size")
	}
	if d.VMCoreInfo == nil {
		clues = append(clues, "no VMCOREINFO")
	} else {
		clues = append(clues, "a VMCOREINFO with neither kimage_voffset nor init_top_pgt")
	}
	return strings.Join(clues, ", ")
}

// ELFOfDump gives the ELF e_machine of a machine name a dump records (0
// when unsupported).
func ELFOfDump(name string) elf.Machine {
	if p, ok := portOf(name); ok {
		return p.ELF
	}
	return 0
}
