package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

func listCommand() *Command {
	return &Command{
		Name:     "list",
		Synopsis: "list [[-o] offset][-e end][-[s|S] struct[.member[,member]] [-l offset] -[x|d]] [-r|-B] [-h [-O head_offset]|-H] start",
		Summary:  "linked list",
		Help: `Walks a linked list and prints the address of each entry. Without -h or
-H, start is the first structure, and the word at offset (a number, or
struct.member; default 0) in each points to the next; the list ends at a
NULL pointer, at a pointer back to start or to the first entry's successor,
at a pointer to the entry itself, or at the -e address.

With -H, start is a list_head (a standalone LIST_HEAD(), not printed) and
offset that of the list_head embedded in each entry; with -h, start is an
entry holding the embedded list_head at offset (or with -O, the head's
list_head is at head_offset of start and the entries' at offset). Such
lists end when they come back to the head; -r follows the prev pointers.

-s prints each entry as a struct (or its named members, each as "struct
NAME.member ADDR" prints it); -S does so reading members of up to 8 bytes
directly. With -l, the addresses are of the member at that offset inside
the -s structure (an embedded list_head). An entry met twice ends the walk
with crash's "duplicate list entry" error; -B finds loops with Brent's
algorithm instead and reports the loop's length and start.`,
		Options: []Option{
			{"-o offset", "the offset of the next pointer in each entry (a number or struct.member)"},
			{"-e end", "the address that ends the list"},
			{"-s struct", "print each entry as this struct, or struct.member[,member] those members (repeatable)"},
			{"-S struct", "like -s, reading members of up to 8 bytes directly from memory"},
			{"-l offset", "with -s/-S: the list addresses are of the member at offset in the struct (a number or struct.member)"},
			{"-O offset", "with -h: the offset of the head's list_head in start's structure"},
			{"-x", "print -s/-S integers in hexadecimal"},
			{"-d", "print -s/-S integers in decimal"},
			{"-r", "a list_head list: follow the prev pointers (reverse order)"},
			{"-B", "detect loops with Brent's algorithm (constant memory)"},
			{"-h", "start is a structure with an embedded list_head at offset"},
			{"-H", "start is a list_head (not printed); offset is the entries' list_head"},
			{"offset", "as -o"},
			{"start", "the starting address or symbol"},
		},
		Examples: []string{
			"gocrash> list task_struct.tasks -s task_struct.pid,comm -h init_task",
			"gocrash> list -H modules module.list -s module.name",
			"gocrash> list task_struct.tasks -H init_task.tasks -r",
			"gocrash> list file_system_type.next -s file_system_type.name file_systems",
		},
		Results: []Result{&ListResult{}},
		Run:     runList,
	}
}

// ListResult is a walked list: its entries in order.
type ListResult struct {
	// Empty is a -H/-h list whose head points to itself.
	Empty   bool        `json:"empty,omitempty"`
	Entries []ListEntry `json:"entries"`
	// Loop is -B's finding: the list loops.
	Loop *ListLoop `json:"loop,omitempty"`

	blankAfter bool // crash's error line after a broken list follows a blank line
}

// ListEntry is one entry: its address and, with -s/-S, what is there.
type ListEntry struct {
	Address Hex        `json:"address"`
	Data    *EntryData `json:"data,omitempty"`
}

// ListLoop is a loop -B found: after Shown entries the loop's Length was
// known; Distance is how many links from the start the loop begins (when
// the walk got that far).
type ListLoop struct {
	Shown    int     `json:"shown"`
	Length   uint64  `json:"length"`
	Distance *uint64 `json:"distance,omitempty"`
}

func (r *ListResult) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if r.Empty {
		tw.println("(empty)")
		return tw.err
	}
	for i, e := range r.Entries {
		if r.Loop != nil && i == r.Loop.Shown {
			tw.printf("list: loop detected, loop length: %d\n", r.Loop.Length)
		}
		tw.printf("%x\n", uint64(e.Address))
		if tw.err == nil && e.Data != nil {
			tw.err = e.Data.Text(w)
		}
	}
	if r.Loop != nil && r.Loop.Shown >= len(r.Entries) {
		tw.printf("list: loop detected, loop length: %d\n", r.Loop.Length)
	}
	if r.Loop != nil && r.Loop.Distance != nil {
		tw.printf("list: length from start to loop: %x\n", *r.Loop.Distance)
	} else if r.blankAfter {
		tw.println("")
	}
	return tw.err
}

// isKernelAddr: an address in the kernel's half of the address space.
func isKernelAddr(v uint64) bool { return v >= 1<<63 }

