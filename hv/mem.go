package hv

import (
	"errors"
	"fmt"
	"sync"

	"grove/errno"
	"grove/hv/npt"
	"grove/kernel"
)

// Guest RAM is host memory in 2 MiB runs from the kernel's page allocator
// (never the Go heap), mapped into the domain by its nested page table.

const hugePage = 2 << 20

// kernelMem gives npt its table pages.
type kernelMem struct{}

func (kernelMem) AllocTable() (uint64, error) {
	pa, err := allocPages(1, 1)
	return uint64(pa), err
}
func (kernelMem) Table(pa uint64) *[512]uint64 { return tableAt(uintptr(pa)) }
func (kernelMem) FreeTable(pa uint64)          { freePages(uintptr(pa), 1) }

// guestRAM is a domain's memory: chunk i backs [i*2MiB, (i+1)*2MiB).
type guestRAM struct {
	size   uint64
	chunks []uintptr
	npt    *npt.Table
	mapMu  sync.Mutex // serialises mappings added while vCPUs run (platform_mmio.go); lock order in doc.go
}

var errGuestAddr = errors.New("guest address outside its RAM")

func newGuestRAM(size uint64) (*guestRAM, error) {
	size = (size + hugePage - 1) &^ (hugePage - 1)
	t, err := npt.New(kernelMem{})
	if err != nil {
		return nil, err
	}
	r := &guestRAM{size: size, npt: t}
	for gpa := uint64(0); gpa < size; gpa += hugePage {
		hpa, err := allocPages(hugePage/kernel.PageSize, hugePage/kernel.PageSize)
		if err != nil {
			r.free()
			return nil, fmt.Errorf("guest RAM: %d MiB allocated of %d: %w", gpa>>20, size>>20, errno.ENOMEM)
		}
		r.chunks = append(r.chunks, hpa)
		if err := t.Map2M(gpa, uint64(hpa)); err != nil {
			r.free()
			return nil, err
		}
	}
	return r, nil
}

func (r *guestRAM) free() {
	for _, c := range r.chunks {
		freePages(c, hugePage/kernel.PageSize)
	}
	r.chunks = nil
	if r.npt != nil {
		r.npt.Free()
	}
}

// slice returns host memory for [gpa, gpa+n) if it lies in one chunk.
func (r *guestRAM) slice(gpa, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if gpa >= r.size || n > r.size-gpa || gpa/hugePage != (gpa+n-1)/hugePage {
		return nil, errGuestAddr
	}
	base := r.chunks[gpa/hugePage] + uintptr(gpa%hugePage)
	return hostBytes(base, n), nil
}

// write copies b to guest-physical gpa.
func (r *guestRAM) write(gpa uint64, b []byte) error {
	for len(b) > 0 {
		n := min(uint64(len(b)), hugePage-gpa%hugePage)
		dst, err := r.slice(gpa, n)
		if err != nil {
			return err
		}
		copy(dst, b[:n])
		b, gpa = b[n:], gpa+n
	}
	return nil
}

// read copies guest-physical [gpa, gpa+len(b)) into b.
func (r *guestRAM) read(gpa uint64, b []byte) error {
	for len(b) > 0 {
		n := min(uint64(len(b)), hugePage-gpa%hugePage)
		src, err := r.slice(gpa, n)
		if err != nil {
			return err
		}
		copy(b[:n], src)
		b, gpa = b[n:], gpa+n
	}
	return nil
}

func (r *guestRAM) u64(gpa uint64) (uint64, error) {
	var b [8]byte
	if err := r.read(gpa, b[:]); err != nil {
		return 0, err
	}
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56, nil
}
