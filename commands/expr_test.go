package commands

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/symbols"
)

// testExprEnv is an expression environment with no kernel: base types made
// to measure, and memory from a map of pages.
func testExprEnv(t *testing.T, mem map[uint64][]byte) (*exprEnv, *valuePrinter) {
	t.Helper()
	read := func(p []byte, addr uint64) error {
		for i := range p {
			a := addr + uint64(i)
			page, ok := mem[a&^0xfff]
			if !ok {
				return fmt.Errorf("no memory at %#x", a)
			}
			p[i] = page[a&0xfff]
		}
		return nil
	}
	e := &exprEnv{s: &Session{}, bases: map[string]*symbols.Type{}, readMem: read}
	vp := &valuePrinter{order: binary.LittleEndian, read: read, symbol: func(uint64) string { return "" }}
	return e, vp
}

// evalText evaluates src and prints it as p does after "$N = ".
func evalText(e *exprEnv, vp *valuePrinter, src string, format byte) (string, error) {
	n, err := e.parse(src)
	if err != nil {
		return "", err
	}
	v, err := e.eval(n)
	if err != nil {
		return "", err
	}
	p := *vp
	if format == 'x' {
		p.hex = true
	} else {
		p.format = format
	}
	cv, err := e.cvalue(v, &p)
	if err != nil {
		return "", err
	}
	e.s.history = append(e.s.history, v)
	var b strings.Builder
	cv.writeText(&b, 0)
	return b.String(), nil
}

// TestExprEval evaluates expressions over base types and synthetic memory:
// C's literal types, precedence, conversions, casts, pointer arithmetic,
// short-circuit evaluation, sizeof, character and string literals, the
// value history and print formats.
func TestExprEval(t *testing.T) {
	page := make([]byte, 4096)
	binary.LittleEndian.PutUint32(page[0:], uint32(0xfffffffb)) // 0x1000: int -5
	copy(page[0x10:], "abc\x00")                                // 0x1010
	binary.LittleEndian.PutUint64(page[0x20:], 0x1010)          // 0x1020: a char * to "abc"
	e, vp := testExprEnv(t, map[uint64][]byte{0x1000: page})
	for _, c := range []struct {
		expr   string
		format byte
		want   string
	}{
		{"1 + 2 * 3", 0, "7"},
		{"(1 + 2) * 3", 0, "9"},
		{"2 + 3 * 4 - 5", 0, "9"},
		{"100 / 10 / 5", 0, "2"},
		{"2147483647 + 1", 0, "-2147483648"},
		{"2147483647L + 1", 0, "2147483648"},
		{"4294967296", 0, "4294967296"},
		{"0x80000000", 0, "2147483648"},
		{"0xffffffffffffffff", 0, "18446744073709551615"},
		{"5u - 7", 0, "4294967294"},
		{"5ul - 7", 0, "18446744073709551614"},
		{"-10 / 3", 0, "-3"},
		{"-10 % 3", 0, "-1"},
		{"-1 > 0u", 0, "1"},
		{"-1 > 0", 0, "0"},
		{"-1 >> 1", 0, "-1"},
		{"(unsigned int)-1 >> 1", 0, "2147483647"},
		{"1 << 2 << 3", 0, "32"},
		{"1 + 2 << 3", 0, "24"},
		{"6 & 3 == 3", 0, "0"},
		{"3 ^ 5 & 6", 0, "7"},
		{"3 & 5 ^ 6", 0, "7"},
		{"1 | 2 ^ 3 & 4", 0, "3"},
		{"1 ? 2 : 3 ? 4 : 5", 0, "2"},
		{"0 ? 2 : 0 ? 4 : 5", 0, "5"},
		{"1, 2, 3", 0, "3"},
		{"!0", 0, "1"},
		{"!5", 0, "0"},
		{"~0", 0, "-1"},
		{"-(unsigned char)1", 0, "-1"},
		{"+5", 0, "5"},
		{"(unsigned char)0x1ff", 0, `255 '\377'`},
		{"(char)65", 0, "65 'A'"},
		{"(short)0x12345", 0, "9029"},
		{"(unsigned short)-1", 0, "65535"},
		{"(long)-1", 0, "-1"},
		{"(unsigned long)-1", 0, "18446744073709551615"},
		{"(_Bool)5", 0, "true"},
		{"(bool)0", 0, "false"},
		{"'A'", 0, "65 'A'"},
		{"'A' + 1", 0, "66"},
		{`'\n'`, 0, `10 '\n'`},
		{`'\x41'`, 0, "65 'A'"},
		{`'\101'`, 0, "65 'A'"},
		{`'\''`, 0, `39 '\''`},
		{`"ab" "c"`, 0, `"abc"`},
		{"sizeof(int)", 0, "4"},
		{"sizeof(unsigned long long)", 0, "8"},
		{"sizeof(char *)", 0, "8"},
		{"sizeof(int[10])", 0, "40"},
		{"sizeof(char (*)[4])", 0, "8"},
		{"sizeof(short *[3])", 0, "24"},
		{"sizeof 'a'", 0, "1"},
		{"sizeof(1 + 1L)", 0, "8"},
		{`sizeof("abc")`, 0, "4"},
		{"(int *)0 + 1", 0, "(int *) 0x4"},
		{"1 + (int *)0", 0, "(int *) 0x4"},
		{"(long *)0x1000 - 2", 0, "(long *) 0xff0"},
		{"(int *)0x1010 - (int *)0x1000", 0, "4"},
		{"(void *)0x1000 + 1", 0, "(void *) 0x1001"},
		{"(int *)0x1000 == (int *)0x1000", 0, "1"},
		{"(int *)0x1000 < (int *)0x1004", 0, "1"},
		{"*(int *)0x1000", 0, "-5"},
		{"*(unsigned int *)0x1000", 0, "4294967291"},
		{"((int *)0x1000)[0] * 2", 0, "-10"},
		{"0[(int *)0x1000]", 0, "-5"},
		{"*(unsigned char *)0x1010", 0, "97 'a'"},
		{"((char *)0x1010)[2]", 0, "99 'c'"},
		{"*(char (*)[4])0x1010", 0, `"abc"`},
		{"(char *)0x1010", 0, `0x1010 "abc"`},
		{"*(char **)0x1020", 0, `0x1010 "abc"`},
		{"**(char **)0x1020", 0, "97 'a'"},
		{"(char *)0x5000", 0, "0x5000 <error: Cannot access memory at address 0x5000>"},
		{"&*(int *)0x1000", 0, "(int *) 0x1000"},
		{"0 && *(int *)0", 0, "0"},
		{"1 || *(int *)0", 0, "1"},
		{"0 ? *(int *)0 : 7", 0, "7"},
		{"$1", 0, "7"},
		{"$", 0, "7"},
		{"$$2", 0, "7"},
		{"$1 + $2", 0, "16"},
		{"-1", 'x', "0xffffffff"},
		{"-1L", 'x', "0xffffffffffffffff"},
		{"(char)-1", 'x', "0xff"},
		{"8", 'o', "010"},
		{"0", 'o', "0"},
		{"10", 't', "1010"},
		{"-1", 't', "11111111111111111111111111111111"},
		{"65", 'c', "65 'A'"},
		{"0x141", 'c', "65 'A'"},
		{"(unsigned char)200", 'd', "-56"},
		{"(char)-56", 'u', "200"},
		{"-1", 'u', "4294967295"},
		{"(int *)0x1000", 'x', "0x1000"},
		{"(int *)0x1000", 'd', "4096"},
		{"(int *)0x1000", 'a', "0x1000"},
		{"*(char (*)[4])0x1010", 'x', "{0x61, 0x62, 0x63, 0x0}"},
		{"*(char (*)[4])0x1010", 'd', "{97, 98, 99, 0}"},
	} {
		got, err := evalText(e, vp, c.expr, c.format)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s (/%c): %s, want %s", c.expr, max(c.format, ' '), got, c.want)
		}
	}
}

