package kernel

import "sync/atomic"

// TLB shoot-down. A CPU that removes user mappings (munmap, madvise
// DONTNEED/FREE, an mmap over old pages) flushes its own entries with INVLPG
// as it clears them, but other CPUs may still cache them. So pages are not
// freed at once: they are gathered, every other online CPU is asked to
// reload CR3 (an IPI on vecTLB), and only once all have answered do the
// pages go back to the allocator (Linux's mmu_gather, in small). A CPU
// answers from its interrupt handler without the BKL, or from the BKL's spin
// loop, so the holder's wait always ends.

const (
	tlbGatherMax  = 256
	tlbAckTimeout = 5_000_000_000 // ns; an answer takes microseconds, unless the host is overloaded
)

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
	c := thisCPU()
	for i := 0; i < onlineCPUs; i++ {
		if o := &cpus[i]; i != c.id {
			o.tlbReq.Store(1)
			hwSendIPI(o.apicID, vecTLB)
		}
	}
	deadline := nanotime() + tlbAckTimeout
	for i := 0; i < onlineCPUs; i++ {
		o := &cpus[i]
		for o.tlbReq.Load() != 0 {
			if nanotime() > deadline {
				kprint("kernel: cpu ")
				kprintDec(uint64(i))
				kprint(" did not answer a TLB shoot-down\n")
				break
			}
			pause()
		}
	}
	tlbShootdowns++
}

// tlbShootdowns counts shoot-downs (self-tests read it).
var tlbShootdowns uint64

// tlbServe flushes c's TLB if another CPU asked.
// Kernel context, with or without the BKL.
func tlbServe(c *percpu) {
	if c.tlbReq.Load() != 0 {
		writeCR3(readCR3())
		atomic.AddUint64(&c.tlbFlushes, 1)
		c.tlbReq.Store(0)
	}
}
