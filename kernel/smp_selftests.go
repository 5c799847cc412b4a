package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"grove/kernel/selftest"
)

// In-image tests of the kernel on several CPUs. On one CPU they check what
// still applies (GOMAXPROCS, pinning) and say so in their error-free result.

func init() {
	for _, t := range []selftest.Test{
		{Name: "kernel/smp-every-cpu", Run: testEveryCPU},
		{Name: "kernel/smp-spread", Run: testSpread},
		{Name: "kernel/smp-futex-wake", Run: testCrossCPUWake},
		{Name: "kernel/smp-tlb-shootdown", Run: testShootdown},
		{Name: "kernel/smp-gc-parallel", Run: testParallelGC, Timeout: 3 * time.Minute},
		{Name: "kernel/smp-recover-on-each-cpu", Run: testRecoverEachCPU},
	} {
		selftest.Register(t)
	}
}

// onCPU runs fn on a thread pinned to cpu and returns its error.
func onCPU(cpu int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread ends with the goroutine: the pin goes with it
		if err := PinThread(cpu); err != nil {
			done <- fmt.Errorf("pin to cpu %d: %w", cpu, err)
			return
		}
		if got := CurrentCPU(); got != cpu {
			done <- fmt.Errorf("pinned to cpu %d, running on %d", cpu, got)
			return
		}
		done <- fn()
	}()
	return <-done
}

func testEveryCPU() error {
	// The runtime counts CPUs from sched_getaffinity at start (GOMAXPROCS
	// starts there too; the hypervisor raises it later, see hv.Start).
	if n := runtime.NumCPU(); n != OnlineCPUs() {
		return fmt.Errorf("the runtime sees %d CPUs, %d online", n, OnlineCPUs())
	}
	for cpu := 0; cpu < OnlineCPUs(); cpu++ {
		if err := onCPU(cpu, func() error { return nil }); err != nil {
			return err
		}
	}
	if err := PinThread(OnlineCPUs()); err == nil {
		return errors.New("pinning to a CPU that is not online succeeded")
	}
	return nil
}

