package kernel

import "grove/errno"

// The Linux system calls the Go runtime makes (docs/kernel.md says how each
// behaves), plus Grove's own above linuxMax. Arguments arrive in RDI, RSI,
// RDX, R10, R8, R9.

type sysFunc func(c *percpu, f *TrapFrame) uint64

// keepFrame is returned by calls that rewrote the whole frame (rt_sigreturn):
// the dispatcher must not store a result into RAX.
const keepFrame = ^uint64(0) - 4096

const (
	sysRead          = 0
	sysWrite         = 1
	sysClose         = 3
	sysMmap          = 9
	sysMunmap        = 11
	sysRtSigaction   = 13
	sysRtSigprocmask = 14
	sysRtSigreturn   = 15
	sysSchedYield    = 24
	sysMadvise       = 28
	sysNanosleep     = 35
	sysGetpid        = 39
	sysClone         = 56
	sysExit          = 60
	sysKill          = 62
	sysFcntl         = 72
	sysSigaltstack   = 131
	sysPrctl         = 157
	sysArchPrctl     = 158
	sysGettid        = 186
	sysFutex         = 202
	sysSchedSetaff   = 203
	sysSchedGetaff   = 204
	sysClockGettime  = 228
	sysExitGroup     = 231
	sysEpollCtl      = 233
	sysTgkill        = 234
	sysOpenat        = 257
	sysEpollPwait    = 281
	sysEventfd2      = 290
	sysEpollCreate1  = 291
	sysPrlimit64     = 302
	sysGetrandom     = 318
	sysMembarrier    = 324
	linuxMax         = 335

	// Grove's own calls (package kernel's exported API wraps them).
	SysGroveCrash     = 0x1000 // fault in kernel code on purpose
	SysGroveMemInfo   = 0x1001 // fill a MemInfo
	SysGroveShutdown  = 0x1002 // power off with an exit status
	SysGroveCrashDF   = 0x1003 // double fault on purpose
	groveFirst        = 0x1000
	SysGroveLongCall  = 0x1004 // run a registered kernel-context call (longcall.go)
	SysGrovePageAlloc = 0x1005
	SysGrovePageFree  = 0x1006
	SysGroveCPU       = 0x1007 // the executing CPU's index
	SysGroveKick      = 0x1008 // reschedule IPI to a CPU (cpus.go)
	SysGroveWaitIRQ   = 0x1009 // wait for an interrupt (irqwait.go)
	SysGroveRaiseIRQ  = 0x100a // send a wait vector to a CPU (irqwait.go, self-tests)
	groveMax          = 0x100b
)

var linuxCalls = [linuxMax]sysFunc{
	sysRead:          sysReadFn,
	sysWrite:         sysWriteFn,
	sysClose:         sysCloseFn,
	sysMmap:          sysMmapFn,
	sysMunmap:        sysMunmapFn,
	sysRtSigaction:   sysRtSigactionFn,
	sysRtSigprocmask: sysRtSigprocmaskFn,
	sysRtSigreturn:   sysRtSigreturnFn,
	sysSchedYield:    sysSchedYieldFn,
	sysMadvise:       sysMadviseFn,
	sysNanosleep:     sysNanosleepFn,
	sysGetpid:        sysGetpidFn,
	sysClone:         sysCloneFn,
	sysExit:          sysExitFn,
	sysKill:          sysKillFn,
	sysFcntl:         sysFcntlFn,
	sysSigaltstack:   sysSigaltstackFn,
	sysPrctl:         sysPrctlFn,
	sysArchPrctl:     sysArchPrctlFn,
	sysGettid:        sysGettidFn,
	sysFutex:         sysFutexFn,
	sysSchedSetaff:   sysSchedSetaffinityFn,
	sysSchedGetaff:   sysSchedGetaffinityFn,
	sysClockGettime:  sysClockGettimeFn,
	sysExitGroup:     sysExitGroupFn,
	sysEpollCtl:      sysEpollCtlFn,
	sysTgkill:        sysTgkillFn,
	sysOpenat:        sysOpenatFn,
	sysEpollPwait:    sysEpollPwaitFn,
	sysEventfd2:      sysEventfd2Fn,
	sysEpollCreate1:  sysEpollCreate1Fn,
	sysPrlimit64:     sysPrlimit64Fn,
	sysGetrandom:     sysGetrandomFn,
	sysMembarrier:    sysMembarrierFn,
}

