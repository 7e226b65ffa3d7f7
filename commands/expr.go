package commands

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// C expressions as gdb evaluates them for crash's p, eval and address
// arguments: literals (integers with C's types, characters, strings),
// kernel and module symbols, enum constants, per-CPU "var:cpu", value
// history ($, $$, $N, $$N), casts (to base, typedef, struct, union, enum,
// pointer and pointer-to-array types), sizeof, unary - + ~ ! * &, member
// access . and ->, subscripts, the binary operators with C's precedence
// and usual arithmetic conversions (int, unsigned int, long, unsigned
// long), pointer arithmetic scaled by the pointee's size, comparisons,
// && || (short-circuit), ?: and the comma operator. Assignment, ++/--,
// function calls and floating-point arithmetic are refused with an error:
// an expression is never given a value it does not have.
//
// An expression is parsed into a tree (xnode), then evaluated to an xval:
// an lvalue (an address and a type, read only when its value is needed),
// or an rvalue (a scalar's bits, or the bytes of a value from the history).

// xtok is a token of an expression.
type xtok struct {
	kind byte   // 'n' number, 'c' char, 's' string, 'i' identifier, 'h' history, 'p' punctuator, 0 end
	text string // the punctuator, identifier or literal as written
	u    uint64 // a number's or character's value
	t    string // a number's C type: "int", "unsigned int", "long", "unsigned long"
	str  string // a string literal's bytes
}

// exprError is an expression the evaluator cannot give a value.
type exprError struct{ msg string }

func (e *exprError) Error() string { return e.msg }

func xerrf(format string, a ...any) error { return &exprError{fmt.Sprintf(format, a...)} }

var puncts = []string{"<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
	"(", ")", "[", "]", ".", "&", "*", "+", "-", "~", "!", "/", "%", "<", ">", "^", "|", "?", ":", ",", "="}

// lexExpr splits a C expression into tokens.
func lexExpr(src string) ([]xtok, error) {
	var out []xtok
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
				j++
			}
			tok, err := parseNumber(src[i:j])
			if err != nil {
				return nil, err
			}
			out = append(out, tok)
			i = j
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			out = append(out, xtok{kind: 'i', text: src[i:j]})
			i = j
		case c == '$':
			j := i + 1
			for j < len(src) && (src[j] == '$' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			if j < len(src) && isIdentByte(src[j]) {
				return nil, xerrf("convenience variables are not supported: %s", src[i:])
			}
			out = append(out, xtok{kind: 'h', text: src[i:j]})
			i = j
		case c == '\'':
			b, n, err := unescape(src[i+1:], '\'')
			if err != nil {
				return nil, err
			}
			if len(b) != 1 {
				return nil, xerrf("invalid character constant: %s", src[i:min(len(src), i+n+2)])
			}
			out = append(out, xtok{kind: 'c', text: src[i : i+n+2], u: uint64(b[0])})
			i += n + 2
		case c == '"':
			b, n, err := unescape(src[i+1:], '"')
			if err != nil {
				return nil, err
			}
			out = append(out, xtok{kind: 's', text: src[i : i+n+2], str: string(b)})
			i += n + 2
		default:
			found := false
			for _, p := range puncts {
				if strings.HasPrefix(src[i:], p) {
					out = append(out, xtok{kind: 'p', text: p})
					i += len(p)
					found = true
					break
				}
			}
			if !found {
				return nil, xerrf("invalid character '%c' in expression", c)
			}
		}
	}
	return append(out, xtok{}), nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseNumber reads an integer literal and gives it C's type: the first of
// int, (for octal and hex) unsigned int, long, unsigned long that holds
// it, no smaller than its suffix asks.
func parseNumber(s string) (xtok, error) {
	body := strings.TrimRight(s, "uUlL")
	suffix := strings.ToLower(s[len(body):])
	if strings.ContainsAny(body, ".") || (!strings.HasPrefix(body, "0x") && !strings.HasPrefix(body, "0X") && strings.ContainsAny(body, "eE")) {
		return xtok{}, xerrf("floating-point constants are not supported: %s", s)
	}
	unsigned := strings.Contains(suffix, "u")
	long := strings.Contains(suffix, "l")
	if strings.Count(suffix, "u") > 1 || strings.Count(suffix, "l") > 2 {
		return xtok{}, xerrf("invalid number \"%s\"", s)
	}
	base, digits := 10, body
	switch {
	case strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X"):
		base, digits = 16, body[2:]
	case strings.HasPrefix(body, "0b") || strings.HasPrefix(body, "0B"):
		base, digits = 2, body[2:]
	case len(body) > 1 && body[0] == '0':
		base, digits = 8, body[1:]
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return xtok{}, xerrf("numeric constant too large")
		}
		return xtok{}, xerrf("invalid number \"%s\"", s)
	}
	var t string
	switch {
	case !long && !unsigned && u <= 0x7fffffff:
		t = "int"
	case !long && (unsigned || base != 10) && u <= 0xffffffff:
		t = "unsigned int"
	case !unsigned && u <= 0x7fffffffffffffff:
		t = "long"
	default:
		t = "unsigned long"
	}
	return xtok{kind: 'n', text: s, u: u, t: t}, nil
}

// simpleEscapes are C's one-letter escapes (and gdb's \e).
var simpleEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v', 'e': 033}

// digitRun reads up to limit digits of base (8 or 16) at the start of s:
// their value and how many there are.
func digitRun(s string, base, limit int) (uint64, int) {
	n := 0
	for n < len(s) && n < limit && strings.IndexByte("0123456789abcdefABCDEF"[:base+max(0, base-10)], s[n]) >= 0 {
		n++
	}
	v, _ := strconv.ParseUint(s[:n], base, 16)
	return v, n
}