func runList(ctx context.Context, s *Session, a *Args) (Result, error) {
	if a.Has("s") && a.Has("S") {
		return nil, &UsageError{"-S and -s options are mutually exclusive"}
	}
	if a.Has("x") && a.Has("d") {
		return nil, &UsageError{"-d and -x are mutually exclusive"}
	}
	var offset, structOff, headOff int64
	offsetGiven, headOffGiven := false, false
	if v, ok := a.Value("o"); ok {
		n, ok := offsetArg(s, v)
		if !ok {
			return nil, fmt.Errorf("invalid -o argument: %s", v)
		}
		offset, offsetGiven = n, true
	}
	if v, ok := a.Value("l"); ok {
		n, ok := offsetArg(s, v)
		if !ok || !strings.Contains(v, ".") && n == 0 && v != "0" {
			return nil, fmt.Errorf("invalid -l option: %s", v)
		}
		structOff = n
	}
	if v, ok := a.Value("O"); ok {
		n, ok := offsetArg(s, v)
		if !ok {
			return nil, fmt.Errorf("invalid -O argument: %s", v)
		}
		headOff, headOffGiven = n, true
	}
	var end uint64
	if v, ok := a.Value("e"); ok {
		n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
		if err != nil {
			if n, err = parseAddress(s, v); err != nil {
				return nil, fmt.Errorf("invalid -e argument: %s", v)
			}
		}
		end = n
	}
	structArgs := append(a.Values("s"), a.Values("S")...)
	if len(structArgs) == 0 && structOff != 0 {
		return nil, &UsageError{"-l option can only be used with -s or -S option"}
	}
	if len(a.Words) > 2 {
		return nil, &UsageError{"too many arguments"}
	}
	var start uint64
	startGiven := false
	for i, w := range a.Words {
		if strings.Contains(w, ".") {
			if n, ok := offsetArg(s, w); ok {
				if offsetGiven {
					return nil, fmt.Errorf("offset value %d (0x%x) already entered", offset, offset)
				}
				offset, offsetGiven = n, true
				continue
			}
		}
		num := isNumber(w)
		if !num {
			v, err := parseAddress(s, w)
			if err != nil || !s.isKernelAddr(v) {
				return nil, fmt.Errorf("invalid argument: %s", w)
			}
			if startGiven {
				return nil, fmt.Errorf("list start already entered")
			}
			start, startGiven = v, true
			continue
		}
		last := i == len(a.Words)-1
		switch {
		case startGiven:
			n, err := strconv.ParseInt(w, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid argument: %s", w)
			}
			offset, offsetGiven = n, true
		case offsetGiven || last || hexKernelAddr(w):
			v, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
			if err != nil || !s.isKernelAddr(v) {
				return nil, fmt.Errorf("invalid kernel virtual address: %s", w)
			}
			start, startGiven = v, true
		default:
			n, err := strconv.ParseInt(w, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid argument: %s", w)
			}
			offset, offsetGiven = n, true
		}
	}
	if !startGiven {
		return nil, &UsageError{"starting address required"}
	}
	if offsetGiven && structOff != 0 {
		return nil, &UsageError{"-l and -o are mutually exclusive"}
	}
	disp, err := newEntryDisplay(s, structArgs, a.Last("x", "d") == "x", a.Has("S"))
	if err != nil {
		return nil, err
	}

	walk := kernel.ListWalk{Start: start, NextOffset: offset, End: end, Brent: a.Has("B")}
	res := &ListResult{Entries: []ListEntry{}}
	if a.Has("h") || a.Has("H") {
		walk.ListHead = true
		walk.EntryOffset = offset
		walk.NextOffset = 0
		if a.Has("r") {
			walk.NextOffset = 8
		}
		switch {
		case a.Has("H") || headOffGiven:
			at := start
			if !a.Has("H") {
				at = start + uint64(headOff)
			}
			if walk.End == 0 {
				walk.End = at
			}
			first, err := s.Kernel.ReadU64(at + uint64(walk.NextOffset))
			if err != nil {
				return nil, readError(at+uint64(walk.NextOffset), "LIST_HEAD contents", err)
			}
			if first == walk.End {
				res.Empty = true
				return res, nil
			}
			walk.Start = first
		default:
			walk.Start = start + uint64(offset)
		}
	}
	found, werr := kernel.WalkList(s.Kernel, walk)
	if found != nil && found.Loop != nil {
		res.Loop = &ListLoop{Shown: found.Loop.Shown, Length: found.Loop.Length}
		if found.Loop.Found {
			d := found.Loop.Distance
			res.Loop.Distance = &d
		}
	}
	dataOff := walk.EntryOffset + structOff
	if found != nil {
		for _, e := range found.Entries {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			le := ListEntry{Address: Hex(e)}
			if disp != nil {
				d, err := disp.gather(s, e+uint64(walk.EntryOffset)-uint64(dataOff))
				le.Data = d
				if err != nil {
					res.Entries = append(res.Entries, le)
					return res, err
				}
			}
			res.Entries = append(res.Entries, le)
		}
	}
	if werr != nil {
		var le *kernel.ListError
		if errors.As(werr, &le) && le.Err != nil {
			kind := "list entry"
			if len(found.Entries) == 0 {
				kind = "first list entry"
			}
			return res, readError(le.Addr+uint64(walk.NextOffset), kind, le.Err)
		}
		res.blankAfter = true
		return res, werr
	}
	return res, nil
}

// isNumber: a word that reads as a number (decimal or hexadecimal).
func isNumber(w string) bool {
	_, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
	return err == nil
}

// hexKernelAddr: a word that only reads as hexadecimal (has a-f or 0x)
// and is a kernel address: a start, not an offset.
func hexKernelAddr(w string) bool {
	if !strings.HasPrefix(w, "0x") && !strings.ContainsAny(w, "abcdefABCDEF") {
		return false
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(w, "0x"), 16, 64)
	return err == nil && isKernelAddr(v)
}
