// Package commands owns gocrash's commands: one file per command, each
// describing itself (name, synopsis, options, help text, examples, result
// types) in a Command value that the Registry lists, so that dispatch,
// option parsing (options.go), 'help', completion and the generated
// docs/commands.md and docs/json.md cannot drift apart. A command gathers a
// typed Result from the kernel model; the Result prints crash's text, and
// its fields are its JSON form (result.go, render.go). Task arguments go
// through one selector (selector.go). Commands also keep the session's
// state: the context task, aliases, the output format, the module
// debuginfo objects loaded with mod -s.
package commands
