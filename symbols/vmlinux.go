package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Symbol is one ELF symbol.
type Symbol struct {
	Name string
	Addr uint64 // link-time in a Vmlinux, run-time through a Relocated view
	Size uint64
	Type byte // nm-style letter: T t D d B b R r A a W w V v
}

// Vmlinux is an opened kernel image with its symbol table.
type Vmlinux struct {
	Path    string
	File    *elf.File
	Machine elf.Machine
	BuildID string // hex, "" when the file has none
	data    []byte
	syms    []Symbol // sorted by Addr, then name
	byName  nameTable

	layoutsOnce sync.Once
	layouts     *Layouts
	// demangled maps demangled Rust names to indexes in syms.
	demangleOnce sync.Once
	demangled    map[string]int

	typesOnce sync.Once
	types     *Types
	typesErr  error

	dwarfOnce sync.Once
	dwarf     *Dwarf
	dwarfErr  error

	// IndexCache is the directory of the DWARF index cache: "" for
	// os.UserCacheDir()/gocrash, "off" for no cache. IndexProgress, when
	// set, is told how far a scan has got. Both are read on the first
	// Index call.
	IndexCache    string
	IndexProgress func(done, total uint64)
	indexOnce     sync.Once
	indexReady    atomic.Bool // index and indexErr are set
	noIndexCache  atomic.Bool // the cache file was read and is missing or invalid
	indexWaiters  atomic.Int32
	index         *Index
	indexErr      error
	indexFrom     string
	modTime       int64
	size          int64
	symsFrom      string
	// dups marks (by sorted position) the symbols whose name another
	// symbol has too.
	dups  []uint64
	quick quickState
	warm  warmCaches // quickcache.go
	// writing is closed when the last cache file handed to inBackground
	// is written (nil: none); Close waits for it.
	writeMu sync.Mutex
	writing chan struct{}
}

// inBackground writes a cache file (write) on another goroutine, after
// those handed over before it (a later image of the same file replaces an
// earlier one, never the other way round): the answer does not wait for
// it, Close does.
func (v *Vmlinux) inBackground(write func()) {
	v.writeMu.Lock()
	defer v.writeMu.Unlock()
	prev, done := v.writing, make(chan struct{})
	v.writing = done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		write()
	}()
}

// waitWrites waits for the cache files inBackground is writing.
func (v *Vmlinux) waitWrites() {
	v.writeMu.Lock()
	w := v.writing
	v.writeMu.Unlock()
	if w != nil {
		<-w
	}
}

// Open maps the vmlinux at path and reads its symbol table (from the
// symbol cache in the default cache directory when a valid one is there).
func Open(path string) (*Vmlinux, error) { return OpenCached(path, "") }

// OpenCached is Open with the cache directory given: "" for
// os.UserCacheDir()/gocrash, "off" for no cache. It becomes the vmlinux's
// IndexCache.
func OpenCached(path, cacheDir string) (*Vmlinux, error) {
	f, fi, err := openFile(path, "a vmlinux")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !fi.Mode().IsRegular() && fi.Mode()&os.ModeDevice == 0 {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	size := fi.Size()
	if fi.Mode()&os.ModeDevice != 0 {
		// A block device (a disk holding the vmlinux): its size is where
		// a seek to the end lands.
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	if size == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	v, err := load(path, data, cacheDir, size, fi.ModTime().UnixNano())
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	return v, nil
}

func load(path string, data []byte, cacheDir string, size, modTime int64) (*Vmlinux, error) {
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not an ELF file: %v", path, strings.TrimPrefix(err.Error(), "elf: "))
	}
	if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		return nil, fmt.Errorf("%s: ELF %v file, not a kernel image (is this the dump?)", path, ef.Type)
	}
	v := &Vmlinux{Path: path, File: ef, Machine: ef.Machine, data: data, IndexCache: cacheDir, size: size, modTime: modTime}
	v.BuildID, _ = ELFBuildID(ef)
	var symtabLen uint64
	if st := ef.Section(".symtab"); st != nil {
		symtabLen = st.Size
	}
	if err := v.readSymbolsCached(symtabLen); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return v, nil
}

// sectionBytes returns a section's bytes from the mapping without copying.
func (v *Vmlinux) sectionBytes(s *elf.Section) []byte {
	if s.Offset > uint64(len(v.data)) || s.Size > uint64(len(v.data))-s.Offset {
		return nil
	}
	return v.data[s.Offset : s.Offset+s.Size]
}

