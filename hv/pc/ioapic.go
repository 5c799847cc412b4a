package pc

import "sync"

// An I/O APIC (Intel 82093AA I/O Advanced Programmable Interrupt
// Controller datasheet, 290566; names as there: IOREGSEL, IOWIN, IOAPICID,
// IOAPICVER, IOAPICARB, IOREDTBL). Version 0x20 adds the EOI register at
// 0x40 that later chipsets' I/O APICs have (Intel ICH9 datasheet, 13.5.5):
// Linux uses it for I/O APICs of version 0x20 and up to clear a pin's
// Remote IRR (__eoi_ioapic_pin).
//
// Each pin is an IRQ whose level means "asserted": the polarity bit is
// kept and read back but does not invert the input, since the platform
// wires each device to match the polarity its ACPI tables declare.
//
// Edge pins send on a rising edge. A rising edge while the pin is masked
// is latched and sent when it is unmasked if the line is still up then,
// as KVM's I/O APIC does (ioapic_set_irq clears a pin's request when its
// line falls): the 82093AA and QEMU drop it, but a dropped edge from a
// level-like source (a UART whose line stays up) would hang that device,
// and a spare interrupt costs Linux nothing. A pulse that ended while the
// pin was masked is gone (kvm-unit-tests' ioapic test, "masked level
// interrupt" then "unmasked level interrupt", counts it). Level pins send while asserted and unmasked and set Remote IRR,
// which an EOI for the pin's vector (broadcast by a local APIC, or written
// to the EOI register) clears, sending again if the pin is still asserted.
// Delivery status is never set: messages leave at once.

const (
	IOAPICBase = 0xFEC00000
	IOAPICSize = 0x1000 // the 4 KiB page the registers sit in
	IOAPICPins = 24
)

// Register offsets in the page, and register indices behind IOWIN.
const (
	ioregsel = 0x00
	iowin    = 0x10
	ioeoi    = 0x40

	ioapicID  = 0x00
	ioapicVER = 0x01
	ioapicARB = 0x02
	ioredtbl  = 0x10 // two 32-bit halves per pin

	ioapicVersion = 0x20
)

// IOREDTBL fields.
const (
	redVector    = 0xff
	redDelMod    = 7 << 8
	redDestMod   = 1 << 11 // logical
	redIntPol    = 1 << 13 // active low
	redRemoteIRR = 1 << 14
	redTrigger   = 1 << 15 // level
	redMask      = 1 << 16
	redDestShift = 56
	redWritable  = redVector | redDelMod | redDestMod | redIntPol | redTrigger | redMask | 0xff<<redDestShift
)

// IOAPIC is one I/O APIC; its Msgs go to a Sink, and it takes EOIs.
type IOAPIC struct {
	sink Sink

	mu       sync.Mutex
	id       uint8 // 4 bits
	sel      uint8
	red      [IOAPICPins]uint64
	asserted [IOAPICPins]bool
	latched  [IOAPICPins]bool // an edge that arrived while masked
}

// NewIOAPIC returns an I/O APIC with APIC id id (the MADT must agree)
// whose pins all start masked, sending to sink.
func NewIOAPIC(id uint8, sink Sink) *IOAPIC {
	a := &IOAPIC{sink: sink, id: id & 0xf}
	for i := range a.red {
		a.red[i] = redMask
	}
	return a
}

// Pin is input n (0 to IOAPICPins-1) as an IRQ line.
func (a *IOAPIC) Pin(n int) IRQ {
	if n < 0 || n >= IOAPICPins {
		panic("pc: IOAPIC pin out of range")
	}
	return IRQFunc(func(high bool) { a.setPin(n, high) })
}

func (a *IOAPIC) setPin(n int, high bool) {
	a.mu.Lock()
	was := a.asserted[n]
	a.asserted[n] = high
	switch {
	case !high:
		a.latched[n] = false
	case !was && !waitsEOI(a.red[n]):
		a.latched[n] = true
	}
	m, ok := a.serviceLocked(n)
	a.mu.Unlock()
	if ok {
		a.sink.Send(m)
	}
}

