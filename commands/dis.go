package commands

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/arch"
)

func disCommand() *Command {
	return &Command{
		Name:     "dis",
		Synopsis: "dis [-rfludxs][-b [num]] [address | symbol | (expression)] [count]",
		Summary:  "disassemble",
		Help: `Disassembles the instructions at a text address given by value, symbol or
symbol+offset, from the dump's memory: the live kernel text, with its
alternatives, static keys and ftrace patches applied. A function named by
itself with no count is disassembled whole (from its start to its end, by
its ELF symbol size; in a module, to the next symbol); otherwise count
instructions (one by default) are shown. x86_64 is shown in gdb's AT&T
syntax, arm64 in gdb's A64 syntax, each line as crash prints it:
"ADDRESS <function+offset>:<TAB>instruction", with branch and call targets
and RIP-relative operands named by their symbols. An ftrace call site at a
function's start that the kernel turned into a 5-byte nop is marked
"[FTRACE NOP]".`,
		Options: []Option{
			{"-r", "reverse: from the start of the function up to and including the address (the last count instructions with a count)"},
			{"-f", "forward: from the address to the end of the function (the first count instructions with a count)"},
			{"-l", "show the source file and line before each group of instructions of one line"},
			{"-u", "the address is a user virtual address of the current context's task (-r and -l are ignored)"},
			{"-x", "show offsets in hexadecimal"},
			{"-d", "show offsets in decimal (the default)"},
			{"-s", "show the source file and line of the address, and its source when the file is on this machine"},
			{"-b", "[num]: the number of encoded bytes skipped after a BUG's ud2 instruction (x86_64); with no number, show it"},
			{"address | symbol", "the text address: hexadecimal, a symbol, symbol+offset, or (expression)"},
			{"count", "the number of instructions (default 1; a whole function for a symbol by itself)"},
		},
		Examples: []string{"gocrash> dis schedule 10", "gocrash> dis -r panic+101", "gocrash> dis -l sysrq_handle_crash", "gocrash> dis -x -f panic+700"},
		Results:  []Result{&DisResult{}, &DisSourceResult{}, Message{}},
		Run:      linesNeedDWARF(runDis),
	}
}

// DisResult is the instructions dis decoded, in address order.
type DisResult struct {
	// User: the addresses are user virtual addresses of the context task
	// (-u); they carry no symbols.
	User bool `json:"user"`
	// HexOffsets: the text shows offsets into functions in hexadecimal
	// (-x).
	HexOffsets bool `json:"hex_offsets"`
	// Lines: the text shows each instruction's source line before it when
	// it changes (-l).
	Lines        bool             `json:"lines"`
	Instructions []DisInstruction `json:"instructions"`
}

// DisInstruction is one decoded instruction.
type DisInstruction struct {
	Address Hex `json:"address"`
	// Function is the symbol the address is in, and Offset how far into it
	// ("" for a user address or an address no symbol covers).
	Function string `json:"function,omitempty"`
	Offset   uint64 `json:"offset"`
	// Module is the module whose text holds the address ("" for the
	// kernel image).
	Module string `json:"module,omitempty"`
	Bytes  string `json:"bytes"` // the encoding, in hexadecimal
	// Text is the instruction as gdb prints it: mnemonic, operands, and
	// the symbols of targets (with offsets in decimal; the text output
	// rewrites them for -x).
	Text string `json:"text"`
	// Target is the address a branch or call goes to, or a PC-relative
	// memory operand refers to.
	Target *Hex `json:"target,omitempty"`
	// Bad: the bytes do not decode to an instruction ("(bad)").
	Bad    bool       `json:"bad,omitempty"`
	Source *DisSource `json:"source,omitempty"`
	// symbol labels in Text, for -x's rewrite: where they are.
	labels []disLabel
}

// DisSource is a source file and line.
type DisSource struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// disLabel is a "<sym+off>" in an instruction's text: the position of the
// '+' offset and the offset, so that -x can print it in hexadecimal.
type disLabel struct {
	name string
	off  uint64
}

