package pc

import (
	"math"
	"sync"
)

// The 8254 PIT at ports 0x40-0x43 (counters in pit_counter.go) and the
// register at port 0x61 that gates counter 2 and shows its OUT: the PC/AT's
// "port B", which Intel's I/O controller hubs call NMI_SC (Intel ICH9
// datasheet, 13.7.1; bit names as there). Linux's pit_calibrate_tsc and
// quick_pit_calibrate program counter 2 in mode 0 through exactly these:
// GATE2 on, speaker off, then poll TMR2_OUT_STS or the counter's MSB.
//
// Counters count at PITHz from the domain's Clock, never from how often
// the guest looks. Counter 0's OUT drives IRQ0 as a pulse per rising edge
// (what an edge-triggered pin samples), and since no thread polls it, the
// hypervisor asks Deadline when the next edge is due and calls Tick then.

const (
	PITPort   = 0x40
	PITIRQ    = 0
	PITHz     = 1193182 // the PC's 14.31818 MHz crystal / 12
	NMISCPort = 0x61
)

// Port offsets.
const (
	pitControl = 3 // control word register (write only)
	pitPorts   = 4
)

// NMI_SC bits.
const (
	nmiscTimCnt2En = 1 << 0 // GATE of counter 2
	nmiscWritable  = 0x0f   // with SPKR_DAT_EN, PCI_SERR_EN, IOCHK_NMI_EN
	nmiscRefToggle = 1 << 4
	nmiscTmr2Out   = 1 << 5 // TMR2_OUT_STS: counter 2's OUT
)

// refreshNs is REF_TOGGLE's half period: it flips at the DRAM refresh
// rate (15.085 µs), which old delay loops counted.
const refreshNs = 15085

// PITMinInterval bounds how often Tick pulses IRQ0 (100 µs, 10 kHz)
// whatever count the guest programs: a count of 1 would otherwise ask the
// host for over a million timer interrupts a second. Linux's HZ=250 tick
// is 4 ms; its one-shot PIT events may arrive up to this much late.
const PITMinInterval = 100_000

// PIT is the 8254 with NMI_SC. Lock order: irqMu before mu.
type PIT struct {
	clock Clock
	irq   IRQ                  // counter 0's OUT: IRQ0
	rearm func(deadline int64) // told when counter 0's next edge moves

	irqMu sync.Mutex // keeps IRQ0 pulses whole

	mu        sync.Mutex
	ch        [3]pitCounter
	nmisc     uint8 // NMI_SC bits 3-0 as written
	pulsed    bool
	lastPulse int64
	missed    uint64 // edges coalesced into a later pulse
}

// NewPIT returns a PIT counting from c whose counter 0 pulses irq0.
// rearm, if not nil, is called with the new Deadline (0 = none) whenever a
// port write or a Tick moves it, without the PIT's lock held, so the
// hypervisor can re-arm its timer there instead of polling Deadline.
func NewPIT(c Clock, irq0 IRQ, rearm func(deadline int64)) *PIT {
	if irq0 == nil {
		irq0 = NoIRQ
	}
	p := &PIT{clock: c, irq: irq0, rearm: rearm}
	for i := range p.ch {
		p.ch[i].rw = pitLoHi
	}
	p.ch[0].gate, p.ch[1].gate = true, true // counter 2's GATE is NMI_SC bit 0
	return p
}

// Ranges is the PIT's claim: the counters and control word, and NMI_SC.
func (p *PIT) Ranges() []PortRange {
	return []PortRange{
		{Base: PITPort, Size: pitPorts, Name: "pit", Dev: p},
		{Base: NMISCPort, Size: 1, Name: "nmi_sc", Dev: p.NMISC()},
	}
}

// Missed is how many IRQ0 edges were folded into a later pulse because
// Tick came late (or faster than PITMinInterval).
func (p *PIT) Missed() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.missed
}

// Read implements Device for ports 0x40-0x43.
func (p *PIT) Read(off uint64, size int) uint64 {
	return readBytes(off, size, pitPorts, p.readPort)
}

// Write implements Device for ports 0x40-0x43.
func (p *PIT) Write(off uint64, size int, val uint64) {
	writeBytes(off, size, val, pitPorts, p.writePort)
	p.notify()
}