// readSymbols decodes .symtab directly from the mapping (debug/elf's
// Symbols copies the section and allocates per symbol, several times slower).
func (v *Vmlinux) readSymbols() error {
	ef := v.File
	st := ef.Section(".symtab")
	if st == nil {
		return fmt.Errorf("no symbol table (.symtab); a stripped kernel cannot be used")
	}
	if ef.Class != elf.ELFCLASS64 {
		return fmt.Errorf("32-bit kernels are not supported yet")
	}
	tab := v.sectionBytes(st)
	if int(st.Link) >= len(ef.Sections) {
		return fmt.Errorf(".symtab links to missing string table")
	}
	strs := v.sectionBytes(ef.Sections[st.Link])
	if tab == nil || strs == nil {
		return fmt.Errorf("symbol table runs past the end of the file")
	}
	bo := ef.ByteOrder
	const entSize = 24
	n := len(tab) / entSize
	v.syms = make([]Symbol, 0, n)
	for i := 1; i < n; i++ {
		e := tab[i*entSize:]
		nameOff := bo.Uint32(e)
		info := e[4]
		shndx := bo.Uint16(e[6:])
		val := bo.Uint64(e[8:])
		size := bo.Uint64(e[16:])
		typ := elf.SymType(info & 0xf)
		if typ == elf.STT_SECTION || typ == elf.STT_FILE || nameOff == 0 || int(nameOff) >= len(strs) {
			continue
		}
		end := bytes.IndexByte(strs[nameOff:], 0)
		if end < 0 {
			continue
		}
		if end >= 2 && strs[nameOff] == '$' {
			// An ARM mapping symbol ($x, $d, $x.123): a marker of code or
			// data, which the kernel's kallsyms leaves out too.
			continue
		}
		name := string(strs[nameOff : int(nameOff)+end])
		v.syms = append(v.syms, Symbol{Name: name, Addr: val, Size: size, Type: v.symType(info, shndx)})
	}
	// The address order and the name table are built at once, on two
	// cores: the name table holds positions in the symbol table's own
	// order, turned into sorted positions at the end.
	var perm []int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		perm = addrOrder(v.syms)
	}()
	byName := newNameTable(len(v.syms))
	dup := make([]bool, len(v.syms))
	for i := range v.syms {
		s := &v.syms[i]
		slot, j := byName.find(s.Name, v.syms)
		if j >= 0 {
			dup[j], dup[i] = true, true
			if !prefer(s, &v.syms[j]) {
				continue
			}
		}
		byName.slots[slot] = int32(i) + 1
	}
	<-done
	sorted := make([]Symbol, len(v.syms))
	where := make([]int32, len(v.syms)) // symbol table position -> sorted position
	v.dups = make([]uint64, (len(v.syms)+63)/64)
	for k, i := range perm {
		sorted[k] = v.syms[i]
		where[i] = int32(k)
		if dup[i] {
			v.dups[k/64] |= 1 << (k % 64)
		}
	}
	for k, i := range byName.slots {
		if i != 0 {
			byName.slots[k] = where[i-1] + 1
		}
	}
	v.syms, v.byName = sorted, byName
	return nil
}

// addrOrder returns the positions of syms sorted by address, then name: a
// radix sort of the addresses (stable, a byte at a time, skipping the bytes
// every address shares), then each run of one address sorted by name. A
// kernel has a few hundred thousand symbols; comparing them through the
// table took most of a cold start's symbol read.
func addrOrder(syms []Symbol) []int32 {
	type key struct {
		addr uint64
		i    int32
	}
	keys, tmp := make([]key, len(syms)), make([]key, len(syms))
	for i := range syms {
		keys[i] = key{syms[i].Addr, int32(i)}
	}
	for shift := uint(0); shift < 64 && len(keys) > 0; shift += 8 {
		var count [257]int
		for _, k := range keys {
			count[k.addr>>shift&0xff+1]++
		}
		if count[keys[0].addr>>shift&0xff+1] == len(keys) {
			continue // every address has this byte
		}
		for b := 1; b < len(count); b++ {
			count[b] += count[b-1]
		}
		for _, k := range keys {
			b := k.addr >> shift & 0xff
			tmp[count[b]] = k
			count[b]++
		}
		keys, tmp = tmp, keys
	}
	perm := make([]int32, len(keys))
	for i, k := range keys {
		perm[i] = k.i
	}
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi].addr == keys[lo].addr {
			hi++
		}
		if hi-lo > 1 {
			slices.SortStableFunc(perm[lo:hi], func(i, j int32) int { return strings.Compare(syms[i].Name, syms[j].Name) })
		}
		lo = hi
	}
	return perm
}

// dupName reports whether another symbol has the name of the one at
// sorted position i.
func (v *Vmlinux) dupName(i int) bool {
	return i/64 < len(v.dups) && v.dups[i/64]&(1<<(i%64)) != 0
}

// prefer says whether a symbol should be found by its name rather than
// another of the same name: a global definition over a local one, and
// among locals (static functions of the same name in several files) the
// one at the higher address.
func prefer(a, b *Symbol) bool {
	if ga, gb := isGlobal(a.Type), isGlobal(b.Type); ga != gb {
		return ga
	} else if gb {
		return a.Addr < b.Addr // two globals: the lower address, as before
	}
	return a.Addr > b.Addr
}

