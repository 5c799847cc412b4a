package kernel

import (
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/usbarmory/tamago/amd64/lapic"
)

// Time: the TSC is the clock (calibrated against the PIT at boot); the LAPIC
// timer, in one-shot mode (TCG has no TSC-deadline mode), ends time slices and
// sleeps.

const (
	sliceNS      = 10_000_000 // default time slice
	maxTimerNS   = 100_000_000
	pitHz        = 1193182
	calibrateMS  = 20
	lapicDefault = 0xfee00000

	// xAPIC registers (AMD APM vol. 2, 16.3; Intel SDM vol. 3, 11.5.4).
	lapicTimerInit    = 0x380
	lapicTimerCurrent = 0x390
	lapicTimerDivide  = 0x3e0
	lapicDivideBy1    = 0b1011
)

var (
	tscHz     uint64
	tscMul    uint64 // ns = (tsc-tsc0) * tscMul >> 32
	tsc0      uint64
	lapicHz   uint64
	lapicBase uintptr
	apic      lapic.LAPIC
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

// pitWait busy-waits ms milliseconds on PIT channel 2 (gate via port 0x61),
// the one clock whose rate is fixed by the platform.
func pitWait(ms uint64) {
	count := pitHz * ms / 1000
	outb(0x61, inb(0x61)&^0x02|0x01) // gate on, speaker off
	outb(0x43, 0xb0)                 // channel 2, lo/hi byte, mode 0
	outb(0x42, uint8(count))
	outb(0x42, uint8(count>>8))
	for inb(0x61)&0x20 == 0 {
	}
}

// calibrate measures the TSC and LAPIC timer rates against the PIT.
func calibrate() {
	lapicWrite(lapicTimerDivide, lapicDivideBy1)
	lapicWrite(lapicTimerInit, 0xffffffff)
	t0 := rdtsc()
	pitWait(calibrateMS)
	t1 := rdtsc()
	left := lapicRead(lapicTimerCurrent)
	lapicWrite(lapicTimerInit, 0)
	tscHz = (t1 - t0) * 1000 / calibrateMS
	lapicHz = uint64(0xffffffff-left) * 1000 / calibrateMS
	tscMul = (1_000_000_000 << 32) / tscHz
	tsc0 = t0
}

func lapicWrite(reg uintptr, v uint32) {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(lapicBase+reg)), v)
}

func lapicRead(reg uintptr) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(lapicBase + reg)))
}

// armTimer makes the LAPIC timer fire at deadline (ns), or stops it (0).
func armTimer(c *percpu, deadline int64) {
	if deadline == c.armed {
		return
	}
	c.armed = deadline
	if deadline == 0 {
		lapicWrite(lapicTimerInit, 0)
		return
	}
	d := deadline - nanotime()
	if d < 1000 {
		d = 1000
	}
	if d > maxTimerNS {
		d = maxTimerNS
	}
	n := uint64(d) * lapicHz / 1_000_000_000
	if n == 0 {
		n = 1
	}
	lapicWrite(lapicTimerInit, uint32(n))
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
	apic.ClearInterrupt()
	c.armed = 0
	now := nanotime()
	nextDeadline = expire(now)
	schedule(c, f, now >= c.sliceEnd)
}
