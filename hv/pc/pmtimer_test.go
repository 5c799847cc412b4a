package pc

import (
	"fmt"
	"testing"
)

func TestPMTimerCount(t *testing.T) {
	tests := []struct {
		ns   int64
		want uint32
	}{
		{0, 0},
		{279, 0},
		{280, 1}, // 279.4 ns a count
		{1e6, 3579},
		{1e9, PMTimerHz},
		{1200e9, 1200*PMTimerHz - 1<<32}, // past 2^32: wraps
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dns", tc.ns), func(t *testing.T) {
			clk := &devClock{}
			clk.set(5e9)
			pm := NewPMTimer(clk)
			clk.advance(tc.ns)
			if got := uint32(pm.Read(0, 4)); got != tc.want {
				t.Errorf("PM_TMR %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPMTimerByteLanes(t *testing.T) {
	clk := &devClock{}
	pm := NewPMTimer(clk)
	clk.set(1e9)
	full := pm.Read(0, 4)
	if lo, hi := pm.Read(0, 2), pm.Read(2, 2); lo|hi<<16 != full {
		t.Errorf("words %#x %#x, dword %#x", lo, hi, full)
	}
	if b := pm.Read(3, 2); b != 0xff00|full>>24 {
		t.Errorf("read past the register %#x", b)
	}
}

// TestPMTimerCalibratesTSC: Linux's pit_hpet_ptimer_calibrate_cpu falls
// back to PM_TMR as reference; the TSC rate it derives must be exact.
func TestPMTimerCalibratesTSC(t *testing.T) {
	clk := &devClock{}
	pm := NewPMTimer(clk)
	clk.set(123456789)
	tsc1, p1 := clk.TSC(), pm.Count()
	clk.advance(50e6)
	tsc2, p2 := clk.TSC(), pm.Count()
	khz := (tsc2 - tsc1) * PMTimerHz / uint64(p2-p1) / 1000
	if khz < 1999800 || khz > 2000200 {
		t.Fatalf("TSC calibrated at %d kHz, want 2000000", khz)
	}
}

func TestPM1(t *testing.T) {
	var slept []uint8
	a := NewACPIPM(&devClock{}, DefaultPMPorts, func(typ uint8) { slept = append(slept, typ) })
	rs := a.Ranges()
	if len(rs) != 3 || rs[2].Base != 0x608 || rs[2].Size != 4 {
		t.Fatalf("ranges %+v", rs)
	}
	evt, cnt := rs[0].Dev, rs[1].Dev
	if v := cnt.Read(0, 2); v != pm1CntSCIEn {
		t.Errorf("PM1_CNT %#x, want SCI_EN", v)
	}
	evt.Write(2, 2, 0xffff)
	if v := evt.Read(0, 4); v != pm1EnWritable<<16 {
		t.Errorf("PM1 event block %#x, want PM1_EN %#x", v, pm1EnWritable)
	}
	cnt.Write(0, 2, 5<<10) // SLP_TYP alone sleeps nowhere
	cnt.Write(1, 1, (5<<10|pm1CntSlpEn)>>8)
	if len(slept) != 1 || slept[0] != 5 {
		t.Errorf("sleep calls %v, want [5]", slept)
	}
	if v := cnt.Read(0, 2); v != 5<<10|pm1CntSCIEn {
		t.Errorf("PM1_CNT %#x after sleep: SLP_EN must read 0", v)
	}
}

func TestACPIPMAbsentPorts(t *testing.T) {
	a := NewACPIPM(&devClock{}, PMPorts{PMTmr: 0xb008}, nil)
	if rs := a.Ranges(); len(rs) != 1 || rs[0].Name != "pm_tmr" {
		t.Fatalf("ranges %+v, want the timer only", rs)
	}
	a.PM1.Control().Write(0, 2, pm1CntSlpEn) // nil sleep: no panic
}

// FuzzPM1: any writes to the PM1 blocks keep SCI_EN set, SLP_EN unread
// and PM1_EN within its defined bits.
func FuzzPM1(f *testing.F) {
	f.Add([]byte{0x11, 0x20, 0xff, 0x23, 0x34, 0x12})
	f.Fuzz(func(t *testing.T, ops []byte) {
		p := NewPM1(func(uint8) {})
		evt, cnt := p.Event(), p.Control()
		for i := 0; i+2 < len(ops); i += 3 {
			off, size := uint64(ops[i]&3), 1<<(ops[i]>>2&3)
			val := uint64(ops[i+1]) | uint64(ops[i+2])<<8
			if ops[i]&0x10 != 0 {
				cnt.Write(off, size, val)
			} else {
				evt.Write(off, size, val)
			}
		}
		c, e := cnt.Read(0, 2), evt.Read(0, 4)
		if c&pm1CntSCIEn == 0 || c&pm1CntSlpEn != 0 || e>>16&^pm1EnWritable != 0 || e&0xffff != 0 {
			t.Fatalf("PM1_CNT %#x, PM1 event block %#x", c, e)
		}
	})
}
