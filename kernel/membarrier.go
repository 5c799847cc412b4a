package kernel

import "grove/errno"

// membarrier(2): a thread asks that every other running thread execute a
// full memory barrier before the call returns, so that it can leave the
// barrier out of its fast path (package rcu's read side). Grove runs one
// process, so every CPU runs its threads: the call sends every other online
// CPU an IPI (ipi.go's ipiFence) and waits until each has answered; taking
// the interrupt and answering with an XCHG is the barrier. A thread that is
// not running passed a barrier when it was switched out (every kernel entry
// and exit takes or drops the BKL with a locked instruction), and the caller
// passes one on its own kernel entry, before the IPIs go out.

// membarrier commands (Linux include/uapi/linux/membarrier.h). Grove
// answers these; the others are EINVAL, as Linux answers unknown ones.
const (
	mbCmdQuery                    = 0
	mbCmdGlobal                   = 1 << 0
	mbCmdPrivateExpedited         = 1 << 3
	mbCmdRegisterPrivateExpedited = 1 << 4

	mbSupported = mbCmdGlobal | mbCmdPrivateExpedited | mbCmdRegisterPrivateExpedited
)

// mbRegistered: the process asked for MEMBARRIER_CMD_PRIVATE_EXPEDITED
// (without that Linux answers it with EPERM). BKL held.
var mbRegistered bool

// membarriers counts the barriers that reached other CPUs (self-tests).
var membarriers uint64

// sysMembarrierFn is membarrier(cmd, flags, cpu_id). No command Grove
// answers takes flags, so cpu_id is never read.
// Kernel context, BKL held.
func sysMembarrierFn(c *percpu, f *TrapFrame) uint64 {
	if f.RSI != 0 {
		return sysErr(errno.EINVAL)
	}
	switch f.RDI {
	case mbCmdQuery:
		return mbSupported
	case mbCmdRegisterPrivateExpedited:
		mbRegistered = true
		return 0
	case mbCmdPrivateExpedited:
		if !mbRegistered {
			return sysErr(errno.EPERM)
		}
		fenceOthers()
		return 0
	case mbCmdGlobal:
		fenceOthers()
		return 0
	}
	return sysErr(errno.EINVAL)
}

// fenceOthers makes every other online CPU execute a full barrier.
// Kernel context, BKL held.
func fenceOthers() {
	if onlineCPUs == 1 {
		return
	}
	ipiOthers(ipiFence)
	membarriers++
}
