// Package kernel owns the model of the crashed kernel built from a dump and
// its vmlinux: reading kernel virtual memory, the kernel's identity (utsname,
// CPUs, memory, time), the printk log, and in later work tasks, modules,
// per-CPU data and address spaces. It asks the symbols package which symbols
// and members exist instead of keying on kernel versions.
package kernel
