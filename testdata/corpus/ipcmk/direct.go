//go:build amd64 || arm64

package main

import (
	"syscall"
	"unsafe"
)

// The architectures with a system call for each SysV IPC operation.

func shmget(key, size, flag int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_SHMGET, uintptr(key), uintptr(size), uintptr(flag))
	return result(r, e)
}

func semget(key, n, flag int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_SEMGET, uintptr(key), uintptr(n), uintptr(flag))
	return result(r, e)
}

func msgget(key, flag int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_MSGGET, uintptr(key), uintptr(flag), 0)
	return result(r, e)
}

func msgsnd(id int, msg unsafe.Pointer, size uintptr, flag int) error {
	r, _, e := syscall.Syscall6(syscall.SYS_MSGSND, uintptr(id), uintptr(msg), size, uintptr(flag), 0, 0)
	_, err := result(r, e)
	return err
}
