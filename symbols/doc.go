// Package symbols owns what gocrash knows from the vmlinux file and from
// module debuginfo objects: the ELF symbol table (sorted by address, with
// the names the kernel itself prints, at link-time addresses; a Relocated
// view gives one running kernel's KASLR-displaced addresses without
// changing the Vmlinux), the build-id, BTF, the DWARF name index, C types
// and line tables, the unwind tables (ORC, DWARF CFI), and a module's
// ET_REL .ko with its debug sections relocated to where a dump has the
// module (modobj.go), its types consulted after the vmlinux's
// (layered.go); and, for a dump opened with no vmlinux, the kernel's own
// tables as its memory holds them: kallsyms decoded and searched for
// (kallsyms.go, kallsyms_search.go), the exported-symbol tables
// (ksymtab.go), the BTF and build-id note found in the image (imagescan.go),
// laid out as a small in-memory ELF image opened as a vmlinux is
// (fromdump.go), with C types from BTF alone (btftypes.go). Files are mapped
// read-only rather than read into the heap.
//
// What every start would rebuild is cached per vmlinux (by build-id, in
// os.UserCacheDir()/gocrash): the sorted symbol and name tables, laid out
// to be used in place (symcache.go), the layout answers the kernel
// model's probes got and the ORC entry layout (layoutcache.go,
// orccache.go), the unit table, the statics quick lookups place variables
// by and the quick lookups' answers (quickcache.go), and the DWARF name
// index (indexcache.go); each file is checked against the vmlinux and by
// a checksum, and rebuilt when it fails.
// Before the index exists, variables and functions are found from their
// ELF symbols' addresses in the few units that can hold them, BTF says
// which type names exist, and without BTF the layouts the kernel model asks
// for come from the first definitions a scan of the units in order meets,
// read only as far as needed (quick.go, index.go).
package symbols
