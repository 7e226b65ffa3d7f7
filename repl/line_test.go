package repl

import (
	"reflect"
	"testing"
)

func TestParseLine(t *testing.T) {
	cases := map[string]Line{
		"ps":                         {Words: []string{"ps"}},
		"ps | grep sleep":            {Words: []string{"ps"}, Pipe: "grep sleep"},
		"log | tail -3 | wc -l":      {Words: []string{"log"}, Pipe: "tail -3 | wc -l"},
		"ps > /tmp/out":              {Words: []string{"ps"}, Redirect: "/tmp/out"},
		"log >> out.txt":             {Words: []string{"log"}, Redirect: "out.txt", Append: true},
		"!date":                      {Shell: "date"},
		"< cmds.txt":                 {Input: "cmds.txt"},
		`ps 'a|b' "x>y"`:             {Words: []string{"ps", "a|b", "x>y"}},
		`rd -a linux_banner|head -1`: {Words: []string{"rd", "-a", "linux_banner"}, Pipe: "head -1"},
	}
	for in, want := range cases {
		got, err := ParseLine(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"ps |", "ps >", "<", `ps "open`} {
		if _, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q) accepted", bad)
		}
	}
}
