package memory

import (
	"bytes"
	"testing"
)

// TestNoteOffsets: each note of an ELF core's PT_NOTE and of a kdump
// file's note area knows where it starts in the file: the bytes there are
// its header (namesz, descsz, type), then its name and descriptor (what
// dev -V's OFFSET column and dev -v read).
func TestNoteOffsets(t *testing.T) {
	dd := append([]byte("virtio_net_dump"), make([]byte, 44-len("virtio_net_dump"))...)
	dd = append(dd, []byte("0123456789abcdef-device-data")...)
	notes := append(noteBytes("CORE", NTPRStatus, make([]byte, 336)), noteBytes("LINUX", 0x700, dd)...)
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"elf", buildELFCore(notes, []elfLoad{{vaddr: 0xffff888000000000, paddr: 0, data: patternPage(0, 4096)}})},
		{"kdump", buildKdump(t, dumpZlib, 4096, 4, []testPage{{0, patternPage(0, 4096)}}, testVMCoreInfo, notes, 31)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(writeFile(t, tc.name, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			found := 0
			for _, n := range d.Notes {
				if n.Type != 0x700 && n.Name != "CORE" {
					continue
				}
				found++
				hdr := noteBytes(n.Name, n.Type, n.Desc)
				if n.Offset <= 0 || n.Offset+int64(len(hdr)) > int64(len(tc.file)) || !bytes.Equal(tc.file[n.Offset:n.Offset+int64(len(hdr))], hdr) {
					t.Errorf("note %s type %#x: offset %#x does not hold it", n.Name, n.Type, n.Offset)
				}
			}
			if found != 2 {
				t.Errorf("%d of the 2 notes found", found)
			}
		})
	}
}
