package kernel

import (
	"math/bits"
	"syscall"
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

func sysGroveLongCallFn(c *percpu, f *TrapFrame) uint64 {
	i := f.RDI
	if i >= maxLongCalls || longCalls[i] == nil {
		return eINVAL.ret()
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

// Nanotime is the kernel's monotonic clock in nanoseconds since boot.
func Nanotime() int64 { return nanotime() }

// TSCHz is the calibrated TSC frequency.
func TSCHz() uint64 { return tscHz }

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

// PageSize is the allocator's page size.
const PageSize = pageSize

func sysGrovePageAllocFn(c *percpu, f *TrapFrame) uint64 {
	n, align := f.RDI, f.RSI
	if n == 0 || n > 1<<20 || align == 0 || align&(align-1) != 0 {
		return eINVAL.ret()
	}
	pa, err := kmem.allocRun(n, align)
	if err != nil {
		return eNOMEM.ret()
	}
	hvPages += n
	return uint64(pa)
}

func sysGrovePageFreeFn(c *percpu, f *TrapFrame) uint64 {
	pa, n := uintptr(f.RDI), f.RSI
	for i := uint64(0); i < n; i++ {
		if kmem.freePage(pa+uintptr(i)*pageSize) != nil {
			return eINVAL.ret()
		}
		hvPages--
	}
	return 0
}

// hvPages counts pages handed out through AllocPages.
var hvPages uint64

// TSCToNanotime converts a TSC reading to Nanotime's clock.
func TSCToNanotime(tsc uint64) int64 {
	if tsc < tsc0 {
		return 0
	}
	hi, lo := bits.Mul64(tsc-tsc0, tscMul)
	return int64(hi<<32 | lo>>32)
}
