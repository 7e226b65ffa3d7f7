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
	// Offset is where the note (its header) starts: in the dump file for
	// an ELF core's PT_NOTE and a kdump file's note area, else within the
	// data ParseNotes was given.
	Offset int64
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
		notes = append(notes, Note{Name: string(name), Type: typ, Desc: data[p : p+descsz], Offset: int64(off)})
		off = p + align4(descsz)
	}
	return notes, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// PRStatus is the part of an NT_PRSTATUS note gocrash uses: the pid of the
// task that was on the CPU and its general registers in the architecture's
// user_regs_struct order (the arch package names them).
type PRStatus struct {
	PID  int32
	Regs []uint64
}

// Offsets of pr_pid and pr_reg in struct elf_prstatus: siginfo (12 bytes),
// cursig (2 + 2 padding), sigpend and sighold (two longs), pid, ppid, pgrp,
// sid (four ints), then four timevals (two longs each).
const (
	prstatus64PIDOffset = 32
	prstatus64RegOffset = 112
	prstatus32PIDOffset = 24
	prstatus32RegOffset = 72
)

// ParsePRStatus decodes an NT_PRSTATUS descriptor of a 64- or 32-bit
// machine holding nregs registers (each the size of a long).
func ParsePRStatus(desc []byte, order binary.ByteOrder, nregs, bits int) (PRStatus, error) {
	pidOff, regOff, word := prstatus64PIDOffset, prstatus64RegOffset, 8
	if bits == 32 {
		pidOff, regOff, word = prstatus32PIDOffset, prstatus32RegOffset, 4
	}
	if len(desc) < regOff+word*nregs {
		return PRStatus{}, fmt.Errorf("NT_PRSTATUS note of %d bytes is too short for %d registers", len(desc), nregs)
	}
	st := PRStatus{PID: int32(order.Uint32(desc[pidOff:])), Regs: make([]uint64, nregs)}
	for i := range st.Regs {
		if word == 8 {
			st.Regs[i] = order.Uint64(desc[regOff+8*i:])
		} else {
			st.Regs[i] = uint64(order.Uint32(desc[regOff+4*i:]))
		}
	}
	return st, nil
}

// PRPSInfo is an NT_PRPSINFO note: /proc/kcore's names the kernel
// ("vmlinux") and carries its command line in PSArgs.
type PRPSInfo struct {
	State    byte
	PID      int32
	FileName string
	PSArgs   string
}

// ParsePRPSInfo decodes a 64-bit NT_PRPSINFO descriptor (struct
// elf_prpsinfo: four chars, pr_flag, uid, gid, pid, ppid, pgrp, sid,
// pr_fname[16], pr_psargs[80]).
func ParsePRPSInfo(desc []byte, order binary.ByteOrder) (PRPSInfo, error) {
	const fnameOff, argsOff, size = 40, 56, 136
	if len(desc) < size {
		return PRPSInfo{}, fmt.Errorf("NT_PRPSINFO note of %d bytes, want %d", len(desc), size)
	}
	return PRPSInfo{
		State:    desc[0],
		PID:      int32(order.Uint32(desc[24:])),
		FileName: cstring(desc[fnameOff:argsOff]),
		PSArgs:   cstring(desc[argsOff:size]),
	}, nil
}

// PRPSInfo returns the dump's NT_PRPSINFO note, if it has one.
func (d *Dump) PRPSInfo() (PRPSInfo, bool) {
	for _, n := range d.Notes {
		if n.Type == NTPRPSInfo && n.Name == "CORE" {
			if p, err := ParsePRPSInfo(n.Desc, d.ByteOrder); err == nil {
				return p, true
			}
		}
	}
	return PRPSInfo{}, false
}
