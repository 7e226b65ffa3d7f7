package commands

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// TestTreeUnit: tree on a synthetic red-black tree of three entries whose
// rb_node is at offset 8 (root, its left and its right child): crash's
// order with -p positions, -l's order, -N from the root node, the JSON
// entries, and the usage errors crash gives.
func TestTreeUnit(t *testing.T) {
	m := kerneltest.New()
	m.Offset("rb_root", "rb_node", 0)
	m.Offset("rb_node", "rb_right", 8)
	m.Offset("rb_node", "rb_left", 16)
	root := m.Var(8)
	a, b, c := m.Object(64), m.Object(64), m.Object(64) // b is the root
	m.PutU64(root, b+8)
	m.PutU64(b+8+16, a+8)
	m.PutU64(b+8+8, c+8)
	s := &Session{Kernel: m.Kernel(t), Registry: NewRegistry()}
	want := fmt.Sprintf("%x\n  position: root\n%x\n  position: root/l\n%x\n  position: root/r\n", b, a, c)
	if got := listText(s, fmt.Sprintf("tree -o 8 -p %x", root)); got != want {
		t.Errorf("tree -p:\n%s\nwant:\n%s", got, want)
	}
	if got, want := listText(s, fmt.Sprintf("tree -t rb -l -o 8 %x", root)), fmt.Sprintf("%x\n%x\n%x\n", a, b, c); got != want {
		t.Errorf("tree -l:\n%s\nwant:\n%s", got, want)
	}
	if got, want := listText(s, fmt.Sprintf("tree -N %x -o 8", b+8)), fmt.Sprintf("%x\n%x\n%x\n", b, a, c); got != want {
		t.Errorf("tree -N:\n%s\nwant:\n%s", got, want)
	}
	_, js := runUnit(t, s, fmt.Sprintf("tree -o 8 %x", root))
	if !strings.Contains(js, fmt.Sprintf(`"type":"rbtree","entries":[{"address":"%016x","position":"root"},{"address":"%016x","position":"root/l"}`, b, a)) {
		t.Errorf("JSON %s", js)
	}
	for line, msg := range map[string]string{
		"tree":                                  "tree: a starting address is required",
		fmt.Sprintf("tree -t x -l %x", root):    "tree: -l option is not applicable to Xarrays",
		fmt.Sprintf("tree -t ra -o 8 %x", root): "tree: -o option is not applicable to radix trees",
		fmt.Sprintf("tree -r 8 -N %x", root):    "tree: -r and -N options are mutually exclusive",
		fmt.Sprintf("tree -t foo %x", root):     "tree: invalid tree type: foo",
		fmt.Sprintf("tree %x %x", root, root):   "tree: too many arguments entered",
	} {
		if got := listText(s, line); got != msg+"\n" {
			t.Errorf("%s: %q, want %q", line, got, msg)
		}
	}
}
