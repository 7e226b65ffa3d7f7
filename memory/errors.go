package memory

import (
	"errors"
	"fmt"
)

// FormatError reports a file whose headers are not a dump this package can
// read, naming the byte offset where the problem was found.
type FormatError struct {
	Path   string
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("%s: %s (at file offset %#x)", e.Path, e.Msg, e.Offset)
}

// ExcludedError reports a page that exists in the crashed machine's memory
// but was left out of the dump by makedumpfile's filtering (-d).
type ExcludedError struct{ Addr uint64 }

func (e *ExcludedError) Error() string {
	return fmt.Sprintf("page excluded: physical address: %x", e.Addr)
}

// NotInDumpError reports a physical address that no part of the dump covers.
type NotInDumpError struct{ Addr uint64 }

func (e *NotInDumpError) Error() string {
	return fmt.Sprintf("physical address not in dump: %x", e.Addr)
}

// TruncatedError reports a read of data the dump's headers promise but the
// file, cut short, does not hold.
type TruncatedError struct {
	Addr     uint64 // physical address asked for
	Offset   int64  // file offset the data should be at
	FileSize int64
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("physical address %x: dump file truncated (data at offset %#x, file size %#x)", e.Addr, e.Offset, e.FileSize)
}

// Truncation says how much of a dump file is missing: its headers need
// Needed bytes (at least, where they are cut too), the file holds Size.
type Truncation struct {
	Size, Needed int64
	AtLeast      bool // Needed is a lower bound: the page table is cut too
	// Flattened: the sizes are of the kdump-compressed file the records
	// rebuild, not of the flattened file itself.
	Flattened bool
}

func (t *Truncation) String() string {
	at := ""
	if t.AtLeast {
		at = "at least "
	}
	what := "the file holds"
	if t.Flattened {
		what = "its records rebuild"
	}
	return fmt.Sprintf("may be truncated or incomplete: %s %d bytes, its headers need %s%d (%s%d bytes, %s%.1f%%, missing)",
		what, t.Size, at, t.Needed, at, t.Needed-t.Size, at, 100*float64(t.Needed-t.Size)/float64(t.Needed))
}

// CorruptPageError reports a page whose stored (compressed) data does not
// decode.
type CorruptPageError struct {
	Addr uint64
	Err  error
}

func (e *CorruptPageError) Error() string {
	return fmt.Sprintf("physical address %x: corrupt page data: %v", e.Addr, e.Err)
}

func (e *CorruptPageError) Unwrap() error { return e.Err }

// IsExcluded reports whether err (or an error it wraps) is an *ExcludedError.
func IsExcluded(err error) bool {
	var e *ExcludedError
	return errors.As(err, &e)
}
