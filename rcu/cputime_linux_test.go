package rcu

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time the calling thread has used (user and system),
// from getrusage(RUSAGE_THREAD); ok is false if the kernel does not say.
// The caller holds runtime.LockOSThread.
func threadCPU() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_THREAD, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
