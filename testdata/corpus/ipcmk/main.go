// Command ipcmk is a corpus guest's helper (busybox has no ipcmk): it
// creates one SysV shared memory segment (key 0x6763, 64 KiB), one
// semaphore set (key 0x6764, 3 semaphores) and one message queue (key
// 0x6765, holding 2 messages), then exits; the objects stay in the guest's
// IPC namespace for the dump's ipcs to find. build.sh builds it statically
// (CGO_ENABLED=0) for each guest architecture.
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

const (
	ipcCreat = 01000
	shmKey   = 0x6763
	semKey   = 0x6764
	msgKey   = 0x6765
)

// msgbuf is the kernel's struct msgbuf with room for a short text.
type msgbuf struct {
	mtype int64
	mtext [32]byte
}

func main() {
	shm, err := shmget(shmKey, 64<<10, ipcCreat|0600)
	check("shmget", err)
	sem, err := semget(semKey, 3, ipcCreat|0600)
	check("semget", err)
	msq, err := msgget(msgKey, ipcCreat|0600)
	check("msgget", err)
	for i, text := range []string{"gocrash message one", "gocrash message two"} {
		var m msgbuf
		m.mtype = int64(i + 1)
		copy(m.mtext[:], text)
		check("msgsnd", msgsnd(msq, unsafe.Pointer(&m), uintptr(len(text)), 0))
	}
	fmt.Printf("shmid %d semid %d msqid %d\n", shm, sem, msq)
}

func check(what string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ipcmk: %s: %v\n", what, err)
		os.Exit(1)
	}
}

func result(r uintptr, e syscall.Errno) (int, error) {
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
