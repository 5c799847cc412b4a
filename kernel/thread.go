package kernel

import (
	"sync/atomic"

	"grove/errno"
)

// clone, exit and futex: the system calls behind Go's Ms and their parking.

const (
	cloneVM      = 0x100
	cloneThread  = 0x10000
	cloneSetTLS  = 0x80000
	futexWait    = 0
	futexWake    = 1
	futexPrivate = 128
)

// sysCloneFn creates a thread: it resumes after SYSCALL with the parent's
// registers except RAX = 0, RSP = the new stack and (CLONE_SETTLS) FS = R8.
// Kernel context.
func sysCloneFn(c *percpu, f *TrapFrame) uint64 {
	if f.RDI&(cloneVM|cloneThread) != cloneVM|cloneThread {
		return sysErr(errno.EINVAL) // no processes, only threads
	}
	i, t := allocTask()
	if t == nil {
		return sysErr(errno.EAGAIN)
	}
	parent := &tasks[c.cur]
	t.regs = *f
	t.regs.RAX = 0
	t.regs.RSP = f.RSI
	t.fsBase = parent.fsBase
	if f.RDI&cloneSetTLS != 0 {
		t.fsBase = uintptr(f.R8)
	}
	copy(bytesAt(t.fpuAddr(), fpStateSize), bytesAt(parent.fpuAddr(), fpStateSize))
	t.sigMask = parent.sigMask
	t.altFlags = ssDisable
	enqueue(i)
	return uint64(t.tid)
}

// sysExitFn ends the calling thread (Go's exitThread already stopped using
// its stack). The slot is reused once we have switched away from it.
// Kernel context.
func sysExitFn(c *percpu, f *TrapFrame) uint64 {
	t := &tasks[c.cur]
	t.state = taskBlocked // not runnable; schedule switches away
	t.wait = waitNone
	schedule(c, f, false)
	t.state = taskFree
	nTasks--
	return keepFrame
}

// Kernel context.
func sysFutexFn(c *percpu, f *TrapFrame) uint64 {
	addr, op, val := uintptr(f.RDI), f.RSI&^futexPrivate, uint32(f.RDX)
	if addr%4 != 0 || !kas.access(addr, 4, false) {
		return sysErr(errno.EFAULT)
	}
	switch op {
	case futexWait:
		if atomic.LoadUint32(uint32At(addr)) != val {
			return sysErr(errno.EAGAIN)
		}
		var deadline int64
		if f.R10 != 0 {
			d, ok := readTimespec(uintptr(f.R10))
			if !ok {
				return sysErr(errno.EFAULT)
			}
			deadline = nanotime() + d + 1
		}
		block(c, waitFutex, deadline, sysErr(errno.ETIMEDOUT))
		tasks[c.cur].futex = addr
		return 0
	case futexWake:
		return uint64(futexWakeN(addr, int(int32(val))))
	}
	return sysErr(errno.ENOSYS)
}

// futexWakeN wakes up to n tasks waiting on addr, oldest slot first.
// Kernel context.
func futexWakeN(addr uintptr, n int) int {
	woken := 0
	for i := range tasks {
		if woken >= n {
			break
		}
		t := &tasks[i]
		if t.state == taskBlocked && t.wait == waitFutex && t.futex == addr {
			wake(int32(i), 0)
			woken++
		}
	}
	return woken
}
