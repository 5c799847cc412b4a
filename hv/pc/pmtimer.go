package pc

import "sync"

// ACPI fixed hardware in I/O space (ACPI 6.5, 4.8.2 "Fixed Hardware
// Registers"; names as there): the power management timer PM_TMR, and the
// PM1a event (PM1_STS, PM1_EN) and control (PM1_CNT) registers. Linux
// calibrates the TSC against PM_TMR when the PIT is unusable, and uses it
// as a clocksource (acpi_pm). The FADT (another file) names the ports;
// they are parameters here so both agree on one PMPorts value.
//
// Not modelled: the SCI (nothing raises an ACPI event, so PM1_STS only
// holds what a guest cannot set), TMR_STS carry events, global lock
// release, and sleep states other than by the callback.

// PMTimerHz is PM_TMR's rate: the PC's 14.31818 MHz crystal / 4.
const PMTimerHz = 3579545

// PMPorts is where the FADT puts the fixed registers (0: absent).
type PMPorts struct {
	PM1aEvt uint16 // PM1a_EVT_BLK: PM1_STS then PM1_EN, 4 bytes
	PM1aCnt uint16 // PM1a_CNT_BLK: PM1_CNT, 2 bytes
	PMTmr   uint16 // PM_TMR_BLK: 4 bytes, 32-bit (FADT TMR_VAL_EXT)
}

// DefaultPMPorts is QEMU's PIIX4 layout at base 0x600.
var DefaultPMPorts = PMPorts{PM1aEvt: 0x600, PM1aCnt: 0x604, PMTmr: 0x608}

// PM1_STS, PM1_EN and PM1_CNT bits.
const (
	pm1StsWritable = 0xc731 // TMR, BM, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE, WAK: write-1-to-clear
	pm1EnWritable  = 0x4721 // TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN, PCIEXP_WAKE_DIS
	pm1CntSCIEn    = 1 << 0 // SCI_EN: always set, the machine is in ACPI mode
	pm1CntBMRld    = 1 << 1
	pm1CntSlpTyp   = 7 << 10
	pm1CntSlpEn    = 1 << 13 // write-only: enter sleep state SLP_TYP
)

// PMTimer is PM_TMR: a free-running 32-bit count at PMTimerHz.
type PMTimer struct {
	clock  Clock
	origin int64
}

// NewPMTimer returns a PM timer that counts from 0 at the time it is made.
func NewPMTimer(c Clock) *PMTimer {
	return &PMTimer{clock: c, origin: c.Nanotime()}
}

// Count is PM_TMR's value now.
func (t *PMTimer) Count() uint32 {
	return uint32(countAt(t.clock.Nanotime()-t.origin, PMTimerHz))
}

// Read implements Device: any byte lanes of the 4-byte register.
func (t *PMTimer) Read(off uint64, size int) uint64 {
	v := t.Count()
	return readBytes(off, size, 4, func(o uint64) uint8 { return uint8(v >> (8 * o)) })
}

// Write implements Device: PM_TMR is read-only.
func (t *PMTimer) Write(off uint64, size int, val uint64) {}

// PM1 holds PM1_STS, PM1_EN and PM1_CNT.
type PM1 struct {
	sleep func(slpTyp uint8)

	mu  sync.Mutex
	sts uint16
	en  uint16
	cnt uint16
}

// NewPM1 returns the PM1 registers; sleep, if not nil, is called (without
// the lock held) when the guest sets SLP_EN, with SLP_TYP: the value the
// DSDT's \_Sx package told it to use for the state it wants.
func NewPM1(sleep func(slpTyp uint8)) *PM1 {
	return &PM1{sleep: sleep, cnt: pm1CntSCIEn}
}

// Event is the Device for PM1a_EVT_BLK.
func (p *PM1) Event() Device { return pm1Evt{p} }

// Control is the Device for PM1a_CNT_BLK.
func (p *PM1) Control() Device { return pm1Cnt{p} }

type pm1Evt struct{ p *PM1 }

func (d pm1Evt) Read(off uint64, size int) uint64 {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	v := uint32(d.p.sts) | uint32(d.p.en)<<16
	return readBytes(off, size, 4, func(o uint64) uint8 { return uint8(v >> (8 * o)) })
}

// Write: PM1_STS bits clear where written as 1; PM1_EN bits are plain.
func (d pm1Evt) Write(off uint64, size int, val uint64) {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	writeBytes(off, size, val, 4, func(o uint64, b uint8) {
		sh := 8 * (o & 1)
		if o < 2 {
			d.p.sts &^= uint16(b) << sh & pm1StsWritable
			return
		}
		d.p.en = d.p.en&^(0xff<<sh) | uint16(b)<<sh&pm1EnWritable
	})
}

type pm1Cnt struct{ p *PM1 }

func (d pm1Cnt) Read(off uint64, size int) uint64 {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	v := d.p.cnt
	return readBytes(off, size, 2, func(o uint64) uint8 { return uint8(v >> (8 * o)) })
}

func (d pm1Cnt) Write(off uint64, size int, val uint64) {
	p := d.p
	p.mu.Lock()
	var written uint16
	writeBytes(off, size, val, 2, func(o uint64, b uint8) {
		sh := 8 * o
		written |= uint16(b) << sh
		keep := p.cnt &^ (0xff << sh)
		p.cnt = keep | (uint16(b)<<sh)&(pm1CntBMRld|pm1CntSlpTyp) | pm1CntSCIEn
	})
	typ := uint8(p.cnt & pm1CntSlpTyp >> 10)
	p.mu.Unlock()
	if written&pm1CntSlpEn != 0 && p.sleep != nil {
		p.sleep(typ)
	}
}

// ACPIPM is the PM timer and PM1 registers at the ports the FADT names.
type ACPIPM struct {
	Timer *PMTimer
	PM1   *PM1
	ports PMPorts
}

// NewACPIPM makes the fixed registers for ports (see DefaultPMPorts).
func NewACPIPM(c Clock, ports PMPorts, sleep func(slpTyp uint8)) *ACPIPM {
	return &ACPIPM{Timer: NewPMTimer(c), PM1: NewPM1(sleep), ports: ports}
}

// Ranges is the claim on the ports that are present.
func (a *ACPIPM) Ranges() []PortRange {
	var rs []PortRange
	add := func(base, size uint16, name string, d Device) {
		if base != 0 {
			rs = append(rs, PortRange{Base: base, Size: size, Name: name, Dev: d})
		}
	}
	add(a.ports.PM1aEvt, 4, "pm1a_evt", a.PM1.Event())
	add(a.ports.PM1aCnt, 2, "pm1a_cnt", a.PM1.Control())
	add(a.ports.PMTmr, 4, "pm_tmr", a.Timer)
	return rs
}
