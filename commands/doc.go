// Package commands owns gocrash's commands: one file per command, each
// describing itself (name, synopsis, options, help text, examples) in a
// Command value that the Registry lists, so that dispatch, 'help' and the
// generated docs/commands.md cannot drift apart. Commands render through the
// shared printers in render.go.
package commands
