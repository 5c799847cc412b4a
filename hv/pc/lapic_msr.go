package pc

// The APIC's MSRs: IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC
// registers 0x800-0x8FF (SDM vol. 3, 10.12.1.2). A false result is a #GP
// the hypervisor injects into the guest.

const (
	tscDeadlineMSR = 0x6E0
	x2apicFirstMSR = 0x800
	x2apicLastMSR  = 0x8FF
	x2apicICRMSR   = x2apicFirstMSR + regICRLow>>4

	// apicBaseAddr is the base field for a 52-bit physical address width.
	apicBaseAddr = 0x000FFFFFFFFFF000
)

// HasMSR reports whether msr is one of the APIC's, for the hypervisor's
// RDMSR/WRMSR dispatch.
func HasMSR(msr uint32) bool {
	return msr == apicBaseMSR || msr == tscDeadlineMSR ||
		msr >= x2apicFirstMSR && msr <= x2apicLastMSR
}

// ReadMSR reads one of the APIC's MSRs; ok false means #GP.
func (l *LAPIC) ReadMSR(msr uint32) (val uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case msr == apicBaseMSR:
		return l.base, true
	case msr == tscDeadlineMSR:
		return l.tscDeadlineLocked(), true
	case msr < x2apicFirstMSR || msr > x2apicLastMSR || !l.x2apicLocked():
		return 0, false
	case msr == x2apicICRMSR:
		return l.icr, true
	}
	if v, ok := l.readLocked((msr-x2apicFirstMSR)<<4, true); ok {
		return uint64(v), true
	}
	return 0, false
}

// WriteMSR writes one of the APIC's MSRs; ok false means #GP.
func (l *LAPIC) WriteMSR(msr uint32, val uint64) (ok bool) {
	l.mu.Lock()
	e, ok := l.writeMSRLocked(msr, val)
	l.mu.Unlock()
	l.apply(e)
	return ok
}

func (l *LAPIC) writeMSRLocked(msr uint32, val uint64) (effect, bool) {
	switch {
	case msr == apicBaseMSR:
		return effect{}, l.writeBaseLocked(val)
	case msr == tscDeadlineMSR:
		l.setTSCDeadlineLocked(val)
		return effect{}, true
	case msr < x2apicFirstMSR || msr > x2apicLastMSR || !l.x2apicLocked():
		return effect{}, false
	case msr == x2apicICRMSR:
		l.icr = val &^ icrDeliveryStatus
		return l.sendICRLocked(), true
	}
	off := (msr - x2apicFirstMSR) << 4
	if val>>32 != 0 || !x2apicWritable(off, uint32(val)) { // 32-bit registers
		return effect{}, false
	}
	return l.writeLocked(off, uint32(val)), true
}

// writeBaseLocked changes IA32_APIC_BASE. Legal moves (SDM vol. 3, figure
// 10-27): disabled <-> xAPIC, xAPIC -> x2APIC, x2APIC -> disabled; others
// and reserved bits are #GP. The BSP bit is read-only and the base stays
// at Base (a guest that moves it is not supported; the field is ignored).
// Leaving the disabled state finds the APIC as after reset.
func (l *LAPIC) writeBaseLocked(v uint64) bool {
	if v&^uint64(apicBaseAddr|apicBaseBSP|apicBaseEXTD|apicBaseEN) != 0 {
		return false
	}
	en, x2 := v&apicBaseEN != 0, v&apicBaseEXTD != 0
	wasEN, wasX2 := l.hwEnabledLocked(), l.x2apicLocked()
	switch {
	case x2 && !en, // invalid state
		wasX2 && en && !x2, // x2APIC -> xAPIC
		!wasEN && x2:       // disabled -> x2APIC
		return false
	}
	l.base = l.base&^uint64(apicBaseEN|apicBaseEXTD) | v&(apicBaseEN|apicBaseEXTD)
	switch {
	case !en && wasEN:
		l.resetLocked()
		l.nmi, l.init, l.sipiOK = false, false, false
	case x2 && !wasX2:
		l.ldr = x2apicLDR(l.id)
	}
	return true
}
