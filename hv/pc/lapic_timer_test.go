package pc

import (
	"fmt"
	"math"
	"testing"
)

func TestTimerDivisor(t *testing.T) {
	for cfg, want := range map[uint32]int64{
		0x0: 2, 0x1: 4, 0x2: 8, 0x3: 16, 0x8: 32, 0x9: 64, 0xA: 128, 0xB: 1,
	} {
		t.Run(fmt.Sprintf("%#x", cfg), func(t *testing.T) {
			if got := divisor(cfg); got != want {
				t.Errorf("divisor = %d, want %d", got, want)
			}
		})
	}
}

func TestTimerOneShot(t *testing.T) {
	l, c, _ := newTestLAPIC(t)
	l.Write(regTimerDiv, 4, 0x1) // divide by 4: 4 ns a count
	l.Write(regLVTTimer, 4, 0xEC)
	start := c.Nanotime()
	l.Write(regTimerInit, 4, 1000)
	if got := l.Deadline(); got != start+4000 {
		t.Fatalf("Deadline = %d, want start+4000", got-start)
	}
	c.advance(1000)
	if got := l.Read(regTimerCur, 4); got != 750 {
		t.Errorf("current count after 1 µs = %d, want 750", got)
	}
	if l.Tick(c.Nanotime()) {
		t.Error("Tick fired early")
	}
	c.advance(3000)
	if !l.Tick(c.Nanotime()) {
		t.Fatal("Tick did not fire at the deadline")
	}
	if v, ok := l.Pending(); !ok || v != 0xEC {
		t.Errorf("Pending = %#x, %v; want 0xec", v, ok)
	}
	if l.Deadline() != 0 || l.Read(regTimerCur, 4) != 0 {
		t.Error("one-shot timer still armed after firing")
	}
	if l.Read(regTimerInit, 4) != 1000 {
		t.Error("initial count lost")
	}
}

func TestTimerPeriodic(t *testing.T) {
	l, c, _ := newTestLAPIC(t)
	l.Write(regTimerDiv, 4, 0xB) // divide by 1
	l.Write(regLVTTimer, 4, 1<<17|0xEF)
	start := c.Nanotime()
	l.Write(regTimerInit, 4, 1_000_000)
	c.advance(1_000_000)
	if !l.Tick(c.Nanotime()) || l.Deadline() != start+2_000_000 {
		t.Fatalf("first period: deadline %d, want start+2ms", l.Deadline()-start)
	}
	l.Accept(0xEF)
	l.Write(regEOI, 4, 0)
	c.advance(2_500_000) // late: periods at 2 and 3 ms were missed
	if !l.Tick(c.Nanotime()) || l.Deadline() != start+4_000_000 {
		t.Errorf("late tick: deadline %d, want start+4ms", l.Deadline()-start)
	}
	if got := l.Read(regTimerCur, 4); got != 500_000 {
		t.Errorf("current count = %d, want 500000", got)
	}
}

func TestTimerPeriodicFloor(t *testing.T) {
	l, c, _ := newTestLAPIC(t)
	l.Write(regTimerDiv, 4, 0xB)
	l.Write(regLVTTimer, 4, 1<<17|0xEF)
	l.Write(regTimerInit, 4, 10) // 10 ns asked for
	if got := l.Deadline() - c.Nanotime(); got != minPeriod {
		t.Errorf("period %d ns, want the %d ns floor", got, minPeriod)
	}
	if got := l.Read(regTimerCur, 4); got != 10 {
		t.Errorf("current count = %d, want 10 (clipped to the initial count)", got)
	}
}

func TestTimerMaskedCounts(t *testing.T) {
	l, c, _ := newTestLAPIC(t)
	l.Write(regLVTTimer, 4, lvtMasked|0x30)
	l.Write(regTimerInit, 4, 10)
	c.advance(100)
	if l.Tick(c.Nanotime()) {
		t.Error("masked timer raised its vector")
	}
	if _, ok := l.Pending(); ok || l.Deadline() != 0 {
		t.Error("masked one-shot timer left state behind")
	}
}

func TestTimerDivideChange(t *testing.T) {
	l, c, _ := newTestLAPIC(t)
	l.Write(regTimerDiv, 4, 0xB)
	l.Write(regLVTTimer, 4, 0x30)
	l.Write(regTimerInit, 4, 1000)
	c.advance(400)
	l.Write(regTimerDiv, 4, 0x0) // divide by 2 from count 600
	if got := l.Read(regTimerCur, 4); got != 600 {
		t.Errorf("count after the change = %d, want 600", got)
	}
	if got := l.Deadline() - c.Nanotime(); got != 1200 {
		t.Errorf("deadline in %d ns, want 1200", got)
	}
}

func TestTimerModeChangeDisarms(t *testing.T) {
	l, _, _ := newTestLAPIC(t)
	l.Write(regLVTTimer, 4, 0x30)
	l.Write(regTimerInit, 4, 1000)
	l.Write(regLVTTimer, 4, 0x10030) // mask only: still armed
	if l.Deadline() == 0 {
		t.Fatal("masking disarmed the timer")
	}
	l.Write(regLVTTimer, 4, 1<<17|0x30)
	if l.Deadline() != 0 || l.Read(regTimerInit, 4) != 0 {
		t.Error("a new timer mode left the timer armed")
	}
}

func TestTimerTSCDeadline(t *testing.T) {
	l, c, _ := newTestLAPIC(t)
	l.WriteMSR(tscDeadlineMSR, 12345) // not in TSC-deadline mode: ignored
	if v, _ := l.ReadMSR(tscDeadlineMSR); v != 0 {
		t.Fatalf("IA32_TSC_DEADLINE took a write outside its mode: %d", v)
	}
	l.Write(regLVTTimer, 4, 2<<17|0xE1)
	l.Write(regTimerInit, 4, 100) // ignored in this mode
	at := c.Nanotime() + 5000
	l.WriteMSR(tscDeadlineMSR, c.tscAt(at))
	if got := l.Deadline(); got != at {
		t.Errorf("Deadline = %d, want %d", got, at)
	}
	if v, _ := l.ReadMSR(tscDeadlineMSR); v != c.tscAt(at) {
		t.Errorf("IA32_TSC_DEADLINE reads %d", v)
	}
	c.advance(5000)
	if !l.Tick(c.Nanotime()) {
		t.Fatal("TSC deadline did not fire")
	}
	if v, _ := l.ReadMSR(tscDeadlineMSR); v != 0 || l.Deadline() != 0 {
		t.Error("TSC deadline still armed after firing")
	}
}

func TestTSCToNanotime(t *testing.T) {
	c := newFakeClock() // 2 GHz
	now := c.Nanotime()
	for _, tc := range []struct {
		name string
		tsc  uint64
		want int64
	}{
		{"past", 0, now},
		{"now", c.TSC(), now},
		{"1 cycle rounds up", c.TSC() + 1, now + 1},
		{"1 µs", c.TSC() + 2000, now + 1000},
		{"far future", math.MaxUint64, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tscToNanotime(c, tc.tsc); got != tc.want {
				t.Errorf("tscToNanotime = %d, want %d", got, tc.want)
			}
		})
	}
}