// testSpread runs CPU-bound goroutines, as many as CPUs, unpinned: the
// scheduler must spread them so that every CPU runs Go code at once.
func testSpread() error {
	n := OnlineCPUs()
	var seen [maxCPUs]atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Async preemption is off (kernel/doc.go): yield now and
			// then, or the test's own goroutine never gets a CPU back.
			for x := uint64(1); !stop.Load(); x = x*6364136223846793005 + 1 {
				if x&0xffff == 1 {
					seen[CurrentCPU()].Add(1)
					runtime.Gosched()
				}
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !allSeen(seen[:n]) {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if !allSeen(seen[:n]) {
		return fmt.Errorf("CPUs running Go code: %v", counts(seen[:n]))
	}
	return nil
}

func allSeen(s []atomic.Int64) bool {
	for i := range s {
		if s[i].Load() == 0 {
			return false
		}
	}
	return true
}

func counts(s []atomic.Int64) []int64 {
	out := make([]int64, len(s))
	for i := range s {
		out[i] = s[i].Load()
	}
	return out
}

// testCrossCPUWake ping-pongs between threads pinned to the first and last
// CPU: every hand-over is a futex wake of a thread blocked on another CPU.
func testCrossCPUWake() error {
	last := OnlineCPUs() - 1
	const rounds = 200
	ping, pong := make(chan int), make(chan int)
	errc := make(chan error, 1)
	go func() {
		errc <- onCPU(last, func() error {
			for i := 0; i < rounds; i++ {
				pong <- <-ping + 1
			}
			return nil
		})
	}()
	start := time.Now()
	err := onCPU(0, func() error {
		for i := 0; i < rounds; i++ {
			ping <- i
			if v := <-pong; v != i+1 {
				return fmt.Errorf("round %d: got %d", i, v)
			}
		}
		return nil
	})
	if err2 := <-errc; err == nil {
		err = err2
	}
	if err == nil && time.Since(start) > 20*time.Second {
		err = fmt.Errorf("%d cross-CPU round trips took %v", rounds, time.Since(start))
	}
	return err
}

// testShootdown maps a page, keeps another CPU reading it in a tight loop
// (so its TLB holds the entry), unmaps it here, and checks that the other
// CPU then faults instead of reading the freed page through a stale TLB
// entry (with the shoot-down switched off it read the freed page's 42).
// QEMU's TCG sometimes drops the reader's entry early by itself (its TLB is
// small and shared with the interrupt path; docs/qemu-tcg.md), so the test
// also checks the mechanism: every other CPU answered this unmap's flush
// request.
func testShootdown() error {
	if OnlineCPUs() < 2 {
		return nil // nothing to shoot down
	}
	mem, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return err
	}
	mem[0] = 42
	var ready, unmapping, unmapped atomic.Bool
	reader := make(chan error, 1)
	go func() {
		reader <- onCPU(OnlineCPUs()-1, func() error { return readUntilFault(mem, &ready, &unmapping, &unmapped) })
	}()
	for !ready.Load() {
		runtime.Gosched()
	}
	before := tlbShootdownCount()
	var served [maxCPUs]uint64
	for i := 0; i < OnlineCPUs(); i++ {
		served[i] = atomic.LoadUint64(&cpus[i].tlbFlushes)
	}
	unmapping.Store(true)
	err = onCPU(0, func() error { return syscall.Munmap(mem) })
	unmapped.Store(true)
	if rerr := <-reader; err == nil {
		err = rerr
	}
	if err == nil && tlbShootdownCount() == before {
		err = errors.New("munmap sent no TLB shoot-down")
	}
	for i := 1; err == nil && i < OnlineCPUs(); i++ {
		if atomic.LoadUint64(&cpus[i].tlbFlushes) == served[i] {
			err = fmt.Errorf("cpu %d never flushed its TLB for the unmap", i)
		}
	}
	return err
}

// readUntilFault reads mem[0] until a fault; the fault must come after the
// unmap began, and no read may succeed after it ended.
func readUntilFault(mem []byte, ready, unmapping, unmapped *atomic.Bool) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil && !unmapping.Load() {
			err = fmt.Errorf("fault before the unmap: %v", r)
		}
	}()
	for i := 0; ; i++ {
		v := mem[0]
		if v != 42 {
			return fmt.Errorf("read %d from the page", v)
		}
		if i == 1000 {
			ready.Store(true)
		}
		if unmapped.Load() {
			v = mem[0]
			return fmt.Errorf("read %d from a page unmapped on another CPU (stale TLB entry)", v)
		}
	}
}

func tlbShootdownCount() uint64 { return atomic.LoadUint64(&tlbShootdowns) }

// testParallelGC allocates and checks linked data on every CPU while the
// collector runs: a lost write barrier or a stale TLB shows as corruption.
func testParallelGC() error {
	n := OnlineCPUs()
	errc := make(chan error, n)
	for cpu := 0; cpu < n; cpu++ {
		go func(cpu int) {
			errc <- onCPU(cpu, func() error { return churn(cpu) })
		}(cpu)
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

type node struct {
	next *node
	val  int
	pad  [48]byte
}

func churn(cpu int) error {
	for round := 0; round < 30; round++ {
		var head *node
		for i := 0; i < 20000; i++ {
			head = &node{next: head, val: i}
		}
		if round%10 == 0 {
			runtime.GC()
		}
		want := 19999
		for p := head; p != nil; p = p.next {
			if p.val != want {
				return fmt.Errorf("cpu %d round %d: list holds %d, want %d", cpu, round, p.val, want)
			}
			want--
		}
	}
	return nil
}

// testRecoverEachCPU: a nil dereference becomes a recoverable Go panic on
// every CPU (the signal path runs on APs as on the boot CPU).
func testRecoverEachCPU() error {
	for cpu := 0; cpu < OnlineCPUs(); cpu++ {
		if err := onCPU(cpu, testRecoverNil); err != nil {
			return fmt.Errorf("cpu %d: %w", cpu, err)
		}
	}
	return nil
}
