// Package kernel owns the model of the crashed kernel built from a dump and
// its vmlinux: reading kernel virtual memory, the kernel's identity (utsname,
// CPUs, memory, time), the printk log, tasks, modules, per-CPU data, pages,
// backtraces and address spaces. It asks the symbols package which symbols
// and members exist instead of keying on kernel versions, and takes only a
// *symbols.MissingError as "absent".
//
// With no vmlinux, DumpVmlinux (fromdump.go) first reads the kernel image's
// tables from the dump (kallsyms, BTF, ORC, build-id) through a bootstrap
// reader placed by VMCOREINFO or the page tables, and the Kernel is then
// bound to that image as to a vmlinux. Where that kallsyms names only
// text, fromdump_data.go finds the data symbols the commands need
// (tk_core, the major-number tables, hstates and hugetlb_max_hstate,
// cdev_map, panic_cpu) through the code that uses them: the image scans
// decode the functions that reference each one and check what the
// referenced memory holds, answering "not found" rather than a guess.
//
// Kernel binds the dump to its vmlinux (KASLR offset, the match check) and
// composes smaller types, each with its own dependencies, embedded so their
// methods are the Kernel's:
//   - Memory: virtual reads, the translation cache (over a PhysReader and a
//     KernelWalker).
//   - SymbolTable: run-time symbol addresses (a symbols.Relocated view of
//     the vmlinux, else VMCOREINFO); TypeLayout: Offset, Size (VMCOREINFO,
//     else the vmlinux's types).
//   - Printk: Log (over a Reader, a Layout and Symbols).
//   - System: utsname, CPUs, taint, HZ, uptime, load, crash and boot time,
//     memory size, per-CPU offsets (over a Reader, a Layout, Symbols, the
//     dump's PRStatusNotes, VMCOREINFO's crash time, Enumerators).
//   - TaskList: the task list, runqueues' current and idle tasks, task_struct
//     and its times, the panic task (over a Reader, a Layout, Symbols and
//     the System).
//   - Pages: struct page lookups and page.flags' names (over a Reader, a
//     Layout, Symbols, a Translator, VMCOREINFO's mem_section description).
//   - UserSpace: user page tables and reads, argument strings, VMAs, file
//     paths (over a Reader, a Layout, a Translator, a UserWalker and a
//     PhysReader).
//   - Unwinder: backtraces (ORC, frame records, CFI, frame pointers), CPU
//     registers, stacks, exception-frame search, source lines (over a
//     Reader, a Layout, Symbols, a Translator, the System, the modules'
//     text, the vmlinux's tables, the architecture and the dump's notes).
//   - ModuleList: the modules list, module symbols and ORC, naming text
//     addresses (over a Reader, a Layout, Symbols and the Unwinder's answer
//     about the kernel's own text).
//
// Free functions over a Reader and a Layout answer what a blocked task
// waits on (locks.go): the rw_semaphore or rt_mutex and its owner, and the
// lock a waiter on a task's stack is queued on.
package kernel
