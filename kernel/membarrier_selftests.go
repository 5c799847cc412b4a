package kernel

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"

	"grove/kernel/selftest"
)

func init() {
	selftest.Register(selftest.Test{Name: "kernel/smp-membarrier", Run: testMembarrier})
}

// mbRounds is how many barriers testMembarrier issues against its reader.
const mbRounds = 100

// mbRing holds the values the reader's last sections read (a power of 2).
const mbRing = 1 << 14

// testMembarrier checks membarrier(2) as package rcu uses it: the commands
// answer, every other CPU answers each barrier, and the barrier gives the
// guarantee an expedited RCU writer relies on. A thread pinned to the last
// CPU runs read sections like rcu's: a plain store of the section number n
// to its slot, then a load of the published value. The writer on CPU 0
// publishes k, calls membarrier, and reads the slot, s. Section s+1's slot
// store was not visible when membarrier returned, so the reader's barrier
// came before it, and section s+1 must have read at least k (doc.go of
// package rcu, "Ordering").
func testMembarrier() error {
	r, _, e := syscall.RawSyscall(sysMembarrier, mbCmdQuery, 0, 0)
	if e != 0 || r != mbSupported {
		return fmt.Errorf("MEMBARRIER_CMD_QUERY = %#x, %v; want %#x", r, e, mbSupported)
	}
	if _, _, e := syscall.RawSyscall(sysMembarrier, mbCmdRegisterPrivateExpedited, 0, 0); e != 0 {
		return fmt.Errorf("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: %w", e)
	}
	if OnlineCPUs() < 2 {
		return membarrierCall(mbCmdPrivateExpedited)
	}
	var before [maxCPUs]uint64
	for i := range before {
		before[i] = atomic.LoadUint64(&cpus[i].fences)
	}
	calls := atomic.LoadUint64(&membarriers)
	if err := mbOrdering(); err != nil {
		return err
	}
	if err := onCPU(0, func() error { return membarrierCall(mbCmdGlobal) }); err != nil {
		return err
	}
	if n := atomic.LoadUint64(&membarriers) - calls; n != mbRounds+1 {
		return fmt.Errorf("%d barriers reached other CPUs, want %d", n, mbRounds+1)
	}
	for i := 1; i < OnlineCPUs(); i++ {
		if n := atomic.LoadUint64(&cpus[i].fences) - before[i]; n < mbRounds+1 {
			return fmt.Errorf("cpu %d answered %d of %d barriers", i, n, mbRounds+1)
		}
	}
	return nil
}

func membarrierCall(cmd uintptr) error {
	if _, _, e := syscall.RawSyscall(sysMembarrier, cmd, 0, 0); e != 0 {
		return fmt.Errorf("membarrier(%#x): %w", cmd, e)
	}
	return nil
}

// mbShared is what the reader and the writer of mbOrdering share. slot is
// written with plain stores, as rcu's expedited read side writes its slot;
// progress (an atomic store, so a full barrier after each section) tells
// the writer which entries of seen are final.
type mbShared struct {
	slot     uint64
	_        [cacheLineSize - 8]byte
	pub      atomic.Uint64
	_        [cacheLineSize - 8]byte
	hold     atomic.Uint64 // the section the writer waits for: the reader stays within half a ring of it
	_        [cacheLineSize - 8]byte
	progress atomic.Uint64
	stop     atomic.Bool
	seen     [mbRing]uint64 // seen[n % mbRing]: what section n read
}

const cacheLineSize = 64

// mbOrdering runs the reader on the last CPU and mbRounds barriers from
// CPU 0, checking each as testMembarrier says. The reader never yields (a
// yield of its locked thread costs wake-ups that can wait out a 10 ms time
// slice), so without async preemption a stop-the-world would wait for it
// while it waits for the writer: the collector stays off meanwhile, as in
// pinnedFutexPingPong.
func mbOrdering() error {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	sh := new(mbShared)
	reader := make(chan error, 1)
	go func() {
		reader <- onCPU(OnlineCPUs()-1, func() error { mbReader(sh); return nil })
	}()
	for sh.progress.Load() == 0 {
		runtime.Gosched()
	}
	err := onCPU(0, func() error { return mbWriter(sh) })
	sh.stop.Store(true)
	if rerr := <-reader; err == nil {
		err = rerr
	}
	return err
}

func mbReader(sh *mbShared) {
	for n := uint64(1); !sh.stop.Load(); n++ {
		// A writer descheduled by the host for a millisecond would find
		// its entry of seen reused; the reader waits instead (a load, no
		// fence: the sections stay as rcu's are).
		for n >= sh.hold.Load()+mbRing/2 && !sh.stop.Load() {
			pause()
		}
		sh.slot = n // plain: the order comes from the writer's membarrier
		sh.seen[n%mbRing] = sh.pub.Load()
		sh.progress.Store(n)
	}
}

func mbWriter(sh *mbShared) error {
	for k := uint64(1); k <= mbRounds; k++ {
		sh.pub.Store(k)
		if err := membarrierCall(mbCmdPrivateExpedited); err != nil {
			return err
		}
		next := atomic.LoadUint64(&sh.slot) + 1
		sh.hold.Store(next)
		for sh.progress.Load() < next {
			pause()
		}
		v := atomic.LoadUint64(&sh.seen[next%mbRing])
		if sh.progress.Load() >= next+mbRing-1 {
			return fmt.Errorf("round %d: the reader reused section %d's entry despite hold", k, next)
		}
		if v < k {
			return fmt.Errorf("round %d: the reader's section %d began after membarrier returned and read %d", k, next, v)
		}
	}
	return nil
}
