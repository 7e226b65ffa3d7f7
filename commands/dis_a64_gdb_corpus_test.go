package commands

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// gdbArm64Funcs are the functions whose arm64 disassembly is compared with
// gdb's: the scheduler, locking (LL/SC and LSE atomics), memory, entry,
// printk, exceptions and the user copy routines.
var gdbArm64Funcs = []string{
	"schedule", "__schedule", "panic", "do_mem_abort", "el1h_64_sync_handler", "copy_process",
	"vfs_read", "do_raw_spin_lock", "queued_spin_lock_slowpath", "mutex_lock", "down_read",
	"kmem_cache_alloc", "__kmalloc", "do_sys_openat2", "el0_svc", "cpu_do_idle",
	"sysrq_handle_crash", "ktime_get", "vprintk_emit", "console_unlock", "kthread",
	"cpu_switch_to", "__switch_to", "do_exit", "futex_wait", "__arch_copy_from_user",
	"try_to_wake_up", "refcount_dec_and_lock", "el1_abort", "die",
}

var gdbLineRE = regexp.MustCompile(`^ +0x([0-9a-f]+) <[^>]*>:\t(.*)$`)

// TestCorpusDisArm64AgainstGDB decodes the arm64 vmlinux's own text (the
// bytes as built, before the kernel patches alternatives and ftrace sites
// at boot) with gocrash's arm64 decoder and wants gdb-multiarch's
// disassembly of the same bytes, instruction by instruction: crash prints
// gdb's text, so this is crash's dis on arm64.
func TestCorpusDisArm64AgainstGDB(t *testing.T) {
	gdb, err := exec.LookPath("gdb-multiarch")
	if err != nil {
		t.Fatal("gdb-multiarch is not installed: make corpus installs it")
	}
	var vmlinux string
	for _, r := range corpus.Runs(t) {
		if r.Arch == "arm64" {
			vmlinux = r.Vmlinux
			break
		}
	}
	if vmlinux == "" {
		t.Fatal("no arm64 run in the corpus")
	}
	f, err := elf.Open(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	// The symbolizer gdb uses for targets: the ELF symbols (its minimal
	// symbols), the nearest one at or below the address.
	type sym struct {
		name string
		addr uint64
	}
	var table []sym
	funcs := map[string]elf.Symbol{}
	for _, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		if s.Name == "" || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE || strings.HasPrefix(s.Name, "$") {
			continue
		}
		if typ == elf.STT_FUNC || typ == elf.STT_OBJECT || typ == elf.STT_NOTYPE {
			table = append(table, sym{s.Name, s.Value})
		}
		if typ == elf.STT_FUNC {
			if _, dup := funcs[s.Name]; !dup {
				funcs[s.Name] = s
			}
		}
	}
	sort.SliceStable(table, func(i, j int) bool { return table[i].addr < table[j].addr })
	symbolize := func(addr uint64) (string, uint64, bool) {
		i := sort.Search(len(table), func(i int) bool { return table[i].addr > addr }) - 1
		if i < 0 {
			return "", 0, false
		}
		return table[i].name, addr - table[i].addr, true
	}
	var args []string
	for _, name := range gdbArm64Funcs {
		s, ok := funcs[name]
		if !ok {
			t.Fatalf("%s: no such function in %s", name, vmlinux)
		}
		args = append(args, "-ex", fmt.Sprintf("disassemble %#x,%#x", s.Value, s.Value+s.Size))
	}
	out, err := exec.Command(gdb, append(append([]string{"-batch", "-nx"}, args...), vmlinux)...).Output()
	if err != nil {
		t.Fatalf("gdb-multiarch: %v", err)
	}
	text := f.Section(".text")
	data, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	compared, bad := 0, 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := gdbLineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pc, _ := strconv.ParseUint(m[1], 16, 64)
		off := pc - text.Addr
		if off+4 > uint64(len(data)) {
			t.Fatalf("%#x: outside .text", pc)
		}
		d := arm64Decoder{}.decode(data[off:off+4], pc, symbolize)
		compared++
		if gdbLabels(d.text) != gdbLabels(m[2]) {
			bad++
			if bad <= 3000 {
				t.Errorf("%#x %08x: %q, gdb %q", pc, uint32(data[off])|uint32(data[off+1])<<8|uint32(data[off+2])<<16|uint32(data[off+3])<<24, d.text, m[2])
			}
		}
	}
	if compared < 3000 {
		t.Fatalf("compared %d instructions, want the ~5000 of %d functions", compared, len(gdbArm64Funcs))
	}
	if bad > 0 {
		t.Errorf("%d of %d instructions differ from gdb's", bad, compared)
	}
	t.Logf("%d instructions of %d functions equal gdb's", compared-bad, len(gdbArm64Funcs))
}

var gdbLabelRE = regexp.MustCompile(` <[^>]*>`)

// gdbLabels drops the symbol labels of addresses from a line, so that two
// spellings compare by instruction and target address: gdb labels with its
// own symbol tables (DWARF's names, "assert_clock_updated" for the ELF's
// "assert_clock_updated.isra.0"; DWARF's entry, 8 bytes past the ELF symbol
// of a function with an ftrace patch site; its choice among aliases,
// "memset" for "__pi_memset"), gocrash with the ELF's and kallsyms' names,
// as the kernel's own traces do.
func gdbLabels(s string) string { return gdbLabelRE.ReplaceAllString(s, "") }
