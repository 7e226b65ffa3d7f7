package kernel

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/gocrash/gocrash/arch"
)

// Reader reads kernel virtual memory: what most of the kernel's types
// need, and what a test can fake.
type Reader interface {
	ReadVirt(p []byte, addr uint64) error
	ReadU64(addr uint64) (uint64, error)
	ReadU32(addr uint64) (uint32, error)
	ReadU16(addr uint64) (uint16, error)
	ReadCString(addr uint64, max int) (string, error)
	ByteOrder() binary.ByteOrder
}

// PhysReader reads the dump's physical memory (a *memory.Dump).
type PhysReader interface {
	ReadPhys(p []byte, addr uint64) error
}

// KernelWalker translates kernel virtual pages (an arch.Arch).
type KernelWalker interface {
	PageSize() uint64
	KernelWalk(vaddr uint64) (arch.Translation, error)
}

// Memory is the kernel's virtual memory: translations through the kernel's
// page tables, cached by page, over the dump's physical memory.
type Memory struct {
	phys   PhysReader
	walker KernelWalker
	order  binary.ByteOrder

	mu    sync.Mutex
	pages map[uint64]uint64 // virtual page -> physical page
}

// NewMemory reads kernel virtual memory through w's translations of phys.
func NewMemory(phys PhysReader, w KernelWalker, order binary.ByteOrder) *Memory {
	return &Memory{phys: phys, walker: w, order: order, pages: map[uint64]uint64{}}
}

// ByteOrder is the kernel's byte order.
func (k *Memory) ByteOrder() binary.ByteOrder { return k.order }

// Refresh forgets cached page translations: on a running system page
// tables change between commands (vmalloc'd stacks come and go), so each
// command translates afresh.
func (k *Memory) Refresh() {
	k.mu.Lock()
	clear(k.pages)
	k.mu.Unlock()
}

// VirtToPhys translates a kernel virtual address, caching page translations.
func (k *Memory) VirtToPhys(addr uint64) (uint64, error) {
	ps := k.walker.PageSize()
	page := addr &^ (ps - 1)
	k.mu.Lock()
	p, ok := k.pages[page]
	k.mu.Unlock()
	if ok {
		return p | addr&(ps-1), nil
	}
	t, err := k.walker.KernelWalk(page)
	if err != nil {
		return 0, err
	}
	k.mu.Lock()
	k.pages[page] = t.Phys
	k.mu.Unlock()
	return t.Phys | addr&(ps-1), nil
}

// ReadVirt fills p from kernel virtual address addr, page by page.
func (k *Memory) ReadVirt(p []byte, addr uint64) error {
	ps := k.walker.PageSize()
	for len(p) > 0 {
		n := ps - addr%ps
		if n > uint64(len(p)) {
			n = uint64(len(p))
		}
		phys, err := k.VirtToPhys(addr)
		if err != nil {
			return err
		}
		if err := k.phys.ReadPhys(p[:n], phys); err != nil {
			return fmt.Errorf("kernel virtual address %x: %w", addr, err)
		}
		p = p[n:]
		addr += n
	}
	return nil
}

// ReadU64 reads an unsigned 64-bit value (a pointer or unsigned long).
func (k *Memory) ReadU64(addr uint64) (uint64, error) {
	var b [8]byte
	err := k.ReadVirt(b[:], addr)
	return k.order.Uint64(b[:]), err
}

// ReadU32 reads an unsigned 32-bit value.
func (k *Memory) ReadU32(addr uint64) (uint32, error) {
	var b [4]byte
	err := k.ReadVirt(b[:], addr)
	return k.order.Uint32(b[:]), err
}

// ReadU16 reads an unsigned 16-bit value.
func (k *Memory) ReadU16(addr uint64) (uint16, error) {
	var b [2]byte
	err := k.ReadVirt(b[:], addr)
	return k.order.Uint16(b[:]), err
}

// ReadCString reads a NUL-terminated string of at most max bytes.
func (k *Memory) ReadCString(addr uint64, max int) (string, error) {
	b := make([]byte, max)
	if err := k.ReadVirt(b, addr); err != nil {
		return "", err
	}
	return cstr(b), nil
}
