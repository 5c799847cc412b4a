package pc

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// rtcWall is a settable rtcWall clock.
type rtcWall struct {
	mu sync.Mutex
	t  time.Time
}

func (w *rtcWall) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

func (w *rtcWall) set(t time.Time) { w.mu.Lock(); w.t = t; w.mu.Unlock() }

// rtcEpoch is a Saturday evening, half a second into its second.
var rtcEpoch = time.Date(2026, 11, 14, 21, 7, 9, 5e8, time.UTC)

func newRTCRig() (*RTC, *rtcWall) {
	w := &rtcWall{t: rtcEpoch}
	return NewRTC(w.now), w
}

func cmosRead(r *RTC, i uint8) uint8 {
	r.Write(0, 1, uint64(i))
	return uint8(r.Read(1, 1))
}

func cmosWrite(r *RTC, i, v uint8) {
	r.Write(0, 1, uint64(i))
	r.Write(1, 1, uint64(v))
}

func TestRTCTimeRegisters(t *testing.T) {
	tests := []struct {
		regB  uint8
		at    time.Time
		index uint8
		want  uint8
	}{
		{rtcResetB, rtcEpoch, rtcSeconds, 0x09},
		{rtcResetB, rtcEpoch, rtcMinutes, 0x07},
		{rtcResetB, rtcEpoch, rtcHours, 0x21},
		{rtcResetB, rtcEpoch, rtcDayOfWeek, 7},
		{rtcResetB, rtcEpoch, rtcDayOfMonth, 0x14},
		{rtcResetB, rtcEpoch, rtcMonth, 0x11},
		{rtcResetB, rtcEpoch, rtcYear, 0x26},
		{rtcResetB, rtcEpoch, rtcCentury, 0x20},
		{regB24 | regBDM, rtcEpoch, rtcHours, 21},
		{regB24 | regBDM, rtcEpoch, rtcMonth, 11},
		{regB24 | regBDM, rtcEpoch, rtcCentury, 20},
		{0, rtcEpoch, rtcHours, 0x89},
		{0, time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC), rtcHours, 0x12},
		{0, time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC), rtcHours, 0x92},
		{regBDM, time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC), rtcHours, 0x80 | 11},
		{rtcResetB, rtcEpoch.Add(51 * time.Second), rtcMinutes, 0x08},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("B=%#x/%s/reg%#x", tc.regB, tc.at.Format("15:04:05"), tc.index), func(t *testing.T) {
			r, w := newRTCRig()
			cmosWrite(r, rtcRegB, tc.regB)
			w.set(tc.at)
			if got := cmosRead(r, tc.index); got != tc.want {
				t.Errorf("register %#x = %#x, want %#x", tc.index, got, tc.want)
			}
		})
	}
}

func TestRTCStatusRegisters(t *testing.T) {
	r, w := newRTCRig()
	if a := cmosRead(r, rtcRegA); a != rtcResetA {
		t.Errorf("A = %#x at mid-second, want %#x", a, rtcResetA)
	}
	w.set(rtcEpoch.Add(5e8 - 100_000))
	if a := cmosRead(r, rtcRegA); a&regAUIP == 0 {
		t.Errorf("A = %#x 100 µs before the update, want UIP", a)
	}
	w.set(rtcEpoch.Add(5e8 - 300_000))
	if a := cmosRead(r, rtcRegA); a&regAUIP != 0 {
		t.Errorf("A = %#x 300 µs before the update, want no UIP", a)
	}
	cmosWrite(r, rtcRegA, 0xff)
	if a := cmosRead(r, rtcRegA); a != 0x7f {
		t.Errorf("A = %#x after writing 0xff with DV=111, want 0x7f", a)
	}
	cmosWrite(r, rtcRegC, 0xff)
	cmosWrite(r, rtcRegD, 0)
	if c, d := cmosRead(r, rtcRegC), cmosRead(r, rtcRegD); c != 0 || d != regDVRT {
		t.Errorf("C %#x D %#x, want 0 and VRT", c, d)
	}
}