// DisSourceResult is -s: the source file and line of an address, and the
// source lines around it when the file is on this machine.
type DisSourceResult struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// Source are the listed lines, the address's line marked.
	Source []DisSourceLine `json:"source,omitempty"`
}

// DisSourceLine is one listed source line.
type DisSourceLine struct {
	Line   int    `json:"line"`
	Text   string `json:"text"`
	Marked bool   `json:"marked"` // the line of the address
}

func (r *DisSourceResult) Text(w io.Writer) error {
	t := &textWriter{w: w}
	t.printf("FILE: %s\nLINE: %d\n\n", r.File, r.Line)
	for _, l := range r.Source {
		mark := " "
		if l.Marked {
			mark = "*"
		}
		t.printf("%s%5d  %s\n", mark, l.Line, l.Text)
	}
	return t.err
}

func (r *DisResult) Text(w io.Writer) error {
	t := &textWriter{w: w}
	var last DisSource
	for _, in := range r.Instructions {
		if r.Lines && !r.User && in.Source != nil && *in.Source != last {
			t.printf("%s: %d\n", in.Source.File, in.Source.Line)
			last = *in.Source
		}
		t.println(disLine(in, r.User, r.HexOffsets))
	}
	return t.err
}

// disLine is one instruction as crash prints it.
func disLine(in DisInstruction, user, hexOff bool) string {
	text := in.Text
	if hexOff {
		for _, l := range in.labels {
			text = strings.Replace(text, fmt.Sprintf("<%s+%d>", l.name, l.off), fmt.Sprintf("<%s+%#x>", l.name, l.off), 1)
		}
	}
	switch {
	case user:
		return fmt.Sprintf("   0x%x:\t%s", uint64(in.Address), text)
	case in.Function == "":
		return fmt.Sprintf("0x%x:\t%s", uint64(in.Address), text)
	}
	return fmt.Sprintf("0x%x %s:\t%s", uint64(in.Address), disSymbol(in.Function, in.Offset, hexOff), text)
}

// disSymbol is "<name>" or "<name+off>", the offset in decimal or hex.
func disSymbol(name string, off uint64, hexOff bool) string {
	switch {
	case off == 0:
		return "<" + name + ">"
	case hexOff:
		return fmt.Sprintf("<%s+%#x>", name, off)
	}
	return fmt.Sprintf("<%s+%d>", name, off)
}

// disDecoded is one instruction as a decoder returns it.
type disDecoded struct {
	len    int
	text   string // gdb's spelling, targets symbolized
	target uint64
	hasTgt bool
	bad    bool
	labels []disLabel
}

// disSymbolizer names an address for a label: ok false for none.
type disSymbolizer func(addr uint64) (name string, off uint64, ok bool)

// disDecoder decodes one instruction of the architecture at pc.
type disDecoder interface {
	decode(b []byte, pc uint64, sym disSymbolizer) disDecoded
	maxLen() int
}

// decoderFor picks the decoder for the instruction set the architecture
// says its kernel runs.
func decoderFor(a arch.Arch) (disDecoder, error) {
	switch isaOf(a) {
	case arch.ISAX86_64:
		return x86Decoder{}, nil
	case arch.ISAA64:
		return arm64Decoder{}, nil
	case arch.ISAPPC64:
		return ppc64Decoder{}, nil
	case arch.ISAS390X:
		return s390xDecoder{}, nil
	}
	return nil, fmt.Errorf("dis is not supported on %s", a.Name())
}

// isaOf is the architecture's instruction set ("" when it has no
// disassembly).
func isaOf(a arch.Arch) arch.ISA {
	if d, ok := a.(arch.Disassembly); ok {
		return d.ISA()
	}
	return ""
}

// disRequest is what the command line asks for.
type disRequest struct {
	addr      uint64
	count     int  // 0: not given
	wholeFunc bool // a symbol by itself
	reverse   bool
	forward   bool
	user      bool
}