func (p *PIT) readPort(off uint64) uint8 {
	if off == pitControl {
		return 0xff // the control word register cannot be read
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ch[off].read(p.clock.Nanotime())
}

func (p *PIT) writePort(off uint64, v uint8) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Nanotime()
	if off != pitControl {
		p.ch[off].writeCount(v, now)
		return
	}
	sel := v >> 6
	switch {
	case sel == 3:
		p.readBack(v, now)
	case (v>>4)&3 == pitLatch:
		p.ch[sel].latch(now)
	default:
		p.ch[sel].program(v, now)
	}
}

// readBack is the read-back command: bit 5 clear latches the counts, bit
// 4 clear the status, of the counters selected by bits 1-3.
func (p *PIT) readBack(v uint8, now int64) {
	for i := range p.ch {
		if v&(2<<i) == 0 {
			continue
		}
		if v&0x10 == 0 {
			p.ch[i].latchStatus(now)
		}
		if v&0x20 == 0 {
			p.ch[i].latch(now)
		}
	}
}

// Deadline is when (Clock nanoseconds) counter 0's OUT next rises, or 0
// if it will not without a new count.
func (p *PIT) Deadline() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deadlineLocked()
}

func (p *PIT) deadlineLocked() int64 {
	c := &p.ch[0]
	if !c.loaded || !c.running {
		return 0
	}
	t, ok := c.edgeTick(c.edges + 1)
	if !ok {
		return 0
	}
	d, ns := c.runSince-c.accNs, nsOfCount(t, PITHz)
	if ns > math.MaxInt64-d {
		return 0 // beyond any timer
	}
	d += ns
	if p.pulsed && d < p.lastPulse+PITMinInterval {
		d = p.lastPulse + PITMinInterval
	}
	return d
}

// Tick pulses IRQ0 once if counter 0's OUT has risen since the last pulse
// (edges missed in between are counted, as a PIC would merge them) and
// returns the next Deadline.
func (p *PIT) Tick(now int64) int64 {
	p.mu.Lock()
	pulse := p.dueLocked(now)
	next := p.deadlineLocked()
	p.mu.Unlock()
	if pulse {
		p.irqMu.Lock()
		p.irq.SetLevel(true)
		p.irq.SetLevel(false)
		p.irqMu.Unlock()
	}
	if p.rearm != nil {
		p.rearm(next)
	}
	return next
}

func (p *PIT) dueLocked(now int64) bool {
	c := &p.ch[0]
	if !c.loaded || !c.running || (p.pulsed && now < p.lastPulse+PITMinInterval) {
		return false
	}
	k := c.edgesBy(c.ticks(now))
	if k <= c.edges {
		return false
	}
	p.missed += k - c.edges - 1
	c.edges, p.lastPulse, p.pulsed = k, now, true
	return true
}

func (p *PIT) notify() {
	if p.rearm != nil {
		p.rearm(p.Deadline())
	}
}

// NMISC is the Device for port 0x61.
func (p *PIT) NMISC() Device { return nmiSC{p} }

type nmiSC struct{ p *PIT }

func (d nmiSC) Read(off uint64, size int) uint64 {
	return readBytes(off, size, 1, func(uint64) uint8 { return d.p.readNMISC() })
}

func (d nmiSC) Write(off uint64, size int, val uint64) {
	writeBytes(off, size, val, 1, func(_ uint64, v uint8) { d.p.writeNMISC(v) })
}

// readNMISC: the written bits, REF_TOGGLE, TMR2_OUT_STS; the NMI sources
// (IOCHK_NMI_STS, SERR_NMI_STS) never fire.
func (p *PIT) readNMISC() uint8 {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Nanotime()
	v := p.nmisc
	if (now/refreshNs)&1 != 0 {
		v |= nmiscRefToggle
	}
	if p.ch[2].out(now) {
		v |= nmiscTmr2Out
	}
	return v
}

func (p *PIT) writeNMISC(v uint8) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nmisc = v & nmiscWritable
	p.ch[2].setGate(v&nmiscTimCnt2En != 0, p.clock.Nanotime())
}
