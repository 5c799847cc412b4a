package kernel

// TLB shoot-down. A CPU that removes user mappings (munmap, madvise
// DONTNEED/FREE, an mmap over old pages) flushes its own entries with INVLPG
// as it clears them, but other CPUs may still cache them. So pages are not
// freed at once: they are gathered, every other online CPU is asked to
// reload CR3 (an IPI on vecTLB), and only once all have answered do the
// pages go back to the allocator (Linux's mmu_gather, in small). The
// request and its answer are ipi.go's.

const tlbGatherMax = 256

// tlbGather holds pages unmapped but not yet safe to reuse. BKL held.
var tlbGather struct {
	n     int
	pages [tlbGatherMax]uintptr
}

// gatherPage queues pa for freeing after the next shoot-down.
// Kernel context.
func gatherPage(pa uintptr) {
	if tlbGather.n == tlbGatherMax {
		tlbFlushGathered()
	}
	tlbGather.pages[tlbGather.n] = pa
	tlbGather.n++
}

// tlbFlushGathered shoots down other CPUs' TLBs and frees the gathered
// pages.
// Kernel context, BKL held.
func tlbFlushGathered() {
	if tlbGather.n == 0 {
		return
	}
	tlbShootdown()
	for _, pa := range tlbGather.pages[:tlbGather.n] {
		kmem.freePage(pa)
	}
	tlbGather.n = 0
}

// tlbShootdown asks every other online CPU to flush its TLB and waits for
// them all.
// Kernel context, BKL held.
func tlbShootdown() {
	if onlineCPUs == 1 {
		return
	}
	ipiOthers(ipiFlushTLB)
	tlbShootdowns++
}

// tlbShootdowns counts shoot-downs (self-tests read it).
var tlbShootdowns uint64
