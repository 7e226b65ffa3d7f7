package commands

import (
	"context"
	"fmt"
)

// pointerCommand is crash's "*": struct or union, whichever the name is,
// without the keyword ("*page ffffea0000000000", "* page ...").
func pointerCommand() *Command {
	return &Command{
		Name:     "*",
		Synopsis: "* (struct or union command arguments)",
		Summary:  "pointer-to short-cut",
		Help: `A short-cut for the struct and union commands: "*task_struct ADDR" is
"struct task_struct ADDR", "*thread_union ADDR" is "union thread_union
ADDR". It takes their options and arguments (see help struct).`,
		Examples: []string{"gocrash> *task_struct ffff8881003e8000", "gocrash> *list_head -l task_struct.tasks ffff8881003e8890"},
		Results:  []Result{&DataTypeResult{}},
		RawArgs:  true,
		Run: func(ctx context.Context, s *Session, a *Args) (Result, error) {
			if len(a.Words) == 0 {
				return nil, &UsageError{"a struct or union name is required"}
			}
			name := ""
			for _, w := range a.Words {
				if len(w) > 0 && w[0] != '-' {
					name = w
					break
				}
			}
			kw := "struct"
			if name != "" && s.isDataType(name) && s.isUnion(name) {
				kw = "union"
			}
			c, _ := s.Registry.Lookup(kw)
			args, err := ParseArgs(c.Options, a.Words)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", kw, err)
			}
			return c.Run(ctx, s, args)
		},
	}
}