// unescape reads a quoted literal's body up to the closing quote q: its
// bytes and how many source bytes it took (without the quotes).
func unescape(s string, q byte) ([]byte, int, error) {
	var b []byte
	i := 0
	for i < len(s) && s[i] != q {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		c = s[i]
		i++
		if e, ok := simpleEscapes[c]; ok {
			b = append(b, e)
			continue
		}
		switch {
		case c == 'x':
			v, n := digitRun(s[i:], 16, 2)
			if n == 0 {
				return nil, 0, xerrf("\\x escape without a following hex digit")
			}
			b = append(b, byte(v))
			i += n
		case c >= '0' && c <= '7':
			v, n := digitRun(s[i-1:], 8, 3)
			b = append(b, byte(v))
			i += n - 1
		default:
			b = append(b, c)
		}
	}
	if i >= len(s) {
		return nil, 0, xerrf("unterminated %c literal", q)
	}
	return b, i, nil
}

// xnode is a parsed expression.
type xnode struct {
	op   string // "num" "char" "str" "ident" "hist" "cast" "sizeof" "sizeoft" "unary-" ... "?:" "," "." "->" "[]" or a binary operator
	kids []*xnode
	tok  xtok
	t    *symbols.Type // a cast's or sizeof's type
	cpu  int           // an ident's CPU (name:cpu), -1 when none
}

// exprEnv evaluates expressions against a session.
type exprEnv struct {
	s     *Session
	ts    *symbols.Types
	bases map[string]*symbols.Type
	// readMem reads kernel virtual memory (the session's kernel; a test's
	// own memory).
	readMem func(p []byte, addr uint64) error
}

func newExprEnv(s *Session) (*exprEnv, error) {
	ts, err := s.types()
	if err != nil {
		return nil, err
	}
	return &exprEnv{s: s, ts: ts, bases: map[string]*symbols.Type{}, readMem: s.Kernel.ReadVirt}, nil
}

// cBases are the base types by the name an expression writes (after
// normalising the words), with GCC's DWARF name, size and encoding.
var cBases = map[string]struct {
	dwarf string
	size  int64
	enc   uint8
}{
	"char":               {"char", 1, symbols.EncSignedChar},
	"signed char":        {"signed char", 1, symbols.EncSignedChar},
	"unsigned char":      {"unsigned char", 1, symbols.EncUnsignedChar},
	"short":              {"short int", 2, symbols.EncSigned},
	"unsigned short":     {"short unsigned int", 2, symbols.EncUnsigned},
	"int":                {"int", 4, symbols.EncSigned},
	"unsigned int":       {"unsigned int", 4, symbols.EncUnsigned},
	"long":               {"long int", 8, symbols.EncSigned},
	"unsigned long":      {"long unsigned int", 8, symbols.EncUnsigned},
	"long long":          {"long long int", 8, symbols.EncSigned},
	"unsigned long long": {"long long unsigned int", 8, symbols.EncUnsigned},
	"_Bool":              {"_Bool", 1, symbols.EncBoolean},
	"float":              {"float", 4, symbols.EncFloat},
	"double":             {"double", 8, symbols.EncFloat},
}

// base returns the C base type called name (a key of cBases): the
// vmlinux's own, or one made to its measure when the vmlinux lacks it.
func (e *exprEnv) base(name string) *symbols.Type {
	if t, ok := e.bases[name]; ok {
		return t
	}
	b, ok := cBases[name]
	if !ok {
		return nil
	}
	var t *symbols.Type
	if e.ts != nil && e.ts.Defines(b.dwarf, symbols.KindBase) {
		if lt, err := e.ts.Lookup(b.dwarf); err == nil && lt.Kind == symbols.TypeBase {
			t = lt
		}
	}
	if t == nil {
		t = &symbols.Type{Kind: symbols.TypeBase, Name: b.dwarf, Size: b.size, Encoding: b.enc}
	}
	e.bases[name] = t
	return t
}

func (e *exprEnv) voidType() *symbols.Type {
	if e.ts != nil {
		if v := e.ts.Void(); v != nil {
			return v
		}
	}
	return &symbols.Type{Kind: symbols.TypeVoid, Name: "void", Size: -1}
}

func pointerTo(t *symbols.Type) *symbols.Type {
	return &symbols.Type{Kind: symbols.TypePointer, Target: t, Size: 8}
}

func arrayOf(t *symbols.Type, n int64) *symbols.Type {
	size := int64(-1)
	if es := t.Sizeof(); es >= 0 {
		size = es * n
	}
	return &symbols.Type{Kind: symbols.TypeArray, Target: t, Dims: []int64{n}, Size: size}
}

// xparser is a recursive-descent parser of C expressions.
type xparser struct {
	e    *exprEnv
	toks []xtok
	pos  int
	// tern counts the ?: whose ':' is still to come, where "name:cpu"
	// must not take that ':'.
	tern int
}

func (e *exprEnv) parse(src string) (*xnode, error) {
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, xerrf("an expression is required")
	}
	p := &xparser{e: e, toks: toks}
	n, err := p.comma()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, xerrf("syntax error in expression, near `%s'", p.rest())
	}
	return n, nil
}

