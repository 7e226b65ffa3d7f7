// Command gocrash analyses Linux kernel crash dumps, answering crash's
// commands over a vmlinux with DWARF debuginfo and a dump file (or the dump
// alone: its kernel's kallsyms, BTF and ORC tables).
//
//	gocrash [-s] [-i FILE] VMLINUX DUMPFILE
//	gocrash [-s] [-i FILE] [VMLINUX]          (the running kernel)
package main

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/repl"
	"github.com/gocrash/gocrash/symbols"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `usage: gocrash [options] [VMLINUX] DUMPFILE [DUMPFILE...]
       gocrash [options] [VMLINUX]
       gocrash --log DUMPFILE [DUMPFILE...]
       gocrash [--json] triage DUMPFILE [DUMPFILE...] [VMLINUX]

Opens a Linux kernel crash dump with the kernel's debug vmlinux (the two
may be given in either order; each is recognized by its content) and runs
crash-style commands: from FILE (-i), then from standard input, with a
"gocrash> " prompt on a terminal. The files of a split dump
(makedumpfile --split) are given together. With no dump file, gocrash
inspects the running kernel through /proc/kcore (DUMPFILE may also be
/dev/mem or /dev/crash), read-only; with no vmlinux either, it finds the
running kernel's debug vmlinux by its build-id under /usr/lib/debug, /boot
or /lib/modules. A dump named without its vmlinux is opened with the
vmlinux of the build-id in its VMCOREINFO: found in those places, else in
debuginfod's client cache ($DEBUGINFOD_CACHE_PATH, else
$XDG_CACHE_HOME/debuginfod_client), else downloaded from the servers of
$DEBUGINFOD_URLS (space-separated) into that cache; with none found, gocrash
says so in one line and runs from the dump alone: the kernel's symbols
(kallsyms), types (BTF) and unwind tables (ORC) read from its memory, no
DWARF.

"gocrash triage DUMPFILE [VMLINUX]" prints the triage command's report of
the dump (text, or JSON with --json) and exits: 0, or 1 when the dump
cannot be opened or the report has no crash signature.

Options:
`

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("gocrash", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	silent := fs.BoolP("silent", "s", false, "do not print the banner and system summary at start")
	input := fs.StringP("input", "i", "", "run the commands in `FILE` first")
	showVersion := fs.Bool("version", false, "print the version and exit")
	genDocs := fs.String("gen-docs", "", "write the command reference (Markdown) to `FILE` and exit")
	genJSONDocs := fs.String("gen-json-docs", "", "write the JSON output's schema (Markdown) to `FILE` and exit")
	help := fs.BoolP("help", "h", false, "print this help")
	zeroExcluded := fs.Bool("zero_excluded", false, "read pages excluded from a filtered dump as zeros instead of failing")
	jsonOut := fs.Bool("json", false, "print each command's result as one line of JSON (docs/json.md) instead of crash's text")
	logOnly := fs.Bool("log", false, "print the kernel log of DUMPFILE and exit; needs no vmlinux (the layout comes from VMCOREINFO)")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "gocrash: %v; see gocrash --help\n", err)
		return 2
	}
	switch {
	case *help:
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, usage)
		fs.PrintDefaults()
		return 0
	case *showVersion:
		fmt.Fprintf(stdout, "gocrash %s\n", version)
		return 0
	case *genDocs != "":
		return writeDoc(*genDocs, commands.NewRegistry().WriteReference, stderr)
	case *genJSONDocs != "":
		return writeDoc(*genJSONDocs, commands.NewRegistry().WriteJSONSchema, stderr)
	}
	if *logOnly {
		return printLog(fs.Args(), *zeroExcluded, *jsonOut, stdout, stderr)
	}
	if fs.NArg() > 0 && fs.Arg(0) == "triage" && !fileExists(fs.Arg(0)) {
		return triage(fs.Args()[1:], *zeroExcluded, *jsonOut, stdout, stderr)
	}
	var vmlinuxPath string
	var dumpPaths []string
	var booted *kernel.DumpKernel // the kernel read from the dump's memory
	switch isImage := fs.NArg() == 1 && isKernelImageQuiet(fs.Arg(0)); {
	case fs.NArg() == 0 || isImage:
		// The running kernel: memory from /proc/kcore, and the vmlinux
		// named or found by the kernel's build-id.
		dumpPaths = []string{memory.KcorePath}
		if isImage {
			vmlinuxPath = fs.Arg(0)
		} else {
			p, err := findRunningVmlinux()
			if err != nil {
				fmt.Fprintf(stderr, "gocrash: %v\n", err)
				return 1
			}
			vmlinuxPath = p
		}
	default:
		var err error
		if vmlinuxPath, dumpPaths, err = sortFiles(fs.Args()); err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
		if vmlinuxPath == "" {
			// Dump files alone: the vmlinux by the dump's build-id.
			if vmlinuxPath, booted, err = dumpVmlinux(context.Background(), dumpPaths, stderr); err != nil {
				// None found: the kernel image from the dump's memory.
				fmt.Fprintf(stderr, "gocrash: %v; running from the dump alone (kallsyms and BTF from its memory, no DWARF)\n", err)
				vmlinuxPath = ""
			}
		}
	}
	sess, closeFn, err := open(vmlinuxPath, dumpPaths, *zeroExcluded, booted)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	defer closeFn()
	openNotices(sess, stderr)

	ctx := context.Background()
	if *jsonOut {
		// Nothing but the commands' JSON lines goes to stdout.
		sess.Output = commands.OutputJSON
	} else if !*silent {
		fmt.Fprintf(stdout, "gocrash %s\n\n", version)
		commands.SysSummary(sess).Text(stdout)
		fmt.Fprintln(stdout)
	}
	sh := &repl.Shell{Session: sess, Out: stdout, Err: stderr}
	if f, ok := stderr.(*os.File); ok {
		sh.Colour = repl.ColourWanted(term.IsTerminal(int(f.Fd())))
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(stdin.Fd())) && term.IsTerminal(int(f.Fd())) {
		// At a terminal, long output goes through the pager ('set scroll').
		sess.Pager = repl.DefaultPager()
		sess.Scroll = sess.Pager != ""
	}
	// Start-up files, then -i FILE, then standard input: at a prompt on a
	// terminal, else read to its end.
	for _, rc := range rcFiles() {
		if err := sh.RunFile(ctx, rc); repl.IsQuit(err) {
			return status(sh.Failed)
		} else if err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
		}
	}
	if *input != "" {
		err := sh.RunFile(ctx, *input)
		if repl.IsQuit(err) {
			return status(sh.Failed)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
	}
	if term.IsTerminal(int(stdin.Fd())) {
		if v := sess.Kernel.Vmlinux; v != nil {
			// The DWARF index (for struct, whatis, p) builds while the
			// user reads the banner; a command that needs it before it is
			// ready shows how far it has got.
			v.IndexProgress = indexProgress(v, stderr)
			v.PrebuildIndex()
		}
		if err := sh.Interactive(ctx, stdin); err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
	} else if err := sh.RunReader(ctx, stdin); err != nil && !repl.IsQuit(err) {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	return status(sh.Failed)
}

// writeDoc writes a generated document to path.
func writeDoc(path string, write func(io.Writer), stderr io.Writer) int {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	write(f)
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	return 0
}

// indexProgress returns a progress callback for the DWARF index scan that
// writes a status line on stderr (a terminal) while a command waits for it.
func indexProgress(v *symbols.Vmlinux, stderr io.Writer) func(done, total uint64) {
	if f, ok := stderr.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var mu sync.Mutex
	last, shown := -1, false
	return func(done, total uint64) {
		mu.Lock()
		defer mu.Unlock()
		pct := int(done * 100 / max(total, 1))
		if done >= total {
			if shown {
				fmt.Fprint(stderr, "\r\033[K")
				shown = false
			}
			return
		}
		if pct/5 != last/5 && v.IndexWaiting() {
			fmt.Fprintf(stderr, "\rgocrash: indexing the vmlinux's DWARF types: %d%%", pct)
			last, shown = pct, true
		}
	}
}

// rcFiles lists the start-up command files that exist: ~/.gocrashrc, then
// ./.gocrashrc.
func rcFiles() []string {
	var out []string
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, ".gocrashrc"))
	}
	out = append(out, ".gocrashrc")
	var exist []string
	for _, p := range out {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			exist = append(exist, p)
		}
	}
	return exist
}

