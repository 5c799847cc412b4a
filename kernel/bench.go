package kernel

import (
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// In-image micro-benchmarks (`-append bench`), printed as
// "bench: NAME VALUE UNIT" lines for qemu's benchmark to collect.

// RunBenchmarks measures system-call costs and prints them to w.
func RunBenchmarks(w io.Writer) {
	const n = 20000
	report := func(name string, d time.Duration, iters int) {
		fmt.Fprintf(w, "bench: %s %.0f ns/op\n", name, float64(d.Nanoseconds())/float64(iters))
	}
	report("getpid", timeIt(n, func() { syscall.RawSyscall(sysGetpid, 0, 0, 0) }), n)
	var ts timespec
	report("nanosleep0", timeIt(n, func() {
		syscall.RawSyscall(sysNanosleep, uintptrOf(&ts), 0, 0)
	}), n)
	report("futex-pingpong", futexPingPong(n), n)
}

func timeIt(n int, f func()) time.Duration {
	t0 := time.Now()
	for i := 0; i < n; i++ {
		f()
	}
	return time.Since(t0)
}

// futexPingPong bounces a token between two goroutines locked to two
// threads, each waiting in FUTEX_WAIT for the other's FUTEX_WAKE; it returns
// the time for n round trips. Both threads need a P while blocked in raw
// system calls, so it runs with GOMAXPROCS >= 2 (Ps, not CPUs).
func futexPingPong(n int) time.Duration {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var word uint32 // 0: ping's turn, 1: pong's turn
	addr := uintptrOf(&word)
	turn := func(mine, next uint32) {
		for atomic.LoadUint32(&word) != mine {
			syscall.RawSyscall6(sysFutex, addr, futexWait|futexPrivate, uintptr(1-mine), 0, 0, 0)
		}
		atomic.StoreUint32(&word, next)
		syscall.RawSyscall6(sysFutex, addr, futexWake|futexPrivate, 1, 0, 0, 0)
	}
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		for i := 0; i < n; i++ {
			turn(1, 0)
		}
		close(done)
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		turn(0, 1)
	}
	<-done
	return time.Since(t0)
}
