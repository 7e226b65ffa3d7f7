// Package corpustest opens the corpus's dumps for the tests with no
// vmlinux: the kernel image made from the dump's memory (kallsyms, BTF,
// ORC), both closed when the test ends. (internal/corpus, which the
// kernel's own tests use, cannot import the kernel.)
package corpustest

import (
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// FromDump opens f's dump and makes the kernel image from its memory; a
// dump that cannot be opened fails the test, an image that cannot be
// made is DumpVmlinux's error.
func FromDump(t testing.TB, f corpus.File) (*memory.Dump, *symbols.Vmlinux, error) {
	t.Helper()
	d, err := memory.OpenFiles(f.Paths()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	v, err := kernel.DumpVmlinux(d)
	if err != nil {
		return d, nil, err
	}
	t.Cleanup(func() { v.Close() })
	return d, v, nil
}

// DumpKernel is the kernel of f's dump bound to the image from its memory
// (FromDump); the test fails when it cannot be made.
func DumpKernel(t testing.TB, f corpus.File) *kernel.Kernel {
	t.Helper()
	d, v, err := FromDump(t, f)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kernel.New(d, v)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