func status(failed int) int {
	if failed > 0 {
		return 1
	}
	return 0
}

// sortFiles tells the vmlinux from the dump files by content: the vmlinux
// is the one ELF executable ("" when none is given); the others are the
// dump (several for a split dump), in the order given.
func sortFiles(args []string) (vmlinux string, dumps []string, err error) {
	for _, p := range args {
		isKernel, err := isKernelImage(p)
		if err != nil {
			return "", nil, err
		}
		switch {
		case !isKernel:
			dumps = append(dumps, p)
		case vmlinux != "":
			return "", nil, fmt.Errorf("both %s and %s are kernel images; one must be a dump", vmlinux, p)
		default:
			vmlinux = p
		}
	}
	if len(dumps) == 0 {
		return "", nil, fmt.Errorf("no dump file given, only the kernel image %s", vmlinux)
	}
	return vmlinux, dumps, nil
}

// isKernelImageQuiet is isKernelImage with errors read as "no".
func isKernelImageQuiet(p string) bool {
	ok, err := isKernelImage(p)
	return ok && err == nil
}

// isKernelImage reports whether p is an ELF executable (a vmlinux).
// A character device (/dev/mem, /dev/crash) is not read to find out: it
// is a dump.
func isKernelImage(p string) (bool, error) {
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && filepath.Clean(p) == memory.CrashDevPath {
			return false, fmt.Errorf("%s does not exist: crash's memory driver is not loaded (no misc device \"crash\")", p)
		}
		return false, err
	}
	if fi.Mode()&os.ModeCharDevice != 0 {
		return false, nil
	}
	if fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		// Reading it would wait for a writer.
		return false, fmt.Errorf("%s is a FIFO or socket, not a vmlinux or dump file", p)
	}
	r, err := os.Open(p)
	if err != nil {
		return false, err // permission denied, ...: say so, not what it is not
	}
	defer r.Close()
	var hdr [64]byte
	n, _ := io.ReadFull(r, hdr[:])
	if n < 4 || string(hdr[:4]) != elf.ELFMAG {
		return false, nil // not ELF at all: a dump, or nothing gocrash reads
	}
	if n < 18 {
		return false, fmt.Errorf("%s: ELF header cut short: the file is %d bytes", p, fi.Size())
	}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(hdr[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	if t := elf.Type(order.Uint16(hdr[16:])); t != elf.ET_EXEC && t != elf.ET_DYN {
		return false, nil // a core: the dump
	}
	// A kernel image by its header: if it does not read, say why here,
	// rather than take it for a dump.
	f, err := elf.NewFile(r)
	if err == nil {
		f.Close()
		return true, nil
	}
	if elf.Class(hdr[elf.EI_CLASS]) == elf.ELFCLASS64 && n == len(hdr) {
		shoff := order.Uint64(hdr[0x28:])
		shentsize, shnum := uint64(order.Uint16(hdr[0x3a:])), uint64(order.Uint16(hdr[0x3c:]))
		if end := shoff + shentsize*shnum; shoff < 1<<40 && end > uint64(fi.Size()) {
			return true, fmt.Errorf("%s: kernel image truncated: its section header table ends at byte %d, the file has %d", p, end, fi.Size())
		}
	}
	return true, fmt.Errorf("%s: kernel image with a corrupt ELF header or section table: %v", p, strings.TrimPrefix(err.Error(), "elf: "))
}

// open opens the session; booted, when not nil, is the dump already open
// with its kernel read from its memory (dumpVmlinux), used instead of
// reading them again.
func open(vmlinuxPath string, dumpPaths []string, zeroExcluded bool, booted *kernel.DumpKernel) (*commands.Session, func(), error) {
	var d *memory.Dump
	var err error
	if booted != nil {
		d = booted.Dump()
	} else if d, err = memory.OpenFiles(dumpPaths...); err != nil {
		return nil, nil, err
	}
	d.ZeroExcluded = zeroExcluded
	var v *symbols.Vmlinux
	switch {
	case vmlinuxPath == "" && booted != nil:
		v, err = booted.Vmlinux()
	case vmlinuxPath == "":
		v, err = kernel.DumpVmlinux(d)
	default:
		v, err = symbols.Open(vmlinuxPath)
	}
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	k, err := kernel.New(d, v)
	if err != nil {
		d.Close()
		v.Close()
		return nil, nil, err
	}
	s := &commands.Session{Kernel: k, VmlinuxPath: v.Path, DumpPaths: dumpPaths, Registry: commands.NewRegistry()}
	return s, func() { d.Close(); v.Close() }, nil
}

// printLog is gocrash --log: the dump's kernel log with no vmlinux (one may
// still be given), read through VMCOREINFO alone.
func printLog(args []string, zeroExcluded, jsonOut bool, stdout, stderr io.Writer) int {
	var dumps []string
	for _, a := range args {
		if k, err := isKernelImage(a); err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		} else if !k {
			dumps = append(dumps, a)
		}
	}
	if len(dumps) == 0 {
		fmt.Fprintln(stderr, "gocrash: --log needs a dump file")
		return 2
	}
	d, err := memory.OpenFiles(dumps...)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	defer d.Close()
	d.ZeroExcluded = zeroExcluded
	k, err := kernel.New(d, nil)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	s := &commands.Session{Kernel: k, DumpPaths: dumps, Registry: commands.NewRegistry()}
	format := commands.OutputText
	if jsonOut {
		format = commands.OutputJSON
	}
	if err := repl.RunOne(context.Background(), s, "log", []string{"log"}, stdout, format); err != nil {
		if !jsonOut {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
		}
		return 1
	}
	return 0
}

