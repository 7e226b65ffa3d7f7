package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gocrash/gocrash/kernel"
)

// Session is what a command runs against.
type Session struct {
	Kernel      *kernel.Kernel
	VmlinuxPath string
	DumpPaths   []string // one file, or the parts of a split dump
	Registry    *Registry
	Aliases     map[string]string // alias name -> command line
	context     uint64            // the task 'set' chose; 0: the task that panicked
	// Scroll sends a command's output through Pager when the session
	// runs at a terminal ('set scroll on|off'); Pager is empty otherwise.
	Scroll bool
	Pager  string
	// Output is how results are printed: crash's text, or JSON
	// ('gocrash --json', 'set output json|text').
	Output Output
	values int // p's value history count ($N)
	// history is p's value history: $1 is history[0].
	history []xval
	// disUD2Skip is dis -b's number of bytes skipped after a ud2.
	disUD2Skip int
	// modObjects are the module debuginfo objects mod -s and -S loaded,
	// in load order.
	modObjects []*loadedModObject
}

// Command is one gocrash command.
type Command struct {
	Name     string
	Aliases  []string
	Synopsis string   // "sys [-c [name|number]] ..."
	Summary  string   // one line for 'help'
	Help     string   // the description, may be several paragraphs
	Options  []Option // its options and arguments: documented, and parsed by ParseArgs
	Examples []string // command lines, each may be followed by sample output
	// RawArgs hands Run the words as typed, unparsed (in Args.Words):
	// for a command whose arguments are another command line (foreach,
	// alias).
	RawArgs bool
	// Expression marks a command whose arguments are a C expression: the
	// shell keeps the quotes of its 'c' and "string" literals.
	Expression bool
	// Results are zero values of the result types Run returns: docs/json.md
	// is generated from them.
	Results []Result
	// Run gathers the command's result. It may return a partial result
	// with an error: what was gathered is printed, then the error.
	Run func(ctx context.Context, s *Session, a *Args) (Result, error)
}

// UsageError is returned by a command for bad arguments.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Registry holds the commands by name.
type Registry struct {
	byName map[string]*Command
	list   []*Command
}

// builtins lists the constructors of every command; adding a command is a
// new file with its constructor and one line here.
func builtins() []func() *Command {
	return []func() *Command{
		sysCommand,
		helpCommand,
		logCommand,
		psCommand,
		vtopCommand,
		ptovCommand,
		kmemCommand,
		rdCommand,
		setCommand,
		aliasCommand,
		btCommand,
		foreachCommand,
		structCommand,
		unionCommand,
		whatisCommand,
		symCommand,
		pCommand,
		taskCommand,
		modCommand,
		disCommand,
		vmCommand,
		filesCommand,
		mountCommand,
		fuserCommand,
		swapCommand,
		pteCommand,
		btopCommand,
		ptobCommand,
		searchCommand,
		irqCommand,
		timerCommand,
		netCommand,
		devCommand,
		ipcsCommand,
		runqCommand,
		sigCommand,
		waitqCommand,
		machCommand,
		listCommand,
		treeCommand,
		pointerCommand,
		evalCommand,
		asciiCommand,
		repeatCommand,
		triageCommand,
	}
}

// NewRegistry returns a registry of the built-in commands.
func NewRegistry() *Registry {
	r := &Registry{byName: map[string]*Command{}}
	for _, mk := range builtins() {
		c := mk()
		r.list = append(r.list, c)
		r.byName[c.Name] = c
		for _, a := range c.Aliases {
			r.byName[a] = c
		}
	}
	sort.Slice(r.list, func(i, j int) bool { return r.list[i].Name < r.list[j].Name })
	return r
}

// Lookup finds a command by name or alias.
func (r *Registry) Lookup(name string) (*Command, bool) {
	c, ok := r.byName[name]
	return c, ok
}