func isGlobal(t byte) bool { return t >= 'A' && t <= 'Z' }

// symType gives nm's letter for a symbol.
func (v *Vmlinux) symType(info byte, shndx uint16) byte {
	bind := elf.SymBind(info >> 4)
	var c byte
	switch {
	case shndx == uint16(elf.SHN_ABS):
		c = 'a'
	case shndx == uint16(elf.SHN_UNDEF):
		c = 'u'
	case int(shndx) < len(v.File.Sections):
		s := v.File.Sections[shndx]
		switch {
		case s.Flags&elf.SHF_EXECINSTR != 0:
			c = 't'
		case s.Type == elf.SHT_NOBITS:
			c = 'b'
		case s.Flags&elf.SHF_ALLOC == 0 && s.Flags&elf.SHF_WRITE != 0:
			// A writable section outside the image (ppc64's
			// .data_nosave marker): nm cannot class it.
			c = '?'
		case s.Flags&elf.SHF_WRITE != 0:
			c = 'd'
		case s.Flags&elf.SHF_ALLOC != 0:
			c = 'r'
		default:
			c = 'n'
		}
	default:
		c = '?'
	}
	if bind == elf.STB_WEAK {
		if c == 't' {
			return 'W'
		}
		return 'V'
	}
	if bind == elf.STB_GLOBAL && c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	return c
}

// Lookup returns the symbol called name, at its link-time address.
func (v *Vmlinux) Lookup(name string) (Symbol, bool) {
	_, i := v.byName.find(name, v.syms)
	ok := i >= 0
	if !ok {
		return Symbol{}, false
	}
	return v.syms[i], true
}

// Addr returns the link-time address of name; a convenience for callers that
// need only that (it has the shape of arch.Symbols).
func (v *Vmlinux) Addr(name string) (uint64, bool) {
	s, ok := v.Lookup(name)
	return s.Addr, ok
}

// Nearest returns the symbol at or before addr that the kernel would name
// addr by, and addr's offset into it. Function and object symbols are
// preferred over local labels at the same address.
func (v *Vmlinux) Nearest(addr uint64) (Symbol, uint64, bool) {
	i := sort.Search(len(v.syms), func(i int) bool { return v.syms[i].Addr > addr }) - 1
	for i >= 0 && absolute(&v.syms[i]) {
		i-- // kallsyms has no absolute symbols
	}
	if i < 0 {
		return Symbol{}, 0, false
	}
	s := v.syms[kallsymsAlias(v.syms, preferredAlias(v.syms, i))]
	return s, addr - s.Addr, true
}

// preferredAlias is the symbol of syms (sorted by address) the kernel's
// kallsyms names address syms[i].Addr by: the last at that address, unless
// it has the shape of a linker script's section marker (__start_X, __stop_X,
// __end_X, __X_start, __X_end) and another does not (__do_softirq, not
// __softirqentry_text_start).
func preferredAlias(syms []Symbol, i int) int {
	for j := i; j >= 0 && syms[j].Addr == syms[i].Addr; j-- {
		if !linkerProvided(syms[j].Name) && !absolute(&syms[j]) {
			return j
		}
	}
	return i
}

// linkerProvided reports whether name has the shape of a symbol a linker
// script defines at a section's start or end (scripts/kallsyms.c sorts
// those after the other names at their address).
func linkerProvided(name string) bool {
	if len(name) < 8 || !strings.HasPrefix(name, "__") {
		return false
	}
	rest := name[2:]
	return strings.HasPrefix(rest, "start_") || strings.HasPrefix(rest, "stop_") || strings.HasPrefix(rest, "end_") ||
		strings.HasSuffix(name, "_start") || strings.HasSuffix(name, "_end")
}

// kallsymsAlias picks, among the symbols sorted by address that share
// syms[i]'s address (syms[i] being the last of them), the one the kernel's
// kallsyms names that address by. The kernel's lookup (get_symbol_pos)
// names an address by the first of its aliases in kallsyms' own table,
// which scripts/kallsyms.c sorts by address, then weak symbols last,
// then the fewest leading underscores, then nm -n's order (by name),
// whatever the symbols' binding (local or global) or section: the dump's
// own table lists __do_sys_pause (t) before __ia32_sys_pause and
// __x64_sys_pause (T), __memcpy before its weak alias memcpy (W), and
// s390x's __s390x_sys_* before their __se_sys_* aliases.
func kallsymsAlias(syms []Symbol, i int) int {
	best := i
	under := func(n string) int { return len(n) - len(strings.TrimLeft(n, "_")) }
	weak := func(t byte) bool { return t == 'w' || t == 'W' }
	for j := i - 1; j >= 0 && syms[j].Addr == syms[i].Addr; j-- {
		// Only sized aliases of a sized symbol: linker-script labels
		// (_text, __sched_text_start) and arm64's mapping symbols ($x)
		// keep the order they had.
		if syms[j].Size == 0 || syms[best].Size == 0 {
			continue
		}
		wj, wb := weak(syms[j].Type), weak(syms[best].Type)
		uj, ub := under(syms[j].Name), under(syms[best].Name)
		if wj != wb {
			if wb {
				best = j
			}
			continue
		}
		if uj < ub || uj == ub && syms[j].Name < syms[best].Name {
			best = j
		}
	}
	return best
}