// TestRTCSetTime: Linux's mc146818_set_time sets SET, writes the time
// registers, and clears SET; the clock runs on from there.
func TestRTCSetTime(t *testing.T) {
	r, w := newRTCRig()
	cmosWrite(r, rtcRegB, rtcResetB|regBSET|regBUIE)
	if b := cmosRead(r, rtcRegB); b&regBUIE != 0 {
		t.Errorf("SET left UIE on: %#x", b)
	}
	for _, x := range [][2]uint8{{rtcYear, 0x99}, {rtcCentury, 0x19}, {rtcMonth, 0x12},
		{rtcDayOfMonth, 0x31}, {rtcHours, 0x23}, {rtcMinutes, 0x59}, {rtcSeconds, 0x58}} {
		cmosWrite(r, x[0], x[1])
	}
	w.set(rtcEpoch.Add(5 * time.Second)) // frozen while SET
	if s := cmosRead(r, rtcSeconds); s != 0x58 {
		t.Errorf("seconds %#x while SET, want 0x58", s)
	}
	cmosWrite(r, rtcRegB, rtcResetB)
	w.set(rtcEpoch.Add(7 * time.Second))
	got := [4]uint8{cmosRead(r, rtcCentury), cmosRead(r, rtcYear), cmosRead(r, rtcMonth), cmosRead(r, rtcSeconds)}
	if got != [4]uint8{0x20, 0x00, 0x01, 0x00} {
		t.Errorf("two seconds after 1999-12-31 23:59:58: century, year, month, seconds %#x", got)
	}
}

func TestRTCWriteWhileRunning(t *testing.T) {
	r, w := newRTCRig()
	cmosWrite(r, rtcRegB, regB24|regBDM)
	cmosWrite(r, rtcHours, 3)
	w.set(rtcEpoch.Add(time.Hour))
	if h, m := cmosRead(r, rtcHours), cmosRead(r, rtcMinutes); h != 4 || m != 7 {
		t.Errorf("an hour after setting 03:07: %d:%d", h, m)
	}
}

func TestRTCRAMAndIndex(t *testing.T) {
	r, _ := newRTCRig()
	r.Write(0, 2, 0x5a80|0x3f) // outw: index 0x3f with NMI masked, data 0x5a
	if !r.NMIMasked() {
		t.Error("NMI mask bit not kept")
	}
	if v := cmosRead(r, 0x3f); v != 0x5a {
		t.Errorf("RAM[0x3f] = %#x, want 0x5a", v)
	}
	if r.NMIMasked() {
		t.Error("NMI mask stuck after an index write without it")
	}
	if v := r.Read(0, 1); v != 0xff {
		t.Errorf("index port read %#x, want 0xff", v)
	}
}

// TestLinuxRTCRead replays mc146818_get_time's loop (Linux 6.1): read
// seconds, retry after 1 ms while UIP, read the rest, retry if the
// seconds moved. Port accesses take 20 µs each, straddling updates.
func TestLinuxRTCRead(t *testing.T) {
	r, w := newRTCRig()
	clock := rtcEpoch.Add(5e8 - 300_000) // just before an update
	in := func(i uint8) uint8 { clock = clock.Add(40 * time.Microsecond); w.set(clock); return cmosRead(r, i) }
	for tries := 0; tries < 10; tries++ {
		sec := in(rtcSeconds)
		if in(rtcRegA)&regAUIP != 0 {
			clock = clock.Add(time.Millisecond)
			continue
		}
		min, hour := in(rtcMinutes), in(rtcHours)
		if in(rtcSeconds) != sec {
			continue
		}
		if sec != 0x10 || min != 0x07 || hour != 0x21 {
			t.Fatalf("read %x:%x:%x, want 21:07:10", hour, min, sec)
		}
		return
	}
	t.Fatal("no consistent read")
}

// FuzzRTC: any register sequence; once SET is cleared the clock must hold
// a valid date and time.
func FuzzRTC(f *testing.F) {
	f.Add([]byte{0x0b, 0x86, 0x08, 0x99, 0x0b, 0x02})
	f.Add([]byte{0x80, 0x32, 0x81, 0xff, 0x04, 0x13})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r, w := newRTCRig()
		for i := 0; i+1 < len(ops); i += 2 {
			switch op, v := ops[i], ops[i+1]; {
			case op&0x80 != 0:
				r.Write(uint64(op&1), 1, uint64(v))
			case op&0x40 != 0:
				w.set(w.now().Add(time.Duration(v) * time.Millisecond))
			default:
				r.Read(uint64(op&1), 1)
			}
		}
		cmosWrite(r, rtcRegB, regB24|regBDM)
		s, m, h := cmosRead(r, rtcSeconds), cmosRead(r, rtcMinutes), cmosRead(r, rtcHours)
		d, mo := cmosRead(r, rtcDayOfMonth), cmosRead(r, rtcMonth)
		if s > 59 || m > 59 || h > 23 || d < 1 || d > 31 || mo < 1 || mo > 12 {
			t.Fatalf("clock reads %d-%d %d:%d:%d", mo, d, h, m, s)
		}
	})
}
