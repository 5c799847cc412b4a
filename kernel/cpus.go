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

func sysGroveCPUFn(c *percpu, f *TrapFrame) uint64 { return uint64(c.id) }
