package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// SyscallTable is sys -c.
type SyscallTable struct {
	Calls []SyscallRow `json:"syscalls"`
}

// SyscallRow is one sys_call_table entry.
type SyscallRow struct {
	Number   int    `json:"number"`
	Addr     Hex    `json:"addr"`
	Function string `json:"function"`
	File     string `json:"file,omitempty"` // as crash prints it: "../fs/read_write.c"
	Line     int    `json:"line,omitempty"`
}

func sysCalls(ctx context.Context, s *Session, spec string) (Result, error) {
	k := s.Kernel
	table, err := k.SysInfo().SyscallTable()
	if err != nil {
		return nil, err
	}
	if k.Syms == nil {
		return nil, fmt.Errorf("no vmlinux: the system call table needs its symbols")
	}
	syms := k.Syms.Symbols()
	ni, _ := k.Syms.Addr("sys_ni_syscall")
	// crash strips the build directory (what precedes "/kernel/" in
	// schedule's source file) and writes ".." in its place.
	build := ""
	if a, ok := k.Syms.Addr("schedule"); ok {
		if f, _, err := k.SourceLine(a); err == nil {
			if i := strings.Index(f, "/kernel/"); i >= 0 {
				build = f[:i]
			}
		}
	}
	number, isNum := -1, false
	if spec != "" {
		if n, err := strconv.ParseInt(spec, 0, 32); err == nil {
			number, isNum = int(n), true
		}
	}
	t := &SyscallTable{Calls: []SyscallRow{}}
	for i, addr := range table {
		if err := ctx.Err(); err != nil {
			return t, err
		}
		name, off, ok := k.Symbolize(addr)
		if !ok {
			continue
		}
		if off == 0 {
			// Of the aliases at one address (__do_sys_getpid,
			// __ia32_sys_getpid, __x64_sys_getpid) crash names the
			// first of its table, where local symbols come first.
			for j := sort.Search(len(syms), func(j int) bool { return syms[j].Addr >= addr }); j < len(syms) && syms[j].Addr == addr; j++ {
				if t := syms[j].Type; t == 't' {
					name = syms[j].Name
					break
				}
			}
		}
		if addr == ni {
			name = "sys_ni_syscall"
		}
		if isNum && i != number || spec != "" && !isNum && !strings.Contains(name, spec) {
			continue
		}
		row := SyscallRow{Number: i, Addr: Hex(addr), Function: name}
		j := sort.Search(len(syms), func(j int) bool { return syms[j].Addr > addr })
		if j < len(syms) && build != "" {
			for pc := addr; pc < syms[j].Addr && pc-addr < 4096; pc++ {
				f, line, err := k.SourceLine(pc)
				if err != nil {
					continue
				}
				if strings.HasSuffix(f, ".h") && strings.Contains(f, "include/") {
					continue
				}
				if strings.HasPrefix(f, build) {
					row.File, row.Line = ".."+f[len(build):], line
					break
				}
			}
		}
		t.Calls = append(t.Calls, row)
	}
	return t, nil
}

func (t *SyscallTable) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("NUM  SYSTEM CALL                FILE AND LINE NUMBER\n")
	for _, c := range t.Calls {
		tw.printf("%3d  %-26s ", c.Number, c.Function)
		if c.File != "" {
			tw.printf("%s: %d", c.File, c.Line)
		}
		tw.printf("\n")
	}
	return tw.err
}

// TaintInfo is sys -t.
type TaintInfo struct {
	Mask    Hex    `json:"tainted_mask"`
	Letters string `json:"letters"`
}

func sysTaint(s *Session) (Result, error) {
	k := s.Kernel
	mask, err := k.Tainted()
	if err != nil {
		return nil, err
	}
	flags, err := k.SysInfo().TaintFlags()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for i, f := range flags {
		switch {
		case i < 64 && mask>>i&1 != 0:
			b.WriteByte(f.True)
		case f.False != ' ' && f.False != '-' && f.False != 'G':
			b.WriteByte(f.False)
		}
	}
	return &TaintInfo{Mask: Hex(mask), Letters: b.String()}, nil
}

func (t *TaintInfo) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "TAINTED_MASK: %x  %s\n", uint64(t.Mask), t.Letters)
	return err
}

// DMIInfo is sys -i.
type DMIInfo struct {
	Strings []DMIField `json:"strings"`
	width   int
}

// DMIField is one DMI string.
type DMIField struct {
	Field string `json:"field"` // "" when enum dmi_field is not known
	Index int    `json:"index"`
	Value string `json:"value"`
}

func sysDMI(s *Session) (Result, error) {
	strs, width, err := s.Kernel.SysInfo().DMI()
	if err != nil && len(strs) == 0 {
		return nil, err
	}
	d := &DMIInfo{Strings: []DMIField{}, width: width}
	for _, x := range strs {
		d.Strings = append(d.Strings, DMIField{x.Field, x.Index, x.Value})
	}
	return d, err
}

func (d *DMIInfo) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, x := range d.Strings {
		if x.Field == "" {
			tw.printf("  dmi_ident[%d]: %s\n", x.Index, x.Value)
			continue
		}
		tw.printf("  %*s: %s\n", d.width, x.Field, x.Value)
	}
	return tw.err
}

// KernelConfig is sys config: the kernel's embedded configuration.
type KernelConfig struct {
	Lines []string `json:"lines"`
}

func sysConfig(s *Session) (Result, error) {
	cfg, err := s.Kernel.SysInfo().IKConfig()
	if symbols.IsMissing(err) {
		return nil, fmt.Errorf("kernel_config_data does not exist in this kernel")
	}
	if err != nil {
		return nil, err
	}
	c := &KernelConfig{Lines: []string{}}
	for _, ln := range strings.Split(cfg, "\n") {
		if strings.TrimSpace(ln) != "" {
			c.Lines = append(c.Lines, ln)
		}
	}
	return c, nil
}

func (c *KernelConfig) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for _, ln := range c.Lines {
		tw.println(ln)
	}
	return tw.err
}
