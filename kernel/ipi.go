package kernel

import "sync/atomic"

// Requests to every other CPU, answered from an interrupt: the TLB
// shoot-down (tlb.go) and membarrier's fence (membarrier.go). The BKL
// holder, and so one CPU at a time, writes the request into each other
// online CPU's ipiReq, sends it vecTLB, and spins until each has answered
// by clearing it. A CPU answers from its interrupt handler without the BKL
// (trap), or from the BKL's spin loop (bklLock), so the holder's wait always
// ends. The answer is Go's atomic store, an XCHG: a full barrier, so every
// store the CPU made before the interrupt is visible to the requester once
// it sees the answer, and every load the CPU makes after it comes after
// the request was made.

// ipiReq values.
const (
	ipiFlushTLB = 1 // reload CR3
	ipiFence    = 2 // only the answer's barrier
)

const ipiAckTimeout = 5_000_000_000 // ns; an answer takes microseconds, unless the host is overloaded

// ipiOthers sends req to every other online CPU and waits for them all
// (for at most ipiAckTimeout each, then reports the CPU on the console).
// Kernel context, BKL held.
func ipiOthers(req uint32) {
	if onlineCPUs == 1 {
		return
	}
	c := thisCPU()
	for i := 0; i < onlineCPUs; i++ {
		if o := &cpus[i]; i != c.id {
			o.ipiReq.Store(req)
			hwSendIPI(o.apicID, vecTLB)
		}
	}
	deadline := nanotime() + ipiAckTimeout
	for i := 0; i < onlineCPUs; i++ {
		o := &cpus[i]
		for o.ipiReq.Load() != 0 {
			if nanotime() > deadline {
				kprint("kernel: cpu ")
				kprintDec(uint64(i))
				kprint(" did not answer an IPI request\n")
				break
			}
			pause()
		}
	}
}

// ipiServe answers another CPU's request, if there is one.
// Kernel context, with or without the BKL.
func ipiServe(c *percpu) {
	switch c.ipiReq.Load() {
	case 0:
		return
	case ipiFlushTLB:
		writeCR3(readCR3())
		atomic.AddUint64(&c.tlbFlushes, 1)
	case ipiFence:
		atomic.AddUint64(&c.fences, 1)
	}
	c.ipiReq.Store(0)
}