// TakesExpression says whether the command named by word ("p", "p/x")
// takes a C expression (Command.Expression).
func (r *Registry) TakesExpression(word string) bool {
	c, ok := r.Lookup(word)
	if !ok {
		name, _, _ := strings.Cut(word, "/")
		c, ok = r.Lookup(name)
	}
	return ok && c.Expression
}

// Commands returns every command, sorted by name.
func (r *Registry) Commands() []*Command { return r.list }

// Exec runs one command line already split into words and returns what
// it gathered. Errors come back prefixed "CMD: " as crash prints them.
func (r *Registry) Exec(ctx context.Context, s *Session, words []string) (Result, error) {
	if len(words) == 0 {
		return nil, nil
	}
	if len(words[0]) > 1 && words[0][0] == '*' {
		// "*task_struct ADDR": crash's pointer-to short-cut.
		words = append([]string{"*", words[0][1:]}, words[1:]...)
	}
	c, ok := r.Lookup(words[0])
	format := ""
	if !ok {
		// "p/x expr": a command with a gdb format letter, for a command
		// that declares a "/x" spelling.
		if name, f, cut := strings.Cut(words[0], "/"); cut {
			if c, ok = r.Lookup(name); ok {
				if !c.takesFormat() {
					return nil, fmt.Errorf("%s: invalid format: /%s", c.Name, f)
				}
				format = f
			}
		}
	}
	if !ok && s != nil && s.isDataType(words[0]) {
		// "task_struct ADDR": crash's shorthand for struct (or union).
		kw := "struct"
		if s.isUnion(words[0]) {
			kw = "union"
		}
		c, ok = r.Lookup(kw)
		words = append([]string{kw}, words...)
	}
	if !ok {
		return nil, fmt.Errorf("%s: command not found", words[0])
	}
	var a *Args
	if c.RawArgs {
		a = &Args{Words: words[1:]}
	} else {
		var err error
		if a, err = ParseArgs(c.Options, words[1:]); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	a.Format = format
	if s != nil && s.Kernel != nil && s.Kernel.Dump != nil && s.Kernel.Dump.Live {
		s.Kernel.Refresh() // a running kernel: nothing cached survives a command
	}
	res, err := c.Run(ctx, s, a)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return res, fmt.Errorf("%s: interrupted", c.Name)
		}
		if p := prefixLines(c.Name, err); p != nil {
			return res, p
		}
		return res, fmt.Errorf("%s: %w", c.Name, err)
	}
	return res, nil
}

// takesFormat says whether c declares gdb's "/FMT" after its name (an
// option spelled "/x, -x").
func (c *Command) takesFormat() bool {
	for _, o := range c.Options {
		if strings.HasPrefix(o.Flag, "/") {
			return true
		}
	}
	return false
}

// Run runs one command line and writes its result as text.
func (r *Registry) Run(ctx context.Context, s *Session, words []string, out io.Writer) error {
	res, err := r.Exec(ctx, s, words)
	if res != nil {
		if werr := res.Text(out); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// WriteReference writes the Markdown command reference (docs/commands.md).
func (r *Registry) WriteReference(w io.Writer) {
	fmt.Fprintf(w, "# gocrash command reference\n\nGenerated from the command registry (`go run ./cmd/gocrash --gen-docs`); `help CMD` prints the same text.\n")
	for _, c := range r.list {
		fmt.Fprintf(w, "\n## %s\n\n%s\n\n```\n%s\n```\n\n%s\n", c.Name, c.Summary, c.Synopsis, strings.TrimSpace(c.Help))
		if len(c.Aliases) > 0 {
			fmt.Fprintf(w, "\nAliases: %s\n", strings.Join(c.Aliases, ", "))
		}
		if len(c.Options) > 0 {
			fmt.Fprintf(w, "\nOptions:\n\n")
			for _, o := range c.Options {
				fmt.Fprintf(w, "- `%s` — %s\n", o.Flag, o.Text)
			}
		}
		if len(c.Examples) > 0 {
			fmt.Fprintf(w, "\nExamples:\n\n```\n%s\n```\n", strings.Join(c.Examples, "\n"))
		}
	}
}
