package pc

import (
	"fmt"
	"testing"
)

type pitRig struct {
	clk   *devClock
	line  *lineLog
	p     *PIT
	nmisc Device
}

func newPITRig() *pitRig {
	r := &pitRig{clk: &devClock{}, line: &lineLog{}}
	r.clk.set(1e9)
	r.p = NewPIT(r.clk, r.line, nil)
	r.nmisc = r.p.NMISC()
	return r
}

func (r *pitRig) outb(port uint16, v uint8) {
	if port == NMISCPort {
		r.nmisc.Write(0, 1, uint64(v))
		return
	}
	r.p.Write(uint64(port-PITPort), 1, uint64(v))
}

func (r *pitRig) inb(port uint16) uint8 {
	if port == NMISCPort {
		return uint8(r.nmisc.Read(0, 1))
	}
	return uint8(r.p.Read(uint64(port-PITPort), 1))
}

// ns is the time n PIT clocks take, rounded up.
func pitNs(n uint64) int64 { return nsOfCount(n, PITHz) }

// TestPITCount: count and OUT of each mode, some ticks after a load.
func TestPITCount(t *testing.T) {
	tests := []struct {
		ctl       uint8 // control word for counter 0
		n         uint16
		ticks     uint64
		wantCount uint16
		wantOut   bool
	}{
		{0x30, 1000, 0, 1000, false},
		{0x30, 1000, 999, 1, false},
		{0x30, 1000, 1000, 0, true},
		{0x30, 1000, 1001, 0xffff, true}, // mode 0 wraps, OUT stays high
		{0x34, 100, 98, 2, true},
		{0x34, 100, 99, 1, false}, // rate generator: OUT low at count 1
		{0x34, 100, 100, 100, true},
		{0x34, 100, 250, 50, true},
		{0x36, 100, 10, 80, true}, // square wave counts by 2
		{0x36, 100, 50, 100, false},
		{0x36, 100, 60, 80, false},
		{0x36, 100, 100, 100, true},
		{0x38, 50, 50, 0, false}, // mode 4 strobe at terminal count
		{0x38, 50, 51, 0xffff, true},
		{0x3c, 50, 10, 40, true},          // 6 is 2
		{0x30, 0, 1, 0xffff, false},       // 0 counts 65536
		{0x31, 0x1234, 35, 0x1199, false}, // BCD
		{0x31, 0, 1, 0x9999, false},       // BCD 0 counts 10000
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("ctl=%#x/N=%d/e=%d", tc.ctl, tc.n, tc.ticks), func(t *testing.T) {
			r := newPITRig()
			start := r.clk.Nanotime()
			r.outb(0x43, tc.ctl)
			r.outb(0x40, uint8(tc.n))
			r.outb(0x40, uint8(tc.n>>8))
			r.clk.set(start + pitNs(tc.ticks))
			r.outb(0x43, 0xc2) // read-back: count and status of counter 0
			st := r.inb(0x40)
			got := uint16(r.inb(0x40)) | uint16(r.inb(0x40))<<8
			if got != tc.wantCount {
				t.Errorf("count %#x, want %#x", got, tc.wantCount)
			}
			if out := st&0x80 != 0; out != tc.wantOut {
				t.Errorf("OUT %v, want %v (status %#x)", out, tc.wantOut, st)
			}
			if st&0x3f != tc.ctl&0x3f && tc.ctl != 0x3c {
				t.Errorf("status %#x does not echo control word %#x", st, tc.ctl)
			}
		})
	}
}

// TestPITAccess: counter latch, LSB-only and MSB-only access, null count.
func TestPITAccess(t *testing.T) {
	r := newPITRig()
	r.outb(0x43, 0x10) // counter 0, LSB only, mode 0
	r.outb(0x40, 200)
	r.clk.advance(pitNs(20))
	if v := r.inb(0x40); v != 180 {
		t.Errorf("LSB-only read %d, want 180", v)
	}
	r.outb(0x43, 0x20) // MSB only
	r.outb(0x40, 0x02)
	if v := r.inb(0x40); v != 0x02 {
		t.Errorf("MSB-only read %#x, want 2", v)
	}
	r.outb(0x43, 0x34)
	r.outb(0x43, 0xe2) // status only: null count until a count is written
	if st := r.inb(0x40); st&0x40 == 0 {
		t.Errorf("status %#x lacks null count", st)
	}
	r.outb(0x40, 0x10)
	r.outb(0x40, 0x27)
	r.outb(0x43, 0x00) // latch
	r.clk.advance(pitNs(100))
	r.outb(0x43, 0x00) // ignored: the first latch is unread
	lo, hi := r.inb(0x40), r.inb(0x40)
	if v := uint16(hi)<<8 | uint16(lo); v != 0x2710 {
		t.Errorf("latched %#x, want 0x2710", v)
	}
	if v := uint16(r.inb(0x40)) | uint16(r.inb(0x40))<<8; v != 0x2710-100 {
		t.Errorf("live %d, want %d", v, 0x2710-100)
	}
}

