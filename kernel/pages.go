package kernel

import (
	"syscall"

	"grove/errno"
)

// Physical pages for the layers above (hv's guest RAM, nested page tables,
// VMCBs) and the allocator's counters. AllocPages, FreePages and
// ReadMemInfo run in goroutines and reach the allocator through Grove's
// system calls; the sys*Fn handlers run in kernel context. The kernel keeps
// no account of who holds pages it hands out: a holder counts its own.

// PageSize is the allocator's page size.
const PageSize = pageSize

// AllocPages returns n physically contiguous zeroed pages aligned to align
// pages, identity mapped (the physical address is also a pointer).
func AllocPages(n, align int) (uintptr, error) {
	r, _, e := syscall.RawSyscall(SysGrovePageAlloc, uintptr(n), uintptr(align), 0)
	if e != 0 {
		return 0, e
	}
	zeroPages(r, uintptr(n))
	return r, nil
}

// zeroPages makes n pages at pa zero, writing only where they are not: a
// page is read until its first non-zero 64 bytes, and cleared from there.
// Memory nobody has written yet is then only read, which is what makes a
// big domain quick to create where Grove itself runs as a guest: a host
// backs a guest's memory on its first write, and under QEMU TCG clearing a
// fresh 256 MiB domain took 0.7 s, most of it the host's page faults,
// where reading it takes under 0.1 s. Memory that was in use (a destroyed
// domain's) costs a read of its zero prefix more than a plain clear.
func zeroPages(pa, n uintptr) {
	for p := pa; p < pa+n*pageSize; p += pageSize {
		zeroIfNot(tableAt(p))
	}
}

func zeroIfNot(w *[512]uint64) {
	for i := 0; i < len(w); i += 8 {
		if w[i]|w[i+1]|w[i+2]|w[i+3]|w[i+4]|w[i+5]|w[i+6]|w[i+7] != 0 {
			clear(w[i:]) // before i it is zero already
			return
		}
	}
}

// FreePages gives back n pages at pa.
func FreePages(pa uintptr, n int) error {
	if _, _, e := syscall.RawSyscall(SysGrovePageFree, pa, uintptr(n), 0); e != 0 {
		return e
	}
	return nil
}

// Kernel context.
func sysGrovePageAllocFn(c *percpu, f *TrapFrame) uint64 {
	n, align := f.RDI, f.RSI
	if n == 0 || n > 1<<20 || align == 0 || align&(align-1) != 0 {
		return sysErr(errno.EINVAL)
	}
	pa, err := kmem.allocRun(n, align)
	if err != nil {
		return sysErr(errno.ENOMEM)
	}
	return uint64(pa)
}

// Kernel context.
func sysGrovePageFreeFn(c *percpu, f *TrapFrame) uint64 {
	pa, n := uintptr(f.RDI), f.RSI
	for i := uint64(0); i < n; i++ {
		if kmem.freePage(pa+uintptr(i)*pageSize) != nil {
			return sysErr(errno.EINVAL)
		}
	}
	return 0
}

// MemInfo is a snapshot of the page allocator's counters, in pages.
type MemInfo struct {
	Total, Free, MinFree, User, Tables uint64
}

// ReadMemInfo returns the allocator's counters.
func ReadMemInfo() MemInfo {
	var m MemInfo
	syscall.RawSyscall(SysGroveMemInfo, uintptrOf(&m), 0, 0)
	return m
}

// Kernel context.
func sysGroveMemInfoFn(c *percpu, f *TrapFrame) uint64 {
	if !kas.access(uintptr(f.RDI), sizeOf[MemInfo](), true) {
		return sysErr(errno.EFAULT)
	}
	*ptrAt[MemInfo](uintptr(f.RDI)) = MemInfo{kmem.total, kmem.free, kmem.min, kas.userPages, ptPages}
	return 0
}
