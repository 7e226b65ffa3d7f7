package commands

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCValueText renders a hand-built value tree as gdb prints it, and its
// JSON form.
func TestCValueText(t *testing.T) {
	leaf := func(name string, off int64, value any, text string) CValue {
		return CValue{Name: name, Type: "int", Offset: off, Value: value, text: text}
	}
	v := CValue{Type: "struct s", kind: cvComposite, Members: []CValue{
		leaf("a", 0, int64(-1), "-1"),
		{Type: "union {...}", Offset: 8, kind: cvComposite, Members: []CValue{leaf("b", 0, uint64(2), "2")}},
		{Name: "arr", Type: "int [3]", Offset: 16, kind: cvArray, Truncated: true, Elements: []CValue{leaf("", 0, uint64(1), "1"), leaf("", 4, uint64(2), "2")}},
		{Name: "p", Type: "struct s *", Offset: 32, Value: Hex(0xffffffff81000000), Symbol: "init_task", text: "0xffffffff81000000 <init_task>"},
		{Name: "e", Type: "struct e", Offset: 40, text: "{<No data fields>}"},
	}}
	var b strings.Builder
	b.WriteString("struct s ")
	v.writeText(&b, 0)
	want := `struct s {
  a = -1,
  {
    b = 2
  },
  arr = {1, 2...},
  p = 0xffffffff81000000 <init_task>,
  e = {<No data fields>}
}`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"name":"a","type":"int","offset":0,"value":-1`, `"value":"ffffffff81000000","symbol":"init_task"`, `"truncated":true`, `"members":[{"name":"b"`} {
		if !strings.Contains(string(j), frag) {
			t.Errorf("JSON %s lacks %s", j, frag)
		}
	}
}

func TestJSONInt(t *testing.T) {
	for _, c := range []struct {
		v      uint64
		bits   int
		signed bool
		want   any
	}{
		{0xff, 8, true, int64(-1)},
		{0xff, 8, false, uint64(255)},
		{1 << 53, 64, false, uint64(1 << 53)},
		{1<<53 + 1, 64, false, Hex(1<<53 + 1)},
		{^uint64(0), 64, true, int64(-1)},
		{1 << 63, 64, true, Hex(1 << 63)},
		{0x1ff, 8, false, uint64(0xff)},
	} {
		if got := jsonInt(c.v, c.bits, c.signed); got != c.want {
			t.Errorf("jsonInt(%#x, %d, %v) = %#v, want %#v", c.v, c.bits, c.signed, got, c.want)
		}
	}
}
