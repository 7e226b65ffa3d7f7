package commands

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
)

func testSyms(addr uint64) (string, uint64, bool) {
	switch {
	case addr >= 0xffffffff81000000 && addr < 0xffffffff81000100:
		return "func", addr - 0xffffffff81000000, true
	case addr >= 0xffffffff82000000 && addr < 0xffffffff82000100:
		return "data", addr - 0xffffffff82000000, true
	}
	return "", 0, false
}

// TestDisX86 decodes known encodings into gdb's AT&T text.
func TestDisX86(t *testing.T) {
	const pc = 0xffffffff81000010
	for _, c := range []struct{ hex, want string }{
		{"0f1f440000", "nopl   0x0(%rax,%rax,1)"},
		{"55", "push   %rbp"},
		{"4889e5", "mov    %rsp,%rbp"},
		{"fa", "cli    "},
		{"4898", "cltq   "},
		{"c3", "ret    "},
		{"e8ebffffff", "call   0xffffffff81000000 <func>"},
		{"75f4", "jne    0xffffffff81000006 <func+6>"},
		{"83c8ff", "or     $0xffffffff,%eax"},
		{"48c7c7b9973a9c", "mov    $0xffffffff9c3a97b9,%rdi"},
		{"498b842488080000", "mov    0x888(%r12),%rax"},
		{"807c02ff0a", "cmpb   $0xa,-0x1(%rdx,%rax,1)"},
		{"8b05ea0f0001", "mov    0x1000fea(%rip),%eax        # 0xffffffff82001000"},
		{"8b05ea0f0000", "mov    0xfea(%rip),%eax        # 0xffffffff81001000"},
		{"8b05eaffff00", "mov    0xffffea(%rip),%eax        # 0xffffffff82000000 <data>"},
		{"f3ab", "rep stos %eax,%es:(%rdi)"},
		{"0f0b", "ud2    "},
		{"65488b1c25801b0100", "mov    %gs:0x11b80,%rbx"},
		{"06", "(bad)  "},
		{"6666666690", "data16 data16 data16 xchg %ax,%ax"},
		{"6690", "xchg   %ax,%ax"},
		{"f30f1efa", "endbr64 "},
		{"48ba400832b1ffffffff", "movabs $0xffffffffb1320840,%rdx"},
	} {
		b, _ := hex.DecodeString(c.hex)
		d := x86Decoder{}.decode(b, pc, testSyms)
		if d.text != c.want || d.len != len(b) {
			t.Errorf("%s: %q (%d bytes), want %q", c.hex, d.text, d.len, c.want)
		}
	}
}

// TestDisArm64 decodes known A64 encodings (little-endian words).
func TestDisArm64(t *testing.T) {
	const pc = 0xffff800008010010
	sym := func(addr uint64) (string, uint64, bool) {
		if addr >= 0xffff800008010000 && addr < 0xffff800008010100 {
			return "func", addr - 0xffff800008010000, true
		}
		return "", 0, false
	}
	for _, c := range []struct {
		word uint32
		want string
	}{
		{0xd503201f, "nop"},
		{0xd65f03c0, "ret"},
		{0x910003fd, "mov\tx29, sp"},
		{0x97fffffc, "bl\t0xffff800008010000 <func>"},
		{0x54ffff81, "b.ne\t0xffff800008010000 <func>  // b.any"},
		{0x52800021, "mov\tw1, #0x1                   \t// #1"},
		{0x12800000, "mov\tw0, #0xffffffff            \t// #-1"},
		{0x1a9f07e0, "cset\tw0, ne\t// ne = any"},
		{0xd503233f, "paciasp"},
		{0xd5384100, "mrs\tx0, sp_el0"},
		{0xd5033fdf, "isb"},
		{0xb8e00280, "ldaddal\tw0, w0, [x20]"},
		{0xf82032bf, "stset\tx0, [x21]"},
		{0x88e4fc02, "casal\tw4, w2, [x0]"},
		{0x48207c82, "casp\tx0, x1, x2, x3, [x4]"},
		{0xd503409f, "msr\ttco, #0x0"},
		{0xa9bf7bfd, "stp\tx29, x30, [sp, #-16]!"},
		{0x00000000, ".inst\t0x00000000 ; undefined"},
	} {
		b := []byte{byte(c.word), byte(c.word >> 8), byte(c.word >> 16), byte(c.word >> 24)}
		d := arm64Decoder{}.decode(b, pc, sym)
		if d.text != c.want || d.len != 4 {
			t.Errorf("%08x: %q, want %q", c.word, d.text, c.want)
		}
	}
}

