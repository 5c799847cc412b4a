package kernel

import (
	"math/bits"
	"sync/atomic"
)

// Time: the TSC is the clock, calibrated at boot by the platform
// (platform_*.go), whose one-shot timer ends time slices and sleeps.

const (
	sliceNS    = 10_000_000 // default time slice
	maxTimerNS = 100_000_000
)

var (
	tscHz     uint64
	tscMul    uint64 // ns = (tsc-tsc0) * tscMul >> 32
	tsc0      uint64
	lapicHz   uint64
	realtime0 atomic.Int64 // wall-clock ns at nanotime 0 (set from the RTC)
)

// nanotime is monotonic nanoseconds since boot, on every CPU alike. The
// CPUs' TSCs agree only to within the error of tscAlign's measurement (a
// microsecond or so under QEMU), so the clock never returns less than it
// returned before, on any CPU: a read that would go back returns the last
// value instead.
func nanotime() int64 {
	hi, lo := bits.Mul64(readTSC()-tsc0, tscMul)
	now := int64(hi<<32 | lo>>32)
	for {
		last := monoLast.Load()
		if now <= last {
			return last
		}
		if monoLast.CompareAndSwap(last, now) {
			return now
		}
	}
}

var monoLast atomic.Int64

// CPUs whose TSCs disagree (QEMU starts each AP's TSC at its own offset;
// real machines usually agree) get the difference subtracted: tscOffset is
// each CPU's TSC minus the boot CPU's, measured at its start (tscAlign), and
// RDTSCP reads the TSC and the CPU index (TSC_AUX) in one instruction, so a
// thread that moves between CPUs still reads one clock. Writing the TSC MSR
// would be simpler, but QEMU's TCG ignores it.
var (
	tscOffset     [maxCPUs]int64
	tscUseOffsets bool // some offset is non-zero (and RDTSCP exists)
)

// readTSC is the TSC in the boot CPU's terms. Any context.
func readTSC() uint64 {
	if !tscUseOffsets {
		return rdtsc()
	}
	t, cpu := rdtscp()
	return uint64(int64(t) - tscOffset[cpu%maxCPUs])
}

// ReadTSC is the TSC as every CPU agrees on it (thread context).
func ReadTSC() uint64 { return readTSC() }

// armTimer makes the platform timer fire at deadline (ns), or stops it (0).
func armTimer(c *percpu, deadline int64) {
	if deadline == c.armed {
		return
	}
	c.armed = deadline
	if deadline == 0 {
		hwTimerStop()
		return
	}
	d := deadline - nanotime()
	hwTimerArm(min(max(d, 1000), maxTimerNS))
}

// rearm programs the timer for c's next event: the earliest of its sleepers
// (c.nextDeadline is a lower bound; expire recomputes it exactly), and the
// end of the slice if another task is waiting for the CPU.
func rearm(c *percpu) { armTimer(c, nextEvent(c)) }

// nextEvent is when c must next enter the kernel (0 = no need).
func nextEvent(c *percpu) int64 {
	next := c.nextDeadline
	if c.runLen > 0 && c.cur != c.idle && (next == 0 || c.sliceEnd < next) {
		next = c.sliceEnd
	}
	return next
}

// timerInterrupt handles the LAPIC timer: wake sleepers, end the slice.
func timerInterrupt(c *percpu, f *TrapFrame) {
	hwEOI()
	c.armed = 0
	c.timerIRQs++
	now := nanotime()
	c.nextDeadline = expire(c, now)
	schedule(c, f, now >= c.sliceEnd)
}

// The clock for goroutines (hv's deadlines and its guests' TSC).

// Nanotime is the kernel's monotonic clock in nanoseconds since boot.
func Nanotime() int64 { return nanotime() }

// TSCHz is the calibrated TSC frequency.
func TSCHz() uint64 { return tscHz }

// TSCToNanotime converts a TSC reading to Nanotime's clock.
func TSCToNanotime(tsc uint64) int64 {
	if tsc < tsc0 {
		return 0
	}
	hi, lo := bits.Mul64(tsc-tsc0, tscMul)
	return int64(hi<<32 | lo>>32)
}
