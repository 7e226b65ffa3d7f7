package symbols

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// rela is one Elf64_Rela.
func rela(off uint64, sym uint32, typ uint32, addend int64) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint64(b, off)
	binary.LittleEndian.PutUint64(b[8:], uint64(sym)<<32|uint64(typ))
	binary.LittleEndian.PutUint64(b[16:], uint64(addend))
	return b
}

func TestApplyRela(t *testing.T) {
	// Symbol 1: a section symbol of section 3 (.text, placed at
	// 0xffffffffc0558000); 2: a variable at 0x10 of section 5 (.data, at
	// 0xffffffffc055a000); 3: a section symbol of the non-allocated
	// section 7 (.debug_str); 4: an undefined kernel symbol.
	syms := []elf.Symbol{
		{Section: 3, Info: byte(elf.STT_SECTION)},
		{Name: "gocrash_list", Section: 5, Value: 0x10, Info: byte(elf.STT_OBJECT)},
		{Section: 7, Info: byte(elf.STT_SECTION)},
		{Name: "jiffies", Section: elf.SHN_UNDEF},
	}
	bases := map[int]uint64{3: 0xffffffffc0558000, 5: 0xffffffffc055a000}
	undefined := func(name string) (uint64, bool) { return 0xffffffff8e405000, name == "jiffies" }
	sec := make([]byte, 32)
	var r []byte
	r = append(r, rela(0, 1, rX866464, 0x2e)...)
	r = append(r, rela(8, 2, rX866464, 0)...)
	r = append(r, rela(16, 3, rX866432, 0x1234)...)
	r = append(r, rela(20, 4, rX866432S, 8)...)
	r = append(r, rela(24, 0, rX8664None, 0)...)
	if err := applyRela(elf.EM_X86_64, binary.LittleEndian, sec, r, syms, bases, undefined); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if v := le.Uint64(sec); v != 0xffffffffc055802e {
		t.Errorf("R_X86_64_64 to .text+0x2e: %#x", v)
	}
	if v := le.Uint64(sec[8:]); v != 0xffffffffc055a010 {
		t.Errorf("R_X86_64_64 to gocrash_list: %#x", v)
	}
	if v := le.Uint32(sec[16:]); v != 0x1234 {
		t.Errorf("R_X86_64_32 to .debug_str+0x1234: %#x", v)
	}
	if v := le.Uint32(sec[20:]); v != 0x8e405008 {
		t.Errorf("R_X86_64_32S to jiffies+8: %#x", v)
	}
	// A 32-bit relocation that does not fit, one past the section, an
	// unknown type and an unresolved symbol fail.
	for name, bad := range map[string][]byte{
		"32 overflow":   rela(0, 1, rX866432, 0),
		"past the end":  rela(28, 1, rX866464, 0),
		"unknown type":  rela(0, 1, 2, 0), // R_X86_64_PC32
		"undefined sym": rela(0, 4, rX866464, 0),
	} {
		u := undefined
		if name == "undefined sym" {
			u = nil
		}
		if err := applyRela(elf.EM_X86_64, le, make([]byte, 32), bad, syms, bases, u); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// arm64's absolute relocations.
	sec = make([]byte, 12)
	r = append(rela(0, 2, rAArch64Abs64, 4), rela(8, 3, rAArch64Abs32, 0x40)...)
	if err := applyRela(elf.EM_AARCH64, le, sec, r, syms, bases, nil); err != nil {
		t.Fatal(err)
	}
	if le.Uint64(sec) != 0xffffffffc055a014 || le.Uint32(sec[8:]) != 0x40 {
		t.Errorf("arm64: % x", sec)
	}
}

func TestReadModuleObjectRejects(t *testing.T) {
	if _, err := ReadModuleObject("x", []byte("not an elf file at all, long enough")); err == nil {
		t.Error("not an ELF: no error")
	}
	if _, err := decompressObject("x.ko.xz", []byte("\xfd7zXZ\x00rest")); err == nil {
		t.Error("xz: no error")
	}
}

// TestDecompressObject: xz, gzip and zstd streams give the object back,
// told apart by content; a corrupt stream is an error.
func TestDecompressObject(t *testing.T) {
	want := bytes.Repeat([]byte("\x7fELF module bytes "), 500)
	var xb, gb, zb bytes.Buffer
	xw, err := xz.NewWriter(&xb)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(want)
	xw.Close()
	gw := gzip.NewWriter(&gb)
	gw.Write(want)
	gw.Close()
	zw, _ := zstd.NewWriter(&zb)
	zw.Write(want)
	zw.Close()
	for name, in := range map[string][]byte{"m.ko.xz": xb.Bytes(), "m.ko.gz": gb.Bytes(), "m.ko.zst": zb.Bytes(), "m.ko": want} {
		got, err := decompressObject(name, in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", name, len(got), err)
		}
	}
	cut := xb.Bytes()[:xb.Len()/2]
	if _, err := decompressObject("cut.ko.xz", cut); err == nil {
		t.Error("a cut xz stream: no error")
	}
}
