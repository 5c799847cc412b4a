package pc

import (
	"math/bits"
	"sync"
)

// The local APIC of one vCPU (Intel SDM vol. 3, chapter 10 "Advanced
// Programmable Interrupt Controller"; AMD APM vol. 2, 16.3-16.5): its
// registers through the xAPIC page (lapic_regs.go) or the x2APIC MSRs
// (lapic_msr.go), its timer (lapic_timer.go) and its interrupt state here.
// Nothing is virtualised by hardware (TCG offers no AVIC): the hypervisor
// asks Pending what to inject, tells Accept when the guest took it, and
// takes NMI, INIT and STARTUP with the Take methods.

// IA32_APIC_BASE (MSR 0x1B) bits (SDM vol. 3, 10.4.4 and 10.12.1).
const (
	apicBaseMSR  = 0x1B
	apicBaseBSP  = 1 << 8
	apicBaseEXTD = 1 << 10 // x2APIC mode
	apicBaseEN   = 1 << 11 // APIC global enable
	// Base is where the xAPIC page is; Grove does not relocate it.
	Base = 0xFEE00000
)

// Version register value: integrated APIC (0x14), max LVT entry 5 (six
// LVTs, CMCI not counted: Grove offers no CMCI in MCG_CAP), no EOI-broadcast
// suppression and no AMD extended APIC space (bit 31), so Linux probes
// neither.
const apicVersion = 0x50014

// Local vector table entries, in the order of their registers.
const (
	lvtCMCI = iota
	lvtTimer
	lvtThermal
	lvtPerf
	lvtLINT0
	lvtLINT1
	lvtError
	nLVT
)

const (
	lvtMasked = 1 << 16
	svrEnable = 1 << 8 // APIC software enable

	// ESR bits (SDM vol. 3, 10.5.3).
	esrSendIllegal = 1 << 5
	esrRecvIllegal = 1 << 6
)

// LAPIC is one vCPU's local APIC. Its methods may be called concurrently:
// the owner vCPU's accesses, Tick and Take*, and Deliver from other vCPUs
// and devices.
type LAPIC struct {
	id    uint32
	clock Clock
	out   Sink        // where ICR writes go (the domain's Bus)
	eoi   EOIListener // told of level-triggered EOIs (the Bus)

	// mu guards everything below. It is a leaf: out, eoi and Kick are
	// called only after it is released; only Clock is called under it.
	mu          sync.Mutex
	base        uint64 // IA32_APIC_BASE
	tpr, svr    uint32
	ldr, dfr    uint32
	esr, esrAcc uint32 // ESR as last latched; errors since
	icr         uint64 // high word: destination
	lvt         [nLVT]uint32
	irr, isr    vecSet
	tmr         vecSet // level-triggered vectors
	timer       apicTimer
	nmi, init   bool
	waitSIPI    bool // STARTUP is accepted (after INIT; APs from power-on)
	sipi        uint8
	sipiOK      bool
}

// NewLAPIC returns the local APIC with the given id (the vCPU index; id 0
// is the bootstrap processor), enabled in xAPIC mode and software-disabled
// as after reset. ICR writes go to out and level-triggered EOIs to eoi.
func NewLAPIC(id uint32, clock Clock, out Sink, eoi EOIListener) *LAPIC {
	l := &LAPIC{id: id, clock: clock, out: out, eoi: eoi}
	l.base = Base | apicBaseEN
	if id == 0 {
		l.base |= apicBaseBSP
	}
	l.resetLocked()
	l.waitSIPI = id != 0
	return l
}

// ID is the APIC id.
func (l *LAPIC) ID() uint32 { return l.id }

