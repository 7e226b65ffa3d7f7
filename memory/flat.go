package memory

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"golang.org/x/sys/unix"
)

// The flattened format (makedumpfile -F) is how makedumpfile streams a
// kdump-compressed file through a pipe, where it cannot seek: a 4096-byte
// header starting "makedumpfile" (type 1, version 1, as big-endian int64s),
// then records of {offset, size} (big-endian int64s) each followed by size
// bytes that belong at offset of the kdump-compressed file, ended by a record
// of {-1, -1}. Later records overwrite earlier ones.
//
// Instead of rewriting the file, flatFile indexes the records and serves
// reads of the rebuilt file from the mapped original.
const flatHeaderSize = 4096

type flatPiece struct {
	off  int64 // offset in the rebuilt file
	size int64
	src  int64 // offset of the data in the flattened file
}

type flatFile struct {
	data   []byte
	pieces []flatPiece // sorted by off, not overlapping
	size   int64
	cut    bool // the file ends inside a record or before the end marker
}

func openFlattened(path string, f *os.File, size int64) (*Dump, error) {
	data, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	ff, err := indexFlattenedAt(path, data, f)
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	closeFn := func() error {
		err := unix.Munmap(data)
		if e := f.Close(); err == nil {
			err = e
		}
		return err
	}
	d, err := openKdump(path, ff, closeFn)
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	d.Format = FormatFlattened
	if ff.cut && d.Truncated == nil {
		// Every page the records hold is there; the end marker is not.
		d.Truncated = &Truncation{Size: ff.size, Needed: ff.size + 16, AtLeast: true}
	}
	if d.Truncated != nil {
		// What the records hold, of the rebuilt file they describe.
		d.Truncated.Flattened = true
		d.Truncated.Size = ff.storedSize()
		d.Truncated.Needed = max(d.Truncated.Needed, ff.size)
		d.Truncated.AtLeast = true
	}
	d.Header = append([][2]string{{"flattened", fmt.Sprintf("%d records", len(ff.pieces))}}, d.Header...)
	return d, nil
}

func indexFlattened(path string, data []byte) (*flatFile, error) {
	return indexFlattenedAt(path, data, bytes.NewReader(data))
}

// indexFlattenedAt indexes the records of data, the mapped file, reading
// their headers through r (the file itself: a read of 16 bytes does not
// bring the mapping's pages in, so opening costs no memory for the data
// between the records).
func indexFlattenedAt(path string, data []byte, r io.ReaderAt) (*flatFile, error) {
	bad := func(off int64, format string, args ...any) error {
		return &FormatError{Path: path, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) < flatHeaderSize {
		return nil, bad(int64(len(data)), "file truncated: flattened header cut short")
	}
	if typ := int64(binary.BigEndian.Uint64(data[16:])); typ != 1 {
		return nil, bad(16, "flattened header type %d, want 1", typ)
	}
	ff := &flatFile{data: data}
	pos := int64(flatHeaderSize)
	ended := false
	var rec [16]byte
	for pos+16 <= int64(len(data)) {
		if n, err := r.ReadAt(rec[:], pos); n < len(rec) {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		off := int64(binary.BigEndian.Uint64(rec[0:]))
		n := int64(binary.BigEndian.Uint64(rec[8:]))
		if off == -1 && n == -1 {
			ended = true
			break
		}
		if off < 0 || n < 0 || off+n < off {
			return nil, bad(pos, "flattened record with offset %d and size %d", off, n)
		}
		if pos+16+n > int64(len(data)) {
			// Cut short: the part of the record the file holds, and the
			// kdump reader sees a shorter rebuilt file.
			n = int64(len(data)) - pos - 16
			ff.add(flatPiece{off: off, size: n, src: pos + 16})
			ff.size = max(ff.size, off+n)
			ff.cut = true
			return ff, nil
		}
		ff.add(flatPiece{off: off, size: n, src: pos + 16})
		if off+n > ff.size {
			ff.size = off + n
		}
		pos += 16 + n
	}
	if !ended {
		ff.cut = true // cut between records
	}
	return ff, nil
}

// add inserts p, cutting away the parts of earlier pieces it overwrites,
// in place (a file of N records costs O(N) memory, however many of them
// overwrite earlier ones).
func (ff *flatFile) add(p flatPiece) {
	if p.size == 0 {
		return
	}
	n := len(ff.pieces)
	if n == 0 || ff.pieces[n-1].off+ff.pieces[n-1].size <= p.off {
		ff.pieces = append(ff.pieces, p) // the common case: written in order
		return
	}
	end := p.off + p.size
	i := sort.Search(n, func(i int) bool { return ff.pieces[i].off+ff.pieces[i].size > p.off })
	repl := make([]flatPiece, 0, 3)
	j := i
	for ; j < n && ff.pieces[j].off < end; j++ {
		if q := ff.pieces[j]; q.off < p.off {
			repl = append(repl, flatPiece{q.off, p.off - q.off, q.src})
		}
	}
	repl = append(repl, p)
	if j > i {
		if q := ff.pieces[j-1]; q.off+q.size > end {
			repl = append(repl, flatPiece{end, q.off + q.size - end, q.src + (end - q.off)})
		}
	}
	ff.pieces = slices.Replace(ff.pieces, i, j, repl...)
}

func (ff *flatFile) Size() int64 { return ff.size }

// storedSize is the number of bytes the records really hold.
func (ff *flatFile) storedSize() int64 {
	var n int64
	for _, p := range ff.pieces {
		n += p.size
	}
	return n
}

// ReadAt reads the rebuilt file; bytes no record wrote read as zeros.
func (ff *flatFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= ff.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > ff.size-off {
		p = p[:ff.size-off]
	}
	clear(p)
	i := sort.Search(len(ff.pieces), func(i int) bool { return ff.pieces[i].off+ff.pieces[i].size > off })
	end := off + int64(len(p))
	for ; i < len(ff.pieces) && ff.pieces[i].off < end; i++ {
		q := ff.pieces[i]
		s := max(q.off, off)
		e := min(q.off+q.size, end)
		copy(p[s-off:e-off], ff.data[q.src+(s-q.off):])
	}
	if len(p) < want {
		return len(p), io.EOF
	}
	return len(p), nil
}

var _ sizedReaderAt = (*flatFile)(nil)
var _ sizedReaderAt = (*bytes.Reader)(nil)
