// Package symbols owns what gocrash knows from the vmlinux file: its ELF
// symbol table (sorted by address, with the names the kernel itself prints,
// relocated once for KASLR), its build-id and, in later work, the DWARF
// name index, C types and unwind tables. The vmlinux is mapped read-only
// rather than read into the heap.
package symbols
