package commands

import (
	"bytes"
	"testing"
)

func TestTable(t *testing.T) {
	tb := Table{Cols: []Column{
		{Header: "MODULE", Align: AlignRight, HeaderAlign: AlignCenter, Width: 8},
		{Header: "NAME", Align: AlignLeft, HeaderAlign: AlignLeft},
		{Header: "SIZE", Align: AlignRight, HeaderAlign: AlignRight, Width: 5},
		{Header: "FILE", Align: AlignLeft, HeaderAlign: AlignCenter, Width: 10},
	}}
	tb.Add("1f", "a", "12", "x")
	tb.Add("abcdef01", "longname", "123456", "yy")
	var b bytes.Buffer
	if err := tb.Text(&b); err != nil {
		t.Fatal(err)
	}
	want := " MODULE   NAME        SIZE     FILE\n" +
		"      1f  a             12  x\n" +
		"abcdef01  longname  123456  yy\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}
