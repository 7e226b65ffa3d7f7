package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func asciiCommand() *Command {
	return &Command{
		Name:     "ascii",
		Synopsis: "ascii [value ...]",
		Summary:  "translate hexadecimal values to ASCII, or show an ASCII chart",
		Help: `Translates each 64-bit hexadecimal value (0x is optional) to the characters
of its bytes, lowest byte first, as they lie in memory: printable ones as
themselves, others by their names (<NUL>, <LF>, <DEL>) or in hexadecimal
(<80>). With no value, an ASCII chart is shown (crash's chart swaps the quote and the backquote, and _
and -; gocrash's does not).`,
		Options:  []Option{{"value", "a hexadecimal value"}},
		Examples: []string{"gocrash> ascii 62696c2f7273752f", "gocrash> ascii"},
		Results:  []Result{&ASCIIResult{}},
		Run:      runASCII,
	}
}

// ASCIIResult is the translation of each value, or (Chart) crash's ASCII
// chart.
type ASCIIResult struct {
	Chart  bool         `json:"chart,omitempty"`
	Values []ASCIIValue `json:"values,omitempty"`
}

// ASCIIValue is one value and its bytes as characters.
type ASCIIValue struct {
	Value Hex    `json:"value"`
	Text  string `json:"text"`
}

// asciiNames are the control characters' names.
var asciiNames = [32]string{"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"}

func (r *ASCIIResult) Text(w io.Writer) error {
	var b strings.Builder
	if r.Chart {
		b.WriteString("\n      0    1   2   3   4   5   6   7\n    +-------------------------------\n")
		for row := range 16 {
			fmt.Fprintf(&b, "  %X |", row)
			for col := range 8 {
				c := col*16 + row
				var name string
				switch {
				case c < 32:
					name = asciiNames[c]
				case c == 32:
					name = "SP"
				case c == 127:
					name = "DEL"
				default:
					name = string(rune(c))
				}
				switch {
				case col == 0:
					fmt.Fprintf(&b, " %3s", name)
				case len(name) == 1:
					fmt.Fprintf(&b, "  %-2s", name)
				default:
					fmt.Fprintf(&b, " %3s", name)
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n") // crash ends the chart with an empty line
	}
	for _, v := range r.Values {
		fmt.Fprintf(&b, "%016x: %s\n", uint64(v.Value), v.Text)
	}
	_, err := io.WriteString(w, strings.ReplaceAll(b.String(), " \n", "\n"))
	return err
}

func runASCII(ctx context.Context, s *Session, a *Args) (Result, error) {
	r := &ASCIIResult{}
	if len(a.Words) == 0 {
		r.Chart = true
		return r, nil
	}
	for _, w := range a.Words {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(w, "0x"), "0X"), 16, 64)
		if err != nil {
			return r, fmt.Errorf("invalid input: %q", w)
		}
		var t strings.Builder
		for i := range 8 {
			c := byte(v >> (8 * i))
			switch {
			case c < 32:
				t.WriteString("<" + asciiNames[c] + ">")
			case c == 127:
				t.WriteString("<DEL>")
			case c > 127:
				fmt.Fprintf(&t, "<%02x>", c)
			default:
				t.WriteByte(c)
			}
		}
		r.Values = append(r.Values, ASCIIValue{Value: Hex(v), Text: t.String()})
	}
	return r, nil
}
