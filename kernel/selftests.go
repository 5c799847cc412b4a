package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"grove/kernel/selftest"
)

// In-image tests of what kernel promises the Go runtime. Each checks a real
// result and returns an error describing what it saw.

func init() {
	for _, t := range []selftest.Test{
		{Name: "kernel/goroutines", Run: testGoroutines},
		{Name: "kernel/mutex-threads", Run: testMutexThreads},
		{Name: "kernel/gc-churn", Run: testGCChurn, Timeout: 5 * time.Minute},
		{Name: "kernel/big-alloc", Run: testBigAlloc, Timeout: 3 * time.Minute},
		{Name: "kernel/deep-recursion", Run: testDeepRecursion},
		{Name: "kernel/timers", Run: testTimers},
		{Name: "kernel/recover-nil", Run: testRecoverNil},
		{Name: "kernel/recover-divide", Run: testRecoverDivide},
		{Name: "kernel/monotonic", Run: testMonotonic},
		{Name: "kernel/page-exhaustion", Run: testPageExhaustion},
		{Name: "kernel/realtime", Run: testRealtime},
	} {
		selftest.Register(t)
	}
}

func testGoroutines() error {
	const workers, msgs = 64, 2000
	in, out := make(chan int), make(chan int)
	for w := 0; w < workers; w++ {
		go func() {
			for v := range in {
				out <- v * 2
			}
		}()
	}
	// Locked threads force several Ms (kernel tasks) into the exchange.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread()
			for v := i; v < msgs; v += 4 {
				in <- v
			}
		}(i)
	}
	sum := 0
	for i := 0; i < msgs; i++ {
		sum += <-out
	}
	wg.Wait()
	close(in)
	if want := msgs * (msgs - 1); sum != want {
		return fmt.Errorf("sum %d, want %d", sum, want)
	}
	return nil
}

