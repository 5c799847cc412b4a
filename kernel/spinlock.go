package kernel

import "sync/atomic"

// spinlock guards kernel state shared between CPUs. Kernel code runs with
// interrupts off, so a holder is never preempted; with one CPU it never spins.
type spinlock struct{ v atomic.Uint32 }

func (l *spinlock) lock() {
	for !l.v.CompareAndSwap(0, 1) {
	}
}

func (l *spinlock) unlock() { l.v.Store(0) }
