package symbols

import (
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// The layout cache: the answers the kernel model's probes got from the BTF
// (sizes, member offsets, enumerators, and which of them this kernel
// lacks), kept in one small file per vmlinux next to the other caches.
// A start that finds it answers those probes without indexing the BTF
// (~2-5 ms); a question not in it is answered from the BTF as before, and
// the file is rewritten at Close with the new answers. It is checked like
// the symbol cache: the vmlinux's size, mtime and .BTF length, a CRC-32C,
// and entries that stay inside the file.

const layoutCacheMagic = "GOCRLAY\x01"

// layoutAnswer is one remembered answer: a value, or the What of the
// MissingError.
type layoutAnswer struct {
	value   int64
	missing string
}

type layoutMemo struct {
	path  string
	magic string // the file's first 8 bytes: layoutCacheMagic when ""

	size, mtime int64
	btfLen      uint64

	once    sync.Once
	mu      sync.Mutex
	answers map[string]layoutAnswer
	loaded  bool // the file was there and valid
	dirty   bool
}

// load reads the cache file once; a missing or refused one is an empty
// memo.
func (m *layoutMemo) load() {
	m.once.Do(func() {
		m.answers = map[string]layoutAnswer{}
		if m.path == "" {
			return
		}
		img, err := mapCacheFile(m.path, 48)
		if err != nil {
			return
		}
		defer unix.Munmap(img)
		if a, err := m.decode(img); err == nil {
			m.answers, m.loaded = a, true
		}
	})
}

func (m *layoutMemo) decode(img []byte) (map[string]layoutAnswer, error) {
	if len(img) < 48 || string(img[:8]) != m.fileMagic() {
		return nil, fmt.Errorf("not a gocrash layout cache of this version")
	}
	if le.Uint64(img[16:]) != uint64(m.size) || le.Uint64(img[24:]) != uint64(m.mtime) || le.Uint64(img[32:]) != m.btfLen {
		return nil, fmt.Errorf("made for another copy of the vmlinux")
	}
	if le.Uint32(img[8:]) != crc32.Checksum(img[16:], crcTable) {
		return nil, fmt.Errorf("checksum mismatch")
	}
	n := le.Uint32(img[40:])
	out := make(map[string]layoutAnswer, n)
	p := img[48:]
	for i := uint32(0); i < n; i++ {
		if len(p) < 12 {
			return nil, fmt.Errorf("entry %d is cut short", i)
		}
		kl, ml := int(le.Uint16(p)), int(le.Uint16(p[2:]))
		v := int64(le.Uint64(p[4:]))
		p = p[12:]
		if len(p) < kl+ml || kl == 0 {
			return nil, fmt.Errorf("entry %d is out of range", i)
		}
		out[string(p[:kl])] = layoutAnswer{value: v, missing: string(p[kl : kl+ml])}
		p = p[kl+ml:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%d bytes after the entries", len(p))
	}
	return out, nil
}

func (m *layoutMemo) encode() []byte {
	keys := make([]string, 0, len(m.answers))
	for k := range m.answers {
		if len(k) <= 0xffff && len(m.answers[k].missing) <= 0xffff {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	img := make([]byte, 48, 48+len(keys)*48)
	copy(img, m.fileMagic())
	le.PutUint64(img[16:], uint64(m.size))
	le.PutUint64(img[24:], uint64(m.mtime))
	le.PutUint64(img[32:], m.btfLen)
	le.PutUint32(img[40:], uint32(len(keys)))
	for _, k := range keys {
		a := m.answers[k]
		var h [12]byte
		le.PutUint16(h[:], uint16(len(k)))
		le.PutUint16(h[2:], uint16(len(a.missing)))
		le.PutUint64(h[4:], uint64(a.value))
		img = append(append(append(img, h[:]...), k...), a.missing...)
	}
	le.PutUint32(img[8:], crc32.Checksum(img[16:], crcTable))
	return img
}

func (m *layoutMemo) fileMagic() string {
	if m.magic != "" {
		return m.magic
	}
	return layoutCacheMagic
}

// answer returns a remembered answer, else asks ask and remembers what it
// says (a value or a MissingError; other errors are not kept).
func (m *layoutMemo) answer(key string, ask func() (int64, error)) (int64, error) {
	m.load()
	m.mu.Lock()
	a, ok := m.answers[key]
	m.mu.Unlock()
	if ok {
		if a.missing != "" {
			return 0, &MissingError{What: a.missing}
		}
		return a.value, nil
	}
	v, err := ask()
	var miss *MissingError
	switch {
	case err == nil:
		a = layoutAnswer{value: v}
	case asMissing(err, &miss):
		a = layoutAnswer{missing: miss.What}
	default:
		return v, err
	}
	m.mu.Lock()
	m.answers[key], m.dirty = a, true
	m.mu.Unlock()
	return v, err
}

// save rewrites the cache file when new answers were added.
func (m *layoutMemo) save() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirty || m.path == "" {
		return
	}
	m.dirty = false
	_ = writeFileAtomic(m.path, m.encode())
}

func asMissing(err error, m **MissingError) bool { return errors.As(err, m) }