// TestPITGate2: counter 2 counts only while NMI_SC.TIM_CNT2_EN is set and
// shows OUT in NMI_SC.TMR2_OUT_STS.
func TestPITGate2(t *testing.T) {
	r := newPITRig()
	r.outb(0x43, 0xb0)
	r.outb(0x42, 100)
	r.outb(0x42, 0)
	r.clk.advance(pitNs(500))
	if r.inb(0x61)&nmiscTmr2Out != 0 {
		t.Fatal("OUT2 high with the gate off")
	}
	r.outb(0x61, 0x01)
	r.clk.advance(pitNs(60))
	r.outb(0x61, 0x00) // pause at 40 left
	r.clk.advance(pitNs(500))
	r.outb(0x61, 0x01)
	if v := r.inb(0x61); v&nmiscTmr2Out != 0 || v&0x0f != 1 {
		t.Fatalf("NMI_SC %#x after 60 counted ticks", v)
	}
	r.clk.advance(pitNs(40))
	if r.inb(0x61)&nmiscTmr2Out == 0 {
		t.Fatal("OUT2 still low after 100 counted ticks")
	}
}

// TestLinuxPITCalibrate replays pit_calibrate_tsc (Linux 6.1
// arch/x86/kernel/tsc.c): counter 2, mode 0, 10 ms, polled through port
// 0x61 with each poll costing an exit. OUT must rise after 10 ms of Clock
// time however long the polls take.
func TestLinuxPITCalibrate(t *testing.T) {
	for _, exitNs := range []int64{500, 20_000} {
		t.Run(fmt.Sprintf("exit=%dns", exitNs), func(t *testing.T) {
			r := newPITRig()
			r.outb(0x61, (r.inb(0x61)&^0x02)|0x01)
			r.outb(0x43, 0xb0)
			const latch = PITHz / 100
			r.outb(0x42, latch&0xff)
			r.outb(0x42, latch>>8)
			t1 := r.clk.TSC()
			loops := 0
			for r.inb(0x61)&0x20 == 0 {
				r.clk.advance(exitNs)
				loops++
			}
			elapsed := int64(r.clk.TSC()-t1) / 2
			if want := pitNs(latch); elapsed < want || elapsed > want+exitNs {
				t.Errorf("OUT rose after %d ns, want %d (+%d)", elapsed, want, exitNs)
			}
		})
	}
}

// TestLinuxQuickPITCalibrate replays quick_pit_calibrate: counter 2 at
// 0xffff, reading LSB then MSB until the MSB has counted down far enough
// for 500 ppm. With fast port accesses it must give the TSC rate.
func TestLinuxQuickPITCalibrate(t *testing.T) {
	r := newPITRig()
	inb := func(port uint16) uint8 { r.clk.advance(300); return r.inb(port) }
	verify := func(v uint8) bool { inb(0x42); return inb(0x42) == v }
	expect := func(v uint8) (tsc, d uint64, ok bool) {
		var prev uint64
		n := 0
		for ; n < 50000 && verify(v); n++ {
			prev, tsc = tsc, r.clk.TSC()
		}
		return tsc, r.clk.TSC() - prev, n > 5
	}
	r.outb(0x61, (r.inb(0x61)&^0x02)|0x01)
	r.outb(0x43, 0xb0)
	r.outb(0x42, 0xff)
	r.outb(0x42, 0xff)
	verify(0)
	tsc, d1, ok := expect(0xff)
	if !ok {
		t.Fatal("MSB 0xff not seen")
	}
	for i := uint64(1); i <= 233; i++ {
		t2, d2, ok := expect(uint8(0xff - i))
		if !ok {
			t.Fatalf("MSB %#x not seen", 0xff-i)
		}
		delta := t2 - tsc
		if d1+d2 >= delta>>11 {
			continue
		}
		khz := delta * PITHz / (i * 256 * 1000)
		if khz < 1999000 || khz > 2001000 {
			t.Fatalf("calibrated %d kHz, want 2000000", khz)
		}
		return
	}
	t.Fatal("never within 500 ppm")
}

