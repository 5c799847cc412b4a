package pc

import (
	"sync"
	"time"
)

// The PC's CMOS real-time clock at ports 0x70 (index) and 0x71 (data): a
// Motorola MC146818A (datasheet register and bit names) with its 128 bytes
// of CMOS RAM. The time of day comes from a wall-clock func plus an offset
// that the guest's writes to the time registers move; it is computed when
// read, so the registers change exactly at each second boundary.
//
// Update-in-progress: UIP (register A bit 7) is set during the last 244 µs
// of every second, the datasheet's setup time before an update, and the
// update itself is instant. Never setting it would be simpler, but readers
// that synchronise to the update (old Linux, hwclock) wait for UIP to rise
// and would spin; and a reader that sees UIP clear still has the 244 µs
// the datasheet promises for a consistent read.
//
// Not modelled: interrupts (IRQ8: periodic, alarm, update-ended; register
// C always reads 0), the divider (DV other than 010 does not stop the
// clock), daylight-saving, and a stored day of week (it is computed from
// the date; writes to it are ignored).

const (
	RTCPort  = 0x70
	rtcPorts = 2
)

// CMOS indices of the clock's registers.
const (
	rtcSeconds    = 0x00
	rtcMinutes    = 0x02
	rtcHours      = 0x04
	rtcDayOfWeek  = 0x06
	rtcDayOfMonth = 0x07
	rtcMonth      = 0x08
	rtcYear       = 0x09
	rtcRegA       = 0x0a
	rtcRegB       = 0x0b
	rtcRegC       = 0x0c
	rtcRegD       = 0x0d
	rtcCentury    = 0x32 // the IBM PC/AT century byte, as the FADT names it
)

// Register bits.
const (
	regAUIP     = 1 << 7
	regADV      = 0x70 // divider select
	regADVOn    = 0x20 // 32.768 kHz time base, running
	regBSET     = 1 << 7
	regBUIE     = 1 << 4
	regBDM      = 1 << 2 // data mode: binary, else BCD
	regB24      = 1 << 1 // 24-hour, else 12-hour with PM in bit 7
	regDVRT     = 1 << 7 // valid RAM and time
	rtcHourPM   = 1 << 7
	rtcNMIMask  = 1 << 7 // in the index: masks NMI on PCs
	rtcUIPNs    = 244_000
	rtcResetA   = 0x26 // 32.768 kHz, 1024 Hz periodic rate
	rtcResetB   = regB24
	rtcSecondNs = int64(time.Second)
)

// RTC is the CMOS clock and RAM.
type RTC struct {
	now func() time.Time

	mu        sync.Mutex
	index     uint8
	nmiMasked bool
	ram       [128]byte     // A, B, alarms and RAM; not the time
	offset    time.Duration // guest time minus now()
	frozen    rtcTime       // the time registers while SET holds them
}

// rtcTime is the time registers' contents in binary, the year in full.
type rtcTime struct{ sec, min, hour, mday, mon, year int }

// NewRTC returns a CMOS RTC showing the time now gives (in UTC, as Linux
// expects the PC's clock to keep).
func NewRTC(now func() time.Time) *RTC {
	r := &RTC{now: now}
	r.ram[rtcRegA] = rtcResetA
	r.ram[rtcRegB] = rtcResetB
	return r
}

// Ranges is the RTC's claim: index and data ports.
func (r *RTC) Ranges() []PortRange {
	return []PortRange{{Base: RTCPort, Size: rtcPorts, Name: "rtc", Dev: r}}
}

// NMIMasked reports the NMI mask bit last written to the index port.
func (r *RTC) NMIMasked() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nmiMasked
}

// Read implements Device.
func (r *RTC) Read(off uint64, size int) uint64 {
	return readBytes(off, size, rtcPorts, r.readPort)
}

// Write implements Device.
func (r *RTC) Write(off uint64, size int, val uint64) {
	writeBytes(off, size, val, rtcPorts, r.writePort)
}

func (r *RTC) readPort(off uint64) uint8 {
	if off == 0 {
		return 0xff // the index register is write-only
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readLocked(r.index)
}

func (r *RTC) writePort(off uint64, v uint8) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off == 0 {
		r.index, r.nmiMasked = v&0x7f, v&rtcNMIMask != 0
		return
	}
	r.writeLocked(r.index, v)
}

func (r *RTC) readLocked(i uint8) uint8 {
	switch i {
	case rtcSeconds, rtcMinutes, rtcHours, rtcDayOfWeek, rtcDayOfMonth,
		rtcMonth, rtcYear, rtcCentury:
		return r.readTimeLocked(i)
	case rtcRegA:
		if r.updatingLocked() {
			return r.ram[i] | regAUIP
		}
		return r.ram[i]
	case rtcRegC:
		return 0
	case rtcRegD:
		return regDVRT
	}
	return r.ram[i]
}

