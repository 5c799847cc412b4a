package hv

import (
	"fmt"

	"grove/hv/pc"
	"grove/hv/svm"
	"grove/x86"
)

// The local APICs of a PC-platform domain (hv/pc/lapic.go) and the
// scheduler: interrupts injected through EVENTINJ (and offered through
// V_IRQ as an interrupt window), the APIC timer on the
// vCPU's host timer, STARTUP IPIs that bring application processors up,
// and the xAPIC page reached by decoding the faulting instruction.

// pcKick is the APIC bus's kick: v has something new in its APIC. A
// halted vCPU that can take it wakes, a running one exits to take it, and
// one waiting for STARTUP (vcpuDown, never started) starts.
func (s *Scheduler) pcKick(v *VCPU) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch v.state {
	case vcpuRunning:
		s.kickLocked(v)
	case vcpuBlocked:
		if v.wakeableLocked() {
			s.enqueueLocked(v)
		}
	case vcpuDown:
		s.startupLocked(v)
	}
}

// startupLocked starts an application processor at its STARTUP vector: as
// on a PC, only a processor that has not started yet (waiting for SIPI
// after INIT) takes one; INIT to a running processor is not modelled and
// is dropped. A paused domain's AP starts paused. Caller holds s.mu.
func (s *Scheduler) startupLocked(v *VCPU) {
	v.lapic.TakeINIT()
	vec, ok := v.lapic.TakeSIPI()
	d := v.dom
	if !ok || v.inited || d.destroying || (d.state != domRunning && d.state != domPaused) {
		return
	}
	v.vmcb.SetStartup(vec)
	v.inited = true
	v.state = vcpuPaused // enqueueLocked leaves a down vCPU down
	if d.state == domRunning {
		s.enqueueLocked(v)
	}
}

// apicWaitingLocked: v's APIC has an interrupt v could take now.
func (v *VCPU) apicWaitingLocked() bool {
	_, ok := v.lapic.Pending()
	return ok
}

// apicPrepare picks the interrupt for v's next entry and fires its APIC
// timer if due. Runs on v's CPU before VMRUN.
//
// A guest that can take an interrupt now (RFLAGS.IF set, no interrupt
// shadow, no other event to inject) gets the highest pending one through
// EVENTINJ, accepted into the ISR at once, as KVM does: were it only
// offered (V_IRQ) and accepted at the next exit, a second IPI with the
// same vector arriving while the guest runs its handler would merge with
// the first in the IRR and be lost (kvm-unit-tests' vmexit ipi test sends
// them back to back). A guest that cannot yet is offered the vector
// through V_IRQ with the VINTR intercept (the result, 0 for none; prepare
// sets the intercept): the moment it could take it -- after STI's shadow,
// at a handler's IRET -- it exits instead, and the next entry injects it.
// That is the interrupt window; without it an interrupt raised while
// interrupts are off would wait for an exit with them on (eventinj's
// "sti; nop; cli" must take two).
//
// An NMI is injected when the guest is not in an NMI handler
// (platform_nmi.go).
func (v *VCPU) apicPrepare(now int64, guestIF bool) uint8 {
	v.lapic.Tick(now)
	if v.lapic.TakeINIT() {
		v.dom.logOnce("init", "INIT IPI to a running vCPU ignored")
	}
	v.injectNMI()
	if guestIF && !v.vmcb.EventInj().Valid() && !v.vmcb.InterruptShadow() {
		if vec, ok := v.lapic.TakePending(); ok {
			v.vmcb.SetEventInj(svm.Interrupt(vec))
		}
	}
	vec, _ := v.lapic.Pending()
	return vec
}

// exitAtOnce says whether v's next entry must end at the guest's first
// instruction boundary: when it injects an external interrupt. QEMU 7.2's
// VMRUN delivers such an injection but leaves the vector in its pending
// exception, and delivers it a second time at the CPU's next exit request
// unless an exit, exception or interrupt comes first (docs/qemu-tcg.md);
// the exit that a self-IPI pending through VMRUN makes comes first. On
// hardware it costs one exit per injected interrupt.
func (v *VCPU) exitAtOnce() bool {
	e := v.vmcb.EventInj()
	return v.lapic != nil && e.Valid() && e.Type() == svm.EventTypeINTR
}

// apicAfterExit accepts a vector offered through the window that the
// guest took anyway (V_IRQ cleared without a VINTR exit) and re-arms the
// host timer if the APIC timer changed.
func (s *Scheduler) apicAfterExit(v *VCPU, offered uint8, taken bool) {
	if offered != 0 && taken {
		v.lapic.Accept(offered)
	}
	if at := v.lapic.Deadline(); at != v.apicArmed {
		v.apicArmed = at
		s.setGuestTimer(v, at)
	}
}

