package commands

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// listMachine is a synthetic dump holding a singly-linked list A→B→C→D
// (next pointer at offset 16) whose D points back to C, and a LIST_HEAD
// of two entries whose list_head is at offset 8.
func listMachine(t *testing.T) (*Session, []uint64, uint64) {
	m := kerneltest.New()
	var o []uint64
	for range 4 {
		o = append(o, m.Object(64))
	}
	for i := range 3 {
		m.PutU64(o[i]+16, o[i+1])
	}
	m.PutU64(o[3]+16, o[2])
	head := m.Var(16)
	e1, e2 := m.Object(64), m.Object(64)
	m.PutU64(head, e1+8)
	m.PutU64(head+8, e2+8)
	m.PutU64(e1+8, e2+8)
	m.PutU64(e1+16, head)
	m.PutU64(e2+8, head)
	m.PutU64(e2+16, e1+8)
	return &Session{Kernel: m.Kernel(t), Registry: NewRegistry()}, append(o, e1, e2), head
}

// listText runs a list command line and gives its text and then its error
// line, as gocrash prints them.
func listText(s *Session, line string) string {
	var b bytes.Buffer
	if err := s.Registry.Run(context.Background(), s, strings.Fields(line), &b); err != nil {
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

// TestListUnit: crash's text for a looping list (the entries, then a blank
// line and "list: duplicate list entry: ADDR"), for -B on it ("loop
// detected, loop length: 2", "length from start to loop: 2"), and for a
// LIST_HEAD walked forwards and backwards (-H, -r), its entries by the
// list_head's offset.
func TestListUnit(t *testing.T) {
	s, o, head := listMachine(t)
	a, b, c, d, e1, e2 := o[0], o[1], o[2], o[3], o[4], o[5]
	want := fmt.Sprintf("%x\n%x\n%x\n%x\n%x\n\nlist: duplicate list entry: %x\n", a, b, c, d, c, c)
	if got := listText(s, fmt.Sprintf("list 16 %x", a)); got != want {
		t.Errorf("looping list:\n%s\nwant:\n%s", got, want)
	}
	// Brent's hare meets the tortoise at the second C.
	want = fmt.Sprintf("%x\n%x\n%x\n%x\n%x\nlist: loop detected, loop length: 2\nlist: length from start to loop: 2\nlist: duplicate list entry: %x\n", a, b, c, d, c, c)
	if got := listText(s, fmt.Sprintf("list -B -o 16 %x", a)); got != want {
		t.Errorf("list -B:\n%s\nwant:\n%s", got, want)
	}
	if got, want := listText(s, fmt.Sprintf("list -H %x 8", head)), fmt.Sprintf("%x\n%x\n", e1, e2); got != want {
		t.Errorf("list -H:\n%s\nwant:\n%s", got, want)
	}
	if got, want := listText(s, fmt.Sprintf("list -r -H %x -o 8", head)), fmt.Sprintf("%x\n%x\n", e2, e1); got != want {
		t.Errorf("list -r -H:\n%s\nwant:\n%s", got, want)
	}
	// -h: start is an entry; the head is then an entry too.
	if got, want := listText(s, fmt.Sprintf("list -h %x 8", e1)), fmt.Sprintf("%x\n%x\n%x\n", e1, e2, head-8); got != want {
		t.Errorf("list -h:\n%s\nwant:\n%s", got, want)
	}
	text, js := runUnit(t, s, fmt.Sprintf("list -H %x 8", head))
	if text != fmt.Sprintf("%x\n%x\n", e1, e2) || !strings.Contains(js, fmt.Sprintf(`"entries":[{"address":"%016x"},{"address":"%016x"}]`, e1, e2)) {
		t.Errorf("JSON %s for\n%s", js, text)
	}
	for line, msg := range map[string]string{
		"list":                              "list: starting address required",
		fmt.Sprintf("list -s x -S y %x", a): "list: -S and -s options are mutually exclusive",
		fmt.Sprintf("list -l 8 %x", a):      "list: -l option can only be used with -s or -S option",
		"list nosuchsymbol":                 "list: invalid argument: nosuchsymbol",
	} {
		if got := listText(s, line); got != msg+"\n" {
			t.Errorf("%s: %q, want %q", line, got, msg)
		}
	}
}
