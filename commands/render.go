package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// KeyValues is a list of labelled values printed as crash prints 'sys':
// each label right-aligned to the widest, then ": " and the value. Keeping
// the pairs (rather than formatted text) leaves structured output possible.
type KeyValues [][2]string

// Add appends a pair.
func (kv *KeyValues) Add(key, format string, args ...any) {
	*kv = append(*kv, [2]string{key, fmt.Sprintf(format, args...)})
}

// Text writes the pairs.
func (kv KeyValues) Text(w io.Writer) error {
	width := 0
	for _, p := range kv {
		width = max(width, len(p[0]))
	}
	for _, p := range kv {
		if _, err := fmt.Fprintf(w, "%*s: %s\n", width, p[0], p[1]); err != nil {
			return err
		}
	}
	return nil
}

// Align says how a table cell is placed in its column.
type Align int

const (
	AlignLeft Align = iota
	AlignRight
	AlignCenter // crash's CENTER|LJUST: extra space goes to the right
)

// Column is one column of a Table.
type Column struct {
	Header      string
	Align       Align // the cells
	HeaderAlign Align
	Width       int // at least; widened to the widest cell and the header
}

// Table is rows of cells printed in columns as crash prints its lists: a
// header line, then one line per row, the columns joined by two spaces,
// the last column not padded. Keeping cells (rather than formatted lines)
// leaves structured output possible.
type Table struct {
	Cols []Column
	Rows [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Text writes the header and the rows.
func (t *Table) Text(w io.Writer) error {
	width := make([]int, len(t.Cols))
	for i, c := range t.Cols {
		width[i] = max(c.Width, len(c.Header))
		for _, r := range t.Rows {
			if i < len(r) {
				width[i] = max(width[i], len(r[i]))
			}
		}
	}
	line := func(cells []string, header bool) error {
		var b []byte
		for i, c := range t.Cols {
			if i > 0 {
				b = append(b, "  "...)
			}
			cell := ""
			if i < len(cells) {
				cell = cells[i]
			}
			a := c.Align
			if header {
				a = c.HeaderAlign
			}
			last := i == len(t.Cols)-1
			b = append(b, pad(cell, width[i], a, last)...)
		}
		b = append(b, '\n')
		_, err := w.Write(b)
		return err
	}
	hdr := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		hdr[i] = c.Header
	}
	if err := line(hdr, true); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := line(r, false); err != nil {
			return err
		}
	}
	return nil
}

// pad places s in a field of width n.
func pad(s string, n int, a Align, last bool) string {
	fill := n - len(s)
	if fill <= 0 {
		return s
	}
	spaces := func(k int) string { return fmt.Sprintf("%*s", k, "") }
	switch a {
	case AlignRight:
		return spaces(fill) + s
	case AlignCenter:
		if last {
			return spaces(fill/2) + s
		}
		return spaces(fill/2) + s + spaces(fill-fill/2)
	}
	if last {
		return s
	}
	return s + spaces(fill)
}

func (KeyValues) jsonShape() string { return "object (each label in snake_case: its text)" }

// MarshalJSON writes the pairs as one object, each label in snake_case
// ("LOAD AVERAGE": "load_average").
func (kv KeyValues) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range kv {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(snakeCase(p[0]))
		v, _ := json.Marshal(p[1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// snakeCase turns a label into a JSON field name: "LOAD AVERAGE" and
// "Load average" into "load_average", "%MEM" into "mem".
func snakeCase(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