func runDis(ctx context.Context, s *Session, a *Args) (Result, error) {
	if s.Kernel == nil || s.Kernel.Vmlinux == nil {
		return nil, fmt.Errorf("no vmlinux: symbols are not available")
	}
	if err := a.Exclusive("r", "f"); err != nil {
		return nil, err
	}
	words := a.Words
	if a.Has("b") {
		if len(words) > 0 && isDecimal(words[0]) {
			n, _ := strconv.Atoi(words[0])
			s.disUD2Skip = n
			words = words[1:]
		} else if len(words) == 0 {
			return Message{fmt.Sprintf("encoded bytes being skipped after ud2a: %d", s.disUD2Skip)}, nil
		}
		if len(words) == 0 {
			return &DisResult{Instructions: []DisInstruction{}}, nil
		}
	}
	if len(words) == 0 {
		return nil, &UsageError{"an address or a symbol is required"}
	}
	req := disRequest{reverse: a.Has("r"), forward: a.Has("f"), user: a.Has("u")}
	arg := words[0]
	if strings.HasPrefix(arg, "(") && strings.HasSuffix(arg, ")") {
		arg = strings.TrimSpace(arg[1 : len(arg)-1])
	}
	if len(words) > 1 {
		n, err := strconv.ParseInt(words[1], 0, 64)
		if err != nil {
			return nil, fmt.Errorf("not a valid number: %s", words[1])
		}
		if n <= 0 {
			return nil, fmt.Errorf("invalid count argument: %s", words[1])
		}
		req.count = int(min(n, 1<<20))
	}
	if req.user {
		v, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid user virtual address: %s", arg)
		}
		req.addr = v
		req.reverse = false
		return disUser(ctx, s, req)
	}
	addr, whole, err := disAddress(s, arg)
	if err != nil {
		return nil, err
	}
	req.addr, req.wholeFunc = addr, whole && req.count == 0
	if a.Has("s") {
		return disSourceListing(s, arg, addr, req.count)
	}
	r, err := disKernel(ctx, s, req)
	if r != nil {
		r.HexOffsets = a.Last("x", "d") == "x"
		r.Lines = a.Has("l")
	}
	return r, err
}

