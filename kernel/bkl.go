package kernel

import "sync/atomic"

// The big kernel lock. Kernel context (everything trap() reaches) runs with
// interrupts off and touches global state -- tasks, run queues, the address
// space, the page allocator, file descriptors -- so on several CPUs one lock
// serializes it, as early SMP Unix kernels did. It is held from trap()'s
// start to its end, except across long calls (a guest's VMRUN runs without
// it: long calls touch only their own data). Kernel-context work is short
// (system calls, faults, interrupts), so contention stays low; per-CPU run
// queues keep the scheduler's own data mostly CPU-local for a finer lock
// later.
//
// Lock order: the BKL is the only kernel lock; nothing above the kernel can
// hold it (it is released before any return to thread context), so it sits
// apart from every Go lock (hv/doc.go has the order across packages).
//
// A CPU spinning for the BKL still answers TLB shoot-downs and fences
// (ipi.go), or a holder waiting for its acknowledgement would deadlock with
// it.

var (
	bkl      atomic.Int32 // 0 free, else owner CPU index + 1
	bklSpins atomic.Uint64
)

// bklLock takes the BKL for c.
// Kernel context.
func bklLock(c *percpu) {
	me := int32(c.id) + 1
	for !bkl.CompareAndSwap(0, me) {
		bklSpins.Add(1)
		ipiServe(c)
		pause()
	}
}

// bklUnlock releases it.
// Kernel context, holder only.
func bklUnlock() { bkl.Store(0) }
