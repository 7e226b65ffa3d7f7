package commands

import (
	"fmt"
	"strings"
)

// Option documents one option or argument of a command, and is also what
// its command line is parsed by. Flag is how it is written: an option
// starts with '-' ("-k", "-16", "-C cpus": a second word names the value
// the option takes), anything else names a positional argument ("pid",
// "'regex'") and is documentation only. "/x, -x" lists spellings of one
// option; the one starting with '-' is parsed.
type Option struct {
	Flag string `json:"flag"`
	Text string `json:"text"`
}

// spec is an option as the parser reads it.
type spec struct {
	name  string // without the '-': "k", "16", "C"
	value bool   // takes a value
}

// spec parses o.Flag; ok is false for a positional argument.
func (o Option) spec() (spec, bool) {
	for _, spelling := range strings.Split(o.Flag, ",") {
		words := strings.Fields(spelling)
		if len(words) == 0 || len(words[0]) < 2 || words[0][0] != '-' {
			continue
		}
		return spec{name: words[0][1:], value: len(words) > 1}, true
	}
	return spec{}, false
}

// OptionFlags lists the options c declares, as typed ("-o", "-16"): what
// the parser accepts, for completion.
func (c *Command) OptionFlags() []string {
	var out []string
	for _, o := range c.Options {
		if sp, ok := o.spec(); ok {
			out = append(out, "-"+sp.name)
		}
	}
	return out
}

// Args is a command line parsed by its command's declared options.
type Args struct {
	// Words are the positional arguments, in order.
	Words []string
	// Format is gdb's format letters written after the command's name
	// ("x" of "p/x"), for a command that declares a "/x" spelling.
	Format string
	seen   []string            // the options given, in order (names)
	vals   map[string][]string // the values of options that take one
}

// Has reports whether option name ("k", "16") was given.
func (a *Args) Has(name string) bool {
	for _, n := range a.seen {
		if n == name {
			return true
		}
	}
	return false
}

// Value is the last value given to option name, and whether it was given.
func (a *Args) Value(name string) (string, bool) {
	v := a.vals[name]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// Values are all the values given to option name, in order.
func (a *Args) Values(name string) []string { return a.vals[name] }

// Last is whichever of names was given last ("" for none): for options
// that override each other, such as -x and -d.
func (a *Args) Last(names ...string) string {
	for i := len(a.seen) - 1; i >= 0; i-- {
		for _, n := range names {
			if a.seen[i] == n {
				return n
			}
		}
	}
	return ""
}

// Given lists which of names were given, each once, in the order of names.
func (a *Args) Given(names ...string) []string {
	var out []string
	for _, n := range names {
		if a.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// Exclusive fails when more than one of names was given.
func (a *Args) Exclusive(names ...string) error {
	if g := a.Given(names...); len(g) > 1 {
		return &UsageError{fmt.Sprintf("-%s are mutually exclusive", strings.Join(g, " and -"))}
	}
	return nil
}

// NoWords fails when positional arguments were given.
func (a *Args) NoWords() error {
	if len(a.Words) > 0 {
		return &UsageError{"invalid argument: " + a.Words[0]}
	}
	return nil
}

// ParseArgs reads words by the options declared in opts, as crash's getopt
// does: single-letter options may be grouped ("-sx"), an option that takes
// a value takes the rest of its word or the next word ("-c0", "-c 0"), a
// declared option of several characters ("-16") is matched whole, "--"
// ends the options, and options may come after positional words. A word
// of '-' and a digit that is not a declared option is a positional word (a
// negative number). An option that is not declared is a UsageError.
func ParseArgs(opts []Option, words []string) (*Args, error) {
	specs := map[string]spec{}
	for _, o := range opts {
		if s, ok := o.spec(); ok {
			specs[s.name] = s
		}
	}
	a := &Args{vals: map[string][]string{}}
	take := func(s spec, rest string, i *int) error {
		a.seen = append(a.seen, s.name)
		if !s.value {
			return nil
		}
		if rest == "" {
			if *i+1 >= len(words) {
				return &UsageError{fmt.Sprintf("-%s needs a value", s.name)}
			}
			*i++
			rest = words[*i]
		}
		a.vals[s.name] = append(a.vals[s.name], rest)
		return nil
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			a.Words = append(a.Words, words[i+1:]...)
			return a, nil
		case len(w) < 2 || w[0] != '-':
			a.Words = append(a.Words, w)
			continue
		}
		if s, ok := specs[w[1:]]; ok {
			if err := take(s, "", &i); err != nil {
				return nil, err
			}
			continue
		}
		if w[1] >= '0' && w[1] <= '9' {
			a.Words = append(a.Words, w)
			continue
		}
		for j := 1; j < len(w); j++ {
			s, ok := specs[w[j:j+1]]
			if !ok {
				return nil, &UsageError{"invalid option: -" + w[j:j+1]}
			}
			if s.value {
				if err := take(s, w[j+1:], &i); err != nil {
					return nil, err
				}
				break
			}
			if err := take(s, "", &i); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}
