// Package memory owns the sources of a crashed (or running) kernel's
// physical memory: ELF core files (kdump's /proc/vmcore copies, makedumpfile
// -E output, QEMU dump-guest-memory files), makedumpfile's kdump-compressed
// format and its flattened transport form. It also parses what those files
// carry besides memory: the VMCOREINFO note and the per-CPU NT_PRSTATUS
// register notes.
//
// Everything above this package reads memory through a *Dump, by physical
// address. A read that cannot be satisfied returns a typed error saying why:
// the page was excluded by makedumpfile's filtering (*ExcludedError), the
// address is in no part of the dump (*NotInDumpError), the file was cut
// short (*TruncatedError), or a page's stored (compressed) data does not
// decode (*CorruptPageError); a file whose headers are not a dump is a
// *FormatError. Files are detected by their content, never by name, and
// are always opened read-only.
//
// A kdump-compressed file (each part of a split dump) reads its RAM and
// dump bitmaps on demand, a chunk at a time, and keeps its decoded pages in
// a cache of its own (a segmented LRU) of an eighth of the pages it keeps,
// bounded in bytes: 4 MiB to 256 MiB of pages whatever the block size.
package memory
