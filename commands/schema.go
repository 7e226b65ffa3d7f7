package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// WriteJSONSchema writes docs/json.md: the JSON output's envelope and, for
// each command, the shape of every result type it declares (Command.Results),
// read from the types themselves so that the document cannot drift from
// the code (TestDocsUpToDate compares it, and the JSON corpus tests check
// that each command returns only the types it declares).
func (r *Registry) WriteJSONSchema(w io.Writer) {
	fmt.Fprintf(w, `# gocrash JSON output

Generated from the result types (`+"`make docs`: `gocrash --gen-json-docs`"+`); schema_version %d.

With `+"`gocrash --json`"+` (or `+"`set output json`"+` in a session) each command prints one
JSON object on one line (JSON Lines), and nothing else goes to standard output:

    {"schema_version": %d, "command": "<the line as typed>", "data": <result>}
    {"schema_version": %d, "command": "<the line as typed>", "error": "<the message>"}

A command that gathered part of its answer before failing carries both data and
error. Output sent to a shell pipeline (`+"`ps | grep`"+`) or the pager stays crash's text.
Field names are snake_case. Kernel addresses and other 64-bit values (**hex**) are
16-digit lower-case hexadecimal strings, because JSON numbers lose bits past 2^53;
other integers are numbers. A field marked "omitted when empty" is left out when it
has no value. schema_version changes when a field is renamed or removed or changes
meaning; new fields do not change it.
`, SchemaVersion, SchemaVersion, SchemaVersion)
	seen := map[reflect.Type]bool{}
	for _, c := range r.list {
		if len(c.Results) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\n", c.Name)
		var names []string
		for _, res := range c.Results {
			names = append(names, "`"+typeName(reflect.TypeOf(res))+"`")
		}
		fmt.Fprintf(w, "data: %s\n", strings.Join(names, " or "))
		for _, res := range c.Results {
			writeTypes(w, reflect.TypeOf(res), seen)
		}
	}
}

// typeName is a result type's name without its pointer.
func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// writeTypes writes the fields of t and then of the struct types they
// hold, each struct once in the whole document; a type that writes its own
// JSON is described where it is used (jsonKind), not here.
func writeTypes(w io.Writer, t reflect.Type, seen map[reflect.Type]bool) {
	for {
		if _, ok := shapeOf(t); ok {
			return
		}
		if k := t.Kind(); k != reflect.Pointer && k != reflect.Slice && k != reflect.Array && k != reflect.Map {
			break
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	fmt.Fprintf(w, "\n### %s\n\n| field | type |\n|---|---|\n", t.Name())
	var nested []reflect.Type
	for _, f := range jsonFields(t) {
		fmt.Fprintf(w, "| `%s` | %s |\n", f.name, f.kind)
		nested = append(nested, f.typ)
	}
	for _, n := range nested {
		writeTypes(w, n, seen)
	}
}

type jsonField struct {
	name, kind string
	typ        reflect.Type
}

// jsonFields lists the fields encoding/json writes for t, embedded
// structs' fields in place.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		kind := jsonKind(f.Type)
		if strings.Contains(opts, "omitempty") {
			kind += " (omitted when empty)"
		}
		out = append(out, jsonField{name, kind, f.Type})
	}
	return out
}

// jsonShaped is implemented by the types that write their own JSON
// (MarshalJSON): it says what they write, for docs/json.md.
type jsonShaped interface{ jsonShape() string }

// undocumentedJSON marks, in docs/json.md, a type that writes its own JSON
// without saying how (a test keeps it out).
const undocumentedJSON = "(custom JSON, undocumented)"

// shapeOf describes a type that writes its own JSON; ok is false for one
// encoding/json lays out from its fields.
func shapeOf(t reflect.Type) (shape string, ok bool) {
	if t.Kind() == reflect.Interface {
		return "", false
	}
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem() // a *Hex field is described as a Hex
	}
	if base == reflect.TypeOf(time.Time{}) {
		return "string (RFC 3339 time)", true
	}
	// A pointer to a fresh value has the value methods too.
	if s, ok := reflect.New(base).Interface().(jsonShaped); ok {
		return s.jsonShape(), true
	}
	marshaler := reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	if t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) {
		return undocumentedJSON, true
	}
	return "", false
}

// jsonKind names the JSON type of a Go type.
func jsonKind(t reflect.Type) string {
	if shape, ok := shapeOf(t); ok {
		return shape
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array of " + jsonKind(t.Elem())
	case reflect.Map:
		return "object of " + jsonKind(t.Elem()) + " by " + jsonKind(t.Key())
	case reflect.Struct:
		return "`" + t.Name() + "`"
	case reflect.Interface:
		return "any"
	}
	return t.Kind().String()
}

// DeclaresResult reports whether res is of a type c declares in Results.
func (c *Command) DeclaresResult(res Result) bool {
	for _, r := range c.Results {
		if reflect.TypeOf(r) == reflect.TypeOf(res) {
			return true
		}
	}
	return false
}