func isDecimal(w string) bool {
	if w == "" {
		return false
	}
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// disAddress resolves the address argument: a symbol (of the kernel or of
// a module), symbol+offset, or a hexadecimal address. whole is true for a
// function named by itself.
func disAddress(s *Session, arg string) (addr uint64, whole bool, err error) {
	k := s.Kernel
	base, plus, hasOff := strings.Cut(arg, "+")
	if a, ok := k.TextSymbolAddr(base); ok {
		if !hasOff {
			return a, true, nil
		}
		off, err := strconv.ParseUint(plus, 0, 64)
		if err != nil {
			return 0, false, fmt.Errorf("invalid offset in %q", arg)
		}
		return a + off, false, nil
	}
	if sy, ok := k.Syms.Lookup(base); ok && !hasOff {
		return sy.Addr, false, nil
	}
	if !hasOff && !isHexWord(arg) {
		return 0, false, fmt.Errorf("symbol not found: %s", arg)
	}
	a, err := parseAddress(s, arg)
	if err != nil {
		return 0, false, err
	}
	return a, false, nil
}

func isHexWord(w string) bool {
	w = strings.TrimPrefix(w, "0x")
	_, err := strconv.ParseUint(w, 16, 64)
	return err == nil
}

// disKernel decodes kernel (or module) text as req asks.
func disKernel(ctx context.Context, s *Session, req disRequest) (*DisResult, error) {
	k := s.Kernel
	dec, err := decoderFor(k.Arch)
	if err != nil {
		return nil, err
	}
	// gdb names kernel and module addresses; per-CPU offsets, near zero,
	// it leaves bare: below the kernel's text (the kernel's half of the
	// address space on x86_64, arm64 and ppc64; s390x's kernel lies low).
	low := uint64(1 << 63)
	if t, ok := k.Syms.Addr("_text"); ok && t < low {
		low = t
	}
	sym := func(addr uint64) (string, uint64, bool) {
		if addr < low {
			return "", 0, false
		}
		return disSymbolize(s, addr)
	}
	r := &DisResult{Instructions: []DisInstruction{}}
	start, end, fnOK := k.FunctionBounds(req.addr)
	from, stop, limit := req.addr, uint64(0), req.count
	switch {
	case req.wholeFunc:
		if !fnOK {
			return nil, fmt.Errorf("%x: no function extent", req.addr)
		}
		stop, limit = end, 0
	case req.reverse || req.forward:
		if !fnOK {
			return nil, fmt.Errorf("%x: not in a function's text", req.addr)
		}
		from, stop, limit = start, end, 0
	default:
		if limit == 0 {
			limit = 1
		}
	}
	if !fnOK && !k.IsText(req.addr) {
		if _, _, ok := k.Symbolize(req.addr); !ok {
			return nil, fmt.Errorf("%x: no associated kernel symbol found", req.addr)
		}
	}
	read := func(p []byte, addr uint64) error { return k.ReadVirt(p, addr) }
	ins, err := disDecode(ctx, dec, read, sym, from, stop, limit, s.disUD2Skip)
	for i := range ins {
		in := &ins[i]
		in.Module = k.ModuleOf(uint64(in.Address))
		if name, off, ok := disSymbolize(s, uint64(in.Address)); ok {
			in.Function, in.Offset = name, off
		}
		if in.Offset == 0 && in.Function != "" || in.Offset == 4 && i > 0 && ins[i-1].Text == "endbr64" {
			if isaOf(k.Arch) == arch.ISAX86_64 && in.Text == "nopl   0x0(%rax,%rax,1)" && len(in.Bytes) == 10 {
				in.Text += " [FTRACE NOP]"
			}
		}
		if in.Module == "" {
			if file, line, lerr := k.Syms.LineForPC(uint64(in.Address)); lerr == nil {
				in.Source = &DisSource{File: file, Line: line}
			}
		}
	}
	switch {
	case req.reverse:
		n := 0
		for n < len(ins) && uint64(ins[n].Address) < req.addr {
			n++
		}
		if n < len(ins) {
			n++
		}
		ins = ins[:n]
		if req.count > 0 && len(ins) > req.count {
			ins = ins[len(ins)-req.count:]
		}
	case req.forward:
		n := 0
		for n < len(ins) && uint64(ins[n].Address) < req.addr {
			n++
		}
		ins = ins[n:]
		if req.count > 0 && len(ins) > req.count {
			ins = ins[:req.count]
		}
	}
	r.Instructions = ins
	if err != nil && (req.reverse && len(ins) > 0 && uint64(ins[len(ins)-1].Address) >= req.addr) {
		err = nil // the failure lies past what -r shows
	}
	return r, err
}

// disUser decodes user text of the context task.
func disUser(ctx context.Context, s *Session, req disRequest) (*DisResult, error) {
	k := s.Kernel
	dec, err := decoderFor(k.Arch)
	if err != nil {
		return nil, err
	}
	task, err := s.ContextTask()
	if err != nil {
		return nil, err
	}
	limit := req.count
	if limit == 0 {
		limit = 1
	}
	read := func(p []byte, addr uint64) error {
		if err := k.ReadUser(task, p, addr); err != nil {
			return fmt.Errorf("invalid user virtual address: %x", addr)
		}
		return nil
	}
	nosym := func(uint64) (string, uint64, bool) { return "", 0, false }
	ins, err := disDecode(ctx, dec, read, nosym, req.addr, 0, limit, 0)
	return &DisResult{User: true, Instructions: ins}, err
}

// disDecode decodes from addr: up to stop (when not 0) or limit
// instructions (when not 0). After a ud2, skip bytes are passed over (a
// BUG's inline data). It stops at the first unreadable byte, returning
// what it decoded and the error.
func disDecode(ctx context.Context, dec disDecoder, read func([]byte, uint64) error, sym disSymbolizer, addr, stop uint64, limit, skip int) ([]DisInstruction, error) {
	var out []DisInstruction
	buf := make([]byte, dec.maxLen())
	for (stop == 0 || addr < stop) && (limit == 0 || len(out) < limit) {
		if len(out)%256 == 255 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		n := dec.maxLen()
		if stop != 0 && stop-addr < uint64(n) {
			n = int(stop - addr)
		}
		b := buf[:n]
		if err := read(b, addr); err != nil {
			// Read what can be read: an instruction may end before the
			// unreadable page.
			m := 0
			for m < n && read(b[m:m+1], addr+uint64(m)) == nil {
				m++
			}
			if m == 0 {
				return out, disReadError(addr, err)
			}
			b = b[:m]
		}
		d := dec.decode(b, addr, sym)
		if d.len == 0 || d.len > len(b) {
			if len(b) < n {
				return out, disReadError(addr+uint64(len(b)), fmt.Errorf("unreadable"))
			}
			d.len = 1
		}
		in := DisInstruction{Address: Hex(addr), Bytes: hex.EncodeToString(b[:d.len]), Text: d.text, Bad: d.bad, labels: d.labels}
		if d.hasTgt {
			t := Hex(d.target)
			in.Target = &t
		}
		out = append(out, in)
		addr += uint64(d.len)
		if skip > 0 && d.text == "ud2" {
			addr += uint64(skip)
		}
	}
	if out == nil {
		out = []DisInstruction{}
	}
	return out, nil
}

func disReadError(addr uint64, err error) error {
	if strings.HasPrefix(err.Error(), "invalid user") {
		return err
	}
	return fmt.Errorf("cannot access memory at address 0x%x", addr)
}

// disSourceListing is -s: the file and line of addr, and the source from
// that line (count lines after it, else to the end of the function), when
// the file is on this machine.
func disSourceListing(s *Session, arg string, addr uint64, count int) (Result, error) {
	k := s.Kernel
	file, line, err := k.Syms.LineForPC(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: no source line information", arg)
	}
	r := &DisSourceResult{File: file, Line: line}
	data, rerr := os.ReadFile(file)
	if rerr != nil {
		return r, fmt.Errorf("%s: source code is not available", arg)
	}
	last := line + count
	if count == 0 {
		last = line + 10
		if start, end, ok := k.FunctionBounds(addr); ok && end > start {
			if _, l, err := k.Syms.LineForPC(end - 1); err == nil && l > line {
				last = l
			}
		}
	}
	lines := strings.Split(string(data), "\n")
	for n := max(1, line-5); n <= last && n <= len(lines); n++ {
		r.Source = append(r.Source, DisSourceLine{Line: n, Text: lines[n-1], Marked: n == line})
	}
	return r, nil
}

// disSymbolize names an address as crash's dis does: a module's own
// symbol, else the ELF symbol at or before it, the first by name of those
// sharing its address.
func disSymbolize(s *Session, addr uint64) (string, uint64, bool) {
	k := s.Kernel
	if k.ModuleOf(addr) != "" {
		return k.Symbolize(addr)
	}
	sy, off, ok := k.Syms.Nearest(addr)
	if _, _, named := k.Symbolize(addr); !ok || !named {
		return "", 0, false // past the kernel image: no label
	}
	syms := k.Syms.Symbols()
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr >= sy.Addr })
	if i < len(syms) && syms[i].Addr == sy.Addr {
		sy = syms[i]
	}
	name := sy.Name
	if sy.Type == 't' || sy.Type == 'T' || sy.Type == 'w' || sy.Type == 'W' {
		// gdb names code by its DWARF function where that starts at the
		// symbol: a GCC clone (.isra.0, .part.0, .constprop.0) by the
		// function it was cloned from. A .cold part starts past its
		// function and keeps its own name.
		name = gccCloneSuffix.ReplaceAllString(name, "")
	}
	return name, off, true
}

var gccCloneSuffix = regexp.MustCompile(`(\.(isra|part|constprop)\.\d+)+$`)