var groveCalls = [groveMax - groveFirst]sysFunc{
	SysGroveCrash - groveFirst:     sysGroveCrashFn,
	SysGroveMemInfo - groveFirst:   sysGroveMemInfoFn,
	SysGroveShutdown - groveFirst:  sysGroveShutdownFn,
	SysGroveCrashDF - groveFirst:   sysGroveCrashDFFn,
	SysGroveLongCall - groveFirst:  sysGroveLongCallFn,
	SysGrovePageAlloc - groveFirst: sysGrovePageAllocFn,
	SysGrovePageFree - groveFirst:  sysGrovePageFreeFn,
	SysGroveCPU - groveFirst:       sysGroveCPUFn,
	SysGroveKick - groveFirst:      sysGroveKickFn,
	SysGroveWaitIRQ - groveFirst:   sysGroveWaitIRQFn,
	SysGroveRaiseIRQ - groveFirst:  sysGroveRaiseIRQFn,
}

// Kernel context.
func sysMmapFn(c *percpu, f *TrapFrame) uint64 {
	return doMmap(uintptr(f.RDI), uintptr(f.RSI), uint32(f.RDX), uint32(f.R10), int64(f.R8))
}

// Kernel context.
func sysMunmapFn(c *percpu, f *TrapFrame) uint64 { return doMunmap(uintptr(f.RDI), uintptr(f.RSI)) }

// Kernel context.
func sysMadviseFn(c *percpu, f *TrapFrame) uint64 {
	return doMadvise(uintptr(f.RDI), uintptr(f.RSI), int(f.RDX))
}

// Kernel context.
func sysGetpidFn(c *percpu, f *TrapFrame) uint64 { return 1 }

// Kernel context.
func sysPrctlFn(c *percpu, f *TrapFrame) uint64 { return sysErr(errno.EINVAL) }

// Kernel context.
func sysGettidFn(c *percpu, f *TrapFrame) uint64 { return uint64(tasks[c.cur].tid) }

// Kernel context.
func sysExitGroupFn(c *percpu, f *TrapFrame) uint64 { shutdown(int(f.RDI)); return 0 }

// Kernel context.
func sysOpenatFn(c *percpu, f *TrapFrame) uint64 { return sysErr(errno.ENOENT) }

// Kernel context.
func sysPrlimit64Fn(c *percpu, f *TrapFrame) uint64 { return sysErr(errno.EINVAL) }

// Kernel context.
func sysGroveShutdownFn(c *percpu, f *TrapFrame) uint64 { shutdown(int(f.RDI)); return 0 }

// unknownSeen remembers which unknown calls were already reported.
var unknownSeen [linuxMax]bool

// doSyscall runs the call numbered f.RAX from the tables above and stores
// its result in f.RAX (unless the task blocked or the frame was rewritten).
// Kernel context.
func doSyscall(c *percpu, f *TrapFrame) {
	nr := f.RAX
	var fn sysFunc
	switch {
	case nr < linuxMax:
		fn = linuxCalls[nr]
	case nr >= groveFirst && nr < groveMax:
		fn = groveCalls[nr-groveFirst]
	}
	if fn == nil {
		if nr < linuxMax && !unknownSeen[nr] {
			unknownSeen[nr] = true
			kprint("kernel: unimplemented system call ")
			kprintDec(nr)
			kprint("\n")
		}
		f.RAX = sysErr(errno.ENOSYS)
		return
	}
	r := fn(c, f)
	if r != keepFrame && tasks[c.cur].state == taskRunning {
		f.RAX = r
	}
}

// Kernel context.
func sysSchedYieldFn(c *percpu, f *TrapFrame) uint64 {
	f.RAX = 0
	schedule(c, f, true)
	return keepFrame
}

// Kernel context.
func sysArchPrctlFn(c *percpu, f *TrapFrame) uint64 {
	const setFS, getFS = 0x1002, 0x1003
	t := &tasks[c.cur]
	switch f.RDI {
	case setFS:
		t.fsBase = uintptr(f.RSI)
		c.newFS, c.hwFS = t.fsBase, t.fsBase
		return 0
	case getFS:
		if !kas.access(uintptr(f.RSI), 8, true) {
			return sysErr(errno.EFAULT)
		}
		*wordAt(uintptr(f.RSI)) = uint64(t.fsBase)
		return 0
	}
	return sysErr(errno.EINVAL)
}

// sysSchedGetaffinityFn reports every online CPU, whichever thread asks:
// the runtime sizes GOMAXPROCS from it, and a thread pinned with
// sched_setaffinity must not make the whole program think it has one CPU.
// Kernel context.
func sysSchedGetaffinityFn(c *percpu, f *TrapFrame) uint64 {
	if f.RSI < 8 || !kas.access(uintptr(f.RDX), 8, true) {
		return sysErr(errno.EINVAL)
	}
	*wordAt(uintptr(f.RDX)) = onlineMask()
	return 8
}

