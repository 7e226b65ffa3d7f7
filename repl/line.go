package repl

import (
	"fmt"
	"strings"
)

// Line is one command line taken apart: the command's words, and where
// its output goes.
type Line struct {
	Words    []string
	Pipe     string // a shell pipeline the output is piped into ("grep sleep")
	Redirect string // a file the output is written to
	Append   bool   // >> rather than >
	Shell    string // !command: run by the shell, not by gocrash
	Input    string // < file: run the commands in file
}

// ParseLine reads a command line as crash does: "cmd args | shell
// pipeline", "cmd args > file", "cmd args >> file", "!shell command",
// "< file". Quotes protect | and > inside arguments.
func ParseLine(raw string) (Line, error) {
	return parseLine(raw, unquotedIndex, Split)
}

// ParseExpressionLine reads the command line of a command whose arguments
// are a C expression (p, eval): as ParseLine, but a backslash escapes in
// single quotes too ('\”), and the quotes stay in the words.
func ParseExpressionLine(raw string) (Line, error) {
	index := func(s, chars string) int { return cIndex(s, chars) }
	split := func(s string) ([]string, error) { return SplitExpression(s), nil }
	return parseLine(raw, index, split)
}

func parseLine(raw string, unquotedIndex func(s, chars string) int, Split func(string) ([]string, error)) (Line, error) {
	s := strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(s, "!"):
		return Line{Shell: strings.TrimSpace(s[1:])}, nil
	case strings.HasPrefix(s, "<"):
		f := strings.TrimSpace(s[1:])
		if f == "" {
			return Line{}, fmt.Errorf("< needs a file name")
		}
		return Line{Input: f}, nil
	}
	var l Line
	cmd := s
	if i := unquotedIndex(s, "|>"); i >= 0 {
		cmd = s[:i]
		rest := s[i:]
		switch {
		case rest[0] == '|':
			l.Pipe = strings.TrimSpace(rest[1:])
			if l.Pipe == "" {
				return Line{}, fmt.Errorf("| needs a command to pipe into")
			}
		case strings.HasPrefix(rest, ">>"):
			l.Redirect, l.Append = strings.TrimSpace(rest[2:]), true
		default:
			l.Redirect = strings.TrimSpace(rest[1:])
		}
		if l.Pipe == "" && l.Redirect == "" {
			return Line{}, fmt.Errorf("> needs a file name")
		}
	}
	words, err := Split(cmd)
	if err != nil {
		return Line{}, err
	}
	l.Words = words
	return l, nil
}

// unquotedIndex finds the first of chars outside quotes, or -1. As in
// crash, a '|' or '>' inside parentheses is a C operator, as is the '>' of
// "->".
func unquotedIndex(s, chars string) int {
	var quote rune
	esc := false
	depth := 0
	for i, r := range s {
		switch {
		case quote == 0 && !esc && r == '(':
			depth++
		case quote == 0 && !esc && r == ')' && depth > 0:
			depth--
		case quote == 0 && !esc && (depth > 0 || r == '>' && i > 0 && s[i-1] == '-'):
			continue
		case esc:
			esc = false
		case r == '\\' && quote != '\'':
			esc = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case strings.ContainsRune(chars, r):
			return i
		}
	}
	return -1
}

// SplitExpression breaks a command line whose arguments are a C expression
// into words as Split does, but keeps the quotes and escapes of quoted
// text: 'c' and "string" are C literals.
func SplitExpression(line string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	esc := false
	for _, r := range line {
		switch {
		case esc:
			esc = false
		case r == '\\' && quote != 0:
			esc = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ' ' || r == '\t':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words
}

// cIndex is unquotedIndex for a C expression's line: quotes are C's, where
// a backslash escapes the next character in either kind.
func cIndex(s, chars string) int {
	var quote rune
	esc := false
	depth := 0
	for i, r := range s {
		switch {
		case esc:
			esc = false
		case r == '\\' && quote != 0:
			esc = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth > 0 || r == '>' && i > 0 && s[i-1] == '-':
		case strings.ContainsRune(chars, r):
			return i
		}
	}
	return -1
}
