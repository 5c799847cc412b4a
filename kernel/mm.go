package kernel

import (
	"grove/errno"
	"grove/x86/paging"
)

// Kernel memory state. Touched only from kernel context, under the BKL.
var (
	kmem    physAlloc
	kas     addressSpace
	ptPages uint64 // pages holding page tables
)

// kernelPT gives page tables physical pages through the identity map.
type kernelPT struct{}

// Boot path.
func (kernelPT) AllocTable() (uint64, error) {
	pa, err := kmem.alloc()
	if err != nil {
		return 0, err
	}
	zeroPage(pa)
	ptPages++
	return uint64(pa), nil
}

// Boot path.
func (kernelPT) Table(pa uint64) *[512]uint64 { return tableAt(uintptr(pa)) }

// Boot path.
func (kernelPT) FreeTable(pa uint64) {
	kmem.freePage(uintptr(pa))
	ptPages--
}

// Fault outcomes, as Linux si_code values for SIGSEGV.
const (
	faultOK    = 0
	segvMapErr = 1
	segvAccErr = 2
	faultNoMem = -1
)

// faultIn backs the page at addr if a mapping allows the access.
// Kernel context.
func (as *addressSpace) faultIn(addr uintptr, write bool) int {
	i := as.find(addr)
	if i < 0 {
		return segvMapErr
	}
	prot := as.vmas[i].prot
	if prot == 0 || (write && prot&protWrite == 0) {
		return segvAccErr
	}
	va := addr &^ (pageSize - 1)
	if e := as.pt.lookup(va); e&paging.P != 0 {
		if !write || e&paging.RW != 0 {
			return faultOK // another CPU backed it since: the access retries
		}
		return segvAccErr // present, yet it faulted: a protection fault
	}
	pa, err := kmem.alloc()
	if err != nil {
		return faultNoMem
	}
	zeroPage(pa)
	flags := uint64(paging.US)
	if prot&protWrite != 0 {
		flags |= paging.RW
	}
	if prot&protExec == 0 {
		flags |= paging.NX
	}
	if as.pt.map4K(va, pa, flags) != nil {
		kmem.freePage(pa)
		return faultNoMem
	}
	as.userPages++
	return faultOK
}

// releaseUserPage is unmapRange's callback for mapping pages.
// The page is freed only after other CPUs dropped it from their TLBs: callers
// end with tlbFlushGathered.
// Kernel context.
func releaseUserPage(va, pa uintptr) {
	invlpg(va)
	gatherPage(pa)
	kas.userPages--
}

// access makes [addr, addr+n) usable by the kernel on the caller's behalf,
// backing pages as a fault would. It fails for unmapped or forbidden memory.
// Kernel context.
func (as *addressSpace) access(addr, n uintptr, write bool) bool {
	if n == 0 {
		return true
	}
	end := addr + n
	if end < addr || addr < pageSize {
		return false
	}
	if end <= as.identEnd {
		return true // kernel-visible RAM (image, static data)
	}
	for va := addr &^ (pageSize - 1); va < end; va += pageSize {
		e := as.pt.lookup(va)
		if e&paging.P != 0 && (!write || e&paging.RW != 0) {
			continue
		}
		if as.faultIn(va, write) != faultOK {
			return false
		}
	}
	return true
}

// Kernel context.
func doMmap(addr, length uintptr, prot, flags uint32, fd int64) uint64 {
	if length == 0 || flags&mapAnonymous == 0 {
		return sysErr(errno.EINVAL) // only anonymous memory exists here
	}
	n := (length + pageSize - 1) &^ (pageSize - 1)
	fixed := flags&(mapFixed|mapFixedNoReplace) != 0
	a, ok := kas.place(addr, n, fixed)
	if !ok {
		return sysErr(errno.ENOMEM)
	}
	if flags&mapFixedNoReplace != 0 && !kas.free(a, a+n) {
		return sysErr(errno.EEXIST)
	}
	kas.pt.unmapRange(a, a+n, releaseUserPage)
	tlbFlushGathered()
	if !kas.setRange(a, a+n, prot&(protRead|protWrite|protExec)) {
		return sysErr(errno.ENOMEM)
	}
	return uint64(a)
}

// Kernel context.
func doMunmap(addr, length uintptr) uint64 {
	n := (length + pageSize - 1) &^ (pageSize - 1)
	if addr%pageSize != 0 || n == 0 || addr < kas.identEnd || addr+n > userTop {
		return sysErr(errno.EINVAL)
	}
	kas.pt.unmapRange(addr, addr+n, releaseUserPage)
	tlbFlushGathered()
	if !kas.carve(addr, addr+n) {
		return sysErr(errno.ENOMEM)
	}
	return 0
}

const (
	madvDontneed = 4
	madvFree     = 8
)

// doMadvise gives pages back for DONTNEED and FREE (their next touch reads
// zeros, which satisfies both) and accepts every other advice as a no-op.
// Kernel context.
func doMadvise(addr, length uintptr, advice int) uint64 {
	if addr%pageSize != 0 {
		return sysErr(errno.EINVAL)
	}
	if advice == madvDontneed || advice == madvFree {
		n := (length + pageSize - 1) &^ (pageSize - 1)
		if addr >= kas.identEnd && addr+n <= userTop {
			kas.pt.unmapRange(addr, addr+n, releaseUserPage)
			tlbFlushGathered()
		}
	}
	return 0
}
