// Command gocrash analyses Linux kernel crash dumps, answering crash's
// commands over a vmlinux with DWARF debuginfo and a dump file.
//
//	gocrash [-s] [-i FILE] VMLINUX DUMPFILE
package main

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

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

const usage = `usage: gocrash [options] VMLINUX DUMPFILE

Opens a Linux kernel crash dump with the kernel's debug vmlinux (the two
may be given in either order; each is recognized by its content) and runs
crash-style commands: from FILE (-i), then from standard input, with a
"gocrash> " prompt on a terminal.

Options:
`

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("gocrash", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	silent := fs.BoolP("silent", "s", false, "do not print the banner and system summary at start")
	input := fs.StringP("input", "i", "", "run the commands in `FILE` first")
	showVersion := fs.Bool("version", false, "print the version and exit")
	genDocs := fs.String("gen-docs", "", "write the command reference (Markdown) to `FILE` and exit")
	help := fs.BoolP("help", "h", false, "print this help")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
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
		f, err := os.Create(*genDocs)
		if err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
		commands.NewRegistry().WriteReference(f)
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
		return 0
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "gocrash: expected a vmlinux and a dump file, got %d argument(s); see gocrash --help\n", fs.NArg())
		return 2
	}
	vmlinuxPath, dumpPath, err := orderFiles(fs.Arg(0), fs.Arg(1))
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	sess, closeFn, err := open(vmlinuxPath, dumpPath)
	if err != nil {
		fmt.Fprintf(stderr, "gocrash: %v\n", err)
		return 1
	}
	defer closeFn()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if !*silent {
		fmt.Fprintf(stdout, "gocrash %s\n\n", version)
		commands.SysSummary(sess).Render(stdout)
		fmt.Fprintln(stdout)
	}
	failed := 0
	opts := repl.Options{Out: stdout, Err: stderr}
	if *input != "" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(stderr, "gocrash: %v\n", err)
			return 1
		}
		res := repl.Run(ctx, sess, f, opts)
		f.Close()
		failed += res.Failed
		if res.Quit {
			return status(failed)
		}
	}
	if term.IsTerminal(int(stdin.Fd())) {
		opts.Prompt = "gocrash> "
	}
	res := repl.Run(ctx, sess, stdin, opts)
	failed += res.Failed
	return status(failed)
}

func status(failed int) int {
	if failed > 0 {
		return 1
	}
	return 0
}

// orderFiles tells the vmlinux from the dump by content: the vmlinux is an
// ELF executable, the dump anything else.
func orderFiles(a, b string) (vmlinux, dump string, err error) {
	isKernel := func(p string) (bool, error) {
		f, err := elf.Open(p)
		if err != nil {
			var fe *elf.FormatError
			if errors.As(err, &fe) {
				return false, nil
			}
			if _, statErr := os.Stat(p); statErr != nil {
				return false, statErr
			}
			return false, nil
		}
		defer f.Close()
		return f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN, nil
	}
	ka, err := isKernel(a)
	if err != nil {
		return "", "", err
	}
	kb, err := isKernel(b)
	if err != nil {
		return "", "", err
	}
	switch {
	case ka && !kb:
		return a, b, nil
	case kb && !ka:
		return b, a, nil
	case ka && kb:
		return "", "", fmt.Errorf("both %s and %s are kernel images; one must be a dump", a, b)
	}
	return "", "", fmt.Errorf("neither %s nor %s is a kernel image (vmlinux)", a, b)
}

func open(vmlinuxPath, dumpPath string) (*commands.Session, func(), error) {
	d, err := memory.Open(dumpPath)
	if err != nil {
		return nil, nil, err
	}
	v, err := symbols.Open(vmlinuxPath)
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
	s := &commands.Session{Kernel: k, VmlinuxPath: vmlinuxPath, DumpPath: dumpPath, Registry: commands.NewRegistry()}
	return s, func() { d.Close(); v.Close() }, nil
}