func (p *xparser) peek() xtok { return p.toks[p.pos] }
func (p *xparser) next() xtok {
	t := p.toks[p.pos]
	if t.kind != 0 {
		p.pos++
	}
	return t
}
func (p *xparser) is(punct string) bool {
	t := p.peek()
	return t.kind == 'p' && t.text == punct
}
func (p *xparser) accept(punct string) bool {
	if p.is(punct) {
		p.pos++
		return true
	}
	return false
}
func (p *xparser) expect(punct string) error {
	if !p.accept(punct) {
		return xerrf("syntax error in expression, near `%s'", p.rest())
	}
	return nil
}
func (p *xparser) rest() string {
	var parts []string
	for _, t := range p.toks[p.pos:] {
		parts = append(parts, t.text)
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}

func (p *xparser) comma() (*xnode, error) {
	n, err := p.assign()
	for err == nil && p.accept(",") {
		var r *xnode
		if r, err = p.assign(); err == nil {
			n = &xnode{op: ",", kids: []*xnode{n, r}}
		}
	}
	return n, err
}

func (p *xparser) assign() (*xnode, error) {
	n, err := p.cond()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == 'p' && strings.HasSuffix(t.text, "=") && t.text != "==" && t.text != "!=" && t.text != "<=" && t.text != ">=" {
		return nil, xerrf("assignment is not supported: a dump is read-only")
	}
	return n, nil
}

func (p *xparser) cond() (*xnode, error) {
	c, err := p.binary(0)
	if err != nil || !p.accept("?") {
		return c, err
	}
	p.tern++
	a, err := p.comma()
	p.tern--
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	b, err := p.cond()
	if err != nil {
		return nil, err
	}
	return &xnode{op: "?:", kids: []*xnode{c, a, b}}, nil
}

// binPrec are C's binary operators by precedence, loosest first.
var binPrec = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<", ">", "<=", ">="}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

func (p *xparser) binary(level int) (*xnode, error) {
	if level == len(binPrec) {
		return p.unary()
	}
	n, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		found := false
		if t.kind == 'p' {
			for _, op := range binPrec[level] {
				if t.text == op {
					found = true
				}
			}
		}
		if !found {
			return n, nil
		}
		p.next()
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		n = &xnode{op: t.text, kids: []*xnode{n, r}}
	}
}

func (p *xparser) unary() (*xnode, error) {
	t := p.peek()
	if t.kind == 'p' {
		switch t.text {
		case "-", "+", "~", "!", "*", "&":
			p.next()
			k, err := p.unary()
			if err != nil {
				return nil, err
			}
			return &xnode{op: "u" + t.text, kids: []*xnode{k}}, nil
		case "++", "--":
			return nil, xerrf("%s is not supported: a dump is read-only", t.text)
		case "(":
			if p.startsType(p.pos + 1) {
				ty, err := p.parenType()
				if err != nil {
					return nil, err
				}
				k, err := p.unary()
				if err != nil {
					return nil, err
				}
				return &xnode{op: "cast", t: ty, kids: []*xnode{k}}, nil
			}
		}
	}
	if t.kind == 'i' && t.text == "sizeof" {
		p.next()
		if p.is("(") && p.startsType(p.pos+1) {
			ty, err := p.parenType()
			if err != nil {
				return nil, err
			}
			return &xnode{op: "sizeoft", t: ty}, nil
		}
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &xnode{op: "sizeof", kids: []*xnode{k}}, nil
	}
	return p.postfix()
}

// parenType reads a parenthesized type name, a cast's or sizeof's: "(",
// the type, ")".
func (p *xparser) parenType() (*symbols.Type, error) {
	p.next()
	ty, err := p.typeName()
	if err != nil {
		return nil, err
	}
	return ty, p.expect(")")
}

func (p *xparser) postfix() (*xnode, error) {
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.accept("."), p.is("->"):
			op := "."
			if p.accept("->") {
				op = "->"
			}
			m := p.next()
			if m.kind != 'i' {
				return nil, xerrf("syntax error in expression, near `%s'", m.text+" "+p.rest())
			}
			n = &xnode{op: op, kids: []*xnode{n}, tok: m}
		case p.accept("["):
			i, err := p.comma()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			n = &xnode{op: "[]", kids: []*xnode{n, i}}
		case p.is("("):
			return nil, xerrf("function calls are not supported in a dump")
		case p.is("++") || p.is("--"):
			return nil, xerrf("%s is not supported: a dump is read-only", p.peek().text)
		default:
			return n, nil
		}
	}
}

func (p *xparser) primary() (*xnode, error) {
	t := p.next()
	switch t.kind {
	case 'n':
		return &xnode{op: "num", tok: t}, nil
	case 'c':
		return &xnode{op: "char", tok: t}, nil
	case 's':
		for p.peek().kind == 's' { // "a" "b"
			t.str += p.next().str
		}
		return &xnode{op: "str", tok: t}, nil
	case 'h':
		return &xnode{op: "hist", tok: t}, nil
	case 'i':
		n := &xnode{op: "ident", tok: t, cpu: -1}
		if p.tern == 0 && p.is(":") {
			c := p.toks[p.pos+1]
			if c.kind == 'n' {
				p.pos += 2
				n.cpu = int(c.u)
			}
		}
		return n, nil
	case 'p':
		if t.text == "(" {
			n, err := p.comma()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return n, nil
		}
	case 0:
		return nil, xerrf("syntax error in expression: it ends too soon")
	}
	return nil, xerrf("syntax error in expression, near `%s'", t.text+" "+p.rest())
}

var typeWords = map[string]bool{"struct": true, "union": true, "enum": true, "const": true, "volatile": true,
	"signed": true, "unsigned": true, "short": true, "long": true, "int": true, "char": true, "void": true,
	"_Bool": true, "bool": true, "float": true, "double": true}

// startsType says whether the token at i begins a type name: a type
// keyword, or a typedef's name that is not also a variable's.
func (p *xparser) startsType(i int) bool {
	t := p.toks[i]
	if t.kind != 'i' {
		return false
	}
	if typeWords[t.text] {
		return true
	}
	return p.e.isTypedef(t.text)
}

func (e *exprEnv) isTypedef(name string) bool {
	if e.ts == nil || !e.ts.Defines(name, symbols.KindTypedef) {
		return false
	}
	return !e.ts.Defines(name, symbols.KindVariable, symbols.KindFunction)
}