// TestDisText checks crash's line shapes: labels, -x, -l, -u.
func TestDisText(t *testing.T) {
	in := []DisInstruction{
		{Address: 0xffffffff81000000, Function: "func", Text: "nopl   0x0(%rax,%rax,1) [FTRACE NOP]", Source: &DisSource{"a.c", 1}},
		{Address: 0xffffffff81000005, Function: "func", Offset: 5, Text: "jne    0xffffffff81000010 <func+16>", labels: []disLabel{{"func", 16}}, Source: &DisSource{"a.c", 1}},
		{Address: 0xffffffff81000007, Function: "func", Offset: 7, Text: "ret    ", Source: &DisSource{"b.h", 2}},
	}
	var b bytes.Buffer
	(&DisResult{Instructions: in}).Text(&b)
	want := "0xffffffff81000000 <func>:\tnopl   0x0(%rax,%rax,1) [FTRACE NOP]\n" +
		"0xffffffff81000005 <func+5>:\tjne    0xffffffff81000010 <func+16>\n" +
		"0xffffffff81000007 <func+7>:\tret    \n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	(&DisResult{Instructions: in, HexOffsets: true, Lines: true}).Text(&b)
	want = "a.c: 1\n0xffffffff81000000 <func>:\tnopl   0x0(%rax,%rax,1) [FTRACE NOP]\n" +
		"0xffffffff81000005 <func+0x5>:\tjne    0xffffffff81000010 <func+0x10>\n" +
		"b.h: 2\n0xffffffff81000007 <func+0x7>:\tret    \n"
	if b.String() != want {
		t.Errorf("-x -l text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	(&DisResult{User: true, Instructions: []DisInstruction{{Address: 0x400000, Text: "jg     0x400047"}}}).Text(&b)
	if want = "   0x400000:\tjg     0x400047\n"; b.String() != want {
		t.Errorf("-u text %q, want %q", b.String(), want)
	}
}

// TestDisDecodeStops: decoding stops at an unreadable byte with one
// error line and what was decoded before it.
func TestDisDecodeStops(t *testing.T) {
	text := []byte{0x55, 0x48, 0x89, 0xe5}
	read := func(p []byte, addr uint64) error {
		for i := range p {
			o := addr + uint64(i) - 0x1000
			if o >= uint64(len(text)) {
				return errUnreadable
			}
			p[i] = text[o]
		}
		return nil
	}
	ins, err := disDecode(context.Background(), x86Decoder{}, read, testSyms, 0x1000, 0, 5, 0)
	if len(ins) != 2 || err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%d instructions, error %v", len(ins), err)
	}
	if ins[1].Bytes != "4889e5" || ins[1].Address != 0x1001 {
		t.Errorf("second instruction %+v", ins[1])
	}
	if err.Error() != "cannot access memory at address 0x1004" {
		t.Errorf("error %q", err)
	}
}

type unreadable struct{}

func (unreadable) Error() string { return "unreadable" }

var errUnreadable error = unreadable{}

// TestDisArgs: bad arguments are one error line, never a panic.
func TestDisArgs(t *testing.T) {
	r := NewRegistry()
	s := &Session{}
	for _, line := range []string{"dis", "dis -r -f schedule", "dis -z schedule"} {
		_, err := r.Exec(context.Background(), s, strings.Fields(line))
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v", line, err)
		}
	}
}

func TestGCCClone(t *testing.T) {
	for in, want := range map[string]string{
		"finish_task_switch.isra.0":   "finish_task_switch",
		"panic_print_sys_info.part.0": "panic_print_sys_info",
		"foo.constprop.0.isra.0":      "foo",
		"__handle_sysrq.cold":         "__handle_sysrq.cold",
	} {
		if got := gccCloneSuffix.ReplaceAllString(in, ""); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}