// Symbols returns every symbol at its link-time address, sorted by address. The slice is shared
// and must not be changed (it may be the symbol cache's read-only mapping).
func (v *Vmlinux) Symbols() []Symbol { return v.syms }

// ReadAddr reads size bytes of the vmlinux's initialized data at the
// link-time (unrelocated) address vaddr, e.g. the linux_banner string.
func (v *Vmlinux) ReadLinkAddr(vaddr uint64, size int) ([]byte, bool) {
	for _, p := range v.File.Progs {
		if p.Type != elf.PT_LOAD || vaddr < p.Vaddr || vaddr+uint64(size) > p.Vaddr+p.Filesz {
			continue
		}
		off := p.Off + (vaddr - p.Vaddr)
		if off+uint64(size) > uint64(len(v.data)) {
			return nil, false
		}
		return v.data[off : off+uint64(size)], true
	}
	return nil, false
}

// Close unmaps the file, after any type loading still reading it is done.
func (v *Vmlinux) Close() error {
	if v.data == nil {
		return nil
	}
	v.Layouts().close()
	v.saveWarm()
	v.waitWrites()
	err := unix.Munmap(v.data)
	v.data = nil
	return err
}

// ELFBuildID reads the GNU build-id of an ELF file from its note sections:
// .note.gnu.build-id in ordinary files, .notes in a vmlinux (the kernel's
// linker script gathers its notes there). It is "" when there is none.
func ELFBuildID(ef *elf.File) (string, error) {
	for _, sec := range ef.Sections {
		if sec.Type != elf.SHT_NOTE {
			continue
		}
		b, err := sec.Data()
		if err != nil {
			return "", err
		}
		if id := NoteBuildID(b, ef.ByteOrder); id != "" {
			return id, nil
		}
	}
	return "", nil
}

// NoteBuildID finds the NT_GNU_BUILD_ID note in a block of ELF notes (4-byte
// aligned, in the given byte order) and returns it in hex, or "" when the
// block holds none or is cut short.
func NoteBuildID(b []byte, order binary.ByteOrder) string {
	for len(b) >= 12 {
		namesz, descsz, typ := order.Uint32(b), order.Uint32(b[4:]), order.Uint32(b[8:])
		nameEnd := 12 + (uint64(namesz)+3)&^3
		descEnd := nameEnd + (uint64(descsz)+3)&^3
		if descEnd > uint64(len(b)) {
			return ""
		}
		if typ == 3 /* NT_GNU_BUILD_ID */ && namesz == 4 && string(b[12:15]) == "GNU" {
			return hex.EncodeToString(b[nameEnd : nameEnd+uint64(descsz)])
		}
		b = b[descEnd:]
	}
	return ""
}

// nameTable finds symbols by name: an open-addressing hash table of
// positions in the symbol slice (plus one; 0 is an empty slot). It is
// built once and only read after, and costs a third of a Go map's time for
// the ~150,000 names of a vmlinux.
type nameTable struct {
	slots []int32
	mask  uint64
}

func newNameTable(n int) nameTable {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	return nameTable{slots: make([]int32, size), mask: uint64(size - 1)}
}

// find returns the slot where name is or would go, and the position of the
// symbol with that name in syms, or -1.
func (t nameTable) find(name string, syms []Symbol) (slot uint64, pos int) {
	if len(t.slots) == 0 {
		return 0, -1
	}
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	for slot = h & t.mask; ; slot = (slot + 1) & t.mask {
		i := t.slots[slot]
		if i == 0 {
			return slot, -1
		}
		if syms[i-1].Name == name {
			return slot, int(i - 1)
		}
	}
}

// openFile opens path and stats it, refusing a FIFO or a socket at once
// (opening a FIFO would wait for a writer); what names the file wanted.
func openFile(path, what string) (*os.File, os.FileInfo, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		return nil, nil, fmt.Errorf("%s is a %s, not %s", path, pipeKind(fi.Mode()), what)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// pipeKind names a FIFO or a socket for an error message.
func pipeKind(m os.FileMode) string {
	if m&os.ModeSocket != 0 {
		return "socket"
	}
	return "FIFO"
}
