package commands

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/kernel/kerneltest"
)

// logMachine is a synthetic dump with a three-record printk log and no
// vmlinux.
func logMachine(t *testing.T) *Session {
	m := kerneltest.New()
	m.Log(kerneltest.KData, 0x300000, []kerneltest.Record{
		{TS: 0, Level: 5, Text: "Linux version test"},
		{TS: 1500000, Level: 6, Text: "second line"},
		{TS: 12345678901, Level: 0, Fac: 1, Text: "Kernel panic - not syncing: test"},
	})
	return &Session{Kernel: m.Kernel(t), Registry: NewRegistry()}
}

func runUnit(t *testing.T, s *Session, line string) (text, js string) {
	t.Helper()
	res, err := s.Registry.Exec(context.Background(), s, strings.Fields(line))
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	var tb, jb bytes.Buffer
	if err := res.Text(&tb); err != nil {
		t.Fatalf("%s: text: %v", line, err)
	}
	if err := WriteJSON(&jb, line, res, nil); err != nil {
		t.Fatalf("%s: JSON: %v", line, err)
	}
	return tb.String(), jb.String()
}

func TestLogUnit(t *testing.T) {
	s := logMachine(t)
	text, js := runUnit(t, s, "log")
	want := "[    0.000000] Linux version test\n" +
		"[    0.001500] second line\n" +
		"[   12.345678] Kernel panic - not syncing: test\n"
	if text != want {
		t.Errorf("log:\n%s\nwant:\n%s", text, want)
	}
	wantJSON := `{"schema_version":1,"command":"log","data":{"records":[` +
		`{"seconds":0,"nsec":0,"level":5,"facility":0,"text":"Linux version test"},` +
		`{"seconds":0.0015,"nsec":1500000,"level":6,"facility":0,"text":"second line"},` +
		`{"seconds":12.345678901,"nsec":12345678901,"level":0,"facility":1,"text":"Kernel panic - not syncing: test"}]}}` + "\n"
	if js != wantJSON {
		t.Errorf("log JSON:\n%s\nwant:\n%s", js, wantJSON)
	}
	text, _ = runUnit(t, s, "log -m")
	if want := "[    0.000000] <5>Linux version test\n[    0.001500] <6>second line\n" +
		"[   12.345678] <0>Kernel panic - not syncing: test\n"; text != want {
		t.Errorf("log -m:\n%s", text)
	}
}
