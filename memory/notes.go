package memory

import (
	"encoding/binary"
	"fmt"
)

// ELF note types seen in dumps.
const (
	NTPRStatus   = 1 // NT_PRSTATUS: one per CPU, the registers at the crash
	NTPRPSInfo   = 3 // NT_PRPSINFO
	NTTaskStruct = 4 // NT_TASKSTRUCT
	NTVMCoreInfo = 0 // "VMCOREINFO" notes use type 0
)

// Note is one ELF note.
type Note struct {
	Name string
	Type uint32
	Desc []byte
}

// ParseNotes splits the contents of a PT_NOTE segment (or a kdump file's
// note area) into notes. Name and descriptor are padded to 4 bytes, as Linux
// writes them. A malformed note ends the list with an error naming the offset
// within data.
func ParseNotes(data []byte, order binary.ByteOrder) ([]Note, error) {
	var notes []Note
	off := 0
	for off+12 <= len(data) {
		namesz := int(order.Uint32(data[off:]))
		descsz := int(order.Uint32(data[off+4:]))
		typ := order.Uint32(data[off+8:])
		if namesz == 0 && descsz == 0 && typ == 0 {
			break // zero padding after the last note
		}
		p := off + 12
		if namesz < 0 || descsz < 0 || namesz > len(data)-p {
			return notes, fmt.Errorf("note at offset %#x: name size %d runs past the note area", off, namesz)
		}
		name := data[p : p+namesz]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		p += align4(namesz)
		if p > len(data) || descsz > len(data)-p {
			return notes, fmt.Errorf("note at offset %#x: descriptor size %d runs past the note area", off, descsz)
		}
		notes = append(notes, Note{Name: string(name), Type: typ, Desc: data[p : p+descsz]})
		off = p + align4(descsz)
	}
	return notes, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// PRStatus is the part of a 64-bit NT_PRSTATUS note gocrash uses: the pid of
// the task that was on the CPU and its general registers in the
// architecture's user_regs_struct order (the arch package names them).
type PRStatus struct {
	PID  int32
	Regs []uint64
}

// prstatus64RegOffset is offsetof(struct elf_prstatus, pr_reg) on 64-bit
// Linux: siginfo (12) + cursig (2+2 pad) + sigpend, sighold (16) + pid, ppid,
// pgrp, sid (16) + four timevals (64).
const prstatus64RegOffset = 112

// ParsePRStatus decodes a 64-bit NT_PRSTATUS descriptor holding nregs
// registers.
func ParsePRStatus(desc []byte, order binary.ByteOrder, nregs int) (PRStatus, error) {
	if len(desc) < prstatus64RegOffset+8*nregs {
		return PRStatus{}, fmt.Errorf("NT_PRSTATUS note of %d bytes is too short for %d registers", len(desc), nregs)
	}
	st := PRStatus{PID: int32(order.Uint32(desc[32:])), Regs: make([]uint64, nregs)}
	for i := range st.Regs {
		st.Regs[i] = order.Uint64(desc[prstatus64RegOffset+8*i:])
	}
	return st, nil
}