func (r *RTC) writeLocked(i uint8, v uint8) {
	switch i {
	case rtcSeconds, rtcMinutes, rtcHours, rtcDayOfMonth, rtcMonth,
		rtcYear, rtcCentury:
		r.writeTimeLocked(i, v)
	case rtcRegA:
		r.ram[i] = v &^ regAUIP
	case rtcRegB:
		r.writeBLocked(v)
	case rtcDayOfWeek, rtcRegC, rtcRegD: // computed or read-only
	default:
		r.ram[i] = v
	}
}

// writeBLocked: setting SET freezes the time registers for the guest to
// write; clearing it starts the clock from what was written. SET also
// clears UIE, as on the chip.
func (r *RTC) writeBLocked(v uint8) {
	old := r.ram[rtcRegB]
	if v&regBSET != 0 {
		v &^= regBUIE
		if old&regBSET == 0 {
			r.frozen = r.timeLocked()
		}
	}
	r.ram[rtcRegB] = v
	if old&regBSET != 0 && v&regBSET == 0 {
		r.setLocked(r.frozen)
	}
}

// guestNowLocked is the guest's time of day.
func (r *RTC) guestNowLocked() time.Time {
	return r.now().Add(r.offset).UTC()
}

// timeLocked is what the time registers hold.
func (r *RTC) timeLocked() rtcTime {
	if r.ram[rtcRegB]&regBSET != 0 {
		return r.frozen
	}
	t := r.guestNowLocked()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return rtcTime{sec: s, min: mi, hour: h, mday: d, mon: int(mo), year: y}
}

// setLocked makes the guest's time t, keeping the fraction of the current
// second: writing the registers does not reset the divider chain.
func (r *RTC) setLocked(t rtcTime) {
	now := r.now()
	frac := r.guestNowLocked().Nanosecond()
	g := time.Date(t.year, time.Month(t.mon), t.mday, t.hour, t.min, t.sec, frac, time.UTC)
	r.offset = g.Sub(now)
}

// updatingLocked is UIP: the clock runs and an update is under 244 µs away.
func (r *RTC) updatingLocked() bool {
	if r.ram[rtcRegB]&regBSET != 0 || r.ram[rtcRegA]&regADV != regADVOn {
		return false
	}
	return int64(r.guestNowLocked().Nanosecond()) >= rtcSecondNs-rtcUIPNs
}

func (r *RTC) readTimeLocked(i uint8) uint8 {
	t := r.timeLocked()
	switch i {
	case rtcSeconds:
		return r.encode(t.sec)
	case rtcMinutes:
		return r.encode(t.min)
	case rtcHours:
		return r.encodeHour(t.hour)
	case rtcDayOfWeek:
		wd := time.Date(t.year, time.Month(t.mon), t.mday, 0, 0, 0, 0, time.UTC).Weekday()
		return r.encode(int(wd) + 1) // Sunday is 1
	case rtcDayOfMonth:
		return r.encode(t.mday)
	case rtcMonth:
		return r.encode(t.mon)
	case rtcYear:
		return r.encode(t.year % 100)
	}
	return r.encode(t.year / 100 % 100)
}

func (r *RTC) writeTimeLocked(i uint8, v uint8) {
	t := r.timeLocked()
	switch i {
	case rtcSeconds:
		t.sec = r.decode(v)
	case rtcMinutes:
		t.min = r.decode(v)
	case rtcHours:
		t.hour = r.decodeHour(v)
	case rtcDayOfMonth:
		t.mday = r.decode(v)
	case rtcMonth:
		t.mon = r.decode(v)
	case rtcYear:
		t.year = t.year/100*100 + r.decode(v)
	case rtcCentury:
		t.year = r.decode(v)*100 + t.year%100
	}
	if r.ram[rtcRegB]&regBSET != 0 {
		r.frozen = t
		return
	}
	r.setLocked(t)
}

// encode and decode follow register B's data mode.
func (r *RTC) encode(v int) uint8 {
	if r.ram[rtcRegB]&regBDM != 0 {
		return uint8(v)
	}
	return uint8(v/10%10<<4 | v%10)
}

func (r *RTC) decode(v uint8) int {
	if r.ram[rtcRegB]&regBDM != 0 {
		return int(v)
	}
	return int(v>>4)*10 + int(v&15)
}

// encodeHour: in 12-hour mode hours run 12, 1 .. 11 with PM in bit 7.
func (r *RTC) encodeHour(h int) uint8 {
	if r.ram[rtcRegB]&regB24 != 0 {
		return r.encode(h)
	}
	v := r.encode((h+11)%12 + 1)
	if h >= 12 {
		v |= rtcHourPM
	}
	return v
}

func (r *RTC) decodeHour(v uint8) int {
	h := r.decode(v &^ rtcHourPM)
	if r.ram[rtcRegB]&regB24 != 0 {
		return h
	}
	h %= 12
	if v&rtcHourPM != 0 {
		h += 12
	}
	return h
}
