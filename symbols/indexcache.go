package symbols

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The index cache: one file per vmlinux, named by its build-id, holding the
// index image (see Index) with the vmlinux's size, mtime and .debug_info
// length in the header and a CRC-32C over the rest. A file that fails any
// check is ignored and rewritten; a cache directory that cannot be written
// only costs the next start a scan.

// Index returns the DWARF name index, from the cache when a valid one is
// there, else scanned (and cached).
func (v *Vmlinux) Index() (*Index, error) {
	v.indexWaiters.Add(1)
	defer v.indexWaiters.Add(-1)
	v.indexOnce.Do(func() {
		v.index, v.indexErr = v.loadIndex()
		v.indexReady.Store(true)
	})
	return v.index, v.indexErr
}

// indexIfCached returns the index when it is loaded, or when a valid cache
// file holds it (which is then the index); nil otherwise, without
// scanning.
func (v *Vmlinux) indexIfCached() *Index {
	if v.indexReady.Load() {
		return v.index
	}
	if v.noIndexCache.Load() {
		return nil // looked for before: not there, or not valid
	}
	d, err := v.DWARF()
	if err != nil {
		return nil
	}
	path := v.indexCachePath()
	if path == "" {
		return nil
	}
	ix, err := v.readIndexCache(path, d)
	if err != nil {
		v.noIndexCache.Store(true)
		return nil
	}
	used := false
	v.indexOnce.Do(func() {
		v.index, v.indexFrom, used = ix, "cache "+path, true
		v.indexReady.Store(true)
	})
	if !used { // another caller got there first: use its index
		ix, _ = v.Index()
	}
	return ix
}

// PrebuildIndex starts loading or building the index in the background (an
// interactive session does, while its user reads the banner).
func (v *Vmlinux) PrebuildIndex() {
	go v.indexOnce.Do(func() {
		v.index, v.indexErr = v.loadIndex()
		v.indexReady.Store(true)
	})
}

// IndexWaiting reports whether a caller is waiting for the index (so a
// progress line is worth showing).
func (v *Vmlinux) IndexWaiting() bool { return v.indexWaiters.Load() > 0 }

// IndexSource says where the index came from: "cache FILE", "scan" or
// "scan (cache not written: …)".
func (v *Vmlinux) IndexSource() string { return v.indexFrom }

func (v *Vmlinux) indexCachePath() string { return v.cachePath("index-") }

// cachePath is the cache file of this vmlinux whose name begins with
// prefix, or "" when caching is off.
func (v *Vmlinux) cachePath(prefix string) string {
	dir := v.IndexCache
	if dir == "off" {
		return ""
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(base, "gocrash")
	}
	id := v.BuildID
	if id == "" {
		abs, _ := filepath.Abs(v.Path)
		h := sha256.Sum256([]byte(abs))
		id = "path-" + hex.EncodeToString(h[:10])
	}
	return filepath.Join(dir, prefix+id+".idx")
}

func (v *Vmlinux) loadIndex() (*Index, error) {
	d, err := v.DWARF()
	if err != nil {
		return nil, err
	}
	path := v.indexCachePath()
	if path != "" && !v.noIndexCache.Load() {
		if ix, err := v.readIndexCache(path, d); err == nil {
			v.indexFrom = "cache " + path
			return ix, nil
		}
	}
	ix, err := d.BuildIndex(v.IndexProgress)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", v.Path, err)
	}
	v.indexFrom = "scan"
	if path != "" {
		sealImage(ix.img, uint64(v.size), uint64(v.modTime), uint64(len(d.sec.info)))
		if err := writeFileAtomic(path, ix.img); err != nil {
			v.indexFrom = "scan (cache not written: " + err.Error() + ")"
		}
	}
	return ix, nil
}

// readIndexCache maps and checks a cache file.
func (v *Vmlinux) readIndexCache(path string, d *Dwarf) (*Index, error) {
	img, err := mapCacheFile(path, indexHdrSize)
	if err != nil {
		return nil, err
	}
	bad := func(msg string) (*Index, error) {
		unix.Munmap(img)
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	if string(img[:8]) != indexMagic {
		return bad("not a gocrash index of this version")
	}
	if le.Uint64(img[16:]) != uint64(v.size) || le.Uint64(img[24:]) != uint64(v.modTime) ||
		le.Uint64(img[32:]) != uint64(len(d.sec.info)) {
		return bad("made for another copy of the vmlinux")
	}
	if le.Uint32(img[8:]) != crc32.Checksum(img[16:], crcTable) {
		return bad("checksum mismatch")
	}
	ix, err := indexFromImage(img)
	if err != nil {
		return bad(err.Error())
	}
	return ix, nil
}

func writeFileAtomic(path string, data []byte) error {
	return writeFileAtomicFunc(path, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// writeFileAtomicFunc writes path as fill writes it, through a temporary
// file renamed into place.
func writeFileAtomicFunc(path string, fill func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".index-*")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// releaseMapped drops the pages wholly inside b, a slice of a shared
// read-only file mapping, from the process (MADV_DONTNEED): they stay in
// the page cache, and a later read faults them back in. This keeps a scan's
// resident size small.
func releaseMapped(b []byte) {
	if len(b) == 0 {
		return
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	end := start + uintptr(len(b))
	s := (start + page - 1) &^ (page - 1)
	e := end &^ (page - 1)
	if e <= s {
		return
	}
	_ = unix.Madvise(b[s-start:e-start], unix.MADV_DONTNEED)
}
