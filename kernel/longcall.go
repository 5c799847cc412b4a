package kernel

import (
	"syscall"

	"grove/errno"
)

// Long calls let a higher layer (hv) run a short piece of assembly in kernel
// context -- interrupts off, on the kernel stack -- for as long as it likes,
// with the LAPIC timer armed at a deadline so that the host regains the CPU.
// Entering a guest is the user: from the runtime's view the thread is in a
// system call, so garbage collection goes on and its P can be handed off.
// The kernel knows nothing of what the call does.

// LongCallFunc runs in kernel context: it must not allocate, block or panic.
type LongCallFunc func(a, b uintptr) uintptr

const maxLongCalls = 8

var longCalls [maxLongCalls]LongCallFunc

// RegisterLongCall installs fn as long call i. Call it from init.
func RegisterLongCall(i int, fn LongCallFunc) {
	if i < 0 || i >= maxLongCalls || longCalls[i] != nil {
		panic("kernel: bad or duplicate long call registration")
	}
	longCalls[i] = fn
}

// LongCall runs long call i with a and b; the timer fires no later than
// deadline (Nanotime units; 0 = the kernel's own next deadline only).
func LongCall(i int, a, b uintptr, deadline int64) uintptr {
	r, _, _ := syscall.Syscall6(SysGroveLongCall, uintptr(i), a, b, uintptr(deadline), 0, 0)
	return r
}

// sysGroveLongCallFn makes registered call i, also in kernel context.
// Kernel context, without the BKL across the call.
func sysGroveLongCallFn(c *percpu, f *TrapFrame) uint64 {
	i := f.RDI
	if i >= maxLongCalls || longCalls[i] == nil {
		return sysErr(errno.EINVAL)
	}
	next := nextEvent(c) // a long call must not outlast the thread's slice
	if d := int64(f.R10); d > 0 && (next == 0 || d < next) {
		next = d
	}
	armTimer(c, next)
	// The call runs without the BKL: it touches only its own data, and a
	// guest's run must not stop other CPUs from entering the kernel.
	bklUnlock()
	r := longCalls[i](uintptr(f.RSI), uintptr(f.RDX))
	bklLock(c)
	return uint64(r)
}