// resetLocked puts the registers in their power-up and INIT state (SDM
// vol. 3, 10.4.7.1): everything but the id and IA32_APIC_BASE.
func (l *LAPIC) resetLocked() {
	l.tpr, l.svr, l.esr, l.esrAcc, l.icr = 0, 0xFF, 0, 0, 0
	l.ldr, l.dfr = 0, 0xFFFFFFFF
	if l.x2apicLocked() {
		l.ldr = x2apicLDR(l.id)
	}
	for i := range l.lvt {
		l.lvt[i] = lvtMasked
	}
	l.irr, l.isr, l.tmr = vecSet{}, vecSet{}, vecSet{}
	l.timer = apicTimer{}
}

func (l *LAPIC) hwEnabledLocked() bool { return l.base&apicBaseEN != 0 }
func (l *LAPIC) x2apicLocked() bool    { return l.base&apicBaseEXTD != 0 }

// enabledLocked: both globally and software enabled, the state in which
// fixed interrupts are accepted and dispatched.
func (l *LAPIC) enabledLocked() bool {
	return l.hwEnabledLocked() && l.svr&svrEnable != 0
}

// x2apicLDR is the logical id an x2APIC derives from its id (SDM vol. 3,
// 10.12.10.2): cluster in bits 31:16, one bit of 16 in 15:0.
func x2apicLDR(id uint32) uint32 { return id>>4<<16 | 1<<(id&0xF) }

// Deliver takes a message the Bus has addressed to this APIC and reports
// whether the vCPU has something new to look at (the Bus then kicks it).
// Fixed and lowest-priority vectors go to the IRR; NMI, INIT and STARTUP
// wait for the Take methods; SMI and ExtINT are not modelled.
func (l *LAPIC) Deliver(m Msg) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.hwEnabledLocked() {
		return false
	}
	switch m.Mode {
	case ModeFixed, ModeLowestPrio:
		return l.raiseLocked(m.Vector, m.Level)
	case ModeNMI:
		l.nmi = true
		return true
	case ModeINIT:
		l.initLocked()
		return true
	case ModeStartup:
		if !l.waitSIPI {
			return false
		}
		l.sipi, l.sipiOK, l.waitSIPI = m.Vector, true, false
		return true
	}
	return false
}

// initLocked acts on INIT at once, not when the hypervisor takes it:
// Linux sends STARTUP right after INIT on current CPUs (no 10 ms wait), so
// the APIC must already wait for it.
func (l *LAPIC) initLocked() {
	l.resetLocked()
	l.init, l.nmi = true, false
	l.sipiOK = false
	l.waitSIPI = l.base&apicBaseBSP == 0
}

// raiseLocked sets vec in the IRR with its trigger mode. A software
// disabled APIC drops fixed interrupts, as KVM's does (SDM vol. 3,
// 10.4.7.2 leaves it to the model).
func (l *LAPIC) raiseLocked(vec uint8, level bool) bool {
	if l.svr&svrEnable == 0 {
		return false
	}
	if vec < 16 {
		l.errorLocked(esrRecvIllegal)
		return true
	}
	l.irr.set(vec)
	if level {
		l.tmr.set(vec)
	} else {
		l.tmr.clear(vec)
	}
	return true
}

// errorLocked records an APIC error and raises the LVT error interrupt.
func (l *LAPIC) errorLocked(bits uint32) {
	l.esrAcc |= bits
	if e := l.lvt[lvtError]; e&lvtMasked == 0 && uint8(e) >= 16 {
		l.irr.set(uint8(e))
		l.tmr.clear(uint8(e))
	}
}

// pprLocked is the processor priority (SDM vol. 3, 10.8.3.1): the TPR,
// or the class of the highest in-service vector if that is higher.
func (l *LAPIC) pprLocked() uint32 {
	isrv := uint32(0)
	if v := l.isr.highest(); v >= 0 {
		isrv = uint32(v)
	}
	if l.tpr&0xF0 >= isrv&0xF0 {
		return l.tpr & 0xFF
	}
	return isrv & 0xF0
}

