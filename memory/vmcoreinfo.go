package memory

import (
	"bufio"
	"strconv"
	"strings"
)

// VMCoreInfo is the kernel's VMCOREINFO note: "KEY=value" lines the kernel
// writes for dump tools (OSRELEASE, PAGESIZE, SYMBOL(name), OFFSET(s.m),
// SIZE(s), LENGTH(a), NUMBER(n), KERNELOFFSET, CRASHTIME, ...).
type VMCoreInfo struct {
	Raw  string            // the note's text as stored
	Keys map[string]string // every KEY=value line, in raw form
}

// ParseVMCoreInfo parses VMCOREINFO text. Lines without '=' are ignored;
// a NUL ends the text.
func ParseVMCoreInfo(text []byte) *VMCoreInfo {
	if i := strings.IndexByte(string(text), 0); i >= 0 {
		text = text[:i]
	}
	v := &VMCoreInfo{Raw: string(text), Keys: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(v.Raw))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		k, val, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			continue
		}
		v.Keys[k] = val
	}
	return v
}

// String returns the value of key and whether it is present.
func (v *VMCoreInfo) String(key string) (string, bool) {
	if v == nil {
		return "", false
	}
	s, ok := v.Keys[key]
	return s, ok
}

// OSRelease is the OSRELEASE value ("6.1.0-26-amd64"), or "".
func (v *VMCoreInfo) OSRelease() string { s, _ := v.String("OSRELEASE"); return s }

// BuildID is the BUILD-ID value (hex), or "".
func (v *VMCoreInfo) BuildID() string { s, _ := v.String("BUILD-ID"); return s }

// PageSize is PAGESIZE, or 0 when absent.
func (v *VMCoreInfo) PageSize() uint64 {
	n, ok := v.decimal("PAGESIZE")
	if !ok {
		return 0
	}
	return uint64(n)
}

// Symbol returns SYMBOL(name), a hexadecimal address.
func (v *VMCoreInfo) Symbol(name string) (uint64, bool) { return v.hex("SYMBOL(" + name + ")") }

// Size returns SIZE(name), a decimal size in bytes.
func (v *VMCoreInfo) Size(name string) (int64, bool) { return v.decimal("SIZE(" + name + ")") }

// Offset returns OFFSET(struct.member), a decimal byte offset.
func (v *VMCoreInfo) Offset(name string) (int64, bool) { return v.decimal("OFFSET(" + name + ")") }

// Length returns LENGTH(name), a decimal element count.
func (v *VMCoreInfo) Length(name string) (int64, bool) { return v.decimal("LENGTH(" + name + ")") }

// Number returns NUMBER(name). The kernel prints these with %ld, so they
// may be negative (NUMBER(phys_base) is on some machines); a few architectures
// print hexadecimal with a 0x prefix, which is accepted too.
func (v *VMCoreInfo) Number(name string) (int64, bool) { return v.decimal("NUMBER(" + name + ")") }

// KernelOffset returns KERNELOFFSET (hexadecimal, no prefix): the KASLR slide.
func (v *VMCoreInfo) KernelOffset() (uint64, bool) { return v.hex("KERNELOFFSET") }

// CrashTime returns CRASHTIME, the seconds since the epoch when the kernel
// crashed; only kdump captures have it.
func (v *VMCoreInfo) CrashTime() (int64, bool) { return v.decimal("CRASHTIME") }

func (v *VMCoreInfo) hex(key string) (uint64, bool) {
	s, ok := v.String(key)
	if !ok {
		return 0, false
	}
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	n, err := strconv.ParseUint(s, 16, 64)
	return n, err == nil
}

func (v *VMCoreInfo) decimal(key string) (int64, bool) {
	s, ok := v.String(key)
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		n, err := strconv.ParseUint(s[2:], 16, 64)
		return int64(n), err == nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Values above MaxInt64 printed with %lu.
		u, err2 := strconv.ParseUint(s, 10, 64)
		return int64(u), err2 == nil
	}
	return n, true
}
