//go:build ppc64le || s390x

package main

import (
	"syscall"
	"unsafe"
)

// The architectures whose Go syscall tables name only the ipc(2)
// multiplexer: ipc(call, first, second, third, ptr, fifth), with the
// kernel's ipc call numbers (include/uapi/linux/ipc.h).
const (
	ipcSemget = 2
	ipcMsgsnd = 11
	ipcMsgget = 13
	ipcShmget = 23
)

func ipc(call, first, second, third uintptr, ptr unsafe.Pointer) (int, error) {
	r, _, e := syscall.Syscall6(syscall.SYS_IPC, call, first, second, third, uintptr(ptr), 0)
	return result(r, e)
}

func shmget(key, size, flag int) (int, error) {
	return ipc(ipcShmget, uintptr(key), uintptr(size), uintptr(flag), nil)
}

func semget(key, n, flag int) (int, error) {
	return ipc(ipcSemget, uintptr(key), uintptr(n), uintptr(flag), nil)
}

func msgget(key, flag int) (int, error) {
	return ipc(ipcMsgget, uintptr(key), uintptr(flag), 0, nil)
}

func msgsnd(id int, msg unsafe.Pointer, size uintptr, flag int) error {
	_, err := ipc(ipcMsgsnd, uintptr(id), size, uintptr(flag), msg)
	return err
}
