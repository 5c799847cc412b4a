package kernel

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// In-image benchmarks of the kernel on several CPUs (`-append bench=smp`),
// printed like RunBenchmarks' figures, "bench: NAME VALUE UNIT", for qemu's
// BenchmarkSMP to collect. Each figure has its same-CPU (or one-CPU)
// baseline from the same boot, or from a boot with -smp 1 that runs the
// same code: the ratios are what the figures are for.

const (
	// Each figure is the best of smpBatches batches (the one least disturbed
	// by the host: QEMU's CPU threads share it with everything else).
	smpBatches    = 5
	smpRoundTrips = 200 // per ping-pong batch
	smpUnmaps     = 400 // per batch
	// The CPU-bound job: smpWorkers goroutines of smpChunks chunks of
	// smpChunkIters LCG steps (about 0.3 s on one TCG CPU). The job is the
	// same whatever the CPU count, so its times compare across boots.
	smpWorkers    = 8
	smpChunks     = 64
	smpChunkIters = 200_000
)

// RunSMPBenchmarks measures wake-up round trips within and across CPUs,
// the TLB shoot-down an unmap costs, a membarrier, and how CPU-bound
// goroutines scale.
func RunSMPBenchmarks(w io.Writer) {
	fmt.Fprintf(w, "bench: cpus %d online\n", OnlineCPUs())
	report := func(name string, ops int, f func() (time.Duration, error)) time.Duration {
		d, err := bestOf(f)
		if err != nil {
			fmt.Fprintf(w, "bench: %s failed: %v\n", name, err)
			return 0
		}
		fmt.Fprintf(w, "bench: %s %.0f ns/op\n", name, float64(d.Nanoseconds())/float64(ops))
		return d
	}
	pingPong := func(name string, fn func(a, b, n int) (time.Duration, error)) {
		same := report(name+"-same-cpu", smpRoundTrips, func() (time.Duration, error) { return fn(0, 0, smpRoundTrips) })
		cross := report(name+"-cross-cpu", smpRoundTrips, func() (time.Duration, error) { return fn(0, 1, smpRoundTrips) })
		printRatio(w, name+" cross/same", cross, same)
	}
	if OnlineCPUs() >= 2 {
		pingPong("chan-pingpong", chanPingPong)
		pingPong("futex-pingpong", pinnedFutexPingPong)
	}
	report("unmap-page", smpUnmaps, func() (time.Duration, error) { return unmapCost(smpUnmaps, false) })
	report("membarrier", smpUnmaps, func() (time.Duration, error) { return membarrierCost(smpUnmaps, false) })
	if OnlineCPUs() >= 2 {
		report("unmap-page-other-cpu-busy", smpUnmaps, func() (time.Duration, error) { return unmapCost(smpUnmaps, true) })
		report("membarrier-other-cpu-busy", smpUnmaps, func() (time.Duration, error) { return membarrierCost(smpUnmaps, true) })
	}
	report("spin-work", 1, func() (time.Duration, error) { return spinWork(), nil })
	fmt.Fprintf(w, "bench: spin-work is %d goroutines x %d LCG steps\n", smpWorkers, smpChunks*smpChunkIters)
}

// bestOf runs f smpBatches times and returns its shortest time.
func bestOf(f func() (time.Duration, error)) (time.Duration, error) {
	var best time.Duration
	for i := 0; i < smpBatches; i++ {
		d, err := f()
		if err != nil {
			return 0, err
		}
		if i == 0 || d < best {
			best = d
		}
	}
	return best, nil
}

func printRatio(w io.Writer, what string, a, b time.Duration) {
	if b > 0 {
		fmt.Fprintf(w, "bench: ratio %s %.2f\n", what, float64(a)/float64(b))
	}
}

// chanPingPong bounces a value over unbuffered channels between goroutines
// locked to threads pinned to CPUs a and b (a == b: both on one CPU), and
// times n round trips. Every hand-over wakes the other locked thread: a
// futex wake, and across CPUs a reschedule IPI when the other one idles.
func chanPingPong(a, b, n int) (time.Duration, error) {
	ping, pong := make(chan int), make(chan int)
	echo := make(chan error, 1)
	go func() {
		echo <- onCPU(b, func() error {
			for i := 0; i <= n; i++ {
				pong <- <-ping
			}
			return nil
		})
	}()
	var d time.Duration
	err := onCPU(a, func() error {
		ping <- -1 // the echo side is pinned once it answers
		<-pong
		t0 := time.Now()
		for i := 0; i < n; i++ {
			ping <- i
			if v := <-pong; v != i {
				return fmt.Errorf("round %d: got %d", i, v)
			}
		}
		d = time.Since(t0)
		return nil
	})
	if e := <-echo; err == nil {
		err = e
	}
	return d, err
}

