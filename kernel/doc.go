// Package kernel owns the model of the crashed kernel built from a dump and
// its vmlinux: reading kernel virtual memory, the kernel's identity (utsname,
// CPUs, memory, time), the printk log, tasks, modules, per-CPU data, pages,
// backtraces and address spaces. It asks the symbols package which symbols
// and members exist instead of keying on kernel versions, and takes only a
// *symbols.MissingError as "absent".
//
// Kernel composes smaller types, each with its own dependencies: Memory
// (virtual reads, translation cache; over a PhysReader and a KernelWalker),
// SymbolTable (run-time symbol addresses: a symbols.Relocated view of the
// vmlinux, else VMCOREINFO), TypeLayout (Offset, Size: VMCOREINFO, else the
// vmlinux's types) and Printk (Log, over a Reader, a Layout and Symbols).
// The other concerns are still Kernel's own methods.
package kernel
