package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func btopCommand() *Command {
	return &Command{
		Name:     "btop",
		Synopsis: "btop address ...",
		Summary:  "bytes to page",
		Help:     `Translates each hexadecimal address to its page frame number (the address divided by the page size).`,
		Options:  []Option{{"address", "a hexadecimal address"}},
		Examples: []string{"gocrash> btop 512a000\n512a000: 512a"},
		Results:  []Result{&PageConversions{}},
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			return pageConversions(s, a, true)
		},
	}
}

func ptobCommand() *Command {
	return &Command{
		Name:     "ptob",
		Synopsis: "ptob page_number ...",
		Summary:  "page to bytes",
		Help: `Translates each page frame number to the address of its first byte (the number
times the page size). A number is read as crash reads it: hexadecimal when it
has hex letters or a 0x prefix, else decimal.`,
		Options:  []Option{{"page_number", "a page frame number"}},
		Examples: []string{"gocrash> ptob 512a\n512a: 512a000"},
		Results:  []Result{&PageConversions{}},
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			return pageConversions(s, a, false)
		},
	}
}

// PageConversions is btop's or ptob's answer: each value and what it
// translates to.
type PageConversions struct {
	Values []PageConversion `json:"values"`
}

// PageConversion is one value: an address and its page frame number
// (btop), or a page frame number and its address (ptob).
type PageConversion struct {
	From Hex `json:"from"`
	To   Hex `json:"to"`
}

func (r *PageConversions) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, v := range r.Values {
		tw.printf("%x: %x\n", uint64(v.From), uint64(v.To))
	}
	return tw.err
}

// parseCrashNumber reads a number as crash's stoll does: hexadecimal with
// a 0x prefix or hex letters, else decimal.
func parseCrashNumber(w string) (uint64, error) {
	if h, ok := strings.CutPrefix(strings.ToLower(w), "0x"); ok {
		return strconv.ParseUint(h, 16, 64)
	}
	if v, err := strconv.ParseUint(w, 10, 64); err == nil {
		return v, nil
	}
	return strconv.ParseUint(w, 16, 64)
}

func pageConversions(s *Session, a *Args, toPage bool) (Result, error) {
	if len(a.Words) == 0 {
		return nil, &UsageError{"an argument is required"}
	}
	ps := s.Kernel.Arch.PageSize()
	shift := uint(0)
	for 1<<shift < ps {
		shift++
	}
	r := &PageConversions{Values: []PageConversion{}}
	for _, w := range a.Words {
		var v uint64
		var err error
		if toPage {
			v, err = strconv.ParseUint(strings.TrimPrefix(strings.ToLower(w), "0x"), 16, 64)
		} else {
			v, err = parseCrashNumber(w)
		}
		if err != nil {
			return r, fmt.Errorf("invalid number: %s", w)
		}
		to := v >> shift
		if !toPage {
			to = v << shift
		}
		r.Values = append(r.Values, PageConversion{From: Hex(v), To: Hex(to)})
	}
	return r, nil
}