// pinnedFutexPingPong is futexPingPong (bench.go) with its two threads
// pinned to CPUs a and b: the kernel's own wake path, without the Go
// scheduler's. Each thread keeps its P while it waits in a raw system call,
// so it needs GOMAXPROCS >= 2 (Ps, not CPUs), and the collector must stay
// off meanwhile: a stop-the-world that stopped one thread between turns
// would wait for ever for the other, blocked in FUTEX_WAIT with its P
// (without async preemption nothing interrupts it; this hung once).
func pinnedFutexPingPong(a, b, n int) (time.Duration, error) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var word uint32 // 0: a's turn, 1: b's turn
	addr := uintptrOf(&word)
	turn := func(mine, next uint32) {
		for atomic.LoadUint32(&word) != mine {
			syscall.RawSyscall6(sysFutex, addr, futexWait|futexPrivate, uintptr(1-mine), 0, 0, 0)
		}
		atomic.StoreUint32(&word, next)
		syscall.RawSyscall6(sysFutex, addr, futexWake|futexPrivate, 1, 0, 0, 0)
	}
	other := make(chan error, 1)
	go func() {
		other <- onCPU(b, func() error {
			for i := 0; i <= n; i++ {
				turn(1, 0)
			}
			return nil
		})
	}()
	var d time.Duration
	err := onCPU(a, func() error {
		turn(0, 1) // a warm-up round: b is pinned once it answers
		t0 := time.Now()
		for i := 0; i < n; i++ {
			turn(0, 1)
		}
		d = time.Since(t0)
		return nil
	})
	if e := <-other; err == nil {
		err = e
	}
	return d, err
}

// unmapCost times n unmaps of one touched page. On several CPUs each one
// waits for a TLB shoot-down (tlb.go): an IPI to every other CPU and its
// answer, so against a one-CPU boot the difference is that round trip.
func unmapCost(n int, busy bool) (time.Duration, error) {
	return costOnCPU0(n, busy, func() (time.Duration, error) {
		mem, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return 0, err
		}
		mem[0] = 1
		t0 := time.Now()
		err = syscall.Munmap(mem)
		return time.Since(t0), err
	})
}

// membarrierCost times n private expedited membarriers (membarrier.go), a
// grace period's extra cost in package rcu: on several CPUs the same IPI
// round trip as a shoot-down, on one a bare system call.
func membarrierCost(n int, busy bool) (time.Duration, error) {
	if err := membarrierCall(mbCmdRegisterPrivateExpedited); err != nil {
		return 0, err
	}
	return costOnCPU0(n, busy, func() (time.Duration, error) {
		t0 := time.Now()
		err := membarrierCall(mbCmdPrivateExpedited)
		return time.Since(t0), err
	})
}

// costOnCPU0 adds up the times n runs of op return, on a thread pinned to
// CPU 0. With busy set, a goroutine pinned to CPU 1 spins meanwhile, so an
// IPI interrupts running code instead of waking a halted CPU.
func costOnCPU0(n int, busy bool, op func() (time.Duration, error)) (time.Duration, error) {
	var stop atomic.Bool
	spinner := make(chan error, 1)
	if busy {
		go func() { spinner <- onCPU(1, func() error { spinUntil(&stop); return nil }) }()
	}
	var d time.Duration
	err := onCPU(0, func() error {
		for i := 0; i < n; i++ {
			t, err := op()
			d += t
			if err != nil {
				return err
			}
		}
		return nil
	})
	stop.Store(true)
	if busy {
		if e := <-spinner; err == nil {
			err = e
		}
	}
	return d, err
}

// spinUntil computes until stop is set, yielding now and then: async
// preemption is off (kernel/doc.go), so a loop that never yields would
// hold up a stop-the-world collection for good.
func spinUntil(stop *atomic.Bool) {
	for x := uint64(1); !stop.Load(); {
		x = lcgSteps(x, 10_000)
		runtime.Gosched()
	}
}

// spinSink keeps the results of the CPU-bound job alive.
var spinSink atomic.Uint64

// spinWork runs the fixed CPU-bound job, unpinned: how far it speeds up
// with more CPUs shows the kernel running Go threads on all of them at once
// (and QEMU giving each virtual CPU a host thread).
func spinWork() time.Duration {
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < smpWorkers; g++ {
		wg.Add(1)
		go func(x uint64) {
			defer wg.Done()
			for c := 0; c < smpChunks; c++ {
				x = lcgSteps(x, smpChunkIters)
				runtime.Gosched() // lets idle Ps steal the rest
			}
			spinSink.Add(x)
		}(uint64(g))
	}
	wg.Wait()
	return time.Since(t0)
}

// lcgSteps advances Knuth's MMIX linear congruential generator n times.
//
//go:noinline
func lcgSteps(x uint64, n int) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}