// fileExists reports whether p names a file (a dump named "triage" is a dump).
func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// triage is gocrash triage: the dump (its vmlinux named, or found by the
// dump's build-id), the triage report, and the exit status.
func triage(args []string, zeroExcluded, jsonOut bool, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "gocrash: triage needs a dump file")
		return 2
	}
	vmlinuxPath, dumpPaths, err := sortFiles(args)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	var booted *kernel.DumpKernel
	if vmlinuxPath == "" {
		if vmlinuxPath, booted, err = dumpVmlinux(context.Background(), dumpPaths, stderr); err != nil {
			if booted != nil {
				booted.Dump().Close()
			}
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
	}
	sess, closeFn, err := open(vmlinuxPath, dumpPaths, zeroExcluded, booted)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	defer closeFn()
	openNotices(sess, stderr)
	format := commands.OutputText
	if jsonOut {
		format = commands.OutputJSON
	}
	if err := repl.RunOne(context.Background(), sess, "triage", []string{"triage"}, stdout, format); err != nil {
		if !jsonOut {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
		}
		return 1
	}
	return 0
}

// openNotices prints, one line each, what the user should know about how
// the dump was opened: a fallback (Notice), a file cut short.
func openNotices(sess *commands.Session, stderr io.Writer) {
	d := sess.Kernel.Dump
	if d.Notice != "" {
		fmt.Fprintf(stderr, "gocrash: %s\n", d.Notice)
	}
	if d.Truncated != nil {
		fmt.Fprintf(stderr, "gocrash: WARNING: %s: %s\n", d.Path, d.Truncated)
	}
}
