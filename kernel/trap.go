package kernel

import "grove/x86"

// trap is the one Go entry point from trap_amd64.s, on this CPU's kernel
// stack with interrupts off. It dispatches by vector, then delivers pending
// signals and re-arms the timer for whichever task the frame now holds.
//
// Everything after the TLB check runs under the big kernel lock (bkl.go).
// Kernel context.
func trap(f *TrapFrame) {
	c := thisCPU()
	if f.Vector == vecTLB { // answered without the BKL: its holder may be waiting
		ipiServe(c)
		hwEOI()
		*wordAt(c.hwFS - 8) = uint64(c.savedG) // as below: nothing switched
		return
	}
	c.inKernel++
	if c.inKernel > 1 || f.Vector == x86.VecDF || f.Vector == x86.VecNMI || f.Vector == x86.VecMC {
		kernelFault(f, "fault in kernel code")
	}
	bklLock(c)
	entryFS := c.hwFS
	c.traps++
	switch v := f.Vector; {
	case v == vecSyscall:
		doSyscall(c, f)
	case v == vecTimer:
		timerInterrupt(c, f)
	case v == vecResched:
		c.kicked.Store(false)
		hwEOI()
	case v == vecSpurious:
	case isWaitVector(v):
		irqWaitInterrupt(c, f, v)
	case v < 32:
		exception(c, f)
	default:
		hwEOI()
	}
	schedule(c, f, false) // no-op unless the running task blocked or exited
	deliverPending(c, f)
	rearm(c)
	// Give the interrupted thread its g word back (trapCommon put this CPU's
	// kernel g there) before another CPU can take the BKL and resume it.
	*wordAt(entryFS - 8) = uint64(c.savedG)
	bklUnlock()
	c.inKernel--
}

// exception turns a CPU exception in a thread into the signal Linux would
// send, after giving page faults a chance to back lazily mapped memory.
// Kernel context.
func exception(c *percpu, f *TrapFrame) {
	if c.cur == c.idle {
		kernelFault(f, "exception in the idle loop")
	}
	switch f.Vector {
	case x86.VecPF:
		addr := readCR2()
		r := kas.faultIn(uintptr(addr), f.ErrCode&2 != 0)
		switch r {
		case faultOK:
		case faultNoMem:
			outOfMemory(f, addr)
		default:
			faultSignal(c, f, sigSEGV, r, addr)
		}
	case x86.VecDE:
		faultSignal(c, f, sigFPE, fpeIntDiv, f.RIP)
	case x86.VecMF, x86.VecXF:
		faultSignal(c, f, sigFPE, 0, f.RIP)
	case x86.VecUD:
		faultSignal(c, f, sigILL, illIllOpn, f.RIP)
	case x86.VecBP, x86.VecDB:
		faultSignal(c, f, sigTRAP, trapBrkpt, f.RIP)
	case x86.VecGP:
		faultSignal(c, f, sigSEGV, siKernel, 0)
	default:
		kernelFault(f, "unexpected exception")
	}
}
