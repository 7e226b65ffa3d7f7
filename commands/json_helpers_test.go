package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/commands"
)

// runJSON runs a command line and returns its JSON envelope, decoded into
// generic values, after checking that the line is one JSON object with the
// schema version, the command as typed and data or error.
func runJSON(t testing.TB, s *commands.Session, line string) map[string]any {
	t.Helper()
	res, err := s.Registry.Exec(context.Background(), s, strings.Fields(line))
	var b bytes.Buffer
	if werr := commands.WriteJSON(&b, line, res, err); werr != nil {
		t.Fatalf("%s: %v", line, werr)
	}
	out := b.Bytes()
	if bytes.Count(out, []byte("\n")) != 1 || out[len(out)-1] != '\n' {
		t.Fatalf("%s: JSON output is not one line: %q", line, out)
	}
	var env map[string]any
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("%s: JSON does not parse: %v\n%s", line, err, out)
	}
	if env["command"] != line || env["schema_version"] != float64(commands.SchemaVersion) {
		t.Fatalf("%s: envelope %v", line, env)
	}
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if _, ok := env["data"]; !ok {
		t.Fatalf("%s: no data in %s", line, out)
	}
	if c, ok := s.Registry.Lookup(strings.Fields(line)[0]); ok && !c.DeclaresResult(res) {
		t.Errorf("%s: returns a %T, not one of the types %s declares (docs/json.md)", line, res, c.Name)
	}
	return env
}

// jsonData decodes a command's JSON data into v (a struct of the fields a
// test checks).
func jsonData(t testing.TB, s *commands.Session, line string, v any) {
	t.Helper()
	env := runJSON(t, s, line)
	b, _ := json.Marshal(env["data"])
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: data does not decode: %v\n%s", line, err, b)
	}
}

// hexField reads a JSON address string, checking crash's 16-digit form.
func hexField(t testing.TB, what string, v any) uint64 {
	t.Helper()
	s, ok := v.(string)
	if !ok || len(s) != 16 || strings.ToLower(s) != s {
		t.Fatalf("%s: %v is not a 16-digit lower-case hex string", what, v)
	}
	var x uint64
	for _, c := range s {
		d := strings.IndexRune("0123456789abcdef", c)
		if d < 0 {
			t.Fatalf("%s: %q is not hex", what, s)
		}
		x = x<<4 | uint64(d)
	}
	return x
}