// TestPITTicks: counter 0 in rate-generator mode pulses IRQ0 at each
// Deadline; a late Tick pulses once and counts the rest as missed.
func TestPITTicks(t *testing.T) {
	r := newPITRig()
	var armed []int64
	r.p = NewPIT(r.clk, r.line, func(d int64) { armed = append(armed, d) })
	if d := r.p.Deadline(); d != 0 {
		t.Fatalf("deadline %d before programming", d)
	}
	start := r.clk.Nanotime()
	r.outb(0x43, 0x34)
	r.outb(0x40, 0xa5) // 4773: Linux's LATCH for HZ=250
	r.outb(0x40, 0x12)
	for k := uint64(1); k <= 3; k++ {
		d := r.p.Deadline()
		if want := start + pitNs(k*4773); d != want {
			t.Fatalf("deadline %d = %d, want %d", k, d, want)
		}
		r.p.Tick(d - 1)
		if _, rises := r.line.state(); rises != int(k-1) {
			t.Fatalf("pulse before the deadline")
		}
		r.p.Tick(d)
		if high, rises := r.line.state(); high || rises != int(k) {
			t.Fatalf("after tick %d: high %v rises %d", k, high, rises)
		}
	}
	r.p.Tick(start + pitNs(10*4773))
	if _, rises := r.line.state(); rises != 4 || r.p.Missed() != 6 {
		t.Errorf("late tick: rises %d missed %d, want 4 and 6", rises, r.p.Missed())
	}
	if len(armed) < 3+4 || armed[len(armed)-1] != start+pitNs(11*4773) {
		t.Errorf("rearm calls %v", armed)
	}
}

// TestPITMinInterval: a tiny count cannot make IRQ0 faster than
// PITMinInterval.
func TestPITMinInterval(t *testing.T) {
	r := newPITRig()
	r.outb(0x43, 0x34)
	r.outb(0x40, 2)
	r.outb(0x40, 0)
	d := r.p.Deadline()
	if next := r.p.Tick(d); next != d+PITMinInterval {
		t.Fatalf("next deadline %d, want %d", next, d+PITMinInterval)
	}
}

// TestPITOneShot: mode 4 (Linux's one-shot PIT clockevent) fires once per
// count written.
func TestPITOneShot(t *testing.T) {
	r := newPITRig()
	r.outb(0x43, 0x38)
	for i := 1; i <= 2; i++ {
		r.outb(0x40, 0xe8) // 1000
		r.outb(0x40, 0x03)
		d := r.p.Deadline()
		if want := r.clk.Nanotime() + pitNs(1001); d != want {
			t.Fatalf("deadline %d, want %d", d, want)
		}
		r.clk.set(d + PITMinInterval)
		if next := r.p.Tick(r.clk.Nanotime()); next != 0 {
			t.Fatalf("one-shot rearmed itself at %d", next)
		}
		if _, rises := r.line.state(); rises != i {
			t.Fatalf("rises %d, want %d", rises, i)
		}
	}
}

// FuzzPIT: any port sequence over any time; afterwards a Tick at the
// Deadline must pulse and move the deadline on.
func FuzzPIT(f *testing.F) {
	f.Add([]byte{3, 0x34, 0, 0x9c, 0, 0x12, 4, 1})
	f.Add([]byte{5, 0x01, 3, 0xb0, 2, 0xff, 2, 0xff, 5, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := newPITRig()
		for i := 0; i+1 < len(ops); i += 2 {
			op, v := ops[i], ops[i+1]
			switch op & 7 {
			case 0, 1, 2, 3:
				r.outb(PITPort+uint16(op&3), v)
			case 4:
				r.clk.advance(int64(v) << (op >> 3 & 15))
			case 5:
				r.outb(NMISCPort, v)
			case 6:
				r.inb(PITPort + uint16(v&3))
			default:
				r.p.Tick(r.clk.Nanotime())
			}
		}
		d := r.p.Deadline()
		if d == 0 {
			return
		}
		_, before := r.line.state()
		next := r.p.Tick(d)
		if _, after := r.line.state(); after != before+1 {
			t.Fatalf("Tick at the deadline %d did not pulse", d)
		}
		if next != 0 && next <= d {
			t.Fatalf("deadline %d did not move on (%d)", d, next)
		}
	})
}
