package pc

// The APIC registers, at their offsets in the xAPIC page (SDM vol. 3,
// table 10-1); the x2APIC MSR of a register is 0x800 + offset>>4 (table
// 10-6). One read and one write path serve both interfaces; x2APIC
// differences (ID format, no DFR/APR, 64-bit ICR, #GP where the xAPIC
// ignores) are decided by readLocked's x2 and x2apicWritable here, and in
// lapic_msr.go.
const (
	regID         = 0x20
	regVersion    = 0x30
	regTPR        = 0x80
	regAPR        = 0x90
	regPPR        = 0xA0
	regEOI        = 0xB0
	regRRD        = 0xC0
	regLDR        = 0xD0
	regDFR        = 0xE0
	regSVR        = 0xF0
	regISR        = 0x100 // eight registers, 0x100-0x170
	regTMR        = 0x180
	regIRR        = 0x200
	regESR        = 0x280
	regLVTCMCI    = 0x2F0
	regICRLow     = 0x300
	regICRHigh    = 0x310
	regLVTTimer   = 0x320 // then thermal, perf, LINT0, LINT1, error
	regLVTError   = 0x370
	regTimerInit  = 0x380
	regTimerCur   = 0x390
	regTimerDiv   = 0x3E0
	regSelfIPI    = 0x3F0 // x2APIC only
	apicPageBytes = 0x1000
)

// Writable bits of each LVT (SDM vol. 3, figure 10-8): delivery status
// and remote IRR are read-only.
var lvtWritable = [nLVT]uint32{
	lvtCMCI:    0x107FF,
	lvtTimer:   0x700FF, // vector, mask, timer mode
	lvtThermal: 0x107FF,
	lvtPerf:    0x107FF,
	lvtLINT0:   0x1A7FF,
	lvtLINT1:   0x1A7FF,
	lvtError:   0x100FF,
}

// lvtIndex maps a register offset to its LVT, -1 if it is not one.
func lvtIndex(off uint32) int {
	switch {
	case off == regLVTCMCI:
		return lvtCMCI
	case off >= regLVTTimer && off <= regLVTError:
		return lvtTimer + int(off-regLVTTimer)/16
	}
	return -1
}

// Read is a read of the xAPIC page (the pc.Device at Base). Registers are
// 32 bits on 16-byte boundaries; narrower reads see part of one. With the
// APIC globally disabled or in x2APIC mode the page is not there (SDM vol.
// 3, 10.12.2): reads return all-ones.
func (l *LAPIC) Read(off uint64, size int) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.hwEnabledLocked() || l.x2apicLocked() || off >= apicPageBytes {
		return 1<<(8*size) - 1
	}
	v, _ := l.readLocked(uint32(off)&^0xF, false)
	b := off & 0xF
	if b >= 4 {
		return 0
	}
	return uint64(v>>(8*b)) & (1<<(8*size) - 1)
}

// Write is a write to the xAPIC page. Only whole-register writes act (a
// narrower one is undefined on hardware, dropped here); an 8-byte write
// writes the low word.
func (l *LAPIC) Write(off uint64, size int, val uint64) {
	l.mu.Lock()
	if !l.hwEnabledLocked() || l.x2apicLocked() || off >= apicPageBytes ||
		off&0xF != 0 || size < 4 {
		l.mu.Unlock()
		return
	}
	e := l.writeLocked(uint32(off), uint32(val))
	l.mu.Unlock()
	l.apply(e)
}

// readLocked returns register off; ok is false where the interface has no
// such readable register (a #GP for an x2APIC RDMSR).
func (l *LAPIC) readLocked(off uint32, x2 bool) (v uint32, ok bool) {
	switch {
	case off >= regISR && off < regISR+0x80:
		return l.isr[(off-regISR)/16], true
	case off >= regTMR && off < regTMR+0x80:
		return l.tmr[(off-regTMR)/16], true
	case off >= regIRR && off < regIRR+0x80:
		return l.irr[(off-regIRR)/16], true
	case lvtIndex(off) >= 0:
		return l.lvt[lvtIndex(off)], true
	}
	switch off {
	case regID:
		if x2 {
			return l.id, true
		}
		return l.id << 24, true
	case regVersion:
		return apicVersion, true
	case regTPR:
		return l.tpr, true
	case regPPR:
		return l.pprLocked(), true
	case regLDR:
		return l.ldr, true
	case regSVR:
		return l.svr, true
	case regESR:
		return l.esr, true
	case regICRLow:
		return uint32(l.icr), true
	case regTimerInit:
		return l.timer.init, true
	case regTimerCur:
		return l.timerCountLocked(l.clock.Nanotime()), true
	case regTimerDiv:
		return l.timer.divCfg, true
	case regDFR:
		return l.dfr, !x2
	case regICRHigh:
		return uint32(l.icr >> 32), !x2
	case regAPR, regRRD, regEOI:
		return 0, !x2 // APR: arbitration is not modelled
	}
	return 0, false
}