// serviceLocked decides whether pin n sends now and, if so, consumes the
// latched edge or sets Remote IRR.
func (a *IOAPIC) serviceLocked(n int) (Msg, bool) {
	e := a.red[n]
	if e&redMask != 0 {
		return Msg{}, false
	}
	if !waitsEOI(e) {
		if !a.latched[n] {
			return Msg{}, false
		}
		a.latched[n] = false
		return redMsg(e), true
	}
	if !a.asserted[n] || e&redRemoteIRR != 0 {
		return Msg{}, false
	}
	a.red[n] |= redRemoteIRR
	return redMsg(e), true
}

// waitsEOI says whether entry e is level-triggered with a delivery mode
// that takes an EOI (fixed, lowest priority). Level entries with other
// modes (NMI, INIT, ExtINT: the SDM asks for edge there) act as edge ones.
func waitsEOI(e uint64) bool {
	m := DeliveryMode(e & redDelMod >> 8)
	return e&redTrigger != 0 && (m == ModeFixed || m == ModeLowestPrio)
}

// redMsg is the APIC-bus message a redirection entry describes.
func redMsg(e uint64) Msg {
	return Msg{
		Vector:  uint8(e & redVector),
		Mode:    DeliveryMode(e & redDelMod >> 8),
		Dest:    uint32(e >> redDestShift),
		Logical: e&redDestMod != 0,
		Level:   e&redTrigger != 0,
	}
}

// EOI implements EOIListener: level pins with this vector may send again.
func (a *IOAPIC) EOI(vector uint8) {
	a.mu.Lock()
	var out []Msg
	for n, e := range a.red {
		if e&redRemoteIRR == 0 || uint8(e&redVector) != vector {
			continue
		}
		a.red[n] &^= redRemoteIRR
		if m, ok := a.serviceLocked(n); ok {
			out = append(out, m)
		}
	}
	a.mu.Unlock()
	for _, m := range out {
		a.sink.Send(m)
	}
}

// Read implements Device: 32-bit reads of IOREGSEL and IOWIN; anything
// else reads all ones.
func (a *IOAPIC) Read(off uint64, size int) uint64 {
	if size != 4 {
		return 1<<(8*size) - 1
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch off {
	case ioregsel:
		return uint64(a.sel)
	case iowin:
		return uint64(a.readRegLocked(a.sel))
	}
	return 0xffffffff
}

// Write implements Device: 32-bit writes of IOREGSEL, IOWIN and the EOI
// register; anything else is ignored.
func (a *IOAPIC) Write(off uint64, size int, val uint64) {
	if size != 4 {
		return
	}
	switch off {
	case ioregsel:
		a.mu.Lock()
		a.sel = uint8(val)
		a.mu.Unlock()
	case iowin:
		a.writeReg(uint32(val))
	case ioeoi:
		a.EOI(uint8(val))
	}
}

func (a *IOAPIC) readRegLocked(r uint8) uint32 {
	switch {
	case r == ioapicID, r == ioapicARB:
		return uint32(a.id) << 24
	case r == ioapicVER:
		return (IOAPICPins-1)<<16 | ioapicVersion
	case r >= ioredtbl && r < ioredtbl+2*IOAPICPins:
		e := a.red[(r-ioredtbl)/2]
		if r&1 != 0 {
			return uint32(e >> 32)
		}
		return uint32(e)
	}
	return 0 // reserved registers
}

// writeReg writes the register IOREGSEL selects. Remote IRR and delivery
// status are read-only; making a pin edge-triggered clears Remote IRR
// (Linux's way to clear it on I/O APICs without the EOI register), making
// it level forgets a latched edge; an entry that becomes unmasked with
// work pending sends at once.
func (a *IOAPIC) writeReg(v uint32) {
	a.mu.Lock()
	r := a.sel
	switch {
	case r == ioapicID:
		a.id = uint8(v>>24) & 0xf
	case r >= ioredtbl && r < ioredtbl+2*IOAPICPins:
		n := int(r-ioredtbl) / 2
		e := a.red[n]
		if r&1 != 0 {
			e = e&0xffffffff | uint64(v)<<32
		} else {
			e = e&^0xffffffff | uint64(v)
		}
		e = e&redWritable | a.red[n]&redRemoteIRR
		if waitsEOI(e) {
			a.latched[n] = false
		} else {
			e &^= redRemoteIRR
		}
		a.red[n] = e
		m, ok := a.serviceLocked(n)
		a.mu.Unlock()
		if ok {
			a.sink.Send(m)
		}
		return
	}
	a.mu.Unlock()
}
