// Package symbols owns what gocrash knows from the vmlinux file: its ELF
// symbol table (sorted by address, with the names the kernel itself prints,
// at link-time addresses; a Relocated view gives one running kernel's
// KASLR-displaced addresses without changing the Vmlinux), its build-id and, in later work, the DWARF
// name index, C types and unwind tables. The vmlinux is mapped read-only
// rather than read into the heap.
package symbols