// writeLocked writes register off and returns what must happen outside
// the APIC. Writes to read-only and absent registers do nothing (the
// xAPIC's way); the x2APIC path checks x2apicWritable first.
func (l *LAPIC) writeLocked(off, v uint32) effect {
	if i := lvtIndex(off); i >= 0 {
		l.writeLVTLocked(i, v)
		return effect{}
	}
	switch off {
	case regTPR:
		l.tpr = v & 0xFF
	case regEOI:
		return l.eoiLocked()
	case regLDR:
		l.ldr = v & 0xFF000000
	case regDFR:
		l.dfr = v | 0x0FFFFFFF
	case regSVR:
		l.writeSVRLocked(v)
	case regESR:
		// A write latches the errors since the last one (SDM vol. 3, 10.5.3).
		l.esr, l.esrAcc = l.esrAcc, 0
	case regICRLow:
		l.icr = l.icr&^0xFFFFFFFF | uint64(v&^icrDeliveryStatus)
		return l.sendICRLocked()
	case regICRHigh:
		l.icr = uint64(v&0xFF000000)<<32 | l.icr&0xFFFFFFFF
	case regTimerInit:
		l.setTimerInitLocked(v, l.clock.Nanotime())
	case regTimerDiv:
		l.setTimerDivLocked(v, l.clock.Nanotime())
	case regSelfIPI:
		if l.x2apicLocked() {
			l.raiseLocked(uint8(v), false)
		}
	}
	return effect{}
}

// x2apicWritable reports whether the x2APIC takes value v at register
// off; the others are #GP (SDM vol. 3, 10.12.1.2): read-only and absent
// registers (LDR is derived, DFR and ICR high are gone) and nonzero writes
// to EOI and ESR.
func x2apicWritable(off, v uint32) bool {
	switch off {
	case regEOI, regESR:
		return v == 0
	case regTPR, regSVR, regICRLow, regTimerInit, regTimerDiv, regSelfIPI:
		return true
	}
	return lvtIndex(off) >= 0
}

// writeSVRLocked sets the spurious-interrupt vector register. Clearing
// the software enable masks every LVT (SDM vol. 3, 10.4.7.2); bit 12
// (EOI-broadcast suppression) is not offered, so it stays clear.
func (l *LAPIC) writeSVRLocked(v uint32) {
	l.svr = v & 0x3FF
	if l.svr&svrEnable == 0 {
		for i := range l.lvt {
			l.lvt[i] |= lvtMasked
		}
	}
}

// writeLVTLocked sets LVT i; a software-disabled APIC keeps it masked.
// A new timer mode disarms the timer, as on hardware (SDM vol. 3, 10.5.4.1).
func (l *LAPIC) writeLVTLocked(i int, v uint32) {
	v &= lvtWritable[i]
	if l.svr&svrEnable == 0 {
		v |= lvtMasked
	}
	old := l.lvt[i]
	l.lvt[i] = v
	if i == lvtTimer && timerMode(old) != timerMode(v) {
		l.stopTimerLocked()
	}
}

// ICR fields (SDM vol. 3, figure 10-12).
const (
	icrDeliveryStatus = 1 << 12
	icrLevelAssert    = 1 << 14
	icrTriggerLevel   = 1 << 15
	icrLogical        = 1 << 11
)

// sendICRLocked turns the ICR just written into a message for the Bus.
// INIT level de-assert is dropped as current CPUs do (SDM vol. 3, 10.6.1),
// and a fixed IPI with a vector below 16 is an APIC error, not a message.
func (l *LAPIC) sendICRLocked() effect {
	lo := uint32(l.icr)
	m := Msg{
		Vector:    uint8(lo),
		Mode:      DeliveryMode(lo >> 8 & 7),
		Logical:   lo&icrLogical != 0,
		Level:     lo&icrTriggerLevel != 0,
		Shorthand: Shorthand(lo >> 18 & 3),
		Src:       l.id,
	}
	m.Dest = uint32(l.icr>>32) >> 24
	if l.x2apicLocked() {
		m.Dest = uint32(l.icr >> 32)
	}
	if m.Mode == ModeINIT && m.Level && lo&icrLevelAssert == 0 {
		return effect{}
	}
	if (m.Mode == ModeFixed || m.Mode == ModeLowestPrio) && m.Vector < 16 {
		l.errorLocked(esrSendIllegal)
		return effect{}
	}
	return effect{send: true, msg: m}
}
