package kernel

import (
	"syscall"

	"grove/errno"
)

// Interrupts for threads. Eight vectors are kept for thread-context code
// that drives a device by its interrupt (the hypervisor forwarding the
// machine's second UART, a guest's control agent): WaitIRQ blocks the
// calling thread until one of them arrives. Each vector counts its arrivals
// since the last wait, so an interrupt that comes between a driver's last
// look at its device and its next wait is not lost, and several that come
// before it looks are one wake-up. On metal RouteISAIRQ points a legacy
// device's interrupt at one of them through the IOAPIC (irqroute_metal.go);
// in a guest of Grove the hypervisor raises them as virtual interrupts
// (event_op's VIRQ binding, hv/abi/virq.go).

const (
	// WaitVectorBase is the first vector WaitIRQ serves; there are
	// WaitVectors of them.
	WaitVectorBase = 0x50
	WaitVectors    = 8
)

// irqArrivals counts each wait vector's interrupts since its last WaitIRQ.
// Guarded by the BKL.
var irqArrivals [WaitVectors]uint64

// isWaitVector reports whether v is one of the vectors WaitIRQ serves.
// Kernel context.
func isWaitVector(v uint64) bool { return v >= WaitVectorBase && v < WaitVectorBase+WaitVectors }

// irqWaitInterrupt counts an arrival on wait vector v and makes its waiters
// run their system call again, on this CPU where their affinity allows and
// before the interrupted thread: a device's driver should not wait for the
// end of another thread's slice (a guest's whole run, for the hypervisor's
// scheduler threads).
// Kernel context, BKL held.
func irqWaitInterrupt(c *percpu, f *TrapFrame, v uint64) {
	hwEOI()
	i := v - WaitVectorBase
	irqArrivals[i]++
	woke := false
	for k := range tasks {
		t := &tasks[k]
		if t.state != taskBlocked || t.wait != waitIRQ || t.futex != uintptr(i) {
			continue
		}
		if t.allowedOn(c.id) {
			t.cpu = int32(c.id)
		}
		restart(int32(k))
		woke = woke || int(t.cpu) == c.id
	}
	if woke {
		schedule(c, f, true)
	}
}

// sysGroveWaitIRQFn is WaitIRQ: RDI the vector, RSI the deadline (Nanotime,
// 0 = none). It returns the arrivals since the last call and clears them,
// or blocks; an arrival restarts it (restart), the deadline ends it with 0.
// Kernel context.
func sysGroveWaitIRQFn(c *percpu, f *TrapFrame) uint64 {
	if !isWaitVector(f.RDI) {
		return sysErr(errno.EINVAL)
	}
	i := f.RDI - WaitVectorBase
	if n := irqArrivals[i]; n > 0 {
		irqArrivals[i] = 0
		return n
	}
	deadline := int64(f.RSI)
	if deadline != 0 && deadline <= nanotime() {
		return 0
	}
	block(c, waitIRQ, deadline, 0)
	tasks[c.cur].futex = uintptr(i)
	return 0
}

// sysGroveRaiseIRQFn sends wait vector RSI to CPU RDI, as a device would:
// the self-tests' stand-in for one.
// Kernel context.
func sysGroveRaiseIRQFn(c *percpu, f *TrapFrame) uint64 {
	if !isWaitVector(f.RSI) || f.RDI >= uint64(onlineCPUs) {
		return sysErr(errno.EINVAL)
	}
	hwSendIPI(cpus[f.RDI].apicID, uint8(f.RSI))
	return 0
}

// WaitIRQ blocks the calling thread until an interrupt arrives on vec (a
// wait vector: WaitVectorBase up to WaitVectors more) or deadline passes
// (Nanotime; 0 = never). It returns how many arrived since the previous
// WaitIRQ on vec, 0 when the deadline passed first. Thread context: the
// runtime sees a blocking system call and runs other goroutines meanwhile.
func WaitIRQ(vec uint8, deadline int64) (uint64, error) {
	r, _, e := syscall.Syscall(SysGroveWaitIRQ, uintptr(vec), uintptr(deadline), 0)
	if e != 0 {
		return 0, errno.Errno(e)
	}
	return uint64(r), nil
}

// raiseIRQ sends wait vector vec to cpu (self-tests). Thread context.
func raiseIRQ(cpu int, vec uint8) error {
	if _, _, e := syscall.RawSyscall(SysGroveRaiseIRQ, uintptr(cpu), uintptr(vec), 0); e != 0 {
		return errno.Errno(e)
	}
	return nil
}
