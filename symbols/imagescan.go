package symbols

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
)

// Scans of a kernel image in memory for what its symbols would locate, for
// a kernel whose kallsyms has only its text (__start_BTF and __start_notes
// are data symbols).

// ReadImage reads size bytes of kernel memory from start, unreadable pages
// as zeros.
func ReadImage(read MemReader, start uint64, size int) []byte {
	m := &imageBuf{read: read, base: start, buf: make([]byte, 0, size+kallsymsSpanChunk)}
	m.extend(uint64(size))
	return m.buf
}

// FindBTF finds the kernel's BTF in img: the largest blob that starts with
// a BTF header (magic 0xeB9F, version 1, a 24-byte header) whose type and
// string sections follow it and parse.
func FindBTF(img []byte) (btf []byte, off int) {
	var best []byte
	off = -1
	for _, magic := range [][]byte{{0x9f, 0xeb, 1, 0, 24, 0, 0, 0}, {0xeb, 0x9f, 1, 0, 0, 0, 0, 24}} {
		order := binary.ByteOrder(binary.LittleEndian)
		if magic[0] == 0xeb {
			order = binary.BigEndian
		}
		for p := 0; ; p += 4 {
			i := bytes.Index(img[p:], magic)
			if i < 0 {
				break
			}
			p += i
			if p+btfHeaderLen > len(img) {
				break
			}
			h := img[p:]
			typeOff, typeLen, strOff, strLen := order.Uint32(h[8:]), order.Uint32(h[12:]), order.Uint32(h[16:]), order.Uint32(h[20:])
			end := uint64(btfHeaderLen) + max(uint64(typeOff)+uint64(typeLen), uint64(strOff)+uint64(strLen))
			if end > uint64(len(img)-p) || end <= uint64(len(best)) {
				continue
			}
			if _, err := parseBTF(img[p : p+int(end)]); err == nil {
				best, off = img[p:p+int(end):p+int(end)], p
			}
		}
	}
	return best, off
}

// FindBuildIDNote finds the kernel's build-id in img: a GNU build-id note
// (namesz 4 "GNU", type 3) in a block of notes that holds the kernel's own
// ("Linux" or "Xen" notes), as the image's .notes section does; "" when
// there is none. The vDSO's notes look the same: the image's own .notes
// lie just below its BTF (the linker script puts .BTF right after
// .notes), so with btf (img's offset of the BTF, or -1) the last such note
// below it is the one.
func FindBuildIDNote(img []byte, order binary.ByteOrder, btf int) string {
	if btf > 0 {
		lo := max(0, btf-4096)
		if id := FindBuildIDNote(img[lo:btf], order, -1); id != "" {
			return id
		}
	}
	hdr := make([]byte, 16)
	order.PutUint32(hdr, 4)
	order.PutUint32(hdr[8:], 3)
	copy(hdr[12:], "GNU\x00")
	for p := 0; ; p += 4 {
		i := bytes.Index(img[p:], hdr[8:16])
		if i < 0 {
			return ""
		}
		p += i
		n := p - 8 // the note's start
		if n < 0 || n%4 != 0 || order.Uint32(img[n:]) != 4 {
			continue
		}
		descsz := int(order.Uint32(img[n+4:]))
		if descsz < 8 || descsz > 64 || n+16+descsz > len(img) {
			continue
		}
		// Its neighbours: the notes up to 512 bytes around hold one
		// named "Linux" or "Xen".
		if !kernelNoteNear(img, n, order) {
			continue
		}
		return hex.EncodeToString(img[n+16 : n+16+descsz])
	}
}

// kernelNoteNear reports whether a note named "Linux" or "Xen" (its
// header: namesz, descsz, type, then the name) lies within 512 bytes of
// offset n.
func kernelNoteNear(img []byte, n int, order binary.ByteOrder) bool {
	for q := max(0, n-512) &^ 3; q+20 <= len(img) && q < n+512; q += 4 {
		switch nz := order.Uint32(img[q:]); {
		case nz == 6 && string(img[q+12:q+18]) == "Linux\x00",
			nz == 4 && string(img[q+12:q+16]) == "Xen\x00":
			return true
		}
	}
	return false
}
