package kernel

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gocrash/gocrash/symbols"
)

// KallsymsPath is where a running kernel lists its symbols.
const KallsymsPath = "/proc/kallsyms"

// kallsymsOffset finds the KASLR displacement of a running kernel from its
// symbol list: the listed address of _stext (or _text) minus the vmlinux's.
// Addresses read as zero when kptr_restrict hides them from this user.
func kallsymsOffset(r io.Reader, v *symbols.Vmlinux) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || (f[2] != "_stext" && f[2] != "_text") {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: bad address %q", KallsymsPath, f[0])
		}
		if addr == 0 {
			return 0, fmt.Errorf("%s hides addresses (kptr_restrict); run as root", KallsymsPath)
		}
		s, ok := v.Lookup(f[2])
		if !ok {
			continue
		}
		return addr - s.Addr, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s lists no _stext", KallsymsPath)
}

// liveKallsymsOffset reads /proc/kallsyms.
func liveKallsymsOffset(v *symbols.Vmlinux) (uint64, error) {
	f, err := os.Open(KallsymsPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return kallsymsOffset(f, v)
}
