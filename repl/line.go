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

// unquotedIndex finds the first of chars outside quotes, or -1.
func unquotedIndex(s, chars string) int {
	var quote rune
	esc := false
	for i, r := range s {
		switch {
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