// Pending returns the vector the hypervisor should inject now: the highest
// requested one whose priority class is above the processor priority.
// It changes nothing; the injection is recorded by Accept.
func (l *LAPIC) Pending() (vector uint8, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.enabledLocked() {
		return 0, false
	}
	v := l.irr.highest()
	if v < 0 || uint32(v)&0xF0 <= l.pprLocked()&0xF0 {
		return 0, false
	}
	return uint8(v), true
}

// TakePending is Pending and Accept in one step: the hypervisor injects
// the vector it returns at the next entry, which the guest cannot refuse,
// so the vector is in service from now on and a second message for it
// sets its IRR bit again rather than merging with the first.
func (l *LAPIC) TakePending() (vector uint8, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.enabledLocked() {
		return 0, false
	}
	v := l.irr.highest()
	if v < 0 || uint32(v)&0xF0 <= l.pprLocked()&0xF0 {
		return 0, false
	}
	l.irr.clear(uint8(v))
	l.isr.set(uint8(v))
	return uint8(v), true
}

// Accept records that the guest took vector: it moves from IRR to ISR.
func (l *LAPIC) Accept(vector uint8) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.irr.clear(vector)
	l.isr.set(vector)
}

// eoiLocked ends the highest in-service interrupt and returns the effect:
// for a level-triggered one, the EOI message to the sources.
func (l *LAPIC) eoiLocked() effect {
	v := l.isr.highest()
	if v < 0 {
		return effect{}
	}
	l.isr.clear(uint8(v))
	if l.tmr.has(uint8(v)) {
		return effect{eoi: true, eoiVec: uint8(v)}
	}
	return effect{}
}

// TakeNMI reports (once) an NMI delivered to this APIC.
func (l *LAPIC) TakeNMI() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.nmi
	l.nmi = false
	return n
}

// TakeINIT reports (once) an INIT delivered to this APIC: the hypervisor
// resets the vCPU; an AP then waits for STARTUP (TakeSIPI), the BSP
// starts at the reset vector.
func (l *LAPIC) TakeINIT() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := l.init
	l.init = false
	return i
}

// TakeSIPI returns (once) the vector of the STARTUP that ended a wait for
// it: the AP starts in real mode at vector<<12. STARTUPs outside the wait
// (the second of Linux's pair, usually) are dropped, as hardware does.
func (l *LAPIC) TakeSIPI() (vector uint8, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.sipi, l.sipiOK
	l.sipiOK = false
	return v, ok
}

// TPR returns the task priority register, SetTPR sets it: for a hypervisor
// that mirrors it to and from the VMCB's V_TPR (CR8 holds TPR bits 7:4).
func (l *LAPIC) TPR() uint8 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint8(l.tpr)
}

func (l *LAPIC) SetTPR(v uint8) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tpr = uint32(v)
}

// effect is what an access does outside the APIC, done by apply once mu
// is released: an IPI to send, an EOI to broadcast.
type effect struct {
	send   bool
	msg    Msg
	eoi    bool
	eoiVec uint8
}

func (l *LAPIC) apply(e effect) {
	if e.send && l.out != nil {
		l.out.Send(e.msg)
	}
	if e.eoi && l.eoi != nil {
		l.eoi.EOI(e.eoiVec)
	}
}

// vecSet is 256 interrupt vectors laid out as the ISR, TMR and IRR
// registers are: vector v is bit v%32 of word v/32.
type vecSet [8]uint32

func (s *vecSet) set(v uint8)      { s[v/32] |= 1 << (v % 32) }
func (s *vecSet) clear(v uint8)    { s[v/32] &^= 1 << (v % 32) }
func (s *vecSet) has(v uint8) bool { return s[v/32]&(1<<(v%32)) != 0 }

// highest returns the highest vector in s, -1 if none.
func (s *vecSet) highest() int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 0 {
			return i*32 + 31 - bits.LeadingZeros32(s[i])
		}
	}
	return -1
}
