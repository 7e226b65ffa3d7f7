package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/arch"
)

func pteCommand() *Command {
	return &Command{
		Name:     "pte",
		Synopsis: "pte contents ...",
		Summary:  "translate a page table entry",
		Help: `Translates the hexadecimal contents of a page-table entry into the physical
address of the page it maps and the names of its flag bits, as the
architecture names them (x86_64: PRESENT, RW, USER, PWT, PCD, ACCESSED, DIRTY,
PSE, GLOBAL, NX; arm64: VALID, TABLE, USER, RDONLY, AF, NG, DBM, CONT, PXN,
UXN; ppc64 radix, with crash's names: PTE, PRESENT, USER, RW, GUARDED,
NO_CACHE, WRITETHRU, DIRTY, ACCESSED; s390x, in crash's fixed columns:
INVALID, PROTECTION, and "PTE is invalid" for an entry with reserved bits).
An entry that is not present is a swap entry; with no swap device in use its
location cannot be determined, which is reported as crash reports it.`,
		Options:  []Option{{"contents", "the hexadecimal value of a page-table entry"}},
		Examples: []string{"gocrash> pte d8e067\n PTE    PHYSICAL  FLAGS\nd8e067   d8e000   (PRESENT|RW|USER|ACCESSED|DIRTY)"},
		Results:  []Result{PTEResults{}},
		Run:      runPTE,
	}
}

// PTEResults is pte's answer for each entry.
type PTEResults []*PTEResult

func (rs PTEResults) Text(w io.Writer) error {
	for _, r := range rs {
		if err := r.Text(w); err != nil {
			return err
		}
	}
	return nil
}

// PTEResult is one page-table entry: present, the page's physical
// address and its flags; else a swap entry.
type PTEResult struct {
	PTE      Hex      `json:"pte"`
	Present  bool     `json:"present"`
	Physical Hex      `json:"physical"`
	Flags    []string `json:"flags"`
	// Invalid: the value is no page-table entry (s390x's reserved bits).
	Invalid bool `json:"invalid,omitempty"`

	fixed bool // crash's fixed columns (arch.PTEInfo.Fixed)
	quiet bool // a swap entry prints nothing before the error (ppc64, s390x)
}

func (r *PTEResult) Text(w io.Writer) error {
	if r.fixed {
		return r.fixedText(w)
	}
	p := strconv.FormatUint(uint64(r.PTE), 16)
	l1 := max(len(p), len("PTE"))
	if !r.Present && r.quiet {
		return nil
	}
	if !r.Present {
		// crash prints the start of its header, then fails to find the
		// swap device.
		_, err := fmt.Fprintf(w, "%s  ", center(l1, "PTE", false))
		return err
	}
	ph := strconv.FormatUint(uint64(r.Physical), 16)
	l2 := max(len(ph), len("PHYSICAL"))
	flags := "no mapping"
	if r.PTE != 0 {
		flags = strings.Join(r.Flags, "|")
	}
	_, err := fmt.Fprintf(w, "%s  %s  FLAGS\n%s  %s  (%s)\n", center(l1, "PTE", false), center(l2, "PHYSICAL", false),
		center(l1, p, true), center(l2, ph, true), flags)
	return err
}

// fixedText is s390x_translate_pte's layout: fixed columns, each flag
// but PROTECTION followed by a space. A swap entry prints nothing before
// the error.
func (r *PTEResult) fixedText(w io.Writer) error {
	if r.Invalid {
		_, err := fmt.Fprintln(w, "PTE is invalid")
		return err
	}
	if !r.Present {
		return nil
	}
	var flags strings.Builder
	for _, f := range r.Flags {
		flags.WriteString(f)
		if f != "PROTECTION" {
			flags.WriteString(" ")
		}
	}
	_, err := fmt.Fprintf(w, "PTE      PHYSICAL  FLAGS\n%08x %08x  (%s)\n", uint64(r.PTE), uint64(r.Physical), flags.String())
	return err
}

// ptePhysMask keeps a page-table entry's physical page address: bits 12
// to 47, what both x86_64 and arm64 (without 52-bit physical addresses)
// keep there.
const ptePhysMask = 0x0000fffffffff000

func runPTE(ctx context.Context, s *Session, a *Args) (Result, error) {
	if len(a.Words) == 0 {
		return nil, &UsageError{"a page-table entry is required"}
	}
	var out PTEResults
	for _, w := range a.Words {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(w), "0x"), 16, 64)
		if err != nil {
			return out, fmt.Errorf("invalid pte value: %s", w)
		}
		var r *PTEResult
		if d, ok := s.Kernel.Arch.(arch.PTEDecoder); ok {
			info := d.DecodePTE(v)
			r = &PTEResult{PTE: Hex(v), Physical: Hex(info.Phys), Flags: append([]string{}, info.Flags...),
				Present: info.Present, Invalid: info.Invalid, fixed: info.Fixed, quiet: true}
		} else {
			flags := s.Kernel.Arch.EntryFlags(v, false)
			r = &PTEResult{PTE: Hex(v), Physical: Hex(v & ptePhysMask), Flags: append([]string{}, flags...)}
			r.Present = v == 0 || len(flags) > 0 && (flags[0] == "PRESENT" || flags[0] == "VALID")
		}
		out = append(out, r)
		if r.Invalid {
			continue
		}
		if !r.Present {
			devs, _ := s.Kernel.SwapDevices()
			if len(devs) == 0 {
				return out, fmt.Errorf("cannot determine swap location")
			}
			return out, fmt.Errorf("cannot determine swap location: swap entries are not decoded")
		}
	}
	return out, nil
}