// typeName parses a type name: specifiers and qualifiers, then an
// abstract declarator of '*'s, "(*)" and "[N]".
func (p *xparser) typeName() (*symbols.Type, error) {
	if p.e.ts == nil {
		return p.e.baseTypeName(p)
	}
	var words []string
	var t *symbols.Type
	for {
		tk := p.peek()
		if tk.kind != 'i' {
			break
		}
		switch tk.text {
		case "const", "volatile":
			p.next()
			continue
		case "struct", "union", "enum":
			if t != nil || len(words) > 0 {
				return nil, xerrf("syntax error in type, near `%s'", p.rest())
			}
			p.next()
			name := p.next()
			if name.kind != 'i' {
				return nil, xerrf("syntax error in type, near `%s'", p.rest())
			}
			lt, err := p.e.ts.Lookup(tk.text + " " + name.text)
			if err != nil {
				return nil, xerrf("No %s type named %s.", tk.text, name.text)
			}
			t = lt
			continue
		case "signed", "unsigned", "short", "long", "int", "char", "void", "_Bool", "bool", "float", "double":
			if t != nil {
				return nil, xerrf("syntax error in type, near `%s'", p.rest())
			}
			p.next()
			words = append(words, tk.text)
			continue
		}
		if t == nil && len(words) == 0 && p.e.isTypedef(tk.text) {
			p.next()
			lt, err := p.e.ts.Lookup(tk.text)
			if err != nil {
				return nil, xerrf("No symbol \"%s\" in current context.", tk.text)
			}
			t = lt
			continue
		}
		break
	}
	if t == nil {
		var err error
		if t, err = p.e.baseFromWords(words); err != nil {
			return nil, err
		}
	}
	return p.abstractDecl(t)
}

// baseTypeName parses a type name of base types only (no type
// information loaded).
func (e *exprEnv) baseTypeName(p *xparser) (*symbols.Type, error) {
	var words []string
	for p.peek().kind == 'i' && typeWords[p.peek().text] {
		w := p.next().text
		if w == "struct" || w == "union" || w == "enum" {
			return nil, xerrf("no type information: %s types are not known", w)
		}
		if w != "const" && w != "volatile" {
			words = append(words, w)
		}
	}
	t, err := e.baseFromWords(words)
	if err != nil {
		return nil, err
	}
	return p.abstractDecl(t)
}

// baseFromWords names the base type C's specifier words make.
func (e *exprEnv) baseFromWords(words []string) (*symbols.Type, error) {
	if len(words) == 0 {
		return nil, xerrf("a type name is required")
	}
	var unsigned, signed, short, char bool
	longs := 0
	other := ""
	for _, w := range words {
		switch w {
		case "unsigned":
			unsigned = true
		case "signed":
			signed = true
		case "short":
			short = true
		case "long":
			longs++
		case "char":
			char = true
		case "int":
		default:
			if other != "" {
				return nil, xerrf("invalid type: %s", strings.Join(words, " "))
			}
			other = w
		}
	}
	if other != "" {
		if len(words) > 1 {
			return nil, xerrf("invalid type: %s", strings.Join(words, " "))
		}
		switch other {
		case "void":
			return e.voidType(), nil
		case "bool":
			other = "_Bool"
		}
		return e.base(other), nil
	}
	name := "int"
	switch {
	case char:
		name = "char"
		if signed {
			name = "signed char"
		}
	case short:
		name = "short"
	case longs == 1:
		name = "long"
	case longs >= 2:
		name = "long long"
	}
	if unsigned {
		name = "unsigned " + name
	}
	return e.base(name), nil
}

