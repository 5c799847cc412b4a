package pc

import (
	"math"
	"math/bits"
)

// The APIC timer (SDM vol. 3, 10.5.4): one-shot and periodic count down
// from the initial count at TimerHz divided by the divide configuration;
// TSC-deadline fires when the guest's TSC reaches IA32_TSC_DEADLINE. No
// host timer lives here: the count is computed from the Clock when read,
// Deadline tells the hypervisor when to look next, and Tick raises the
// interrupt once that time has come.

// TimerHz is the APIC timer's input clock (the "bus clock" before the
// divider): 1 GHz, one count per nanosecond at divide-by-1, as KVM's. A
// hypervisor may give it to the guest in CPUID leaf 0x40000010 EBX (kHz).
const TimerHz = 1_000_000_000

// minPeriod is the shortest periodic interval: a guest asking for less
// would keep the hypervisor's timer firing without a guest exit to pay for
// it, so periodic mode is held to this (KVM's min_timer_period_us is 200
// too). One-shot and TSC-deadline cost the guest an exit per interrupt.
const minPeriod = 200_000

// Timer modes, LVT timer bits 18:17.
const (
	timerOneShot  = 0
	timerPeriodic = 1
	timerDeadline = 2
)

func timerMode(lvt uint32) uint32 { return lvt >> 17 & 3 }

// apicTimer is the timer's state; the owning LAPIC's mu guards it.
type apicTimer struct {
	init        uint32 // initial count register
	divCfg      uint32 // divide configuration register
	next        int64  // Nanotime of the next expiry, 0 if not armed
	period      int64  // periodic mode: nanoseconds per period
	tscDeadline uint64 // IA32_TSC_DEADLINE as armed, 0 if not
}

// divisor decodes the divide configuration register (SDM vol. 3, figure
// 10-10): bits 3,1:0 give 2, 4, ... 128, and 0b111 gives 1.
func divisor(cfg uint32) int64 {
	n := cfg&3 | cfg>>1&4
	if n == 7 {
		return 1
	}
	return 2 << n
}

// nsPerCount is how long one count lasts at the current divide value.
func (t *apicTimer) nsPerCount() int64 {
	return divisor(t.divCfg) * (1_000_000_000 / TimerHz)
}

// setTimerInitLocked writes the initial count: it (re)starts a one-shot or
// periodic count, stops it if 0, and is ignored in TSC-deadline mode.
func (l *LAPIC) setTimerInitLocked(v uint32, now int64) {
	mode := timerMode(l.lvt[lvtTimer])
	if mode == timerDeadline {
		return
	}
	t := &l.timer
	t.init, t.next, t.period = v, 0, 0
	if v == 0 {
		return
	}
	d := int64(v) * t.nsPerCount()
	if mode == timerPeriodic {
		d = max(d, minPeriod)
		t.period = d
	}
	t.next = now + d
}

// setTimerDivLocked changes the divider; a running count goes on from
// where it is at the new rate.
func (l *LAPIC) setTimerDivLocked(v uint32, now int64) {
	t := &l.timer
	cur := l.timerCountLocked(now)
	t.divCfg = v & 0xB
	if t.next == 0 || t.init == 0 { // stopped, or TSC-deadline mode
		return
	}
	t.next = now + int64(cur)*t.nsPerCount()
	if t.period != 0 {
		t.period = max(int64(t.init)*t.nsPerCount(), minPeriod)
	}
}

// timerCountLocked is the current count register at now.
func (l *LAPIC) timerCountLocked(now int64) uint32 {
	t := &l.timer
	if t.next == 0 || t.init == 0 { // stopped, or TSC-deadline mode
		return 0
	}
	left := t.next - now
	if left < 0 {
		if t.period == 0 {
			return 0
		}
		left = t.period - (-left)%t.period // Tick is late: still counting
	}
	per := t.nsPerCount()
	return uint32(min((left+per-1)/per, int64(t.init)))
}

// stopTimerLocked disarms the timer and clears the initial count, as a
// change of timer mode does.
func (l *LAPIC) stopTimerLocked() { l.timer = apicTimer{divCfg: l.timer.divCfg} }

// tscDeadlineLocked is IA32_TSC_DEADLINE as the guest reads it: the armed
// deadline, 0 once fired or outside TSC-deadline mode.
func (l *LAPIC) tscDeadlineLocked() uint64 {
	if timerMode(l.lvt[lvtTimer]) != timerDeadline {
		return 0
	}
	return l.timer.tscDeadline
}

// setTSCDeadlineLocked arms (or with 0 disarms) the TSC-deadline timer;
// outside that mode the write is ignored (SDM vol. 3, 10.5.4.1).
func (l *LAPIC) setTSCDeadlineLocked(v uint64) {
	if timerMode(l.lvt[lvtTimer]) != timerDeadline {
		return
	}
	l.timer.tscDeadline, l.timer.next = v, 0
	if v != 0 {
		l.timer.next = tscToNanotime(l.clock, v)
	}
}

// tscToNanotime converts a guest TSC value to the Nanotime at which the
// TSC reaches it, rounded up so the interrupt is never early; a deadline
// past ~292 years (or an unknown TSC rate) is never.
func tscToNanotime(c Clock, tsc uint64) int64 {
	now, cur, hz := c.Nanotime(), c.TSC(), c.TSCHz()
	if tsc <= cur {
		return max(now, 1)
	}
	hi, lo := bits.Mul64(tsc-cur, 1_000_000_000)
	if hz == 0 || hi >= hz {
		return math.MaxInt64
	}
	ns, rem := bits.Div64(hi, lo, hz)
	if rem != 0 {
		ns++
	}
	if ns > uint64(math.MaxInt64-now) {
		return math.MaxInt64
	}
	return now + int64(ns)
}

// Deadline returns the Nanotime at which the timer next fires, 0 if it is
// not armed. The hypervisor calls Tick then (or when it next looks).
func (l *LAPIC) Deadline() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.timer.next
}

// Tick fires the timer if its deadline has passed by now: the timer vector
// goes to the IRR unless the LVT is masked, a periodic timer re-arms at
// its next period after now (missed periods are one interrupt, as the IRR
// holds one), the others disarm. It reports whether it raised a vector.
func (l *LAPIC) Tick(now int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := &l.timer
	if t.next == 0 || now < t.next {
		return false
	}
	if t.period > 0 {
		t.next += ((now-t.next)/t.period + 1) * t.period
	} else {
		t.next, t.tscDeadline = 0, 0
	}
	lvt := l.lvt[lvtTimer]
	if lvt&lvtMasked != 0 {
		return false
	}
	return l.raiseLocked(uint8(lvt), false)
}