// Kernel context.
func onlineMask() uint64 { return 1<<uint(onlineCPUs) - 1 }

// sysSchedSetaffinityFn pins a thread (tid, 0 = the caller) to a CPU mask,
// as Linux does; a caller no longer allowed where it runs moves at once.
// Kernel context.
func sysSchedSetaffinityFn(c *percpu, f *TrapFrame) uint64 {
	if f.RSI < 8 || !kas.access(uintptr(f.RDX), 8, false) {
		return sysErr(errno.EFAULT)
	}
	mask := *wordAt(uintptr(f.RDX)) & onlineMask()
	if mask == 0 {
		return sysErr(errno.EINVAL)
	}
	i := c.cur
	if f.RDI != 0 {
		if i = taskByTID(int32(f.RDI)); i < 0 {
			return sysErr(errno.ESRCH)
		}
	}
	tasks[i].affinity = mask
	if i == c.cur && mask&(1<<uint(c.id)) == 0 {
		f.RAX = 0
		schedule(c, f, true)
		return keepFrame
	}
	return 0
}

// taskByTID finds a live task by thread id, or -1.
// Kernel context.
func taskByTID(tid int32) int32 {
	for i := range tasks {
		if tasks[i].state != taskFree && tasks[i].tid == tid {
			return int32(i)
		}
	}
	return -1
}

// timespec is struct timespec.
type timespec struct{ sec, nsec int64 }

// Kernel context.
func sysClockGettimeFn(c *percpu, f *TrapFrame) uint64 {
	const realtime, monotonic, monoRaw, boottime = 0, 1, 4, 7
	if !kas.access(uintptr(f.RSI), 16, true) {
		return sysErr(errno.EFAULT)
	}
	ns := nanotime()
	switch f.RDI {
	case realtime:
		ns += realtime0.Load()
	case monotonic, monoRaw, boottime, 5, 6: // 5, 6: the COARSE variants
	default:
		return sysErr(errno.EINVAL)
	}
	ts := ptrAt[timespec](uintptr(f.RSI))
	ts.sec, ts.nsec = ns/1e9, ns%1e9
	return 0
}

// readTimespec reads a relative timeout; ok is false for a bad pointer.
// Kernel context.
func readTimespec(addr uintptr) (ns int64, ok bool) {
	if !kas.access(addr, 16, false) {
		return 0, false
	}
	ts := ptrAt[timespec](addr)
	if ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1e9 {
		return 0, false
	}
	if ts.sec > 1<<32 {
		return 1 << 62, true
	}
	return ts.sec*1e9 + ts.nsec, true
}

// Kernel context.
func sysNanosleepFn(c *percpu, f *TrapFrame) uint64 {
	d, ok := readTimespec(uintptr(f.RDI))
	if !ok {
		return sysErr(errno.EFAULT)
	}
	if d == 0 {
		f.RAX = 0
		schedule(c, f, true) // nanosleep(0) is a yield, as on Linux
		return keepFrame
	}
	block(c, waitSleep, nanotime()+d+1, 0)
	return 0
}

// Kernel context.
func sysFcntlFn(c *percpu, f *TrapFrame) uint64 {
	const getFD, getFL = 1, 3
	if !fdValid(int(f.RDI)) {
		return sysErr(errno.EBADF)
	}
	switch f.RSI {
	case getFD:
		return 0
	case getFL:
		return 2 // O_RDWR, blocking
	}
	return sysErr(errno.EINVAL)
}

// sysGetrandomFn fills the buffer from RDRAND, or a TSC-seeded xorshift where
// the CPU lacks it.
// Kernel context.
func sysGetrandomFn(c *percpu, f *TrapFrame) uint64 {
	n := uintptr(f.RSI)
	if n > 1<<20 {
		n = 1 << 20
	}
	if !kas.access(uintptr(f.RDI), n, true) {
		return sysErr(errno.EFAULT)
	}
	b := bytesAt(uintptr(f.RDI), n)
	for i := range b {
		b[i] = byte(random())
	}
	return uint64(n)
}

var rngState uint64

// Kernel context.
func random() uint64 {
	if hasRDRAND {
		if v, ok := rdrand(); ok {
			return v
		}
	}
	if rngState == 0 {
		rngState = rdtsc() | 1
	}
	rngState ^= rngState << 13
	rngState ^= rngState >> 7
	rngState ^= rngState << 17
	return rngState
}
