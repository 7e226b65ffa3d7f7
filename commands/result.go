package commands

import (
	"encoding/json"
	"fmt"
	"io"
)

// Result is what a command gathers: a value that knows how to print itself
// in crash's text format (Text), and whose exported fields, with their
// snake_case json tags, are its JSON form. Gathering reads the dump;
// rendering only formats what was gathered, so the same value serves the
// text and the JSON renderer.
type Result interface {
	Text(w io.Writer) error
}

// SchemaVersion is the version of the JSON output's shape (docs/json.md).
// It changes when a field is renamed or removed or changes meaning; new
// fields do not change it.
const SchemaVersion = 1

// Output is a session's output format.
type Output int

const (
	OutputText Output = iota // crash's text
	OutputJSON               // one JSON object per command (JSON Lines)
)

func (o Output) String() string {
	if o == OutputJSON {
		return "json"
	}
	return "text"
}

// Hex is a kernel address or another 64-bit value that JSON carries as a
// 16-digit lower-case hexadecimal string: JSON numbers lose bits past 2^53.
type Hex uint64

// MarshalJSON writes the value as "%016x".
func (h Hex) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, `"%016x"`, uint64(h)), nil }

// UnmarshalJSON reads what MarshalJSON writes.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	_, err := fmt.Sscanf(s, "%x", (*uint64)(h))
	return err
}

func (Hex) jsonShape() string { return "hex" }

// Envelope is one line of JSON output: the command line as typed, then
// its result or its error. A command that gathered part of its answer
// before failing carries both.
type Envelope struct {
	SchemaVersion int    `json:"schema_version"`
	Command       string `json:"command"`
	Data          Result `json:"data,omitempty"`
	Error         string `json:"error,omitempty"`
}

// WriteJSON writes one command's envelope as a single line.
func WriteJSON(w io.Writer, line string, res Result, err error) error {
	e := Envelope{SchemaVersion: SchemaVersion, Command: line, Data: res}
	if err != nil {
		e.Error = err.Error()
	}
	b, merr := json.Marshal(e)
	if merr != nil {
		return fmt.Errorf("%s: cannot encode the result as JSON: %v", line, merr)
	}
	_, werr := w.Write(append(b, '\n'))
	return werr
}

// Message is a result that is one line of text, such as "scroll: off".
type Message struct {
	Message string `json:"message"`
}

func (m Message) Text(w io.Writer) error {
	_, err := fmt.Fprintln(w, m.Message)
	return err
}

// Results is several results printed one after another (a command run for
// several tasks or addresses); its JSON form is the list.
type Results[T Result] []T

func (rs Results[T]) Text(w io.Writer) error {
	for _, r := range rs {
		if err := r.Text(w); err != nil {
			return err
		}
	}
	return nil
}

// textWriter collects the first write error, so that a renderer can write
// line after line and check once.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textWriter) println(s string) {
	if t.err == nil {
		_, t.err = io.WriteString(t.w, s+"\n")
	}
}
