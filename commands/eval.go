package commands

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"regexp"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

func evalCommand() *Command {
	return &Command{
		Name:     "eval",
		Synopsis: "eval [-b] [-l] (expression) | value",
		Summary:  "evaluate an expression and show it in hexadecimal, decimal, octal and binary",
		Help: `Evaluates a value or an expression and shows the result in hexadecimal,
decimal, octal and binary, as crash does: a value that is a whole number of
gigabytes, megabytes or kilobytes gets that short form after the
hexadecimal, and one with its top bit set its signed value after the
decimal. crash's forms are read first: a value, or "x operator y" with one
of + - & | ^ * % / << >> (in parentheses or not), where each side is a
number or a symbol (its address), with an optional ~ before it. A number is
hexadecimal when it starts with 0x or has a hexadecimal letter, decimal
otherwise; a k, m or g after it multiplies by 1024, 1 MB or 1 GB. Anything
else is evaluated as a C expression (see p), where a symbol is its value.`,
		Options: []Option{
			{"-b", "show which bit positions of the result are set"},
			{"-l", "64-bit values (the default: gocrash's targets are 64-bit)"},
		},
		Examples:   []string{"gocrash> eval 128m", "gocrash> eval (1 << 32)", "gocrash> eval -b 41dc065", "gocrash> eval init_task + 8", "gocrash> eval init_task.se.load.weight >> 10"},
		Expression: true,
		Results:    []Result{&EvalResult{}},
		Run:        runEval,
	}
}

// EvalResult is a value eval showed.
type EvalResult struct {
	Expression string `json:"expression"`
	Value      Hex    `json:"value"`
	// Signed is the value as a signed number, when its top bit is set.
	Signed *int64 `json:"signed,omitempty"`
	// Shorthand is "128MB", "4GB", "3KB" for a whole number of those.
	Shorthand string `json:"shorthand,omitempty"`
	// Bits are the set bit positions, highest first (with -b).
	Bits []int `json:"bits,omitempty"`

	showBits bool
}

func (r *EvalResult) Text(w io.Writer) error {
	v := uint64(r.Value)
	var b strings.Builder
	fmt.Fprintf(&b, "hexadecimal: %x  ", v)
	if r.Shorthand != "" {
		fmt.Fprintf(&b, "(%s)", r.Shorthand)
	}
	fmt.Fprintf(&b, "\n    decimal: %d  ", v)
	if r.Signed != nil {
		fmt.Fprintf(&b, "(%d)", *r.Signed)
	}
	fmt.Fprintf(&b, "\n      octal: %o\n     binary: %064b\n", v, v)
	if r.showBits {
		line := "   bits set: "
		for _, i := range r.Bits {
			n := strconv.Itoa(i) + " "
			if len(line)+len(n) > 80 {
				b.WriteString(line + "\n")
				line = strings.Repeat(" ", 13)
			}
			line += n
		}
		b.WriteString(line + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// evalBinaryRE is crash's "x operator y".
var evalBinaryRE = regexp.MustCompile(`^(~?[A-Za-z0-9_.]+)\s*(<<|>>|[-+&|^*%/])\s*(~?[A-Za-z0-9_.]+)$`)

func runEval(ctx context.Context, s *Session, a *Args) (Result, error) {
	expr := strings.TrimSpace(strings.Join(a.Words, " "))
	if expr == "" {
		return nil, &UsageError{"an expression or value is required"}
	}
	v, err := evalValue(s, expr)
	if err != nil {
		return nil, err
	}
	r := &EvalResult{Expression: expr, Value: Hex(v), showBits: a.Has("b")}
	if v>>63 != 0 {
		sv := int64(v)
		r.Signed = &sv
	}
	switch {
	case v == 0:
	case v%(1<<30) == 0:
		r.Shorthand = fmt.Sprintf("%dGB", v>>30)
	case v%(1<<20) == 0:
		r.Shorthand = fmt.Sprintf("%dMB", v>>20)
	case v%(1<<10) == 0:
		r.Shorthand = fmt.Sprintf("%dKB", v>>10)
	}
	if r.showBits {
		r.Bits = []int{}
		for i := 63; i >= 0; i-- {
			if v&(1<<i) != 0 {
				r.Bits = append(r.Bits, i)
			}
		}
	}
	return r, nil
}

// evalValue reads crash's eval forms, else a C expression.
func evalValue(s *Session, expr string) (uint64, error) {
	inner := expr
	if strings.HasPrefix(inner, "(") && strings.HasSuffix(inner, ")") && strings.Count(inner, "(") == 1 {
		inner = strings.TrimSpace(inner[1 : len(inner)-1])
	}
	if m := evalBinaryRE.FindStringSubmatch(inner); m != nil {
		x, err1 := evalOperand(s, m[1])
		y, err2 := evalOperand(s, m[3])
		if err1 == nil && err2 == nil {
			switch m[2] {
			case "+":
				return x + y, nil
			case "-":
				return x - y, nil
			case "*":
				return x * y, nil
			case "/", "%":
				if y == 0 {
					return 0, fmt.Errorf("divide by zero: %s", expr)
				}
				if m[2] == "/" {
					return x / y, nil
				}
				return x % y, nil
			case "&":
				return x & y, nil
			case "|":
				return x | y, nil
			case "^":
				return x ^ y, nil
			case "<<":
				return x << y, nil
			case ">>":
				return x >> y, nil
			}
		}
	}
	if v, err := evalOperand(s, inner); err == nil {
		return v, nil
	}
	v, e, err := s.evalExpr(expr)
	if err != nil {
		return 0, err
	}
	if v, err = e.decay(v); err != nil {
		return 0, err
	}
	if !e.isInt(v.t) && kindOf(v.t) != symbols.TypePointer {
		return 0, fmt.Errorf("not a number: %s", expr)
	}
	return e.scalar(v)
}

// evalOperand reads one side of crash's eval: ~, a number (hexadecimal
// with 0x or a hexadecimal letter, else decimal) with an optional k, m or
// g, or a symbol's address.
func evalOperand(s *Session, w string) (uint64, error) {
	not := strings.HasPrefix(w, "~")
	w = strings.TrimPrefix(w, "~")
	v, err := evalNumber(w)
	if err != nil {
		if v, err = parseAddress(s, w); err != nil {
			return 0, err
		}
	}
	if not {
		v = ^v
	}
	return v, nil
}

func evalNumber(w string) (uint64, error) {
	mult := uint64(1)
	if n := len(w); n > 1 {
		switch w[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult != 1 {
			w = w[:n-1]
		}
	}
	var v uint64
	var err error
	switch {
	case strings.HasPrefix(w, "0x") || strings.HasPrefix(w, "0X"):
		v, err = strconv.ParseUint(w[2:], 16, 64)
	case strings.Trim(w, "0123456789") == "":
		v, err = strconv.ParseUint(w, 10, 64)
	default:
		v, err = strconv.ParseUint(w, 16, 64)
	}
	if err != nil {
		return 0, err
	}
	hi, lo := bits.Mul64(v, mult)
	if hi != 0 {
		return 0, fmt.Errorf("value too large: %s", w)
	}
	return lo, nil
}
