package kernel

import "syscall"

// The CPU API for ordinary Go code (thread context).

// OnlineCPUs is how many CPUs run (fixed once the runtime starts).
func OnlineCPUs() int { return onlineCPUs }

// PinThread restricts the calling thread to cpu, as sched_setaffinity(0)
// does on Linux; the caller should hold runtime.LockOSThread. It returns
// once the thread runs there.
func PinThread(cpu int) error {
	if cpu < 0 || cpu >= onlineCPUs {
		return syscall.EINVAL
	}
	mask := uint64(1) << uint(cpu)
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, 8, uintptrOf(&mask))
	if e != 0 {
		return e
	}
	return nil
}

// CurrentCPU is the CPU the calling thread runs on (it may move right after
// unless pinned).
func CurrentCPU() int {
	r, _, _ := syscall.RawSyscall(SysGroveCPU, 0, 0, 0)
	return int(r)
}

// Kernel context.
func sysGroveCPUFn(c *percpu, f *TrapFrame) uint64 { return uint64(c.id) }

// TSCOffset is how far cpu's TSC runs from the boot CPU's (its TSC minus
// the boot CPU's); the hypervisor subtracts it from guests' TSCs so that a
// vCPU moving between CPUs reads one clock.
func TSCOffset(cpu int) int64 {
	if cpu < 0 || cpu >= maxCPUs {
		return 0
	}
	return tscOffset[cpu]
}

// KickCPU interrupts cpu (a reschedule IPI): a guest running there exits
// at once, and the kernel there re-checks its run queue. Thread context.
func KickCPU(cpu int) error {
	if cpu < 0 || cpu >= onlineCPUs {
		return syscall.EINVAL
	}
	if _, _, e := syscall.RawSyscall(SysGroveKick, uintptr(cpu), 0, 0); e != 0 {
		return e
	}
	return nil
}

// KickSelf raises a reschedule IPI on this CPU, which it takes once it
// accepts interrupts again. The hypervisor sends it just before VMRUN when
// the guest must exit at its first instruction boundary (as KVM's
// immediate exit does).
// Kernel context.
func KickSelf() {
	c := thisCPU()
	hwSendIPI(c.apicID, vecResched)
}

// Kernel context.
func sysGroveKickFn(c *percpu, f *TrapFrame) uint64 {
	o := &cpus[f.RDI%maxCPUs]
	hwSendIPI(o.apicID, vecResched)
	return 0
}
