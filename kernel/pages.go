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
	clear(bytesAt(r, uintptr(n*pageSize)))
	return r, nil
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