// TestExprErrors wants a clear error, never a value, for what is not C or
// not supported.
func TestExprErrors(t *testing.T) {
	e, vp := testExprEnv(t, nil)
	for _, c := range []struct{ expr, want string }{
		{"1 / 0", "Division by zero"},
		{"1 % 0", "Division by zero"},
		{"x = 1", "assignment is not supported"},
		{"1 += 1", "assignment is not supported"},
		{"f(1)", "function calls are not supported"},
		{"1.5", "floating-point constants are not supported"},
		{"*1", "Attempt to take contents of a non-pointer value."},
		{"*(void *)0x1000", "Attempt to take contents of a non-pointer value."},
		{"&1", "Attempt to take address of value not located in memory."},
		{"(int *)0 + (int *)0", "Cannot add two pointers."},
		{"1 +", "syntax error"},
		{"(1", "syntax error"},
		{"1 2", "syntax error"},
		{"'ab'", "invalid character constant"},
		{"'a", "unterminated"},
		{"$1", "History is empty."},
		{"$foo", "convenience variables are not supported"},
		{"x++", "not supported"},
		{"@", "invalid character"},
		{"*(int *)0x1000", "no memory at 0x1000"},
		{"(struct s *)0", "no type information"},
		{"nosuch", `No symbol "nosuch" in current context.`},
		{"99999999999999999999", "numeric constant too large"},
		{"1.member", "not a structure"},
		{"1.5e3", "floating-point"},
		{"(1).member", "not a structure"},
	} {
		got, err := evalText(e, vp, c.expr, 0)
		if err == nil {
			t.Errorf("%s = %s, want the error %q", c.expr, got, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.expr, err, c.want)
		}
	}
}

// TestLexNumberTypes checks C's types of integer literals.
func TestLexNumberTypes(t *testing.T) {
	for _, c := range []struct{ lit, typ string }{
		{"0", "int"}, {"2147483647", "int"}, {"2147483648", "long"}, {"0x7fffffff", "int"},
		{"0x80000000", "unsigned int"}, {"0xffffffff", "unsigned int"}, {"0x100000000", "long"},
		{"9223372036854775808", "unsigned long"}, {"1u", "unsigned int"}, {"1L", "long"}, {"1UL", "unsigned long"},
		{"1lu", "unsigned long"}, {"1ll", "long"}, {"017", "int"}, {"0b101", "int"},
	} {
		tok, err := parseNumber(c.lit)
		if err != nil || tok.t != c.typ {
			t.Errorf("%s: %q %v, want %s", c.lit, tok.t, err, c.typ)
		}
	}
}
