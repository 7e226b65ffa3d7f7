package commands

import (
	"fmt"
	"io"
)

// KeyValues is a list of labelled values printed as crash prints 'sys':
// each label right-aligned to the widest, then ": " and the value. Keeping
// the pairs (rather than formatted text) leaves structured output possible.
type KeyValues [][2]string

// Add appends a pair.
func (kv *KeyValues) Add(key, format string, args ...any) {
	*kv = append(*kv, [2]string{key, fmt.Sprintf(format, args...)})
}

// Render writes the pairs.
func (kv KeyValues) Render(w io.Writer) error {
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