// apicTimerFiredLocked is the host timer for a PC vCPU: the APIC timer
// fires (into the IRR), and the vCPU is woken or kicked to take it.
func (s *Scheduler) apicTimerFiredLocked(v *VCPU, now int64) {
	if v.lapic.Tick(now) {
		s.kickLocked(v)
	}
	v.timerAt = v.lapic.Deadline()
	v.apicArmed = v.timerAt
}

// apicMSR handles the APIC's MSRs (APIC base, x2APIC, TSC deadline).
// The TSC deadline is in the guest's TSC, which its writes may have moved
// (platform_tsc.go).
func apicMSR(v *VCPU, x *exitState, msr uint32, write bool, val uint64) (uint64, bool) {
	deadline := msr == x86.MSRTSCDeadline
	if write {
		if deadline {
			val = v.tscDeadlineToHost(val)
		}
		return 0, v.lapic.WriteMSR(msr, val)
	}
	val, ok := v.lapic.ReadMSR(msr)
	if deadline {
		val = v.tscDeadlineToGuest(val)
	}
	return val, ok
}

// exitMMIO completes a guest access to an emulated device's MMIO range:
// the instruction at RIP is fetched and decoded (no decode assists under
// QEMU, docs/qemu-tcg.md) and carried out against dev.
func exitMMIO(v *VCPU, x *exitState, dev pc.Device, base uint64) outcome {
	code, err := fetchInsn(v, x)
	if err != nil {
		return crash(fmt.Sprintf("MMIO access at gpa=%#x: cannot read the instruction at rip=%#x: %v", x.info2, x.rip, err))
	}
	off := x.info2 - base
	n, err := pc.EmulateMMIO(code, x.mode, mmioRegs{v, x}, func(write bool, size int, val uint64) uint64 {
		if write {
			dev.Write(off, size, val)
			return 0
		}
		return dev.Read(off, size)
	})
	if err != nil {
		return crash(fmt.Sprintf("MMIO access at gpa=%#x rip=%#x: %v", x.info2, x.rip, err))
	}
	x.advance(uint64(n))
	return resume
}

// fetchInsn reads up to 15 bytes of the instruction at CS:rip, fewer if
// they would cross into an unmapped page.
func fetchInsn(v *VCPU, x *exitState) ([]byte, error) {
	lin := x.rip // 64-bit mode ignores CS's base (AMD APM vol. 2, 4.12.2)
	if x.mode != 64 {
		lin = uint64(uint32(x.csBase + x.rip))
	}
	code, err := v.mem.copyIn(lin, maxInsnLen)
	if err == nil {
		return code, nil
	}
	if n := int(pageSize - lin%pageSize); n < maxInsnLen {
		return v.mem.copyIn(lin, n)
	}
	return nil, err
}

const maxInsnLen = 15

// cpuMode is the guest's code size in bits: 64 in long mode with CS.L,
// else 32 or 16 by CS.D (AMD APM vol. 2, 4.8).
func cpuMode(m svm.VMCB) int {
	cs := m.CS()
	switch {
	case m.EFER()&x86.EFERLMA != 0 && cs.Attrib&segL != 0:
		return 64
	case m.CR0()&x86.CR0PE != 0 && cs.Attrib&segDB != 0:
		return 32
	}
	return 16
}

// VMCB segment attribute bits L and D/B (descriptor bits 53 and 54).
const (
	segL  = 1 << 9
	segDB = 1 << 10
)

// mmioRegs gives the instruction emulator the vCPU's registers as the
// encoding numbers them; RAX comes from the exit (VMCB), RSP from the VMCB.
type mmioRegs struct {
	v *VCPU
	x *exitState
}

func (r mmioRegs) GPR(i int) uint64 {
	switch i {
	case 0:
		return r.x.rax
	case 4:
		return r.v.vmcb.RSP()
	}
	return *r.v.regs.GPR(i)
}

func (r mmioRegs) SetGPR(i int, val uint64) {
	switch i {
	case 0:
		r.x.rax = val
	case 4:
		panic("MMIO load into RSP is not emulated")
	default:
		*r.v.regs.GPR(i) = val
	}
}

// unmodelledMMIO is a PC guest's access to an address above its RAM that
// no device claims: as on a PC, reads return all ones and writes vanish
// (a master abort), logged once per page with the RIP and counted. Most
// such reads never get here: the first maps the region all ones
// (platform_mmio.go).
type unmodelledMMIO struct {
	d        *Domain
	gpa, rip uint64
}

func (u unmodelledMMIO) note() {
	u.d.bus.unknown.Add(1)
	u.d.logOnce(fmt.Sprintf("mmio %#x", u.gpa>>12),
		"no device at gpa %#x (rip=%#x): reads all ones, writes ignored", u.gpa, u.rip)
}

func (u unmodelledMMIO) Read(off uint64, size int) uint64 {
	u.note()
	return ^uint64(0) >> (64 - 8*size)
}

func (u unmodelledMMIO) Write(off uint64, size int, val uint64) { u.note() }