func testMutexThreads() error {
	const threads, iters = 6, 20000
	var mu sync.Mutex
	counter := 0
	tids := make(chan int, threads)
	var wg, locked sync.WaitGroup
	locked.Add(threads)
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tids <- gettid()
			// Every goroutine holds its thread until all have one: a thread
			// released early could be reused by a later goroutine.
			locked.Done()
			locked.Wait()
			for j := 0; j < iters; j++ {
				mu.Lock()
				c := counter
				if j%64 == 0 {
					runtime.Gosched() // hold the lock across a switch
				}
				counter = c + 1
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(tids)
	seen := map[int]bool{}
	for t := range tids {
		seen[t] = true
	}
	if counter != threads*iters {
		return fmt.Errorf("counter %d, want %d (lost updates)", counter, threads*iters)
	}
	if len(seen) != threads {
		return fmt.Errorf("%d distinct threads, want %d", len(seen), threads)
	}
	return nil
}

func gettid() int {
	r, _, _ := rawSyscall(sysGettid, 0, 0, 0)
	return int(r)
}

var sink []byte

func testGCChurn() error {
	const total, chunk, live = 1 << 30, 64 << 10, 32 << 20
	ring := make([][]byte, live/chunk)
	before := ReadMemInfo()
	var gcs0 runtime.MemStats
	runtime.ReadMemStats(&gcs0)
	for n := 0; n < total/chunk; n++ {
		b := make([]byte, chunk)
		b[0], b[chunk-1] = byte(n), byte(n>>8)
		ring[n%len(ring)] = b
	}
	for i, b := range ring {
		if b == nil || len(b) != chunk {
			return fmt.Errorf("ring slot %d lost", i)
		}
	}
	runtime.KeepAlive(ring)
	ring = nil
	runtime.GC()
	debug.FreeOSMemory()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	after := ReadMemInfo()
	if s.NumGC-gcs0.NumGC < 5 {
		return fmt.Errorf("only %d GC cycles for 1 GiB of churn", s.NumGC-gcs0.NumGC)
	}
	if s.HeapInuse > 2*live {
		return fmt.Errorf("heap in use %d MiB after churn, live set was %d MiB", s.HeapInuse>>20, live>>20)
	}
	if grown := int64(after.User) - int64(before.User); grown*pageSize > 64<<20 {
		return fmt.Errorf("kernel still backs %d MiB more than before", grown*pageSize>>20)
	}
	return nil
}

func testBigAlloc() error {
	const size = 256 << 20
	touch := func() error {
		b := make([]byte, size)
		for i := 0; i < size; i += pageSize {
			b[i] = byte(i >> 12)
		}
		for i := 0; i < size; i += pageSize {
			if b[i] != byte(i>>12) {
				return fmt.Errorf("byte %d reads %d", i, b[i])
			}
		}
		sink = b
		sink = nil
		return nil
	}
	base := ReadMemInfo()
	for round := 0; round < 2; round++ {
		if err := touch(); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		runtime.GC()
		debug.FreeOSMemory()
		m := ReadMemInfo()
		if held := (int64(m.User) - int64(base.User)) * pageSize; held > 64<<20 {
			return fmt.Errorf("round %d: %d MiB not given back after free", round, held>>20)
		}
	}
	return nil
}

//go:noinline
func recurse(n int) int {
	var pad [128]byte
	pad[n%128] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return recurse(n-1) + int(pad[n%128]&1)
}

func testDeepRecursion() error {
	const depth = 20000 // ~170 bytes a frame: well past 1 MiB of stack
	done := make(chan int)
	go func() { done <- recurse(depth) }()
	// Each level adds the low bit of its depth: the odd levels in 1..depth.
	if got, want := <-done, depth/2; got != want {
		return fmt.Errorf("recursion returned %d, want %d", got, want)
	}
	return nil
}

func testTimers() error {
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		time.Sleep(10 * time.Millisecond)
		if d := time.Since(t0); d < 10*time.Millisecond || d >= 50*time.Millisecond {
			return fmt.Errorf("10ms sleep took %v", d)
		}
	}
	fast, slow := time.NewTimer(20*time.Millisecond), time.NewTimer(200*time.Millisecond)
	defer slow.Stop()
	select {
	case <-fast.C:
	case <-slow.C:
		return errors.New("200ms timer fired before the 20ms one")
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	t0 := time.Now()
	for i := 0; i < 10; i++ {
		<-tick.C
	}
	if d := time.Since(t0); d < 45*time.Millisecond || d > 500*time.Millisecond {
		return fmt.Errorf("10 ticks of 5ms took %v", d)
	}
	return nil
}

func testRecoverNil() (err error) {
	defer func() {
		r := recover()
		re, ok := r.(runtime.Error)
		if !ok || re.Error() != "runtime error: invalid memory address or nil pointer dereference" {
			err = fmt.Errorf("recovered %v, want a nil-dereference runtime error", r)
		}
	}()
	var p *struct{ a, b int }
	p.b = 1
	return errors.New("nil store did not fault")
}

// divideByZero divides in assembly, so the CPU's divide error (not the
// compiler's check) reaches the runtime as SIGFPE.
func divideByZero(a, b uint64) uint64

func testRecoverDivide() error {
	for _, hw := range []bool{false, true} {
		err := func() (err error) {
			defer func() {
				r := recover()
				re, ok := r.(runtime.Error)
				if !ok || re.Error() != "runtime error: integer divide by zero" {
					err = fmt.Errorf("hardware=%v: recovered %v", hw, r)
				}
			}()
			zero := uint64(len(sink))
			if hw {
				divideByZero(7, zero)
			} else {
				_ = 7 / zero
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

func testMonotonic() error {
	var last atomic.Int64
	var bad atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			for j := 0; j < 2000; j++ {
				// prev was read from the clock before this read began (on
				// any CPU), so now must not be below it.
				prev := last.Load()
				now := nanotimeSys()
				if now < prev {
					bad.Store(prev - now)
				}
				for prev < now && !last.CompareAndSwap(prev, now) {
					prev = last.Load()
				}
				if j%100 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	if b := bad.Load(); b != 0 {
		return fmt.Errorf("clock went back by %d ns between threads", b)
	}
	return nil
}

// nanotimeSys reads CLOCK_MONOTONIC through the system call.
func nanotimeSys() int64 {
	var ts timespec
	rawSyscall(sysClockGettime, 1, uintptrOf(&ts), 0)
	return ts.sec*1e9 + ts.nsec
}

func testPageExhaustion() error {
	const pages = 100
	bitmap := make([]uint64, 4)
	var a physAlloc
	a.initBitmap(uintptrOf(&bitmap[0]), 256)
	a.release(10*pageSize, pages*pageSize)
	got := map[uintptr]bool{}
	for {
		pa, err := a.alloc()
		if err != nil {
			if !errors.Is(err, errNoMemory) {
				return fmt.Errorf("exhaustion gave %v", err)
			}
			break
		}
		if got[pa] || pa < 10*pageSize || pa >= (10+pages)*pageSize {
			return fmt.Errorf("bad or repeated page %#x", pa)
		}
		got[pa] = true
	}
	if len(got) != pages || a.free != 0 {
		return fmt.Errorf("allocated %d pages (free %d), want %d", len(got), a.free, pages)
	}
	for pa := range got {
		if err := a.freePage(pa); err != nil {
			return err
		}
	}
	if err := a.freePage(10 * pageSize); err == nil {
		return errors.New("double free not reported")
	}
	runtime.KeepAlive(bitmap)
	if m := ReadMemInfo(); m.Free == 0 || m.Free > m.Total {
		return fmt.Errorf("kernel allocator counters insane: %+v", m)
	}
	return nil
}

func testRealtime() error {
	if y := time.Now().Year(); y < 2024 || y > 2200 {
		return fmt.Errorf("wall clock says year %d", y)
	}
	return nil
}