func (p *xparser) abstractDecl(t *symbols.Type) (*symbols.Type, error) {
	for {
		if p.accept("*") {
			t = pointerTo(t)
			continue
		}
		if p.peek().kind == 'i' && (p.peek().text == "const" || p.peek().text == "volatile") {
			p.next()
			continue
		}
		break
	}
	// "(*)[N]": a pointer to an array.
	ptrs := 0
	if p.is("(") && p.toks[p.pos+1].kind == 'p' && p.toks[p.pos+1].text == "*" {
		p.next()
		for p.accept("*") {
			ptrs++
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if p.is("(") {
			return nil, xerrf("casts to function pointer types are not supported")
		}
	}
	var dims []int64
	for p.accept("[") {
		n := p.next()
		if n.kind != 'n' {
			return nil, xerrf("an array type needs a constant size")
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		dims = append(dims, int64(n.u))
	}
	for i := len(dims) - 1; i >= 0; i-- {
		t = arrayOf(t, dims[i])
	}
	for range ptrs {
		t = pointerTo(t)
	}
	return t, nil
}

// xval is an expression's value.
type xval struct {
	t *symbols.Type
	// lval: the value lives in kernel memory at addr.
	lval bool
	addr uint64
	// u is a scalar rvalue's bits (for a signed type, sign-extended).
	u uint64
	// data holds an rvalue that is not a scalar (a struct from the value
	// history), or a string literal's bytes.
	data []byte
	// bits is set for a bit-field member's value (read already into u).
	bits *symbols.Member
	// notype marks a symbol without debuginfo: ELF data ('d') or text ('t').
	notype byte
}

func (e *exprEnv) isInt(t *symbols.Type) bool {
	s := t.Strip()
	if s == nil {
		return false
	}
	switch s.Kind {
	case symbols.TypeBase:
		return s.Encoding != symbols.EncFloat
	case symbols.TypeEnum:
		return true
	}
	return false
}

func kindOf(t *symbols.Type) symbols.TypeKind {
	s := t.Strip()
	if s == nil {
		return symbols.TypeVoid
	}
	return s.Kind
}

// normalize normalises u to t's width, sign-extended for a signed type.
func normalize(u uint64, t *symbols.Type) uint64 {
	size := t.Sizeof()
	if size <= 0 || size >= 8 {
		return u
	}
	bits := uint(size * 8)
	u &= 1<<bits - 1
	if isSigned(t) {
		return uint64(signExtendBits(u, int(bits)))
	}
	return u
}

func (e *exprEnv) read(addr uint64, n int64) ([]byte, error) {
	if n < 0 {
		return nil, xerrf("the value has an incomplete type")
	}
	if n > 1<<24 {
		return nil, xerrf("the value is too large to read (%d bytes)", n)
	}
	b := make([]byte, n)
	if err := e.readMem(b, addr); err != nil {
		return nil, readError(addr, "gdb_readmem_callback", err)
	}
	return b, nil
}

// scalar loads a scalar value's bits.
func (e *exprEnv) scalar(v xval) (uint64, error) {
	if v.notype != 0 {
		return 0, xerrf("the symbol has unknown type; cast it to its declared type")
	}
	switch kindOf(v.t) {
	case symbols.TypeStruct, symbols.TypeUnion:
		return 0, xerrf("a struct or union is not a number")
	case symbols.TypeVoid:
		return 0, xerrf("a void value is not a number")
	case symbols.TypeArray, symbols.TypeFunc:
		if v.lval {
			return v.addr, nil
		}
		return 0, xerrf("the array is not in memory")
	}
	if s := v.t.Strip(); s.Kind == symbols.TypeBase && s.Encoding == symbols.EncFloat {
		return 0, xerrf("floating-point arithmetic is not supported")
	}
	if !v.lval {
		return v.u, nil
	}
	size := v.t.Sizeof()
	if size <= 0 || size > 8 {
		return 0, xerrf("cannot read a %d-byte value as a number", size)
	}
	b, err := e.read(v.addr, size)
	if err != nil {
		return 0, err
	}
	vp := valuePrinter{order: e.s.byteOrder()}
	return normalize(vp.uint(b), v.t), nil
}

// bytes gives the value's bytes (its type's size), read when it lives in
// memory.
func (e *exprEnv) bytes(v xval) ([]byte, error) {
	if v.data != nil {
		return v.data, nil
	}
	size := v.t.Sizeof()
	if v.lval && v.bits == nil {
		return e.read(v.addr, size)
	}
	if size < 0 || size > 8 {
		return nil, xerrf("the value has no bytes")
	}
	b := make([]byte, 8)
	e.s.byteOrder().PutUint64(b, v.u)
	if e.s.byteOrder().String() == "BigEndian" {
		return b[8-size:], nil
	}
	return b[:size], nil
}

// decay turns an array into a pointer to its first element and a
// function into a pointer to it.
func (e *exprEnv) decay(v xval) (xval, error) {
	switch kindOf(v.t) {
	case symbols.TypeArray:
		if !v.lval {
			return v, xerrf("the array is not in memory")
		}
		return xval{t: pointerTo(v.t.Strip().Element()), u: v.addr}, nil
	case symbols.TypeFunc:
		return xval{t: pointerTo(v.t), u: v.addr}, nil
	}
	return v, nil
}

// promote applies C's integer promotions: a type narrower than int
// becomes int.
func (e *exprEnv) promote(t *symbols.Type) *symbols.Type {
	if t.Sizeof() < 4 {
		return e.base("int")
	}
	if kindOf(t) == symbols.TypeEnum {
		if isSigned(t) || t.Sizeof() < 4 {
			return e.base("int")
		}
		return e.base("unsigned int")
	}
	return t
}

// common is the type of a binary operation's result on integer types a
// and b: C's usual arithmetic conversions.
func (e *exprEnv) common(a, b *symbols.Type) *symbols.Type {
	a, b = e.promote(a), e.promote(b)
	sa, sb := a.Sizeof(), b.Sizeof()
	ua, ub := !isSigned(a), !isSigned(b)
	size := max(sa, sb)
	unsigned := (sa == size && ua) || (sb == size && ub)
	switch {
	case size <= 4 && unsigned:
		return e.base("unsigned int")
	case size <= 4:
		return e.base("int")
	case unsigned:
		return e.base("unsigned long")
	}
	return e.base("long")
}

func (e *exprEnv) intVal(u uint64, t *symbols.Type) xval {
	return xval{t: t, u: normalize(u, t)}
}

func (e *exprEnv) boolVal(b bool) xval {
	if b {
		return xval{t: e.base("int"), u: 1}
	}
	return xval{t: e.base("int")}
}

func (e *exprEnv) truth(n *xnode) (bool, error) {
	v, err := e.eval(n)
	if err != nil {
		return false, err
	}
	if v, err = e.decay(v); err != nil {
		return false, err
	}
	if !e.isInt(v.t) && kindOf(v.t) != symbols.TypePointer {
		return false, xerrf("the value is not a number or pointer")
	}
	u, err := e.scalar(v)
	return u != 0, err
}

// eval evaluates n.
func (e *exprEnv) eval(n *xnode) (xval, error) {
	switch n.op {
	case "num":
		return e.intVal(n.tok.u, e.base(n.tok.t)), nil
	case "char":
		return e.intVal(n.tok.u, e.base("char")), nil
	case "str":
		data := append([]byte(n.tok.str), 0)
		return xval{t: arrayOf(e.base("char"), int64(len(data))), data: data}, nil
	case "hist":
		return e.history(n.tok.text)
	case "ident":
		return e.ident(n)
	case "cast":
		return e.cast(n)
	case "sizeoft":
		if n.t.Sizeof() < 0 {
			return xval{}, xerrf("sizeof of an incomplete type")
		}
		return xval{t: e.base("unsigned long"), u: uint64(n.t.Sizeof())}, nil
	case "sizeof":
		v, err := e.eval(n.kids[0])
		if err != nil {
			return xval{}, err
		}
		if v.notype != 0 {
			return xval{}, xerrf("the symbol has unknown type")
		}
		if v.t.Sizeof() < 0 {
			return xval{}, xerrf("sizeof of an incomplete type")
		}
		return xval{t: e.base("unsigned long"), u: uint64(v.t.Sizeof())}, nil
	case "u&":
		return e.addrOf(n.kids[0])
	case "u*":
		v, err := e.eval(n.kids[0])
		if err != nil {
			return xval{}, err
		}
		return e.deref(v)
	case "u-", "u+", "u~", "u!":
		return e.unaryOp(n)
	case ".", "->":
		v, err := e.eval(n.kids[0])
		if err != nil {
			return xval{}, err
		}
		if n.op == "->" {
			if v, err = e.decay(v); err != nil {
				return xval{}, err
			}
			if kindOf(v.t) != symbols.TypePointer {
				return xval{}, xerrf("The -> operator needs a pointer: %s is not one", symbols.TypeName(v.t))
			}
			if v, err = e.deref(v); err != nil {
				return xval{}, err
			}
		}
		return e.member(v, n.tok.text)
	case "[]":
		a, err := e.eval(n.kids[0])
		if err != nil {
			return xval{}, err
		}
		i, err := e.eval(n.kids[1])
		if err != nil {
			return xval{}, err
		}
		if k := kindOf(a.t); k == symbols.TypeArray && !a.lval && a.data != nil {
			return e.indexData(a, i)
		}
		if e.isInt(a.t) { // i[a]
			a, i = i, a
		}
		p, err := e.arith("+", a, i)
		if err != nil {
			return xval{}, err
		}
		return e.deref(p)
	case ",":
		if _, err := e.eval(n.kids[0]); err != nil {
			return xval{}, err
		}
		return e.eval(n.kids[1])
	case "?:":
		c, err := e.truth(n.kids[0])
		if err != nil {
			return xval{}, err
		}
		if c {
			return e.eval(n.kids[1])
		}
		return e.eval(n.kids[2])
	case "&&", "||":
		a, err := e.truth(n.kids[0])
		if err != nil {
			return xval{}, err
		}
		if n.op == "&&" && !a || n.op == "||" && a {
			return e.boolVal(a), nil
		}
		b, err := e.truth(n.kids[1])
		return e.boolVal(b), err
	}
	a, err := e.eval(n.kids[0])
	if err != nil {
		return xval{}, err
	}
	b, err := e.eval(n.kids[1])
	if err != nil {
		return xval{}, err
	}
	return e.arith(n.op, a, b)
}

func (e *exprEnv) history(tok string) (xval, error) {
	h := e.s.history
	last := len(h)
	var idx int
	switch {
	case tok == "$":
		idx = last
	case tok == "$$":
		idx = last - 1
	case strings.HasPrefix(tok, "$$"):
		n, err := strconv.Atoi(tok[2:])
		if err != nil {
			return xval{}, xerrf("invalid history reference %s", tok)
		}
		idx = last - n
	default:
		n, err := strconv.Atoi(tok[1:])
		if err != nil {
			return xval{}, xerrf("invalid history reference %s", tok)
		}
		idx = n
	}
	if last == 0 && (tok == "$" || tok == "$$") {
		return xval{}, xerrf("History is empty.")
	}
	if idx <= 0 || idx > last {
		if last == 0 {
			return xval{}, xerrf("History is empty.")
		}
		return xval{}, xerrf("History has not yet reached $%d.", idx)
	}
	return h[idx-1], nil
}

func (e *exprEnv) ident(n *xnode) (xval, error) {
	name := n.tok.text
	if e.ts == nil || e.s.Kernel == nil {
		return xval{}, xerrf("No symbol \"%s\" in current context.", name)
	}
	t, kind, err := e.s.objectType(e.ts, name)
	if err == nil {
		addr, aerr := e.symbolAddr(name)
		if aerr != nil {
			return xval{}, aerr
		}
		if n.cpu >= 0 {
			if !e.s.Kernel.IsPerCPU(addr) {
				return xval{}, xerrf("%s is not a per-CPU variable", name)
			}
			off, err := cpuOffset(e.s, n.cpu)
			if err != nil {
				return xval{}, err
			}
			addr += off
		}
		if kind == symbols.KindFunction {
			return xval{t: t, lval: true, addr: addr}, nil
		}
		return xval{t: t, lval: true, addr: addr}, nil
	}
	if !symbols.IsMissing(err) {
		return xval{}, err
	}
	if val, et, err := e.ts.Enumerator(name); err == nil {
		return xval{t: et, u: normalize(uint64(val), et)}, nil
	}
	// A symbol without debuginfo (an assembler label, a module's symbol;
	// without DWARF, a per-CPU variable BTF has no VAR for, 5.10's: its
	// instance on a CPU, runqueues:1, is read through a cast).
	if sym, ok := e.s.Kernel.Syms.Lookup(name); ok && (n.cpu < 0 || e.s.Kernel.IsPerCPU(sym.Addr)) {
		kind := byte('d')
		if sym.Type == 't' || sym.Type == 'T' || sym.Type == 'W' || sym.Type == 'w' {
			kind = 't'
		}
		addr := sym.Addr
		if n.cpu >= 0 {
			off, err := cpuOffset(e.s, n.cpu)
			if err != nil {
				return xval{}, err
			}
			addr += off
		}
		return xval{t: e.noDebugType(kind), lval: true, addr: addr, notype: kind}, nil
	}
	if n.cpu >= 0 {
		return xval{}, xerrf("No symbol \"%s\" in current context.", name)
	}
	for _, ms := range e.s.Kernel.ModuleSymbolsNamed(name) {
		kind := byte('d')
		if ms.Text {
			kind = 't'
		}
		return xval{t: e.noDebugType(kind), lval: true, addr: ms.Addr, notype: kind}, nil
	}
	return xval{}, xerrf("No symbol \"%s\" in current context.", name)
}

// noDebugType is gdb's type of a symbol it has no debuginfo for.
func (e *exprEnv) noDebugType(kind byte) *symbols.Type {
	if kind == 't' {
		return &symbols.Type{Kind: symbols.TypeBase, Name: "<text variable, no debug info>", Size: 1, Encoding: symbols.EncSigned}
	}
	return &symbols.Type{Kind: symbols.TypeBase, Name: "<data variable, no debug info>", Size: 4, Encoding: symbols.EncSigned}
}

func (e *exprEnv) symbolAddr(name string) (uint64, error) {
	a, err := e.s.Kernel.SymbolAddr(name)
	if err == nil {
		return a, nil
	}
	if ma, ok := e.s.Kernel.ModuleSymbolAddr(name); ok {
		return ma, nil
	}
	return 0, xerrf("No symbol \"%s\" in current context.", name)
}

func (e *exprEnv) cast(n *xnode) (xval, error) {
	v, err := e.eval(n.kids[0])
	if err != nil {
		return xval{}, err
	}
	to := n.t
	if v.notype != 0 && v.lval {
		// gdb reads a symbol without debuginfo as the type it is cast to.
		return xval{t: to, lval: true, addr: v.addr}, nil
	}
	switch kindOf(to) {
	case symbols.TypeVoid:
		return xval{t: to}, nil
	case symbols.TypeStruct, symbols.TypeUnion, symbols.TypeArray:
		if v.lval && v.t.Sizeof() == to.Sizeof() {
			return xval{t: to, lval: true, addr: v.addr}, nil
		}
		return xval{}, xerrf("Invalid cast.")
	case symbols.TypeFunc:
		return xval{}, xerrf("Invalid cast.")
	}
	if v, err = e.decay(v); err != nil {
		return xval{}, err
	}
	if !e.isInt(v.t) && kindOf(v.t) != symbols.TypePointer {
		return xval{}, xerrf("Invalid cast.")
	}
	if s := to.Strip(); s.Kind == symbols.TypeBase && s.Encoding == symbols.EncFloat {
		return xval{}, xerrf("floating-point casts are not supported")
	}
	u, err := e.scalar(v)
	if err != nil {
		return xval{}, err
	}
	if s := to.Strip(); s.Kind == symbols.TypeBase && s.Encoding == symbols.EncBoolean && u != 0 {
		u = 1
	}
	return xval{t: to, u: normalize(u, to)}, nil
}

func (e *exprEnv) addrOf(k *xnode) (xval, error) {
	v, err := e.eval(k)
	if err != nil {
		return xval{}, err
	}
	if v.bits != nil {
		return xval{}, xerrf("Attempt to take address of value not located in memory.")
	}
	if !v.lval {
		return xval{}, xerrf("Attempt to take address of value not located in memory.")
	}
	return xval{t: pointerTo(v.t), u: v.addr}, nil
}

// complete gives the definition of a struct, union or enum that t only
// declares (a pointer's target in a unit that did not define it), as gdb
// finds it by name.
func (e *exprEnv) complete(t *symbols.Type) *symbols.Type {
	s := t.Strip()
	if e.ts == nil || s == nil || !s.Decl || s.Name == "" {
		return t
	}
	kw := map[symbols.TypeKind]string{symbols.TypeStruct: "struct ", symbols.TypeUnion: "union ", symbols.TypeEnum: "enum "}[s.Kind]
	if kw == "" {
		return t
	}
	if full, err := e.ts.Lookup(kw + s.Name); err == nil && !full.Decl {
		return full
	}
	return t
}

func (e *exprEnv) deref(v xval) (xval, error) {
	if kindOf(v.t) == symbols.TypeFunc {
		return v, nil
	}
	if kindOf(v.t) == symbols.TypeArray {
		var err error
		if v, err = e.decay(v); err != nil {
			return xval{}, err
		}
	}
	if kindOf(v.t) != symbols.TypePointer {
		return xval{}, xerrf("Attempt to take contents of a non-pointer value.")
	}
	p, err := e.scalar(v)
	if err != nil {
		return xval{}, err
	}
	target := v.t.Strip().Target
	if target == nil || kindOf(target) == symbols.TypeVoid {
		return xval{}, xerrf("Attempt to take contents of a non-pointer value.")
	}
	return xval{t: e.complete(target), lval: true, addr: p}, nil
}

func (e *exprEnv) member(v xval, name string) (xval, error) {
	v.t = e.complete(v.t)
	k := kindOf(v.t)
	if k != symbols.TypeStruct && k != symbols.TypeUnion {
		return xval{}, xerrf("Attempt to extract a component of a value that is not a structure.")
	}
	m, err := v.t.Strip().MemberPath(name)
	if err != nil {
		if symbols.IsMissing(err) {
			return xval{}, xerrf("There is no member named %s.", name)
		}
		return xval{}, err
	}
	if m.BitSize != 0 {
		// A bit-field is read now: it has no address of its own.
		var data []byte
		if v.lval {
			size := (m.BitOffset%8 + m.BitSize + 7) / 8
			if data, err = e.read(v.addr+uint64(m.BitOffset/8), size); err != nil {
				return xval{}, err
			}
		} else {
			data = v.data[m.BitOffset/8:]
		}
		bm := m
		bm.BitOffset %= 8
		var u uint64
		for i := int64(0); i < bm.BitSize; i++ {
			bit := bm.BitOffset + i
			if bit/8 < int64(len(data)) {
				u |= uint64(data[bit/8]>>(bit%8)&1) << i
			}
		}
		if isSigned(m.Type) {
			u = uint64(signExtendBits(u, int(m.BitSize)))
		}
		return xval{t: m.Type, u: u, bits: &bm}, nil
	}
	if v.lval {
		return xval{t: m.Type, lval: true, addr: v.addr + uint64(m.Offset)}, nil
	}
	size := m.Type.Sizeof()
	if v.data == nil || size < 0 || m.Offset+size > int64(len(v.data)) {
		return xval{}, xerrf("the member is not in the value")
	}
	return e.fromBytes(m.Type, v.data[m.Offset:m.Offset+size]), nil
}

// fromBytes makes an rvalue of type t from its bytes.
func (e *exprEnv) fromBytes(t *symbols.Type, b []byte) xval {
	switch kindOf(t) {
	case symbols.TypeStruct, symbols.TypeUnion, symbols.TypeArray:
		return xval{t: t, data: b}
	}
	if len(b) > 8 {
		return xval{t: t, data: b}
	}
	vp := valuePrinter{order: e.s.byteOrder()}
	return xval{t: t, u: normalize(vp.uint(b), t)}
}

func (e *exprEnv) indexData(a, i xval) (xval, error) {
	iu, err := e.scalar(i)
	if err != nil {
		return xval{}, err
	}
	elem := a.t.Strip().Element()
	es := elem.Sizeof()
	if es <= 0 || int64(iu) < 0 || (int64(iu)+1)*es > int64(len(a.data)) {
		return xval{}, xerrf("no such vector element")
	}
	return e.fromBytes(elem, a.data[int64(iu)*es:(int64(iu)+1)*es]), nil
}

func (e *exprEnv) unaryOp(n *xnode) (xval, error) {
	v, err := e.eval(n.kids[0])
	if err != nil {
		return xval{}, err
	}
	if v, err = e.decay(v); err != nil {
		return xval{}, err
	}
	isPtr := kindOf(v.t) == symbols.TypePointer
	if !e.isInt(v.t) && !(isPtr && n.op == "u!") {
		return xval{}, xerrf("Argument to arithmetic operation not a number or boolean.")
	}
	u, err := e.scalar(v)
	if err != nil {
		return xval{}, err
	}
	if n.op == "u!" {
		return e.boolVal(u == 0), nil
	}
	t := e.promote(v.t)
	switch n.op {
	case "u-":
		u = -u
	case "u~":
		u = ^u
	}
	return e.intVal(u, t), nil
}

// arith applies a binary operator.
func (e *exprEnv) arith(op string, a, b xval) (xval, error) {
	var err error
	if a, err = e.decay(a); err != nil {
		return xval{}, err
	}
	if b, err = e.decay(b); err != nil {
		return xval{}, err
	}
	pa, pb := kindOf(a.t) == symbols.TypePointer, kindOf(b.t) == symbols.TypePointer
	ia, ib := e.isInt(a.t), e.isInt(b.t)
	if (!pa && !ia) || (!pb && !ib) {
		return xval{}, xerrf("Argument to arithmetic operation not a number or boolean.")
	}
	x, err := e.scalar(a)
	if err != nil {
		return xval{}, err
	}
	y, err := e.scalar(b)
	if err != nil {
		return xval{}, err
	}
	if pa || pb {
		return e.pointerArith(op, a, b, x, y)
	}
	t := e.common(a.t, b.t)
	if op == "<<" || op == ">>" {
		t = e.promote(a.t)
	}
	signed := isSigned(t)
	sx := int64(x)
	if !signed && t.Sizeof() == 4 {
		x, y = x&0xffffffff, y&0xffffffff
	}
	var r uint64
	switch op {
	case "+":
		r = x + y
	case "-":
		r = x - y
	case "*":
		r = x * y
	case "/", "%":
		if normalize(y, t) == 0 {
			return xval{}, xerrf("Division by zero")
		}
		switch {
		case signed && op == "/":
			r = uint64(int64(normalize(x, t)) / int64(normalize(y, t)))
		case signed:
			r = uint64(int64(normalize(x, t)) % int64(normalize(y, t)))
		case op == "/":
			r = x / y
		default:
			r = x % y
		}
	case "<<":
		r = x << y
	case ">>":
		if signed {
			r = uint64(sx >> y)
		} else {
			r = x >> y
		}
	case "&":
		r = x & y
	case "|":
		r = x | y
	case "^":
		r = x ^ y
	case "==", "!=", "<", ">", "<=", ">=":
		var c int
		if signed {
			c = cmp.Compare(int64(normalize(x, t)), int64(normalize(y, t)))
		} else {
			c = cmp.Compare(x, y)
		}
		return e.boolVal(compareResult(op, c)), nil
	default:
		return xval{}, xerrf("operator %s is not supported", op)
	}
	return e.intVal(r, t), nil
}

func compareResult(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	}
	return c >= 0
}

// pointerArith is + and - with a pointer (scaled by the pointee's size),
// the difference of two pointers (in elements) and their comparison.
func (e *exprEnv) pointerArith(op string, a, b xval, x, y uint64) (xval, error) {
	pa, pb := kindOf(a.t) == symbols.TypePointer, kindOf(b.t) == symbols.TypePointer
	scale := func(p xval) uint64 {
		sz := p.t.Strip().Target.Sizeof()
		if sz <= 0 {
			return 1 // void * and function pointers step by bytes, as gdb does
		}
		return uint64(sz)
	}
	switch op {
	case "+":
		if pa && pb {
			return xval{}, xerrf("Cannot add two pointers.")
		}
		if pb {
			a, b, x, y = b, a, y, x
		}
		return xval{t: a.t, u: x + y*scale(a)}, nil
	case "-":
		if pa && pb {
			sa, sb := a.t.Strip().Target.Sizeof(), b.t.Strip().Target.Sizeof()
			if sa != sb {
				return xval{}, xerrf("First argument of `-' is a pointer and second argument is neither\nan integer nor a pointer of the same type.")
			}
			return xval{t: e.base("long"), u: uint64(int64(x-y) / int64(scale(a)))}, nil
		}
		if pb {
			return xval{}, xerrf("Argument to arithmetic operation not a number or boolean.")
		}
		return xval{t: a.t, u: x - y*scale(a)}, nil
	case "==", "!=", "<", ">", "<=", ">=":
		return e.boolVal(compareResult(op, cmp.Compare(x, y))), nil
	case "&&", "||":
		return e.boolVal(op == "&&" && x != 0 && y != 0 || op == "||" && (x != 0 || y != 0)), nil
	}
	return xval{}, xerrf("Argument to arithmetic operation not a number or boolean.")
}

// evalExpr parses and evaluates a C expression.
func (s *Session) evalExpr(src string) (xval, *exprEnv, error) {
	e, err := newExprEnv(s)
	if err != nil {
		return xval{}, nil, err
	}
	n, err := e.parse(src)
	if err != nil {
		return xval{}, e, err
	}
	v, err := e.eval(n)
	return v, e, err
}

// exprAddress is the address a C expression gives.
func exprAddress(s *Session, expr string) (uint64, error) {
	v, e, err := s.evalExpr(expr)
	if err != nil {
		return 0, err
	}
	switch kindOf(v.t) {
	case symbols.TypeStruct, symbols.TypeUnion, symbols.TypeArray, symbols.TypeFunc:
		if v.lval {
			return v.addr, nil
		}
		return 0, xerrf("the expression's value has no address")
	}
	if v.notype != 0 {
		return v.addr, nil
	}
	if !e.isInt(v.t) && kindOf(v.t) != symbols.TypePointer {
		return 0, xerrf("the expression is not an address")
	}
	return e.scalar(v)
}
