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

	// nextDeadline is a lower bound on the earliest sleeper's deadline
	// (0 = none); expire recomputes it exactly.
	nextDeadline int64
)

// nanotime is monotonic nanoseconds since boot.
func nanotime() int64 {
	hi, lo := bits.Mul64(rdtsc()-tsc0, tscMul)
	return int64(hi<<32 | lo>>32)
}

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

// rearm programs the timer for c's next event: the earliest sleeper, and the
// end of the slice if another task is waiting for the CPU.
func rearm(c *percpu) {
	next := nextDeadline
	if runHead >= 0 && c.cur != c.idle && (next == 0 || c.sliceEnd < next) {
		next = c.sliceEnd
	}
	armTimer(c, next)
}

// timerInterrupt handles the LAPIC timer: wake sleepers, end the slice.
func timerInterrupt(c *percpu, f *TrapFrame) {
	hwEOI()
	c.armed = 0
	now := nanotime()
	nextDeadline = expire(now)
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
