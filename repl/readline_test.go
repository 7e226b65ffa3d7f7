package repl

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// TestReadLine: lines of any length up to the limit, a longer one dropped
// whole (and the next read normally), CRLF, and a last line with no
// newline.
func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 3000)
	r := bufio.NewReaderSize(strings.NewReader("sys\r\n"+long+"\nps\n"+strings.Repeat("y", 900)+"\nlast"), 16)
	type got struct {
		line string
		long bool
		err  error
	}
	want := []got{{"sys", false, nil}, {"", true, nil}, {"ps", false, nil}, {strings.Repeat("y", 900), false, nil}, {"last", false, io.EOF}}
	for i, w := range want {
		line, isLong, err := readLine(r, 1000)
		if line != w.line || isLong != w.long || err != w.err {
			t.Errorf("line %d: %.20q %v %v, want %.20q %v %v", i, line, isLong, err, w.line, w.long, w.err)
		}
	}
}
